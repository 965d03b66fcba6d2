package ingest

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/smallparquet"
)

// BatchRows is the number of rows of each Arrow record (and so each Parquet row group
// but the last) a dataset is written in.
const BatchRows = lake.MinRecordRows

// firstReserveRows is the room reserved for a file's first record: a district's file is
// often a few rows (one district of a national file), and reserving a whole record for it
// made clearing memory the larger part of such a run. Builders grow by doubling past it;
// later records reserve BatchRows.
const firstReserveRows = 128

// maxRecordText caps the string bytes of one record: a record of long values is written
// before it has BatchRows rows, so that a batch's memory does not grow with the values.
// Two records are alive at once (one built, one encoded), and a string builder grows to
// the next power of two: 8 MiB and one cell of the default 1 MiB stay within 16 MiB.
const maxRecordText = 8 << 20

type colKind uint8

const (
	kString colKind = iota
	kInt32
	kFloat64
	kMoney
	kDate
	kBool
	kTimestamp
)

// colBuilder is one column's typed Arrow builder.
type colBuilder struct {
	kind colKind
	str  *array.StringBuilder
	i32  *array.Int32Builder
	f64  *array.Float64Builder
	dec  *array.Decimal128Builder
	date *array.Date32Builder
	bl   *array.BooleanBuilder
	ts   *array.TimestampBuilder
	// bytes is how many string bytes the last record held, to reserve as much again.
	bytes int
}

// batchBuilder builds Arrow records of a dataset from canonical rows. Columns that hold
// the same value in every row (the plan's columns of a single-source dataset, and the
// columns its source cannot fill) are built once and shared by every record.
type batchBuilder struct {
	schema   *arrow.Schema
	builders []array.Builder // nil for a constant column
	cols     []colBuilder
	isConst  []bool
	constVal []value
	consts   []arrow.Array // the constant columns, as long as the longest record so far
	n        int
	// text is how many string bytes the record holds so far.
	text int
	// reserved says the builders have room for a whole record.
	reserved bool
	// records is how many records were built.
	records int
}

// newBatchBuilder makes a builder; consts gives the value of each constant column.
func newBatchBuilder(schema *arrow.Schema, consts map[int]value) (*batchBuilder, error) {
	nf := schema.NumFields()
	b := &batchBuilder{schema: schema, builders: make([]array.Builder, nf), cols: make([]colBuilder, nf),
		isConst: make([]bool, nf), constVal: make([]value, nf), consts: make([]arrow.Array, nf)}
	for i := range nf {
		c, fb, err := newColBuilder(schema.Field(i))
		if err != nil {
			b.release()
			return nil, err
		}
		b.cols[i] = c
		if v, ok := consts[i]; ok {
			b.isConst[i], b.constVal[i] = true, v
			fb.Release()
			continue
		}
		b.builders[i] = fb
	}
	return b, nil
}

func newColBuilder(f arrow.Field) (colBuilder, array.Builder, error) {
	fb := array.NewBuilder(memory.DefaultAllocator, f.Type)
	var c colBuilder
	switch f.Type.ID() {
	case arrow.STRING:
		c = colBuilder{kind: kString, str: fb.(*array.StringBuilder), bytes: 16 * firstReserveRows}
	case arrow.INT32:
		c = colBuilder{kind: kInt32, i32: fb.(*array.Int32Builder)}
	case arrow.FLOAT64:
		c = colBuilder{kind: kFloat64, f64: fb.(*array.Float64Builder)}
	case arrow.DECIMAL128:
		c = colBuilder{kind: kMoney, dec: fb.(*array.Decimal128Builder)}
	case arrow.DATE32:
		c = colBuilder{kind: kDate, date: fb.(*array.Date32Builder)}
	case arrow.BOOL:
		c = colBuilder{kind: kBool, bl: fb.(*array.BooleanBuilder)}
	case arrow.TIMESTAMP:
		c = colBuilder{kind: kTimestamp, ts: fb.(*array.TimestampBuilder)}
	default:
		fb.Release()
		return c, nil, fmt.Errorf("column %s: type %s is not supported", f.Name, f.Type)
	}
	return c, fb, nil
}

// constColumn returns constant column i for n rows.
func (b *batchBuilder) constColumn(i, n int) (arrow.Array, error) {
	if a := b.consts[i]; a != nil && a.Len() >= n {
		if a.Len() == n {
			a.Retain()
			return a, nil
		}
		return array.NewSlice(a, 0, int64(n)), nil
	}
	if b.consts[i] != nil {
		b.consts[i].Release()
		b.consts[i] = nil
	}
	if !b.constVal[i].ok {
		// A column the source cannot fill: nulls, made without a builder (most of a
		// national file's district files have a dozen of them).
		b.consts[i] = array.MakeArrayOfNull(memory.DefaultAllocator, b.schema.Field(i).Type, n)
		b.consts[i].Retain()
		return b.consts[i], nil
	}
	c, fb, err := newColBuilder(b.schema.Field(i))
	if err != nil {
		return nil, err
	}
	defer fb.Release()
	// Exact sizes: Reserve rounds to the next power of two above, twice a record's rows
	// when n is one, and these columns live as long as the file.
	fb.Resize(n)
	v := b.constVal[i]
	if c.kind == kString {
		c.str.ReserveData(n * len(v.s))
	}
	for range n {
		appendValue(&c, &v)
	}
	b.consts[i] = fb.NewArray()
	b.consts[i].Retain()
	return b.consts[i], nil
}

// reserve makes room for a whole record, so that builders do not grow row by row. The
// builders are empty (a new record): Resize gives them room for exactly rows values,
// where Reserve would round up to the next power of two above, twice BatchRows.
func (b *batchBuilder) reserve() {
	b.reserved = true
	rows := BatchRows
	if b.records == 0 {
		rows = firstReserveRows
	}
	for i, fb := range b.builders {
		if fb == nil {
			continue
		}
		fb.Resize(rows)
		if c := &b.cols[i]; c.kind == kString {
			c.str.ReserveData(c.bytes + c.bytes/8)
		}
	}
}

func (b *batchBuilder) release() {
	for i := range b.builders {
		if b.builders[i] != nil {
			b.builders[i].Release()
			b.builders[i] = nil
		}
		if b.consts[i] != nil {
			b.consts[i].Release()
			b.consts[i] = nil
		}
	}
}

// append adds one row.
func (b *batchBuilder) append(row []value) {
	if !b.reserved {
		b.reserve()
	}
	for i := range b.cols {
		if b.builders[i] != nil {
			b.appendCol(i, row)
			if b.cols[i].kind == kString {
				b.text += len(row[i].s)
			}
		}
	}
	b.n++
}

func (b *batchBuilder) appendCol(i int, row []value) { appendValue(&b.cols[i], &row[i]) }

func appendValue(c *colBuilder, v *value) {
	switch c.kind {
	case kString:
		if v.ok {
			c.str.BinaryBuilder.Append(v.s)
		} else {
			c.str.AppendNull()
		}
	case kInt32:
		if v.ok {
			c.i32.Append(int32(v.i))
		} else {
			c.i32.AppendNull()
		}
	case kFloat64:
		if v.ok {
			c.f64.Append(v.f)
		} else {
			c.f64.AppendNull()
		}
	case kMoney:
		if v.ok {
			c.dec.Append(decimal128.FromI64(v.i))
		} else {
			c.dec.AppendNull()
		}
	case kDate:
		if v.ok {
			c.date.Append(arrow.Date32(v.i))
		} else {
			c.date.AppendNull()
		}
	case kBool:
		if v.ok {
			c.bl.Append(v.i != 0)
		} else {
			c.bl.AppendNull()
		}
	case kTimestamp:
		if v.ok {
			c.ts.Append(arrow.Timestamp(v.i))
		} else {
			c.ts.AppendNull()
		}
	}
}

// record returns the rows appended so far as a record and starts a new one.
func (b *batchBuilder) record() (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(b.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		if b.isConst[i] {
			a, err := b.constColumn(i, b.n)
			if err != nil {
				return nil, err
			}
			cols[i] = a
			continue
		}
		if c := &b.cols[i]; c.kind == kString {
			c.bytes = c.str.DataLen()
		}
		cols[i] = b.builders[i].NewArray()
	}
	rec := array.NewRecordBatch(b.schema, cols, int64(b.n))
	b.n, b.text = 0, 0
	b.reserved = false
	b.records++
	return rec, nil
}

// parquetSink writes canonical rows to a Parquet file in records of BatchRows rows,
// encoding and compressing on its own goroutine while the caller parses the next batch.
type parquetSink struct {
	b *batchBuilder
	// w, schema, meta and props make the file writer, on the first record: a file whose
	// first record is its last and is small (one district's rows of a national file) is
	// written whole by small instead.
	w      io.Writer
	schema *arrow.Schema
	meta   map[string]string
	props  []parquet.WriterProperty
	small  *smallparquet.Writer
	fw     *pqarrow.FileWriter
	// plain says the file was written whole by small.
	plain  bool
	recs   chan sinkRecord
	done   chan struct{}
	mu     sync.Mutex
	err    error
	rows   int64
	closed bool
}

// SmallFileWriters keeps each dataset's small-file writer (package smallparquet), made on
// first use, for every run that shares it: making one serializes the dataset's schema,
// which costs as much as writing a few small files. It is safe for concurrent runs.
type SmallFileWriters struct {
	mu        sync.Mutex
	byDataset map[string]*smallparquet.Writer
}

// NewSmallFileWriters makes an empty set, for Options.SmallFiles.
func NewSmallFileWriters() *SmallFileWriters {
	return &SmallFileWriters{byDataset: map[string]*smallparquet.Writer{}}
}

// writer is the small-file writer of a dataset whose schema is schema.
func (s *SmallFileWriters) writer(name string, schema *arrow.Schema) (*smallparquet.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.byDataset[name]; w != nil {
		return w, nil
	}
	w, err := smallparquet.NewWriter(schema, lake.CreatedBy)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	s.byDataset[name] = w
	return w, nil
}

// sinkRecord is a record for the writer; last says no record follows.
type sinkRecord struct {
	rec  arrow.RecordBatch
	last bool
}

// smallFileRows is the most rows of a file written plain, by package smallparquet:
// without dictionaries, compression or column statistics. Most districts' files are this
// small (a national run writes 13,000 of them), and for a few rows each of these costs
// more than it saves: pqarrow sets up an encoder and a buffer per column for each, and the
// file's one row group is the whole file, so min/max would let a reader skip nothing it
// had not already opened. smallparquet writes the file pqarrow would with those
// properties: an 8-row district file took 14-33 us against pqarrow's 470-750 us
// (internal/smallparquet's BenchmarkDistrictFile, two runs), and a 13,000-district
// national run 0.59x the time (5 pairs on tmpfs).
const smallFileRows = 1024

// newParquetSink starts a Parquet file on w (a lake Writer: the sink never publishes it).
// small writes the file when it is one record of at most smallFileRows rows; it must be
// made for schema. consts are the columns with one value in every row; unique those with
// a different value in almost every row. Both are written without a Parquet dictionary:
// for unique values it is pure cost, and a constant string compresses to nothing anyway,
// while the dictionary encoder spends an allocation on every value it looks up.
func newParquetSink(w io.Writer, schema *arrow.Schema, small *smallparquet.Writer, meta map[string]string, consts map[int]value, unique []string) (*parquetSink, error) {
	var props []parquet.WriterProperty
	for _, c := range unique {
		props = append(props, parquet.WithDictionaryFor(c, false))
	}
	for i := range consts {
		if f := schema.Field(i); f.Type.ID() == arrow.STRING {
			props = append(props, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	b, err := newBatchBuilder(schema, consts)
	if err != nil {
		return nil, err
	}
	p := &parquetSink{b: b, w: w, schema: schema, small: small, meta: meta, props: props, recs: make(chan sinkRecord), done: make(chan struct{})}
	go p.write()
	return p, nil
}

// writeRecord writes r: the whole file when it is the first and last record and small,
// or into the pqarrow writer, made on the first record.
func (p *parquetSink) writeRecord(r sinkRecord) error {
	if p.fw == nil {
		if r.last && r.rec.NumRows() <= smallFileRows {
			p.plain = true
			return p.small.Write(p.w, r.rec, lake.MetaPairs(p.meta))
		}
		fw, err := lake.NewParquetWriter(p.w, p.schema, p.meta, p.props...)
		if err != nil {
			return err
		}
		p.fw = fw
	}
	if err := p.fw.Write(r.rec); err != nil {
		return fmt.Errorf("writing Parquet: %w", err)
	}
	return nil
}

func (p *parquetSink) write() {
	defer close(p.done)
	for r := range p.recs {
		if p.failed() == nil {
			if err := p.writeRecord(r); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
		r.rec.Release()
	}
}

func (p *parquetSink) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add appends a row, handing a full record to the writer.
func (p *parquetSink) add(row []value) error {
	p.b.append(row)
	p.rows++
	if p.b.n >= BatchRows || p.b.text >= maxRecordText {
		return p.flush(false)
	}
	return nil
}

func (p *parquetSink) flush(last bool) error {
	if err := p.failed(); err != nil {
		return err
	}
	rec, err := p.b.record()
	if err != nil {
		return err
	}
	p.recs <- sinkRecord{rec: rec, last: last}
	return nil
}

// close writes the last record and the footer. The file is complete in the lake Writer,
// which the caller commits or aborts.
func (p *parquetSink) close() error {
	if p.b.n > 0 || p.rows == 0 {
		if err := p.flush(true); err != nil {
			p.abort()
			return err
		}
	}
	p.closed = true
	close(p.recs)
	<-p.done
	p.b.release()
	if err := p.failed(); err != nil {
		return err
	}
	if p.plain {
		return nil
	}
	if err := p.fw.Close(); err != nil {
		return fmt.Errorf("finishing Parquet: %w", err)
	}
	return nil
}

// abort stops the writer without finishing the file.
func (p *parquetSink) abort() {
	if p.closed {
		return
	}
	p.closed = true
	close(p.recs)
	<-p.done
	p.b.release()
}

// copyRow copies a row's strings out of the reader's buffers.
func copyRow(dst, src []value) []value {
	dst = append(dst[:0], src...)
	for i := range dst {
		if dst[i].s != nil {
			dst[i].s = bytes.Clone(dst[i].s)
		}
	}
	return dst
}
