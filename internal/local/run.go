package local

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/compare"
	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/lakelock"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/summary"
	"github.com/districtlake/districtlake/internal/term"
)

// RunOptions say where and how a local run goes.
type RunOptions struct {
	// Lake is the lake every district and comparison writes to, in place of the folder's
	// Lakes: a folder, file:///path or s3://bucket/prefix (see lake.ParseURL).
	Lake string
	// Concurrency is how many districts are ingested at once (at least 1).
	Concurrency int
	// State, when set, runs only the DistrictSources and StateComparisons of that state.
	State string
	// Env is the environment: the s3 lake's endpoint and keys, and the values of Secrets
	// that sources name but the folder does not hold (under the variable names the plan
	// gives them, such as DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0). os.LookupEnv when nil.
	Env lake.Env
	// Out receives the progress, the tables and the DuckDB line.
	Out io.Writer
	// Terminal draws a progress bar instead of plain lines.
	Terminal bool
	// Command is how the user runs districtlake, for the DuckDB line ("districtlake" when
	// empty).
	Command string
	// Egress limits the addresses the http and s3 sources are fetched from and the lake's
	// client connects to; the zero value, a run on the user's own machine, allows every
	// address.
	Egress plan.Egress

	// locks are the run's locks on a file lake (nil for an s3 lake).
	locks *lakelock.Lake
}

// DistrictResult is what happened to one DistrictSource.
type DistrictResult struct {
	Namespace, Name, District string
	Summary                   summary.Summary
	Err                       error
}

// StateResult is what happened to one StateComparison.
type StateResult struct {
	Namespace, Name, State string
	Summary                summary.Summary
	// Years are the published comparisons, by school year.
	Years []YearTable
	Err   error
}

// YearTable is one state-year's published comparison, as the comparison computed it.
type YearTable struct {
	SchoolYear    string
	ComparisonKey string
	ReportKey     string
	Districts     []compare.District
}

// RunResult is the outcome of a local run.
type RunResult struct {
	Lake      lake.Config
	LakeURL   string
	Shared    []SharedResult
	Districts []DistrictResult
	States    []StateResult
}

// Failed counts the districts and comparisons that failed.
func (r *RunResult) Failed() int {
	n := 0
	for _, d := range r.Districts {
		if d.Err != nil {
			n++
		}
	}
	for _, s := range r.States {
		if s.Err != nil {
			n++
		}
	}
	for _, s := range r.Shared {
		if s.Err != nil {
			n++
		}
	}
	return n
}

// Run ingests every DistrictSource of a validated folder into the lake, then runs every
// StateComparison, printing progress, a table per state, the reports' paths and how to open
// the lake in DuckDB. A district that fails is reported and the others go on; the error
// says how many failed. An invalid folder runs nothing.
func Run(ctx context.Context, f *Folder, o RunOptions) (*RunResult, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	if o.Env == nil {
		o.Env = lake.OSEnv()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Command == "" {
		o.Command = "districtlake"
	}
	l, err := lake.ParseURL(o.Lake, o.Env)
	if err != nil {
		return nil, err
	}
	store, err := lake.New(ctx, l, o.Env, lake.WithEgress(o.Egress))
	if err != nil {
		return nil, fmt.Errorf("opening the lake: %w", err)
	}
	dss, scs, err := selectState(f, o.State)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Lake: l, LakeURL: store.URL()}
	fmt.Fprintf(o.Out, "Lake: %s\n", term.Escape(store.URL()))
	if o.locks, err = lockFileLake(ctx, l, o.Out); err != nil {
		return nil, err
	}
	if o.locks != nil {
		defer o.locks.Close()
	}
	var landed *landings
	res.Shared, landed = landAll(ctx, f, dss, l, store, o)
	records := newRunRecords(store)
	res.Districts = ingestAll(ctx, f, landed, dss, l, store, records, o)
	recordsErr := records.Close()
	for _, sc := range scs {
		res.States = append(res.States, compareState(ctx, f, sc, l, store, o))
	}
	if err := store.Sync(ctx); err != nil {
		return res, err
	}
	writeResults(o.Out, res, o)
	if n := res.Failed(); n > 0 {
		return res, fmt.Errorf("%d of %d districts and comparisons failed (see above)", n, len(res.Districts)+len(res.States)+len(res.Shared))
	}
	if recordsErr != nil {
		return res, fmt.Errorf("recording the districts' runs (their data is published): %w", recordsErr)
	}
	return res, nil
}

func selectState(f *Folder, state string) ([]*v1alpha1.DistrictSource, []*v1alpha1.StateComparison, error) {
	state = strings.ToUpper(state)
	var dss []*v1alpha1.DistrictSource
	for _, it := range f.DistrictSources {
		if state == "" || string(it.Object.Spec.District.State) == state {
			dss = append(dss, it.Object)
		}
	}
	var scs []*v1alpha1.StateComparison
	for _, it := range f.StateComparisons {
		if state == "" || string(it.Object.Spec.State) == state {
			scs = append(scs, it.Object)
		}
	}
	if len(dss) == 0 && len(scs) == 0 {
		if state != "" {
			return nil, nil, fmt.Errorf("no DistrictSource or StateComparison of state %s in %s", state, f.Dir)
		}
		return nil, nil, fmt.Errorf("no DistrictSource or StateComparison in %s", f.Dir)
	}
	return dss, scs, nil
}

// ingestAll ingests the districts, Concurrency at a time, in the folder's order; their
// manifests go to records.
func ingestAll(ctx context.Context, f *Folder, landed *landings, dss []*v1alpha1.DistrictSource, l lake.Config, store lake.Store, records ingest.RunRecords, o RunOptions) []DistrictResult {
	out := make([]DistrictResult, len(dss))
	progress := NewProgress(o.Out, len(dss), o.Terminal)
	defer progress.Close()
	sem := make(chan struct{}, o.Concurrency)
	// The districts share the datasets' small-file Parquet writers.
	opts := ingest.Options{SmallFiles: ingest.NewSmallFileWriters(), Records: records, Indexes: source.NewIndexCache()}
	var wg sync.WaitGroup
	for i, ds := range dss {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			progress.Started(ds.Name)
			out[i] = ingestLocked(ctx, o.locks, ds, func() DistrictResult { return ingestOne(ctx, f, landed, ds, l, store, o.Env, o.Egress, opts) })
			progress.Finished(ds.Name, rowsOf(out[i].Summary), out[i].Err)
		}()
	}
	wg.Wait()
	return out
}

func rowsOf(s summary.Summary) int64 {
	var n int64
	for _, o := range s.Objects {
		n += o.Rows
	}
	return n
}

func ingestOne(ctx context.Context, f *Folder, landed *landings, ds *v1alpha1.DistrictSource, l lake.Config, store lake.Store, env lake.Env, eg plan.Egress, opts ingest.Options) DistrictResult {
	r := DistrictResult{Namespace: ds.Namespace, Name: ds.Name, District: ds.Spec.District.Name}
	if r.Err = sharedFailure(landed, ds); r.Err != nil {
		return r
	}
	p, err := localPlan(ctx, f, landed, ds, l, env)
	if err != nil {
		r.Err = err
		return r
	}
	p.Plan.Egress = eg
	r.Summary, r.Err = ingest.Run(ctx, &p.Plan, store, p.Env, opts)
	return r
}

// localIngestPlan is a DistrictSource's ingest plan made to run on this machine, and the
// environment that carries its secrets.
type localIngestPlan struct {
	Plan plan.Ingest
	Env  lake.Env
}

// localPlan renders a DistrictSource from the folder and what the run landed (nil: a
// stand-in revision, as when validating), as the operator renders it from the
// cluster but with the ConfigMap keys its sources read inline in the plan, then makes it
// run here: the lake is l, and each Secret value a source needs comes from a Secret in the
// folder or else from env under the variable name the plan gives it. Secret values live
// only in the returned Env.
func localPlan(ctx context.Context, f *Folder, landed *landings, ds *v1alpha1.DistrictSource, l lake.Config, env lake.Env) (*localIngestPlan, error) {
	ip, err := render.DistrictSource(ctx, ds, folderResolver{f: f, landed: landed}, render.InlineConfigMaps)
	if err != nil {
		return nil, err
	}
	p := ip.Plan
	p.Lake = l
	for i := range p.Sources {
		if p.Sources[i].Landed != nil {
			p.Sources[i].Landed.Lake = l // landed in the run's lake
		}
	}
	secrets := map[string]string{}
	needed := neededEnv(&p)
	for _, se := range ip.Secrets {
		if !needed[se.Env] {
			continue // such as the keys of the folder's Lake, which l replaces
		}
		if sec := f.Secret(ds.Namespace, se.Secret); sec != nil {
			secrets[se.Env] = string(sec.Data[se.Key]) // render checked that the key is there
			continue
		}
		if v, ok := env(se.Env); ok {
			secrets[se.Env] = v
			continue
		}
		return nil, fmt.Errorf("Secret %s/%s (key %q) is not in %s and the environment variable %s is not set",
			ds.Namespace, se.Secret, se.Key, f.Dir, se.Env)
	}
	merged := func(name string) (string, bool) {
		if v, ok := secrets[name]; ok {
			return v, true
		}
		return env(name)
	}
	return &localIngestPlan{Plan: p, Env: merged}, nil
}

// neededEnv names the environment variables the plan's sources read: HTTP header values and
// the keys of the lakes that s3 sources read from.
func neededEnv(p *plan.Ingest) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Sources {
		if s.HTTP != nil {
			for _, h := range s.HTTP.Headers {
				out[h.ValueEnv] = true
			}
		}
		if s.S3 != nil {
			out[s.S3.Lake.AccessKeyIDEnv] = true
			out[s.S3.Lake.SecretAccessKeyEnv] = true
		}
	}
	return out
}

func compareState(ctx context.Context, f *Folder, sc *v1alpha1.StateComparison, l lake.Config, store lake.Store, o RunOptions) StateResult {
	r := StateResult{Namespace: sc.Namespace, Name: sc.Name, State: string(sc.Spec.State)}
	c, err := render.StateComparison(ctx, sc, folderResolver{f: f})
	if err != nil {
		r.Err = err
		return r
	}
	p := c.Plan
	p.Lake = l
	var years []*compare.YearResult
	r.Summary, r.Err = compare.Run(ctx, &p, store, compare.Options{
		Concurrency: o.Concurrency,
		OnYear:      func(y *compare.YearResult) { years = append(years, y) },
	})
	if r.Err != nil {
		return r
	}
	for _, y := range years {
		r.Years = append(r.Years, YearTable{SchoolYear: y.SchoolYear, ComparisonKey: y.ComparisonKey, ReportKey: y.ReportKey, Districts: y.Districts})
	}
	return r
}

// writeResults prints the failures, a table per state-year, the reports and the DuckDB line.
func writeResults(w io.Writer, res *RunResult, o RunOptions) {
	ok := 0
	for _, d := range res.Districts {
		if d.Err == nil {
			ok++
		}
	}
	fmt.Fprintf(w, "Ingested %d of %d districts\n", ok, len(res.Districts))
	for _, d := range res.Districts {
		if d.Err != nil {
			fmt.Fprintf(w, "  FAILED %s/%s (%s): %s\n", term.Escape(d.Namespace), term.Escape(d.Name), term.Escape(d.District), term.Text(d.Err.Error()))
		}
	}
	states := append([]StateResult(nil), res.States...)
	sort.SliceStable(states, func(i, j int) bool { return states[i].State < states[j].State })
	for _, s := range states {
		fmt.Fprintln(w)
		if s.Err != nil {
			fmt.Fprintf(w, "Comparison %s/%s (%s) FAILED: %s\n", term.Escape(s.Namespace), term.Escape(s.Name), s.State, term.Text(s.Err.Error()))
			continue
		}
		for _, y := range s.Years {
			_ = WriteStateTable(w, s.State, y.SchoolYear, y.Districts)
			if y.ReportKey != "" {
				fmt.Fprintf(w, "Report: %s\n", term.Escape(objectLocation(res.Lake, res.LakeURL, y.ReportKey)))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Open the lake in DuckDB:")
	fmt.Fprintf(w, "  %s\n", term.Escape(DuckDBLine(o.Command, o.Lake)))
}

// DuckDBLine is the shell line that opens the lake in DuckDB with the SQL of
// `districtlake sql`.
func DuckDBLine(command, lakeURL string) string {
	return fmt.Sprintf("duckdb -init <(%s sql --lake %s)", command, shellQuote(lakeURL))
}

// objectLocation is where a user finds an object: a local path in a file lake, else its URL.
func objectLocation(l lake.Config, lakeURL, key string) string {
	if l.Type == lake.TypeFile {
		return filepath.Join(l.Path, filepath.FromSlash(strings.Trim(l.Prefix, "/")), filepath.FromSlash(key))
	}
	return strings.TrimSuffix(lakeURL, "/") + "/" + key
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
