package land_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/testenv"
)

// TestLandZipMemberInMinIO: the School Support member of a national ZIP, served with range
// support, is landed in MinIO; the origin sends about the member's compressed bytes and
// the central directory, not the archive; one district then reads its rows only.
func TestLandZipMemberInMinIO(t *testing.T) {
	ctx := context.Background()
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "districtlake")
	l, env := m.Lake("districtlake", "v1")

	csv := national(400, 25, "v1")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	filler, err := zw.CreateHeader(&zip.FileHeader{Name: "SCH/Enrollment.csv", Method: zip.Store})
	if err == nil {
		_, err = filler.Write(bytes.Repeat([]byte("x"), 4<<20)) // another member, never read
	}
	if err == nil {
		var w io.Writer
		if w, err = zw.Create("SCH/School Support.csv"); err == nil {
			_, err = w.Write(csv)
		}
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	archive := zb.Bytes()
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("ETag", `"crdc-2021-22"`)
		cw := &countingWriter{ResponseWriter: rw, n: &sent}
		http.ServeContent(cw, r, "crdc.zip", time.Unix(1700000000, 0), bytes.NewReader(archive))
	}))
	defer srv.Close()

	p := &plan.Land{
		Version: plan.Version, Kind: plan.KindLand, Namespace: "wi", Name: "crdc-2021-22-school-support",
		Source:     plan.Source{Name: "crdc-2021-22-school-support", Format: "crdc", HTTP: &plan.HTTP{URL: srv.URL + "/crdc.zip", Member: "SCH/School Support.csv"}},
		SchoolYear: "2021-22", Lake: l,
	}
	store, err := lake.New(ctx, l, env)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := land.Run(ctx, p, store, env, land.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Artifact.Districts != 400 || sum.Artifact.Rows != 10000 || sum.Artifact.Bytes != int64(len(csv)) {
		t.Fatalf("artifact %+v", sum.Artifact)
	}
	if sent.Load() > int64(len(archive))/2 {
		t.Errorf("the origin sent %d bytes of a %d-byte archive whose member is %d bytes", sent.Load(), len(archive), len(csv))
	}
	t.Logf("archive %d bytes, member %d bytes, origin sent %d bytes", len(archive), len(csv), sent.Load())

	src := landedSource(l, p, sum.Artifact, "5500123", "crdc")
	stream, err := source.Open(ctx, src, env)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(stream)
	stream.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(body), ",5500123,"); n != 25 {
		t.Errorf("the district read %d of its 25 rows", n)
	}
	if stream.Fetched() > int64(len(csv))/100 {
		t.Errorf("the district read %d bytes of a %d-byte national file", stream.Fetched(), len(csv))
	}
	t.Logf("one district read %d bytes of the %d-byte national file", stream.Fetched(), len(csv))
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}
