package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/lakelock"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

// Two local runs into one file lake at once: each district's staffing, incidents and
// contracts all come from one run (one run_id), never some from each.
func TestConcurrentRunsNeverMixADistrict(t *testing.T) {
	f := loadSamples(t)
	lakeDir := t.TempDir()
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		outs := make([]bytes.Buffer, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = Run(context.Background(), f, RunOptions{Lake: lakeDir, Concurrency: 2, State: "WI", Out: &outs[i]})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, run %d: %v\n%s", round, i, err, outs[i].String())
			}
		}
		for _, lea := range []string{"5508520", "5509600"} {
			var files []string
			for _, key := range []string{
				dataset.DistrictKey(dataset.Staffing, "WI", "2020-21", lea),
				dataset.DistrictKey(dataset.Incidents, "WI", "2020-21", lea),
				dataset.DistrictKey(dataset.Contracts, "WI", "", lea),
			} {
				files = append(files, "'"+filepath.Join(lakeDir, filepath.FromSlash(key))+"'")
			}
			ids := map[string]bool{}
			for _, r := range testenv.DuckDB(t, "SELECT DISTINCT run_id FROM read_parquet(["+strings.Join(files, ", ")+"], union_by_name = true)") {
				ids[fmt.Sprint(r["run_id"])] = true
			}
			if len(ids) != 1 {
				t.Fatalf("round %d: district %s holds the rows of %d runs: %v", round, lea, len(ids), ids)
			}
		}
	}
}

// A run waits for a district that another run holds, and goes on with the others.
func TestRunWaitsForADistrictAnotherRunHolds(t *testing.T) {
	f := loadSamples(t)
	lakeDir := t.TempDir()
	ctx := context.Background()
	store, err := lake.New(ctx, plan.Lake{Type: plan.LakeFile, Path: lakeDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := lakelock.Open(ctx, lakeDir, lake.TempPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	release, err := other.District(ctx, "WI", "5508520")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, f, RunOptions{Lake: lakeDir, Concurrency: 2, State: "WI"})
		done <- err
	}()
	milwaukee := dataset.DistrictKey(dataset.Staffing, "WI", "2020-21", "5509600")
	madison := dataset.DistrictKey(dataset.Staffing, "WI", "2020-21", "5508520")
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := store.Stat(ctx, milwaukee); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Milwaukee was not published while Madison waited")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := store.Stat(ctx, madison); err == nil {
		t.Fatal("Madison was published while another run held it")
	}
	select {
	case err := <-done:
		t.Fatalf("the run ended while a district it needs was held: %v", err)
	default:
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not go on after the district was released")
	}
	if _, err := store.Stat(ctx, madison); err != nil {
		t.Errorf("Madison was not published after the release: %v", err)
	}
}

// A run that starts alone on a file lake removes the temporary files a killed run left.
func TestRunSweepsLeftOverTemporaryFiles(t *testing.T) {
	f := loadSamples(t)
	lakeDir := t.TempDir()
	left := filepath.Join(lakeDir, "staffing/state=WI/school_year=2020-21/district=5508520/.tmp-data.parquet-4242")
	if err := os.MkdirAll(filepath.Dir(left), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), f, RunOptions{Lake: lakeDir, State: "WI", Out: &out}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the left-over file is still there (%v)", err)
	}
	if want := "Removed 1 temporary files left by an interrupted run\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}
