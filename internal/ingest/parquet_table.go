package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetTable reads a Parquet file (it needs random access: the runner spools a fetched
// stream to a temporary file first) one batch of rows at a time, giving each selected cell
// as text so that the same coercion rules apply as to csv and json.
//
// Memory is bounded whatever the file holds: a batch never crosses a row group and has as
// many rows as fit in a quarter of the batch limit by the row group's uncompressed sizes;
// text columns with a dictionary are read as dictionaries (a long value repeated on every
// row is decoded once); and every buffer the reader allocates is counted, so a page or a
// dictionary larger than the limit (the metadata can lie) is an error, not a crash.
type parquetTable struct {
	source string
	ctx    context.Context
	pf     *file.Reader
	fr     *pqarrow.FileReader
	mem    *limitedAllocator
	lim    Limits
	names  []string
	sel    []int // selected column -> top-level field index (-1 when absent)
	// fields are the distinct selected top-level fields, and readers their readers.
	fields  []int
	readers []*pqarrow.ColumnReader
	chunks  []*arrow.Chunked
	cols    []arrow.Array // batch column per selected column (nil when absent)
	rg      int           // current row group
	rgLeft  int64         // rows of the row group not yet read
	n, i    int           // rows in the batch, row within it
	row     int
	out     [][]byte
	buf     []byte
	offs    []int
	e       error
}

// parquetMaxBatchRows caps a batch's rows.
const parquetMaxBatchRows = 64 << 10

func newParquetTable(ctx context.Context, source string, r parquet.ReaderAtSeeker, lim Limits) (*parquetTable, error) {
	mem := &limitedAllocator{mem: memory.NewGoAllocator(), limit: lim.ParquetBatchBytes}
	pf, err := file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("is not a Parquet file: %w", err)}
	}
	props := pqarrow.ArrowReadProperties{BatchSize: parquetMaxBatchRows}
	md := pf.MetaData()
	for c := 0; c < md.Schema.NumColumns(); c++ {
		if md.Schema.Column(c).PhysicalType() != parquet.Types.ByteArray || md.NumRowGroups() == 0 {
			continue
		}
		if cc, err := md.RowGroup(0).ColumnChunk(c); err == nil && cc.HasDictionaryPage() {
			props.SetReadDict(c, true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, mem)
	if err != nil {
		pf.Close()
		return nil, &SourceError{Source: source, Err: fmt.Errorf("reading Parquet schema: %w", err)}
	}
	sch, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, &SourceError{Source: source, Err: fmt.Errorf("reading Parquet schema: %w", err)}
	}
	t := &parquetTable{source: source, ctx: ctx, pf: pf, fr: fr, mem: mem, lim: lim}
	for _, f := range sch.Fields() {
		t.names = append(t.names, f.Name)
	}
	return t, nil
}

func (t *parquetTable) close() {
	t.releaseBatch()
	for _, r := range t.readers {
		r.Release()
	}
	t.pf.Close()
}

func (t *parquetTable) releaseBatch() {
	for i, c := range t.chunks {
		if c != nil {
			c.Release()
			t.chunks[i] = nil
		}
	}
}

func (t *parquetTable) header() []string { return t.names }

func (t *parquetTable) selectColumns(names []string) {
	t.sel = make([]int, len(names))
	for i, n := range names {
		t.sel[i] = -1
		for j, h := range t.names {
			if h == n {
				t.sel[i] = j
			}
		}
	}
	t.out = make([][]byte, len(names))
	t.offs = make([]int, 2*len(names))
	t.cols = make([]arrow.Array, len(names))
}

func (t *parquetTable) cells() [][]byte { return t.out }
func (t *parquetTable) pos() position   { return position{row: t.row} }
func (t *parquetTable) err() error      { return t.e }
func (t *parquetTable) dropped() int    { return 0 }

// leavesOf lists the parquet leaf columns of top-level field f.
func (t *parquetTable) leavesOf(f int) []int {
	var leaves []int
	sch := t.pf.MetaData().Schema
	for c := 0; c < sch.NumColumns(); c++ {
		if sch.ColumnRoot(c) == sch.Root().Field(f) {
			leaves = append(leaves, c)
		}
	}
	return leaves
}

// open makes a reader per selected field.
func (t *parquetTable) open() error {
	rgs := make([]int, t.pf.NumRowGroups())
	for i := range rgs {
		rgs[i] = i
	}
	for _, f := range t.sel {
		if f < 0 || slices.Contains(t.fields, f) {
			continue
		}
		incl := map[int]bool{}
		for _, c := range t.leavesOf(f) {
			incl[c] = true
		}
		var r *pqarrow.ColumnReader
		err := guardLimit(func() (err error) {
			r, err = t.fr.GetFieldReader(t.ctx, f, incl, rgs)
			return err
		})
		var over *overLimit
		if errors.As(err, &over) {
			return t.overLimitError(f)
		}
		if err != nil {
			return &SourceError{Source: t.source, Err: fmt.Errorf("reading Parquet column %q: %w", t.names[f], err)}
		}
		t.fields = append(t.fields, f)
		t.readers = append(t.readers, r)
	}
	t.chunks = make([]*arrow.Chunked, len(t.fields))
	t.rg = -1
	return nil
}

// batchRows is how many rows of row group rg fit in a quarter of the batch limit, by the
// uncompressed sizes of the selected columns.
func (t *parquetTable) batchRows(rg int) int64 {
	md := t.pf.MetaData().RowGroup(rg)
	rows := md.NumRows()
	if rows <= 0 {
		return 1
	}
	var size int64
	for _, f := range t.fields {
		for _, c := range t.leavesOf(f) {
			if cc, err := md.ColumnChunk(c); err == nil {
				size += cc.TotalUncompressedSize()
			}
		}
	}
	perRow := max(size/rows, 1)
	return min(max(t.lim.ParquetBatchBytes/4/perRow, 1), parquetMaxBatchRows, rows)
}

// readBatch reads the next batch of every selected field; false at the end.
func (t *parquetTable) readBatch() bool {
	t.releaseBatch()
	for t.rgLeft == 0 {
		t.rg++
		if t.rg >= t.pf.NumRowGroups() {
			return false
		}
		t.rgLeft = t.pf.MetaData().RowGroup(t.rg).NumRows()
	}
	n := min(t.batchRows(t.rg), t.rgLeft)
	for k, r := range t.readers {
		var ch *arrow.Chunked
		err := guardLimit(func() (err error) {
			ch, err = r.NextBatch(n)
			return err
		})
		if err != nil {
			var over *overLimit
			if errors.As(err, &over) {
				t.e = t.overLimitError(t.fields[k])
			} else {
				t.e = &SourceError{Source: t.source, Err: fmt.Errorf("reading Parquet column %q: %w", t.names[t.fields[k]], err)}
			}
			return false
		}
		t.chunks[k] = ch
		if len(ch.Chunks()) != 1 || int64(ch.Len()) != n {
			t.e = &SourceError{Source: t.source, Err: fmt.Errorf("reading Parquet column %q: got %d rows in %d chunks, want %d", t.names[t.fields[k]], ch.Len(), len(ch.Chunks()), n)}
			return false
		}
	}
	t.rgLeft -= n
	t.n, t.i = int(n), 0
	for i, f := range t.sel {
		t.cols[i] = nil
		if k := slices.Index(t.fields, f); f >= 0 && k >= 0 {
			t.cols[i] = t.chunks[k].Chunk(0)
		}
	}
	return true
}

// overLimitError is the error of field f needing more memory than the batch limit.
func (t *parquetTable) overLimitError(f int) error {
	return &RowError{Source: t.source, Row: t.row + 1, Column: t.names[f],
		Msg: fmt.Sprintf("decoding the column from this row on needs more than %d bytes of memory (the limit of one Parquet batch): its values or its dictionary are too large", t.lim.ParquetBatchBytes)}
}

// guardLimit runs f, turning the allocator's limit (a panic) into an error.
func guardLimit(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			over, ok := p.(*overLimit)
			if !ok {
				panic(p)
			}
			err = over
		}
	}()
	return f()
}

func (t *parquetTable) next() bool {
	if t.e != nil {
		return false
	}
	if t.readers == nil {
		if err := t.open(); err != nil {
			t.e = err
			return false
		}
	}
	if t.i >= t.n && !t.readBatch() {
		return false
	}
	t.row++
	t.buf = t.buf[:0]
	for i, a := range t.cols {
		t.offs[2*i] = -1
		if a == nil || a.IsNull(t.i) {
			continue
		}
		start := len(t.buf)
		b, err := appendCell(t.buf, a, t.i)
		if err != nil {
			t.e = &RowError{Source: t.source, Row: t.row, Column: t.names[t.sel[i]], Msg: err.Error()}
			return false
		}
		if len(b)-start > t.lim.CellBytes {
			t.e = &RowError{Source: t.source, Row: t.row, Column: t.names[t.sel[i]],
				Msg: fmt.Sprintf("the value is longer than %d bytes (the limit of one cell)", t.lim.CellBytes)}
			return false
		}
		t.buf = b
		t.offs[2*i], t.offs[2*i+1] = start, len(t.buf)
	}
	for i := range t.out {
		if t.offs[2*i] < 0 {
			t.out[i] = nil
		} else {
			t.out[i] = t.buf[t.offs[2*i]:t.offs[2*i+1]]
		}
	}
	t.i++
	return true
}

// overLimit is the panic of a limitedAllocator past its limit (arrow's allocators cannot
// return errors); guardLimit recovers it.
type overLimit struct{ limit int64 }

func (e *overLimit) Error() string { return fmt.Sprintf("more than %d bytes allocated", e.limit) }

// limitedAllocator counts the bytes allocated and not freed, and panics with *overLimit
// past its limit.
type limitedAllocator struct {
	mem   memory.Allocator
	used  int64
	limit int64
}

func (a *limitedAllocator) grow(n int) {
	if a.used+int64(n) > a.limit {
		panic(&overLimit{limit: a.limit})
	}
	a.used += int64(n)
}

func (a *limitedAllocator) Allocate(size int) []byte {
	a.grow(size)
	return a.mem.Allocate(size)
}

func (a *limitedAllocator) Reallocate(size int, b []byte) []byte {
	a.grow(size - len(b))
	return a.mem.Reallocate(size, b)
}

func (a *limitedAllocator) Free(b []byte) {
	a.used -= int64(len(b))
	a.mem.Free(b)
}

// appendCell appends the text of one Arrow value.
func appendCell(b []byte, a arrow.Array, i int) ([]byte, error) {
	switch a := a.(type) {
	case *array.String:
		return append(b, a.Value(i)...), nil
	case *array.LargeString:
		return append(b, a.Value(i)...), nil
	case *array.Binary:
		return append(b, a.Value(i)...), nil
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10), nil
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10), nil
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10), nil
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10), nil
	case *array.Uint8:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10), nil
	case *array.Uint16:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10), nil
	case *array.Uint32:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10), nil
	case *array.Uint64:
		return strconv.AppendUint(b, a.Value(i), 10), nil
	case *array.Float32:
		return strconv.AppendFloat(b, float64(a.Value(i)), 'f', -1, 32), nil
	case *array.Float64:
		return strconv.AppendFloat(b, a.Value(i), 'f', -1, 64), nil
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i)), nil
	case *array.Decimal128:
		return append(b, a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)...), nil
	case *array.Date32:
		return a.Value(i).ToTime().AppendFormat(b, time.DateOnly), nil
	case *array.Date64:
		return a.Value(i).ToTime().AppendFormat(b, time.DateOnly), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		ts := a.Value(i).ToTime(unit).UTC()
		if ts.Equal(ts.Truncate(24 * time.Hour)) {
			return ts.AppendFormat(b, time.DateOnly), nil
		}
		return ts.AppendFormat(b, time.RFC3339Nano), nil
	case *array.Dictionary:
		return appendCell(b, a.Dictionary(), a.GetValueIndex(i))
	}
	return b, fmt.Errorf("holds a Parquet %s, which cannot be read as a single value", a.DataType())
}

// ParquetRows reads every row of a Parquet file r as text cells, the way an ingest reads a
// parquet source (the same text for each type, a null cell nil, the same memory bounds):
// header gets the top-level column names once, then row each row, numbered from 1, until
// it returns an error. A shared Parquet file is split by district with it, so that the
// district reads its rows as it would have read them out of the file itself.
func ParquetRows(ctx context.Context, source string, r parquet.ReaderAtSeeker, lim Limits,
	header func(names []string) error, row func(n int, cells [][]byte) error) error {
	t, err := newParquetTable(ctx, source, r, lim.withDefaults())
	if err != nil {
		return err
	}
	defer t.close()
	names := t.header()
	t.selectColumns(names)
	if err := header(names); err != nil {
		return err
	}
	for t.next() {
		if err := row(t.row, t.cells()); err != nil {
			return err
		}
	}
	return t.err()
}
