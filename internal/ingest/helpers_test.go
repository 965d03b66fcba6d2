package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
	"github.com/districtlake/districtlake/internal/testenv"
)

// fixedNow is the clock of test runs: ingested_at and the run id come from it.
var fixedNow = time.Date(2026, 11, 26, 13, 5, 1, 123456000, time.UTC)

func testOptions(runID string) Options {
	return Options{RunID: runID, Now: func() time.Time { return fixedNow }}
}

// newPlan is an ingest plan for a district with the given sources.
func newPlan(l plan.Lake, lea, name, state string, sources ...plan.Source) *plan.Ingest {
	return &plan.Ingest{Version: plan.Version, Kind: plan.KindIngest, Name: "test", Namespace: "tests",
		District: plan.District{NCESID: lea, Name: name, State: state}, Lake: l, Sources: sources}
}

func inline(s string) *string { return &s }

// fileLakeAt opens a file:// lake.
func fileLakeAt(t testing.TB, l plan.Lake) (plan.Lake, lake.Store) {
	t.Helper()
	st, err := lake.New(context.Background(), l, lake.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	return l, st
}

// snapshot reads every object of a lake.
func snapshot(t testing.TB, s lake.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatalf("listing %s: %v", s.URL(), err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		obj, err := s.Open(ctx, o.Key)
		if err != nil {
			t.Fatalf("opening %s: %v", o.Key, err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", o.Key, err)
		}
		out[o.Key] = b
	}
	return out
}

// assertUnchanged fails unless the lake holds exactly the objects of before, byte for byte.
func assertUnchanged(t testing.TB, s lake.Store, before map[string][]byte) {
	t.Helper()
	after := snapshot(t, s)
	if !slices.Equal(slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after))) {
		t.Fatalf("the lake's objects changed:\nbefore %v\nafter  %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	for k, b := range before {
		if !bytes.Equal(b, after[k]) {
			t.Fatalf("object %s changed (%d bytes before, %d after)", k, len(b), len(after[k]))
		}
	}
}

// runExpectError runs a plan that must fail with exactly want, publishing nothing.
func runExpectError(t *testing.T, p *plan.Ingest, store lake.Store, env lake.Env, want string) {
	t.Helper()
	before := snapshot(t, store)
	sum, err := Run(context.Background(), p, store, env, testOptions("20261126T130501Z-bad000"))
	if err == nil {
		t.Fatalf("the run succeeded; want error %q", want)
	}
	if err.Error() != want {
		t.Fatalf("error\n got %s\nwant %s", err, want)
	}
	if sum.Outcome != summary.Failed || sum.Message != want {
		t.Fatalf("summary %+v: want outcome Failed and the error as message", sum)
	}
	assertUnchanged(t, store, before)
}

// writeCRDC generates a CRDC file into dir.
func writeCRDC(t testing.TB, dir string, o crdcgen.Options) (string, crdcgen.Stats) {
	t.Helper()
	path := filepath.Join(dir, string(o.Kind)+".csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := crdcgen.Generate(f, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, st
}

// duckOne runs a query that returns one row.
func duckOne(t testing.TB, sql string) map[string]any {
	t.Helper()
	rows := testenv.DuckDB(t, sql)
	if len(rows) != 1 {
		t.Fatalf("DuckDB returned %d rows, want 1\nSQL: %s", len(rows), sql)
	}
	return rows[0]
}

// columnTypes returns DuckDB's type of every column of a query.
func columnTypes(t testing.TB, from string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range testenv.DuckDB(t, "DESCRIBE SELECT * FROM "+from) {
		out[fmt.Sprint(r["column_name"])] = fmt.Sprint(r["column_type"])
	}
	return out
}

// sqlString quotes a string for SQL.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
