// Package land runs a SharedSource: it fetches a national file once (conditionally, with
// the validators of the last fetch, so an unchanged file costs one request and no
// download) and lands it in the lake split by district, one object per LEAID under a
// revision-specific prefix, then writes the revision's manifest last. A DistrictSource
// then reads its own object only: its cost does not grow with the national file, and it
// goes through the same format readers as any other source.
//
// One object per district was chosen over one Parquet file sorted by LEAID: a district's
// read is one GET of its rows in the file's own format (no footer, no row-group index to
// read first), the district's mapping (crdc or a column map) is unchanged, and a revision
// is never half-visible because readers learn its prefix only from the manifest (or the
// SharedSource's status), both written after every district's object.
package land

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/text/encoding/charmap"

	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/summary"
)

// Options are how a run may use the machine it runs on.
type Options struct {
	// TempDir is the scratch space: the spool the file is split into, and a ZIP archive
	// fetched without range requests ("" for the system's temporary folder).
	TempDir string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives structured progress lines (logr.Discard() when unset).
	Log logr.Logger
	// Publishers is how many district objects are written at once (DefaultPublishers
	// when 0).
	Publishers int
	// OnProgress, when set, is called as the landing goes: every ProgressEvery while the
	// file is split, and every ProgressEvery (or ProgressDistricts districts) while the
	// district objects are written. It is called from one goroutine at a time.
	OnProgress func(Progress)
	// ProgressEvery is how often progress is logged (5 s when 0).
	ProgressEvery time.Duration
}

// DefaultPublishers is how many district objects are written at once by default: the
// objects are small (a national file's 13,000 districts average a few kilobytes), so a
// landing is bound by round trips, not bandwidth.
const DefaultPublishers = 16

// ProgressDistricts is how many districts' objects are written between progress lines at
// most.
const ProgressDistricts = 1000

// Progress is how far a landing has gone.
type Progress struct {
	// Phase is "split" while the file is read and spooled, "publish" while the district
	// objects are written.
	Phase string
	// Rows and Bytes are the rows and the file's bytes read so far (split), or in all
	// (publish).
	Rows, Bytes int64
	// Districts is the number of districts seen so far (split), or in all (publish).
	Districts int
	// Published is the number of district objects written (publish).
	Published int
	Elapsed   time.Duration
}

// Prefix is where a shared source's revisions are landed in the lake.
func Prefix(namespace, name string) string {
	if namespace == "" {
		namespace = "default"
	}
	return fmt.Sprintf("shared/namespace=%s/name=%s", namespace, name)
}

// ManifestKey is the key of a shared source's manifest: the pointer to its current revision.
func ManifestKey(namespace, name string) string {
	return Prefix(namespace, name) + "/manifest.json"
}

// RevisionPrefix is where the objects of one revision are.
func RevisionPrefix(namespace, name, revision string) string {
	return fmt.Sprintf("%s/revision=%s", Prefix(namespace, name), revision)
}

// LayoutStateFile is the layout of the revisions landed now: one object per state, its
// districts' rows after the file's header in LEAID order, <revision prefix>/fips=<SS>.csv
// (or .ndjson), where SS is the state's FIPS code, the first two digits of every LEAID of
// the state; and beside it the object's index, fips=<SS>.index, which says where each
// district's rows are (see source.EncodeIndex). A district reads the index and its own
// range of the state's object: two GETs, neither of which grows with the national file.
// On a folder lake this is 2 files per state instead of one per district: a national
// landing writes about 110 files rather than 13,000.
const LayoutStateFile = "state-file"

// LayoutDistrictFile is the layout of revisions landed by the previous release: one
// object per district, <revision prefix>/district=<LEAID>.csv (or .ndjson). A revision
// whose artifact names no layout was landed before layouts were recorded, one folder per
// district: <revision prefix>/district=<LEAID>/data.csv. Both are still read.
const LayoutDistrictFile = "district-file"

// Locate is where district leaid's rows are in a revision landed with layout (the
// artifact's Layout): the object, and for LayoutStateFile the index of that object. format
// is the shared source's format (see Extension). Lake is left for the caller to set.
func Locate(namespace, name, revision, layout, leaid, format string) plan.Landed {
	prefix := RevisionPrefix(namespace, name, revision)
	l := plan.Landed{Revision: revision, SharedSource: name}
	switch layout {
	case "":
		l.Key = fmt.Sprintf("%s/district=%s/data.%s", prefix, leaid, Extension(format))
	case LayoutDistrictFile:
		l.Key = fmt.Sprintf("%s/district=%s.%s", prefix, leaid, Extension(format))
	default:
		l.Key, l.Index = stateKeys(prefix, stateOf(leaid), format)
		l.District = leaid
	}
	return l
}

// stateOf is the state (FIPS code) of an LEAID: its first two digits.
func stateOf(leaid string) string {
	if len(leaid) < 2 {
		return leaid
	}
	return leaid[:2]
}

// stateKeys are the keys of a state's object and of its index in a revision.
func stateKeys(prefix, fips, format string) (key, index string) {
	return fmt.Sprintf("%s/fips=%s.%s", prefix, fips, Extension(format)), fmt.Sprintf("%s/fips=%s.index", prefix, fips)
}

// LandedFormat is the format a district reads a landed file in: a Parquet file is landed
// as csv (see splitParquet), any other keeps its format.
func LandedFormat(format string) string {
	if format == "parquet" {
		return "csv"
	}
	return format
}

// Extension is the file extension of a landed format: a crdc or parquet file is landed as
// csv.
func Extension(format string) string {
	if format == "ndjson" {
		return "ndjson"
	}
	return "csv"
}

// Manifest is the JSON written at ManifestKey after a revision's objects.
type Manifest = summary.Artifact

// Run fetches the plan's file and lands it in store. When the origin answers that the
// file has not changed, it returns a summary with NotModified set and the previous
// revision, having written nothing.
func Run(ctx context.Context, p *plan.Land, store lake.Store, env lake.Env, opts Options) (summary.Summary, error) {
	log := opts.Log
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	so := source.Options{TempDir: opts.TempDir}
	if p.Previous != nil && p.Previous.Revision != "" {
		so.IfNoneMatch, so.IfModifiedSince = p.Previous.ETag, p.Previous.LastModified
	}
	stream, err := source.OpenWith(ctx, p.Source, env, so)
	if errors.Is(err, source.ErrNotModified) {
		prev, perr := readManifest(ctx, store, ManifestKey(p.Namespace, p.Name))
		if perr == nil && prev.Revision == p.Previous.Revision {
			log.Info("Found the shared file unchanged", "sharedSource", p.Name, "revision", prev.Revision)
			return summary.Summary{Outcome: summary.Succeeded, NotModified: true, Artifact: prev,
				Message: fmt.Sprintf("unchanged since revision %s: nothing downloaded", prev.Revision)}, nil
		}
		// The lake lost the revision the status names: fetch the whole file again.
		log.Info("Refetched an unchanged shared file whose revision is missing from the lake", "sharedSource", p.Name)
		stream, err = source.OpenWith(ctx, p.Source, env, source.Options{TempDir: opts.TempDir})
	}
	if err != nil {
		return summary.Summary{}, err
	}
	defer stream.Close()
	started := now()
	prog := &progress{log: log.WithValues("sharedSource", p.Name), fn: opts.OnProgress, every: opts.ProgressEvery, now: now, start: started, last: started}
	if prog.every <= 0 {
		prog.every = 5 * time.Second
	}
	sp, err := newSpool(opts.TempDir)
	if err != nil {
		return summary.Summary{}, err
	}
	defer sp.remove()
	if err := split(ctx, p, &countingReader{r: stream, n: &prog.bytes}, sp, prog, opts.TempDir); err != nil {
		return summary.Summary{}, err
	}
	// Read to the end, so that the size and checksum are final.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return summary.Summary{}, err
	}
	if err := sp.finish(); err != nil {
		return summary.Summary{}, err
	}
	log.Info("Split shared file", "sharedSource", p.Name, "rows", sp.rows, "districts", len(sp.index),
		"spooledBytes", sp.off, "extents", sp.extents, "seconds", now().Sub(started).Seconds())
	digest := stream.SHA256()
	art := &summary.Artifact{
		Revision: digest[:16], Digest: "sha256:" + digest, Bytes: stream.Bytes(), Rows: sp.rows,
		Districts: int32(len(sp.index)), LandedAt: now().UTC().Format(time.RFC3339),
		Prefix: RevisionPrefix(p.Namespace, p.Name, digest[:16]), ManifestKey: ManifestKey(p.Namespace, p.Name),
		Layout: LayoutStateFile, ETag: stream.ETag(), LastModified: stream.LastModified(),
	}
	publishers := opts.Publishers
	if publishers <= 0 {
		publishers = DefaultPublishers
	}
	if err := publish(ctx, store, p, sp, art, publishers, prog); err != nil {
		return summary.Summary{}, err
	}
	log.Info("Landed shared file", "sharedSource", p.Name, "revision", art.Revision, "bytes", art.Bytes,
		"fetchedBytes", stream.Fetched(), "rows", art.Rows, "districts", art.Districts, "seconds", now().Sub(started).Seconds())
	return summary.Summary{Outcome: summary.Succeeded, Artifact: art,
		Message: fmt.Sprintf("landed revision %s: %d rows of %d districts", art.Revision, art.Rows, art.Districts)}, nil
}

// ReadManifest reads a shared source's manifest from the lake.
func ReadManifest(ctx context.Context, store lake.Store, namespace, name string) (*summary.Artifact, error) {
	return readManifest(ctx, store, ManifestKey(namespace, name))
}

func readManifest(ctx context.Context, store lake.Store, key string) (*summary.Artifact, error) {
	obj, err := store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	var a summary.Artifact
	if err := json.NewDecoder(obj).Decode(&a); err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	return &a, nil
}

// split reads the file into the spool by district. A csv, crdc or ndjson file keeps its
// own rows; a Parquet file is landed as csv (see splitParquet).
func split(ctx context.Context, p *plan.Land, r io.Reader, sp *spool, prog *progress, tempDir string) error {
	if p.Source.Encoding == plan.EncodingWindows1252 {
		r = charmap.Windows1252.NewDecoder().Reader(r)
	}
	column := p.DistrictColumn
	if column == "" {
		column = "LEAID"
	}
	switch p.Source.Format {
	case "csv", "crdc":
		return splitCSV(p.Source.Name, r, column, p.Source.Delimiter, sp, prog)
	case "ndjson":
		return splitNDJSON(p.Source.Name, r, column, sp, prog)
	case "parquet":
		return splitParquet(ctx, p.Source.Name, r, column, tempDir, sp, prog)
	}
	return fmt.Errorf("source %s: a shared %s file cannot be landed: use csv, crdc, ndjson or parquet", p.Source.Name, p.Source.Format)
}

// splitParquet lands a Parquet file as csv: it is copied to a scratch file in tempDir
// (Parquet is read from its footer), then read row by row as the ingest reads a parquet
// source, each cell as the text the ingest would have mapped (a null cell empty), so that
// a district reads the same values from its csv object as from the file itself, and its
// object stays a few kilobytes that one GET reads.
func splitParquet(ctx context.Context, name string, r io.Reader, column, tempDir string, sp *spool, prog *progress) error {
	f, err := os.CreateTemp(tempDir, "districtlake-land-*.parquet")
	if err != nil {
		return fmt.Errorf("source %s: spooling the Parquet file: %w", name, err)
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	n, err := io.Copy(f, r)
	if err != nil {
		return fmt.Errorf("source %s: spooling the Parquet file: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("source %s: the file is empty", name)
	}
	out := newCSVSplitter(name, ',', sp, prog)
	var rec []string
	col := -1
	var names []string
	header := func(h []string) error {
		names = h
		col = columnIndex(h, column)
		if col < 0 {
			return fmt.Errorf("source %s: no column %s (the LEAID) among the file's %d columns", name, column, len(h))
		}
		return out.header(h)
	}
	row := func(n int, cells [][]byte) error {
		id, err := leaid(string(cells[col]))
		if err != nil {
			return fmt.Errorf("source %s: row %d column %s: %w", name, n, names[col], err)
		}
		rec = rec[:0]
		for _, c := range cells {
			rec = append(rec, string(c))
		}
		return out.row(id, rec)
	}
	return ingest.ParquetRows(ctx, name, f, ingest.Limits{}, header, row)
}

func splitCSV(name string, r io.Reader, column, delimiter string, sp *spool, prog *progress) error {
	cr := csv.NewReader(r)
	if delimiter != "" {
		cr.Comma = rune(delimiter[0])
	}
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("source %s: the file is empty", name)
	}
	if err != nil {
		return fmt.Errorf("source %s: reading the header: %w", name, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	col := columnIndex(header, column)
	if col < 0 {
		return fmt.Errorf("source %s: no column %s (the LEAID) among the header's %d columns", name, column, len(header))
	}
	out := newCSVSplitter(name, cr.Comma, sp, prog)
	if err := out.header(header); err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("source %s: %w", name, err)
		}
		row, _ := cr.FieldPos(0)
		if col >= len(rec) {
			return fmt.Errorf("source %s: row %d has %d columns, so no column %s (the LEAID)", name, row, len(rec), header[col])
		}
		id, err := leaid(rec[col])
		if err != nil {
			return fmt.Errorf("source %s: row %d column %s: %w", name, row, header[col], err)
		}
		if err := out.row(id, rec); err != nil {
			return err
		}
	}
}

// columnIndex is the index of the district column among a file's column names (case and
// surrounding spaces aside), -1 when it is not there.
func columnIndex(names []string, column string) int {
	return slices.IndexFunc(names, func(c string) bool { return strings.EqualFold(strings.TrimSpace(c), column) })
}

// csvSplitter writes the rows of a file landed as csv to the spool: one csv.Writer
// encodes each row into buf, from which it goes to the spool.
type csvSplitter struct {
	name string
	buf  bytes.Buffer
	cw   *csv.Writer
	sp   *spool
	prog *progress
}

func newCSVSplitter(name string, comma rune, sp *spool, prog *progress) *csvSplitter {
	c := &csvSplitter{name: name, sp: sp, prog: prog}
	c.cw = csv.NewWriter(&c.buf)
	c.cw.Comma = comma
	return c
}

func (c *csvSplitter) encode(rec []string) ([]byte, error) {
	c.buf.Reset()
	if err := c.cw.Write(rec); err != nil {
		return nil, fmt.Errorf("source %s: writing a row: %w", c.name, err)
	}
	c.cw.Flush()
	return c.buf.Bytes(), c.cw.Error()
}

// header sets the header line every district's object starts with.
func (c *csvSplitter) header(h []string) error {
	b, err := c.encode(h)
	c.sp.header = slices.Clone(b)
	return err
}

// row adds a row of district id.
func (c *csvSplitter) row(id string, rec []string) error {
	b, err := c.encode(rec)
	if err != nil {
		return err
	}
	if err := c.sp.add(id, b); err != nil {
		return err
	}
	c.prog.split(c.sp)
	return nil
}

func splitNDJSON(name string, r io.Reader, column string, sp *spool, prog *progress) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var line []byte
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("source %s: line %d is not a JSON object: %w", name, n, err)
		}
		raw, ok := obj[column]
		if !ok {
			return fmt.Errorf("source %s: line %d has no field %s (the LEAID)", name, n, column)
		}
		var v any
		_ = json.Unmarshal(raw, &v)
		var text string
		switch x := v.(type) {
		case string:
			text = x
		case float64:
			text = string(raw)
		default:
			return fmt.Errorf("source %s: line %d field %s: %s is not an LEAID", name, n, column, raw)
		}
		id, err := leaid(text)
		if err != nil {
			return fmt.Errorf("source %s: line %d field %s: %w", name, n, column, err)
		}
		line = append(append(line[:0], b...), '\n')
		if err := sp.add(id, line); err != nil {
			return err
		}
		prog.split(sp)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("source %s: %w", name, err)
	}
	return nil
}

// leaid reads a 7-digit NCES LEA ID; one whose leading zero was dropped (written as a
// number) gets it back.
func leaid(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 7 || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("%q is not a 7-digit NCES LEA ID", s)
	}
	return strings.Repeat("0", 7-len(s)) + s, nil
}
