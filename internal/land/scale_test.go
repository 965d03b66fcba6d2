package land_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/source"
)

// serveFile serves one file from disk (not from the test's memory, so that the heap the
// test measures is the landing's).
func serveFile(t testing.TB, path string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"national"`)
		http.ServeFile(w, r, path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// writeNational writes a national file of districts x schools rows to dir and returns its
// path and size.
func writeNational(t *testing.T, dir string, districts, schools int, tag string) (string, int64) {
	t.Helper()
	path := filepath.Join(dir, "School Support.csv")
	if err := os.WriteFile(path, national(districts, schools, tag), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	return path, fi.Size()
}

// TestLandLargerThanMemory: a national file several times the memory the landing may
// hold goes through the spool on disk. While the district objects are written, the spool
// in TempDir holds every row, the index one extent per district (the file is sorted by
// LEAID), and the live heap is a fraction of the file; afterwards the spool is gone.
func TestLandLargerThanMemory(t *testing.T) {
	ctx := context.Background()
	path, size := writeNational(t, t.TempDir(), 2000, 250, "big") // 500,000 rows, 32 MiB
	srv := serveFile(t, path)
	scratch := t.TempDir()
	p := landPlan(srv.URL+"/national.csv", t.TempDir())
	store, err := lake.New(ctx, p.Lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	var spooled int64
	var spools int
	var heap uint64
	var lines []land.Progress
	opts := land.Options{TempDir: scratch, OnProgress: func(pr land.Progress) {
		lines = append(lines, pr)
		if pr.Phase != "publish" || pr.Published != pr.Districts {
			return
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapAlloc
		ents, _ := os.ReadDir(scratch)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".spool") {
				spools++
				fi, _ := e.Info()
				spooled = fi.Size()
			}
		}
	}}
	sum, err := land.Run(ctx, p, store, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	a := sum.Artifact
	if a.Rows != 2000*250 || a.Districts != 2000 || a.Bytes != size {
		t.Fatalf("artifact %+v", a)
	}
	header := int64(len("LEA_STATE,LEAID,LEA_NAME,SCHID,SCH_NAME,COMBOKEY,SCH_FTECOUNSELORS\n"))
	if spools != 1 || spooled != size-header {
		t.Errorf("while publishing, TempDir held %d spool files, the last of %d bytes; want one of the file's %d rows' bytes", spools, spooled, size-header)
	}
	if heap > uint64(size)/4 {
		t.Errorf("while publishing, the live heap was %d MiB for a %d MiB file", heap>>20, size>>20)
	}
	if ents, _ := os.ReadDir(scratch); len(ents) != 0 {
		t.Errorf("the spool was left in TempDir: %v", ents)
	}
	if len(lines) == 0 || lines[len(lines)-1].Published != 2000 {
		t.Errorf("progress: %+v", lines)
	}
	t.Logf("file %d MiB; live heap while publishing %d MiB; %d progress lines", size>>20, heap>>20, len(lines))

	// A district reads its 250 rows and the header.
	b := readLanded(t, landedSource(p.Lake, p, a, "5501234", "crdc"), nil)
	if n := strings.Count(b, "\n"); n != 251 || strings.Count(b, ",5501234,") != 250 {
		t.Errorf("district 5501234 read %d lines", n)
	}
}

// failingStore fails the Put of a revision's objects (state objects and indexes) after
// the first `after` of them.
type failingStore struct {
	lake.Store
	after int64
	puts  atomic.Int64
}

func (f *failingStore) Put(ctx context.Context, key string, data []byte) (lake.ObjectInfo, error) {
	if strings.Contains(key, "/fips=") && f.puts.Add(1) > f.after {
		return lake.ObjectInfo{}, errors.New("injected: the lake went away")
	}
	return f.Store.Put(ctx, key, data)
}

// TestLandFailsMidPublish: a landing that fails part of the way through writing the
// revision's objects (here: the state's object written, its index not) reports it, leaves the manifest naming the previous revision, and
// that revision's objects stay readable.
func TestLandFailsMidPublish(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, _ := writeNational(t, dir, 300, 4, "v1")
	srv := serveFile(t, path)
	p := landPlan(srv.URL+"/national.csv", t.TempDir())
	store, err := lake.New(ctx, p.Lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := land.Run(ctx, p, store, nil, land.Options{})
	if err != nil {
		t.Fatal(err)
	}

	writeNational(t, dir, 300, 4, "v2")
	fs := &failingStore{Store: store, after: 1}
	_, err = land.Run(ctx, p, fs, nil, land.Options{Publishers: 4})
	if err == nil || !strings.Contains(err.Error(), "injected: the lake went away") ||
		!strings.Contains(err.Error(), "the manifest still names the previous revision") {
		t.Fatalf("error = %v", err)
	}
	t.Log(err)
	m, err := land.ReadManifest(ctx, store, "wi", p.Name)
	if err != nil || m.Revision != first.Artifact.Revision {
		t.Fatalf("manifest after the failed landing: %+v, %v; want revision %s", m, err, first.Artifact.Revision)
	}
	for _, id := range []string{"5500000", "5500150", "5500299"} {
		src := landedSource(p.Lake, p, m, id, "crdc")
		stream, err := source.Open(ctx, src, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(stream)
		stream.Close()
		if err != nil || strings.Count(string(b), fmt.Sprintf(",%s,", id)) != 4 || !strings.Contains(string(b), "v1") {
			t.Errorf("district %s of the previous revision: %q, %v", id, b, err)
		}
	}
}
