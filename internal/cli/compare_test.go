package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sl "github.com/districtlake/districtlake/internal/compare/statelake"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// writeComparePlan generates a small state into a file lake under dir and writes the plan
// that compares it, with the plan's lake at lakePath.
func writeComparePlan(t *testing.T, dir, state, lakePath string) string {
	t.Helper()
	store, err := lake.New(context.Background(), plan.Lake{Type: plan.LakeFile, Path: filepath.Join(dir, "lake")}, lake.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sl.Generate(context.Background(), store, sl.State{State: "WI", SchoolYear: "2023-24", Districts: 5, Schools: 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	b, err := plan.Marshal(plan.Compare{Version: plan.Version, Kind: plan.KindCompare, Name: "wi", State: state,
		SchoolYears: []string{"2023-24"}, Standards: dataset.DefaultStandards(),
		Lake: plan.Lake{Type: plan.LakeFile, Path: lakePath}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "compare-plan.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func compareSummary(t *testing.T, path string) summary.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no summary: %v", err)
	}
	s, err := summary.Decode(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	term := filepath.Join(dir, "termination-log")
	if code := Main([]string{"compare", "--plan", writeComparePlan(t, dir, "WI", lakeDir), "--termination-log", term}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	s := compareSummary(t, term)
	if s.Outcome != summary.Succeeded || s.Districts != 5 || len(s.Objects) != 3 {
		t.Fatalf("summary %+v", s)
	}
	for _, o := range s.Objects {
		if _, err := os.Stat(filepath.Join(lakeDir, o.Key)); err != nil {
			t.Errorf("%s is not in the lake: %v", o.Key, err)
		}
	}
}

func TestCompareCommandLakeOverride(t *testing.T) {
	dir := t.TempDir()
	term := filepath.Join(dir, "termination-log")
	planPath := writeComparePlan(t, dir, "WI", filepath.Join(dir, "elsewhere"))
	if code := Main([]string{"compare", "--plan", planPath, "--lake", filepath.Join(dir, "lake"), "--termination-log", term}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "reports", "state=WI", "school_year=2023-24", "index.html")); err != nil {
		t.Errorf("no report in the --lake folder: %v", err)
	}
}

func TestCompareCommandFailure(t *testing.T) {
	dir := t.TempDir()
	term := filepath.Join(dir, "termination-log")
	// Nothing of IL is in the lake.
	planPath := writeComparePlan(t, dir, "IL", filepath.Join(dir, "lake"))
	if code := Main([]string{"compare", "--plan", planPath, "--termination-log", term}); code == 0 {
		t.Fatal("exit code 0 for a state without files")
	}
	s := compareSummary(t, term)
	if s.Outcome != summary.Failed || !strings.Contains(s.Message, "no staffing or incidents files for IL 2023-24") {
		t.Fatalf("summary %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "comparison")); !os.IsNotExist(err) {
		t.Errorf("a failed run published something: %v", err)
	}

	if code := Main([]string{"compare", "--plan", filepath.Join(dir, "missing.json"), "--termination-log", term}); code == 0 {
		t.Fatal("exit code 0 for a missing plan")
	}
	if s := compareSummary(t, term); s.Outcome != summary.Failed || !strings.Contains(s.Message, "missing.json") {
		t.Fatalf("summary %+v", s)
	}
}
