// Command stategen writes a synthetic state into a lake, for the comparison's benchmark:
// staffing, incidents and contracts files with the canonical schemas for N districts and M
// schools, with the nulls real files have. With -plan it also writes the compare plan that
// reads them.
//
//	go run ./hack/stategen -lake /tmp/lake -districts 1000 -schools 10000 -plan /tmp/plan.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/districtlake/districtlake/internal/compare/statelake"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stategen:", err)
		os.Exit(1)
	}
}

func run() error {
	lakeURL := flag.String("lake", "", "lake to write into: a folder, file:///path or s3://bucket/prefix")
	state := flag.String("state", "ZZ", "two-letter state code")
	year := flag.String("year", "2023-24", "school year")
	districts := flag.Int("districts", 1000, "districts")
	schools := flag.Int("schools", 10000, "schools, spread evenly over the districts")
	seed := flag.Uint64("seed", 1, "random seed")
	planPath := flag.String("plan", "", "also write a compare plan for the state to this file")
	flag.Parse()
	if *lakeURL == "" {
		return fmt.Errorf("-lake is required")
	}
	ctx := context.Background()
	l, err := lake.ParseURL(*lakeURL, lake.OSEnv())
	if err != nil {
		return err
	}
	store, err := lake.New(ctx, l, lake.OSEnv())
	if err != nil {
		return err
	}
	start := time.Now()
	g, err := statelake.Generate(ctx, store, statelake.State{
		State: *state, SchoolYear: *year, Districts: *districts, Schools: *schools, Seed: *seed,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "stategen: wrote %d districts, %d schools (%d staffing, %d incidents, %d contract rows; %d objects) to %s in %s\n",
		g.Districts, g.Schools, g.StaffingRows, g.IncidentRows, g.ContractRows, g.Objects, store.URL(), time.Since(start).Round(time.Millisecond))
	if *planPath == "" {
		return nil
	}
	six := func(v int64) *int64 { return &v }
	p := plan.Compare{
		Version: plan.Version, Kind: plan.KindCompare, Name: "bench", State: *state,
		SchoolYears: []string{*year}, Standards: dataset.DefaultStandards(), Lake: l,
		Costs: &dataset.Costs{Counselor: six(62000), Nurse: six(58000), Psychologist: six(81000), SocialWorker: six(60000)},
	}
	b, err := plan.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(*planPath, b, 0o644)
}
