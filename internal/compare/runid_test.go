package compare_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/compare"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/summary"
)

// A comparison without a given run id takes one from its clock in the same format as an
// ingest run's; a given id that is not safe in an object key fails before anything is read.
func TestCompareRunID(t *testing.T) {
	l, store := fileLake(t)
	writeState(t, store)
	clock := func() time.Time { return now }
	sum, err := compare.Run(context.Background(), testPlan(l), store, compare.Options{Now: clock, NoReport: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.RunID, "20240901T120000Z-") || dataset.CheckRunID(sum.RunID) != nil {
		t.Fatalf("run id %q: want a new id from the clock, 20240901T120000Z-<hex>", sum.RunID)
	}
	rows, meta := readParquet(t, store, comparisonKey)
	if meta[dataset.MetaRunID] != sum.RunID || rows[0]["run_id"] != sum.RunID {
		t.Errorf("the files carry run id %q / %v, the summary %q", meta[dataset.MetaRunID], rows[0]["run_id"], sum.RunID)
	}

	before := readAll(t, store, comparisonKey)
	sum, err = compare.Run(context.Background(), testPlan(l), store, compare.Options{Now: clock, RunID: "a b"})
	want := `run id "a b" must be 1 to 128 letters, digits, '.', '_' or '-'`
	if err == nil || err.Error() != want || sum.Outcome != summary.Failed || sum.Message != want {
		t.Fatalf("run with a bad id: %v (summary %+v), want %s", err, sum, want)
	}
	if string(readAll(t, store, comparisonKey)) != string(before) {
		t.Error("a run with a bad id changed the comparison")
	}
}
