package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// writeIngestPlan writes a plan of one inline contracts source into a file lake.
func writeIngestPlan(t *testing.T, dir, contracts string) string {
	t.Helper()
	p := plan.Ingest{Version: plan.Version, Kind: plan.KindIngest, Name: "wi-5508520",
		District: plan.District{NCESID: "5508520", Name: "Madison Metropolitan School District", State: "WI"},
		Lake:     plan.Lake{Type: plan.LakeFile, Path: filepath.Join(dir, "lake")},
		Sources:  []plan.Source{{Name: "contracts", Dataset: "contracts", Format: "csv", Inline: &contracts}}}
	b, err := plan.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readSummary(t *testing.T, path string) summary.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := summary.Decode(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	planPath := writeIngestPlan(t, dir, "agency_name,annual_cost\nMadison Police Department,\"$380,000\"\n")
	term := filepath.Join(dir, "termination-log")
	if code := Main([]string{"ingest", "--plan", planPath, "--termination-log", term}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	s := readSummary(t, term)
	key := "contracts/state=WI/district=5508520/data.parquet"
	if s.Outcome != summary.Succeeded || len(s.Objects) != 1 || s.Objects[0].Key != key || s.Objects[0].Rows != 1 ||
		!strings.HasPrefix(s.Manifest, "_runs/") {
		t.Fatalf("summary %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", key)); err != nil {
		t.Fatalf("the object is not in the lake: %v", err)
	}

	// --lake overrides the plan's lake.
	other := filepath.Join(dir, "other")
	if code := Main([]string{"ingest", "--plan", planPath, "--lake", other, "--termination-log", term, "--run-id", "20261126T130501Z-cli001"}); code != 0 {
		t.Fatalf("exit code %d with --lake", code)
	}
	if _, err := os.Stat(filepath.Join(other, "_runs", "20261126T130501Z-cli001.json")); err != nil {
		t.Fatalf("--lake: %v", err)
	}

	// A failing run exits non-zero and still writes its summary.
	bad := writeIngestPlan(t, t.TempDir(), "agency_name,annual_cost\nMadison Police Department,lots\n")
	if code := Main([]string{"ingest", "--plan", bad, "--termination-log", term}); code == 0 {
		t.Fatal("exit code 0 for a bad source")
	}
	s = readSummary(t, term)
	want := `source "contracts" row 1 (line 2) column "annual_cost": "lots" is not an amount of money`
	if s.Outcome != summary.Failed || s.Message != want || s.RunID == "" {
		t.Fatalf("summary %+v, want outcome Failed with message %q", s, want)
	}
	// A plan that cannot be read fails the same way.
	if code := Main([]string{"ingest", "--plan", filepath.Join(dir, "missing.json"), "--termination-log", term}); code == 0 {
		t.Fatal("exit code 0 for a missing plan")
	}
	if s = readSummary(t, term); s.Outcome != summary.Failed || !strings.Contains(s.Message, "reading plan") {
		t.Fatalf("summary %+v", s)
	}
	b, _ := json.Marshal(s)
	if len(b) > summary.MaxBytes {
		t.Fatalf("summary of %d bytes", len(b))
	}
}
