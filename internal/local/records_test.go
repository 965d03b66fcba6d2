package local

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

// folderLake is a new folder lake and its folder.
func folderLake(t *testing.T) (string, lake.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := lake.New(context.Background(), plan.Lake{Type: plan.LakeFile, Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, store
}

// The manifests of a run's districts, added at once from many goroutines, land in files
// of perFile lines each, every manifest once, each file published only when full or when
// the run ends (a cancelled run too), and DuckDB reads them as one table.
func TestRunRecordsGatherManifests(t *testing.T) {
	dir, store := folderLake(t)
	r := newRunRecords(store)
	r.perFile = 3
	ctx, cancel := context.WithCancel(context.Background())
	keys := make([]string, 7)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &ingest.Manifest{RunID: fmt.Sprintf("run-%d", i), District: plan.District{NCESID: fmt.Sprintf("55%05d", i), State: "WI"}}
			k, err := r.Add(ctx, m)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	objs, err := store.List(context.Background(), "_runs/")
	if err != nil || len(objs) != 2 {
		t.Fatalf("before the run ended: %v, %v; want the two full files", objs, err)
	}
	cancel() // a run stopped by Ctrl-C still records what it published
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	objs, err = store.List(context.Background(), "_runs/")
	if err != nil || len(objs) != 3 {
		t.Fatalf("after the run: %v, %v; want 3 files", objs, err)
	}
	lines := map[string]int{}
	for _, k := range keys {
		lines[k]++
	}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".ndjson") || (lines[o.Key] != 3 && lines[o.Key] != 1) {
			t.Errorf("%s holds %d of the manifests handed out for it", o.Key, lines[o.Key])
		}
	}
	got := testenv.DuckDB(t, fmt.Sprintf(`SELECT count(*) AS n, count(DISTINCT runID) AS runs, min(district.ncesId) AS lo, max(district.ncesId) AS hi
		FROM read_json('%s', format = 'newline_delimited')`, filepath.Join(dir, "_runs", "*.ndjson")))
	if got[0]["n"] != int64(7) || got[0]["runs"] != int64(7) || got[0]["lo"] != "5500000" || got[0]["hi"] != "5500006" {
		t.Errorf("DuckDB reads %v from the run records", got)
	}
}

// Lines past the buffer are written as the run goes and the file still holds every line,
// whole, once committed.
func TestRunRecordsWriteLargeFiles(t *testing.T) {
	dir, store := folderLake(t)
	r := newRunRecords(store)
	check := strings.Repeat("x", 60<<10)
	var key string
	var err error
	for i := range 8 {
		m := &ingest.Manifest{RunID: fmt.Sprintf("run-%d", i), Checks: []string{check, fmt.Sprint(i)}}
		if key, err = r.Add(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got := testenv.DuckDB(t, fmt.Sprintf(`SELECT count(*) AS n, count(DISTINCT runID) AS runs, sum(length(checks[1])) AS bytes
		FROM read_json('%s', format = 'newline_delimited', maximum_object_size = 1048576)`, filepath.Join(dir, filepath.FromSlash(key))))
	if got[0]["n"] != int64(8) || got[0]["runs"] != int64(8) || got[0]["bytes"] != float64(8*len(check)) && got[0]["bytes"] != int64(8*len(check)) {
		t.Errorf("DuckDB reads %v from %s", got, key)
	}
}
