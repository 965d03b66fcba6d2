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
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/districtlake/districtlake/internal/lake"
)

// BatchRows is the number of rows of each Arrow record (and so each Parquet row group
// but the last) a dataset is written in.
const BatchRows = lake.MinRecordRows

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
}

// batchBuilder builds Arrow records of a dataset from canonical rows.
type batchBuilder struct {
	rb   *array.RecordBuilder
	cols []colBuilder
	n    int
}

func newBatchBuilder(schema *arrow.Schema) (*batchBuilder, error) {
	b := &batchBuilder{rb: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
	for i, f := range schema.Fields() {
		fb := b.rb.Field(i)
		var c colBuilder
		switch f.Type.ID() {
		case arrow.STRING:
			c = colBuilder{kind: kString, str: fb.(*array.StringBuilder)}
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
			b.rb.Release()
			return nil, fmt.Errorf("column %s: type %s is not supported", f.Name, f.Type)
		}
		b.cols = append(b.cols, c)
	}
	return b, nil
}

func (b *batchBuilder) release() { b.rb.Release() }

// append adds one row.
func (b *batchBuilder) append(row []value) {
	for i := range b.cols {
		c, v := &b.cols[i], &row[i]
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
	b.n++
}

// record returns the rows appended so far as a record and starts a new one.
func (b *batchBuilder) record() arrow.RecordBatch {
	b.n = 0
	return b.rb.NewRecordBatch()
}

// parquetSink writes canonical rows to a Parquet file in records of BatchRows rows,
// encoding and compressing on its own goroutine while the caller parses the next batch.
type parquetSink struct {
	b      *batchBuilder
	fw     *pqarrow.FileWriter
	recs   chan arrow.RecordBatch
	done   chan struct{}
	mu     sync.Mutex
	err    error
	rows   int64
	closed bool
}

// newParquetSink starts a Parquet file on w (a lake Writer: the sink never publishes it).
func newParquetSink(w io.Writer, schema *arrow.Schema, meta map[string]string) (*parquetSink, error) {
	fw, err := lake.NewParquetWriter(w, schema, meta)
	if err != nil {
		return nil, err
	}
	b, err := newBatchBuilder(schema)
	if err != nil {
		return nil, err
	}
	p := &parquetSink{b: b, fw: fw, recs: make(chan arrow.RecordBatch, 1), done: make(chan struct{})}
	go p.write()
	return p, nil
}

func (p *parquetSink) write() {
	defer close(p.done)
	for rec := range p.recs {
		if p.failed() == nil {
			if err := p.fw.Write(rec); err != nil {
				p.mu.Lock()
				p.err = fmt.Errorf("writing Parquet: %w", err)
				p.mu.Unlock()
			}
		}
		rec.Release()
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
	if p.b.n >= BatchRows {
		return p.flush()
	}
	return nil
}

func (p *parquetSink) flush() error {
	if err := p.failed(); err != nil {
		return err
	}
	p.recs <- p.b.record()
	return nil
}

// close writes the last record and the footer. The file is complete in the lake Writer,
// which the caller commits or aborts.
func (p *parquetSink) close() error {
	if p.b.n > 0 || p.rows == 0 {
		if err := p.flush(); err != nil {
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
