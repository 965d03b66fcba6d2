package source

import (
	"context"
	"io"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// countingStore counts the objects opened through it.
type countingStore struct {
	lake.Store
	opened int
}

func (c *countingStore) Open(ctx context.Context, key string) (lake.Object, error) {
	c.opened++
	return c.Store.Open(ctx, key)
}

func fileLakeWith(t *testing.T, key, body string) (lake.Config, lake.Store) {
	t.Helper()
	l, err := lake.ParseURL(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := lake.New(context.Background(), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), key, []byte(body)); err != nil {
		t.Fatal(err)
	}
	return l, s
}

// A landed source is read through an open store (Options.Lake) only when that store is
// of the lake the source was landed in; otherwise from its own lake.
func TestLandedSourceReadsItsOwnLake(t *testing.T) {
	const key = "shared/namespace=wi/name=support/revision=r1/district=5508520.csv"
	landedIn, landedStore := fileLakeWith(t, key, csvBody)
	otherLake, otherStore := fileLakeWith(t, key, "LEAID\r\n9999999\r\n")
	src := plan.Source{Name: "support", Dataset: "staffing", Format: "crdc",
		Landed: &plan.Landed{Lake: landedIn, Key: key, Revision: "r1", SharedSource: "support"}}

	for _, tc := range []struct {
		name     string
		open     *OpenLake
		through  *countingStore
		wantOpen int
	}{
		{name: "no open lake"},
		{name: "the landing lake open", open: &OpenLake{Config: landedIn}, through: &countingStore{Store: landedStore}, wantOpen: 1},
		{name: "another lake open", open: &OpenLake{Config: otherLake}, through: &countingStore{Store: otherStore}, wantOpen: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.open != nil {
				tc.open.Store = tc.through
			}
			s, err := OpenWith(context.Background(), src, noEnv, Options{Lake: tc.open})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			b, err := io.ReadAll(s)
			if err != nil || string(b) != csvBody {
				t.Fatalf("read %q, %v; want the landed object %q", b, err, csvBody)
			}
			if tc.through != nil && tc.through.opened != tc.wantOpen {
				t.Fatalf("%d objects opened through the open store; want %d", tc.through.opened, tc.wantOpen)
			}
		})
	}
}
