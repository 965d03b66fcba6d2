package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// A run without a given id takes a new one from its clock and names its manifest after it;
// a given id that is not safe in an object key fails the run before anything is written.
func TestIngestRunID(t *testing.T) {
	l, store := fileLakeAt(t, mustFileLake(t))
	contracts := plan.Source{Name: "contracts", Dataset: dataset.Contracts, Format: dataset.FormatCSV,
		Columns: map[string]string{"agency_name": "Agency", "status": "Status", "annual_cost": "Annual Cost (USD)"},
		Inline:  inline("Agency,Status,Annual Cost (USD)\nMadison Police Department,active,350000\n")}
	p := newPlan(l, "5508520", "Madison", "WI", contracts)

	sum, err := Run(context.Background(), p, store, lake.MapEnv(nil), testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.RunID, "20261126T130501Z-") || dataset.CheckRunID(sum.RunID) != nil {
		t.Fatalf("run id %q: want a new id from the clock, 20261126T130501Z-<hex>", sum.RunID)
	}
	if want := dataset.RunManifestKey(sum.RunID); sum.Manifest != want {
		t.Fatalf("manifest %q, want %q", sum.Manifest, want)
	}

	before := snapshot(t, store)
	sum, err = Run(context.Background(), p, store, lake.MapEnv(nil), testOptions("../escape"))
	want := `run id "../escape" must be 1 to 128 letters, digits, '.', '_' or '-'`
	if err == nil || err.Error() != want || sum.Message != want {
		t.Fatalf("run with a bad id: %v (summary %+v), want %s", err, sum, want)
	}
	assertUnchanged(t, store, before)
}

func mustFileLake(t *testing.T) plan.Lake {
	t.Helper()
	l, err := lake.ParseURL(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
