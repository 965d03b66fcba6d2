// Package ingest runs one district's ingest plan: it fetches every source, reads it
// (csv, json, ndjson, parquet, or a CRDC school file with the crdc preset), maps it onto
// the canonical dataset schemas, checks it, and writes each dataset to the lake as Parquet.
// Every dataset is written before any is published, so a run that fails publishes
// nothing; a successful run ends with its manifest at _runs/<run-id>.json.
//
// A dataset fed by one source is streamed: rows go to Parquet in records of BatchRows
// rows while the file is still arriving, so memory does not grow with the file. A dataset
// fed by several sources (School Support + Enrollment) is joined on the school in memory,
// which one district's rows always fit.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/text/encoding/charmap"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/redact"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/summary"
)

// Options tune a run; the zero value is usable.
type Options struct {
	// Log receives structured progress lines (logr.Discard() when unset).
	Log logr.Logger
	// Now is the clock (time.Now when nil); it stamps ingested_at and the run id.
	Now func() time.Time
	// RunID overrides the generated run id.
	RunID string
	// TempDir holds Parquet sources while they are read, and the scratch copy of a ZIP
	// archive whose server does not answer range requests (os.TempDir() when empty).
	TempDir string
	// ProgressEvery is how often a streaming source logs its progress (5s when zero).
	ProgressEvery time.Duration
	// Limits bound the memory of one source (DefaultLimits for zero fields).
	Limits Limits
	// SmallFiles keeps the datasets' small-file writers for runs that share it, such as
	// the districts of one `districtlake run` (a set of the run's own when nil).
	SmallFiles *SmallFileWriters
	// Records, when set, takes the run's manifest instead of the run writing it to
	// _runs/<run-id>.json: `districtlake run` gathers its districts' manifests into a few
	// files.
	Records RunRecords
	// Indexes keeps the indexes of landed shared files for runs that share it, such as
	// the districts of one `districtlake run` (each run reads its own when nil).
	Indexes *source.IndexCache
}

// RunRecords takes the manifests of successful runs.
type RunRecords interface {
	// Add records a run's manifest and returns the key of the object that holds it (or
	// will, once the runs that share it end).
	Add(ctx context.Context, m *Manifest) (string, error)
}

// output is one object a run writes: a dataset of a school year, from one or more sources.
type output struct {
	dataset    string
	schoolYear string
	key        string
	sources    []plan.Source
}

// groupOutputs groups a plan's sources by the object they feed, in plan order.
func groupOutputs(p *plan.Ingest) []*output {
	var outs []*output
	byKey := map[string]*output{}
	for _, src := range p.Sources {
		year := src.SchoolYear
		if !dataset.HasSchoolYear(src.Dataset) {
			year = ""
		}
		key := dataset.DistrictKey(src.Dataset, p.District.State, year, p.District.NCESID)
		o, ok := byKey[key]
		if !ok {
			o = &output{dataset: src.Dataset, schoolYear: year, key: key}
			byKey[key] = o
			outs = append(outs, o)
		}
		o.sources = append(o.sources, src)
	}
	return outs
}

// runner holds one run's state.
type runner struct {
	p        *plan.Ingest
	store    lake.Store
	env      lake.Env
	opts     Options
	lim      Limits
	log      logr.Logger
	runID    string
	ingested time.Time
	manifest Manifest
	sum      summary.Summary
}

// Run executes an ingest plan against a lake: it reads every source, writes every dataset
// to a lake Writer, and only when all are written commits them (then puts the run
// manifest). On any error it aborts every Writer, so the lake is left as it was, and
// returns the error (naming the source, row and column for bad input) with a summary
// whose Outcome is Failed. env supplies the secrets the plan names (os.LookupEnv in a Job).
// The returned summary lists every source (rows, object key) and object.
func Run(ctx context.Context, p *plan.Ingest, store lake.Store, env lake.Env, opts Options) (summary.Summary, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 5 * time.Second
	}
	if env == nil {
		env = lake.OSEnv()
	}
	if opts.SmallFiles == nil {
		opts.SmallFiles = NewSmallFileWriters()
	}
	start := opts.Now()
	r := &runner{p: p, store: store, env: env, opts: opts, lim: opts.Limits.withDefaults(), ingested: start.UTC().Truncate(time.Microsecond)}
	r.runID = opts.RunID
	if r.runID == "" {
		r.runID = dataset.NewRunID(start)
	}
	r.log = opts.Log.WithValues("runID", r.runID)
	r.sum = summary.Summary{RunID: r.runID, Outcome: summary.Failed}
	r.manifest = Manifest{
		RunID: r.runID, Plan: ManifestPlan{Namespace: p.Namespace, Name: p.Name},
		District: p.District, Lake: store.URL(), StartedAt: start.UTC(), Checks: checks(),
	}
	if err := p.Validate(); err != nil {
		err = fmt.Errorf("plan: %w", err)
		r.sum.Message = err.Error()
		return r.sum, err
	}
	if err := dataset.CheckRunID(r.runID); err != nil {
		r.sum.Message = err.Error()
		return r.sum, err
	}
	r.log.Info("Started run", "district", p.District.NCESID, "state", p.District.State, "sources", len(p.Sources), "lake", store.URL())
	if err := r.run(ctx); err != nil {
		err = redact.Error(err) // an error may quote a URL with a token in its query
		r.sum.Message = err.Error()
		r.log.Error(err, "Aborted run: published nothing")
		return r.sum, err
	}
	r.sum.Outcome = summary.Succeeded
	return r.sum, nil
}

// written is a dataset written to the batch, not yet published.
type written struct {
	out     *output
	rows    int64
	seconds float64
}

func (r *runner) run(ctx context.Context) (err error) {
	batch := lake.NewBatch(r.store)
	defer func() { batch.Abort(err) }()
	var pending []written
	for _, out := range groupOutputs(r.p) {
		wr, err := r.writeOutput(ctx, batch, out)
		if err != nil {
			return err
		}
		pending = append(pending, wr)
	}
	// Every dataset is written: publish them all.
	infos, err := batch.Commit(ctx)
	if err != nil {
		return err
	}
	total := int64(0)
	for i, po := range pending {
		info := infos[i]
		total += po.rows
		names := sourceNames(po.out.sources)
		r.manifest.Objects = append(r.manifest.Objects, ManifestObject{
			Dataset: po.out.dataset, SchoolYear: po.out.schoolYear, Key: info.Key, Rows: po.rows,
			Bytes: info.Size, SHA256: info.SHA256, ETag: info.ETag, Sources: names, Seconds: po.seconds,
		})
		r.sum.Objects = append(r.sum.Objects, summary.Object{Dataset: po.out.dataset, Key: info.Key, Rows: po.rows, SHA256: info.SHA256})
		r.log.Info("Published object", "key", info.Key, "rows", po.rows, "bytes", info.Size, "sha256", info.SHA256)
	}
	finished := r.opts.Now()
	r.manifest.FinishedAt = finished.UTC()
	r.manifest.Seconds = finished.Sub(r.manifest.StartedAt).Seconds()
	key, err := r.record(ctx)
	if err != nil {
		return err
	}
	r.sum.Manifest = key
	r.sum.Message = fmt.Sprintf("Wrote %d rows in %d object%s from %d source%s", total, len(pending), plural(len(pending)),
		len(r.p.Sources), plural(len(r.p.Sources)))
	r.log.Info("Wrote run manifest", "key", key, "objects", len(pending), "rows", total, "seconds", r.manifest.Seconds)
	return nil
}

// record writes the run's manifest to _runs/<run-id>.json, or hands it to Options.Records;
// it returns the key of the object that holds it.
func (r *runner) record(ctx context.Context) (string, error) {
	if r.opts.Records != nil {
		key, err := r.opts.Records.Add(ctx, &r.manifest)
		if err != nil {
			return "", fmt.Errorf("recording the run manifest (the datasets are published): %w", err)
		}
		return key, nil
	}
	b, err := r.manifest.encode()
	if err != nil {
		return "", err
	}
	key := dataset.RunManifestKey(r.runID)
	if _, err := r.store.Put(ctx, key, b); err != nil {
		return "", fmt.Errorf("writing the run manifest %s (the datasets are published): %w", key, err)
	}
	return key, nil
}

func sourceNames(srcs []plan.Source) []string {
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name
	}
	return names
}

// writeOutput writes one object (not yet committed): streamed from a single source, or
// joined from several.
func (r *runner) writeOutput(ctx context.Context, batch *lake.Batch, out *output) (written, error) {
	start := time.Now()
	po := written{out: out}
	sch := dataset.Schema(out.dataset)
	s, err := specFor(out.dataset)
	if err != nil {
		return po, err
	}
	small, err := r.opts.SmallFiles.writer(out.dataset, sch)
	if err != nil {
		return po, err
	}
	w, err := batch.Create(ctx, out.key)
	if err != nil {
		return po, fmt.Errorf("writing %s: %w", out.key, err)
	}
	meta := map[string]string{
		dataset.MetaSchemaVersion: dataset.SchemaVersion,
		dataset.MetaDataset:       out.dataset,
		dataset.MetaDistrict:      r.p.District.NCESID,
		dataset.MetaState:         r.p.District.State,
		dataset.MetaSources:       strings.Join(sourceNames(out.sources), ","),
		dataset.MetaRunID:         r.runID,
	}
	var sink *parquetSink
	if len(out.sources) == 1 {
		// One source: stream its rows to Parquet. The plan's columns, and the columns the
		// source cannot fill, are the same in every row and are built once.
		src := out.sources[0]
		err = r.readSource(ctx, s, src, func(m rowMapper) (emitter, error) {
			consts := r.rowContext(src).constants(s)
			for c, filled := range m.fills() {
				if _, plan := consts[c]; !plan && !filled {
					consts[c] = value{}
				}
			}
			var err error
			if sink, err = newParquetSink(w, sch, small, meta, consts, s.uniqueCols); err != nil {
				return nil, fmt.Errorf("writing %s: %w", out.key, lake.WriteCause(w, err))
			}
			return func(row []value, _ position) error { return sink.add(row) }, nil
		})
	} else {
		if sink, err = newParquetSink(w, sch, small, meta, nil, s.uniqueCols); err != nil {
			return po, fmt.Errorf("writing %s: %w", out.key, lake.WriteCause(w, err))
		}
		join := newJoinSet(s)
		for _, src := range out.sources {
			name := src.Name
			emit := func(row []value, at position) error { return join.add(name, row, at) }
			ready := func(m rowMapper) (emitter, error) { join.columns[name] = m.column; return emit, nil }
			if err = r.readSource(ctx, s, src, ready); err != nil {
				break
			}
		}
		if err == nil {
			err = join.finish(sink.add)
		}
	}
	if err != nil {
		if sink != nil {
			sink.abort()
		}
		if werr := lake.WriteError(w); werr != nil {
			return po, fmt.Errorf("writing %s: %w", out.key, werr)
		}
		return po, err
	}
	if err := sink.close(); err != nil {
		return po, fmt.Errorf("writing %s: %w", out.key, lake.WriteCause(w, err))
	}
	po.rows = sink.rows
	po.seconds = time.Since(start).Seconds()
	r.log.Info("Wrote dataset", "dataset", out.dataset, "key", out.key, "rows", sink.rows, "seconds", po.seconds)
	return po, nil
}

// rowContext holds the values the plan gives every row of a source.
func (r *runner) rowContext(src plan.Source) *rowContext {
	rc := &rowContext{
		source: src.Name, lea: r.p.District.NCESID, leaBytes: []byte(r.p.District.NCESID),
		state: []byte(r.p.District.State), district: []byte(r.p.District.Name),
		runID: []byte(r.runID), ingested: r.ingested.UnixMicro(),
		tempDir: r.opts.TempDir, keysInMemory: r.lim.KeysInMemory,
	}
	if src.SchoolYear != "" {
		rc.schoolYear = []byte(src.SchoolYear)
	}
	return rc
}

// readSource fetches one source and emits its canonical rows to the emitter that ready
// returns once the source's header is read.
func (r *runner) readSource(ctx context.Context, s *spec, src plan.Source, ready func(rowMapper) (emitter, error)) error {
	start := time.Now()
	stream, err := source.OpenWith(ctx, src, r.env, source.Options{TempDir: r.opts.TempDir, Egress: r.p.Egress,
		Lake: &source.OpenLake{Config: r.p.Lake, Store: r.store}, Indexes: r.opts.Indexes})
	if err != nil {
		return err
	}
	defer stream.Close()
	r.log.Info("Opened source", "source", src.Name, "location", stream.Location(), "member", stream.Member(),
		"bytes", stream.Size(), "gzip", stream.Gzip(), "spooled", stream.Spooled())
	rc := r.rowContext(src)
	prog := &progress{r: stream, log: r.log, every: r.opts.ProgressEvery, source: src.Name, start: start, last: start}
	m, closeTable, err := r.mapper(ctx, s, src, rc, prog, decode(src, prog))
	if err != nil {
		return err
	}
	defer closeTable()
	emit, err := ready(m)
	if err != nil {
		return err
	}
	rows := int64(0)
	err = m.run(func(row []value, at position) error {
		rows++
		return emit(row, at)
	})
	if err != nil {
		return err
	}
	// Read to the end, so that the size and checksum are checked.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return err
	}
	st := m.stats()
	if st.Kept == 0 {
		// A district file with a header (csv), an empty array (json) or no lines (ndjson)
		// and no rows is a valid empty source: for contracts, "no contract reported". A
		// CRDC file always has rows of the district.
		empty := src.Format == dataset.FormatJSON || src.Format == dataset.FormatNDJSON || (src.Format == dataset.FormatCSV && stream.Bytes() > 0)
		switch {
		case st.Dropped > 0:
			return &SourceError{Source: src.Name, Err: fmt.Errorf("no rows of district %s (LEAID) among its %d rows", r.p.District.NCESID, st.Rows)}
		case empty:
			r.log.Info("Read an empty source", "source", src.Name)
		case stream.Bytes() == 0:
			return &SourceError{Source: src.Name, Err: errors.New("the file is empty")}
		default:
			return &SourceError{Source: src.Name, Err: errNoRows}
		}
	}
	secs := time.Since(start).Seconds()
	mbps := float64(stream.Bytes()) / 1e6 / max(secs, 1e-9)
	r.log.Info("Read source", "source", src.Name, "rows", st.Rows, "kept", st.Kept, "otherDistricts", st.Dropped,
		"written", rows, "bytes", stream.Bytes(), "fetchedBytes", stream.Fetched(), "seconds", secs, "mbPerSecond", mbps,
		"unmappedColumns", len(st.Unmapped))
	r.manifest.Sources = append(r.manifest.Sources, ManifestSource{
		Name: src.Name, Dataset: src.Dataset, Format: src.Format, SchoolYear: src.SchoolYear,
		Location: stream.Location(), Member: stream.Member(), Bytes: stream.Bytes(), FetchedBytes: stream.Fetched(),
		Gzip: stream.Gzip(), Spooled: stream.Spooled(), SHA256: stream.SHA256(), ETag: stream.ETag(),
		CRDCFile: st.CRDCFile, UnmappedColumns: st.Unmapped, Repairs: st.Repairs, ReserveCells: reserveCells(st.ReserveCodes),
		RowsRead: st.Rows, RowsOtherDistricts: st.Dropped, RowsKept: st.Kept, RowsWritten: rows,
		ReserveCodes: reserveJSON(st.ReserveCodes), JusticeFacilitySchools: st.JusticeFacilities,
		TotalMismatches: st.TotalMismatches, Seconds: secs, MBPerSecond: mbps,
	})
	r.sum.Sources = append(r.sum.Sources, summary.Source{
		Name: src.Name, Dataset: src.Dataset, Bytes: stream.Bytes(), SHA256: stream.SHA256(), Rows: rows,
		ObjectKey: dataset.DistrictKey(src.Dataset, r.p.District.State, src.SchoolYear, r.p.District.NCESID),
	})
	return nil
}

// mapper opens the reader of a source's format and its mapping.
func (r *runner) mapper(ctx context.Context, s *spec, src plan.Source, rc *rowContext, prog *progress, text io.Reader) (rowMapper, func(), error) {
	noop := func() {}
	comma := byte(',')
	if src.Delimiter != "" {
		if len(src.Delimiter) != 1 || strings.ContainsAny(src.Delimiter, "\"\r\n") {
			return nil, noop, &SourceError{Source: src.Name, Err: fmt.Errorf("delimiter %q is not one character other than a quote or newline", src.Delimiter)}
		}
		comma = src.Delimiter[0]
	}
	switch src.Format {
	case dataset.FormatCSV, dataset.FormatCRDC:
		t, err := newCSVTable(src.Name, text, comma, r.lim)
		if err != nil {
			return nil, noop, err
		}
		prog.rows = func() int64 { return int64(t.s.records - 1) }
		if src.Format == dataset.FormatCRDC {
			m, err := newCRDCMapper(rc, s, t, src.Columns)
			return m, noop, err
		}
		m, err := newGenericMapper(rc, s, t, src.Columns)
		return m, noop, err
	case dataset.FormatJSON:
		t, err := newJSONTable(src.Name, text, r.lim)
		if err != nil {
			return nil, noop, err
		}
		prog.rows = func() int64 { return int64(t.row) }
		m, err := newGenericMapper(rc, s, t, src.Columns)
		return m, noop, err
	case dataset.FormatNDJSON:
		t := newNDJSONTable(src.Name, text, r.lim)
		prog.rows = func() int64 { return int64(t.row) }
		m, err := newGenericMapper(rc, s, t, src.Columns)
		return m, noop, err
	case dataset.FormatParquet:
		return r.parquetMapper(ctx, s, src, rc, prog)
	}
	return nil, noop, &SourceError{Source: src.Name, Err: fmt.Errorf("format %q is not one of %s", src.Format, strings.Join(dataset.Formats(), ", "))}
}

// decode returns a text source's bytes as UTF-8: a windows-1252 source is decoded (the
// stream's size and checksum stay those of the file's own bytes).
func decode(src plan.Source, r io.Reader) io.Reader {
	if src.Encoding == plan.EncodingWindows1252 {
		return charmap.Windows1252.NewDecoder().Reader(r)
	}
	return r
}

// parquetMapper spools a Parquet source to a temporary file (Parquet is read from its
// footer, so it needs random access) and maps it.
func (r *runner) parquetMapper(ctx context.Context, s *spec, src plan.Source, rc *rowContext, prog *progress) (rowMapper, func(), error) {
	f, err := os.CreateTemp(r.opts.TempDir, "districtlake-"+src.Name+"-*.parquet")
	if err != nil {
		return nil, func() {}, fmt.Errorf("source %q: spooling Parquet: %w", src.Name, err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(f, prog); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	if prog.n == 0 {
		cleanup()
		return nil, func() {}, &SourceError{Source: src.Name, Err: errors.New("the file is empty")}
	}
	t, err := newParquetTable(ctx, src.Name, f, r.lim)
	if err != nil {
		cleanup()
		return nil, func() {}, err
	}
	prog.rows = func() int64 { return int64(t.row) }
	m, err := newGenericMapper(rc, s, t, src.Columns)
	if err != nil {
		t.close()
		cleanup()
		return nil, func() {}, err
	}
	return m, func() { t.close(); cleanup() }, nil
}

// progress counts a source's bytes and logs how far it has got every few seconds.
type progress struct {
	r           io.Reader
	n           int64
	log         logr.Logger
	every       time.Duration
	source      string
	start, last time.Time
	rows        func() int64
}

// SizeHint is the stream's size when it is known (0 otherwise), so that a reader's first
// buffer need not be larger than a small file.
func (p *progress) SizeHint() int64 {
	if s, ok := p.r.(interface{ Size() int64 }); ok {
		return s.Size()
	}
	return 0
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		rows := int64(0)
		if p.rows != nil {
			rows = p.rows()
		}
		p.log.Info("Read rows", "source", p.source, "rows", rows, "bytes", p.n,
			"mbPerSecond", float64(p.n)/1e6/now.Sub(p.start).Seconds())
	}
	return n, err
}
