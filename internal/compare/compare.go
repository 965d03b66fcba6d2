// Package compare is the statewide comparison: it reads every staffing, incidents and
// contracts file of one state from the lake, one district file at a time, and writes one
// row per district (support staff against the recommended ratios, police, arrests and
// referrals, the police contract, ranks) and one row per district and student group
// (shares and relative rates), plus an HTML report. The arithmetic is in small pure
// functions (maths.go); reading (read.go) and writing (write.go) are apart from it.
package compare

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/go-logr/logr"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// Options tune a run. The zero value is usable.
type Options struct {
	// RunID names the run in the files' metadata and the summary; a new one when empty.
	RunID string
	// Log receives progress lines; discarded when unset.
	Log logr.Logger
	// Concurrency is how many district files are read at once (GOMAXPROCS when 0). Each
	// reader holds one file's record batch, so memory grows with it, not with the state.
	Concurrency int
	// Now is the clock for computed_at; time.Now when nil.
	Now func() time.Time
	// OnYear, when set, receives each state-year's rows after they are published: `run`
	// prints its summary table from them.
	OnYear func(*YearResult)
	// NoReport skips the HTML report.
	NoReport bool
}

// YearResult is the comparison of one state and school year.
type YearResult struct {
	State, SchoolYear string
	// Districts are sorted by NCES ID; Groups by NCES ID, then in group order.
	Districts []District
	Groups    []Group
	// Keys of the published objects (relative to the lake prefix); ReportKey is empty when
	// the report was skipped.
	ComparisonKey, GroupsKey, ReportKey string
}

// Run compares the districts of p.State for each of p.SchoolYears. It publishes
// comparison/state=XX/school_year=Y/data.parquet, comparison_groups/... and
// reports/state=XX/school_year=Y/index.html for every year, and only after all of them
// were computed and written: a failure publishes nothing and its error names the file (and
// row and column) at fault. The summary lists the objects with their rows and SHA-256; on
// failure it has Outcome Failed and the error as Message.
func Run(ctx context.Context, p *plan.Compare, store lake.Store, opts Options) (summary.Summary, error) {
	opts = opts.withDefaults()
	sum := summary.Summary{RunID: opts.RunID, Outcome: summary.Failed}
	if err := dataset.CheckRunID(opts.RunID); err != nil {
		sum.Message = err.Error()
		return sum, err
	}
	res, err := run(ctx, p, store, &opts)
	if err != nil {
		sum.Message = err.Error()
		return sum, err
	}
	sum.Outcome = summary.Succeeded
	sum.Objects = res.objects
	sum.Districts = res.districts
	sum.Message = fmt.Sprintf("Compared %d districts of %s in %d school year(s)", res.districts, p.State, len(p.SchoolYears))
	return sum, nil
}

func (o Options) withDefaults() Options {
	if o.Log.GetSink() == nil {
		o.Log = logr.Discard()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunID == "" {
		o.RunID = dataset.NewRunID(o.Now())
	}
	return o
}

type runResult struct {
	objects   []summary.Object
	districts int32
}

// run computes every year, writes every object, then commits them all.
func run(ctx context.Context, p *plan.Compare, store lake.Store, o *Options) (*runResult, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("compare plan: %w", err)
	}
	contracts, err := readContracts(ctx, store, p.State, o)
	if err != nil {
		return nil, err
	}
	var years []*YearResult
	seen := map[string]bool{}
	for _, y := range p.SchoolYears {
		yr, err := compareYear(ctx, p, store, y, contracts, o)
		if err != nil {
			return nil, err
		}
		for _, d := range yr.Districts {
			seen[d.NCESID] = true
		}
		years = append(years, yr)
	}
	out := &publisher{batch: lake.NewBatch(store), runID: o.RunID, now: o.Now(), plan: p}
	defer out.batch.Abort(errors.New("the comparison did not complete"))
	for _, yr := range years {
		if err := out.writeYear(ctx, yr); err != nil {
			return nil, err
		}
	}
	if !o.NoReport {
		for _, yr := range years {
			if err := out.addReport(yr); err != nil {
				return nil, err
			}
		}
	}
	objects, err := out.commit(ctx)
	if err != nil {
		return nil, err
	}
	for _, yr := range years {
		o.Log.Info("Published comparison", "state", p.State, "schoolYear", yr.SchoolYear,
			"districts", len(yr.Districts), "key", yr.ComparisonKey, "report", yr.ReportKey)
		if o.OnYear != nil {
			o.OnYear(yr)
		}
	}
	return &runResult{objects: objects, districts: int32(len(seen))}, nil
}

// compareYear reads one school year's files and computes its rows.
func compareYear(ctx context.Context, p *plan.Compare, store lake.Store, year string, contracts map[string]*districtContracts, o *Options) (*YearResult, error) {
	inputs, err := readYear(ctx, store, p.State, year, o)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no staffing or incidents files for %s %s under %s and %s in %s",
			p.State, year, yearPrefix(dataset.Staffing, p.State, year), yearPrefix(dataset.Incidents, p.State, year), store.URL())
	}
	yr := &YearResult{State: p.State, SchoolYear: year}
	var costs dataset.Costs
	if p.Costs != nil {
		costs = *p.Costs
	}
	for _, in := range inputs {
		if dc := contracts[in.ncesID]; dc != nil {
			in.contracts, in.hasContracts = dc.rows, true
			if in.name == "" {
				in.name = dc.name
			}
		}
		if in.name == "" {
			in.name = in.ncesID
		}
		d, gs := buildDistrict(p.State, year, in, p.Standards, costs)
		yr.Districts = append(yr.Districts, d)
		yr.Groups = append(yr.Groups, gs...)
	}
	rankDistricts(yr.Districts)
	o.Log.Info("Compared districts", "state", p.State, "schoolYear", year, "districts", len(yr.Districts))
	return yr, nil
}
