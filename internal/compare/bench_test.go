package compare_test

import (
	"context"
	"testing"

	"github.com/districtlake/districtlake/internal/compare"
	sl "github.com/districtlake/districtlake/internal/compare/statelake"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// BenchmarkRun compares a generated state of 200 districts and 2,000 schools (128,000
// incidents rows) in a file lake, report included; hack/bench/compare.sh runs the full
// 1,000-district state against DuckDB.
func BenchmarkRun(b *testing.B) {
	ctx := context.Background()
	l := plan.Lake{Type: plan.LakeFile, Path: b.TempDir()}
	store, err := lake.New(ctx, l, lake.MapEnv(nil))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sl.Generate(ctx, store, sl.State{State: "ZZ", SchoolYear: year, Districts: 200, Schools: 2000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	p := testPlan(l)
	p.State = "ZZ"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compare.Run(ctx, p, store, compare.Options{RunID: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3/200, "ms/district")
}
