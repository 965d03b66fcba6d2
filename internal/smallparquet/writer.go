// Package smallparquet writes one small Arrow record as a Parquet file of the plainest
// form: one row group, one data page (v1) per column, PLAIN values, RLE definition
// levels, no compression, dictionaries or statistics. It makes the same file arrow-go's
// pqarrow writes with those properties (the same Parquet schema, logical types and
// stored Arrow schema), at a small part of its cost: pqarrow sets up encoders, buffers
// and Thrift writers per column per file, which dominates a file of a few rows, and a
// national run writes 13,000 of them.
//
// Only flat schemas of the types the lake's datasets use are supported: string, int32,
// float64, bool, date32, decimal128 and timestamps in microseconds with a time zone.
// NewWriter says when a schema has anything else, and the caller uses pqarrow instead.
package smallparquet

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// ErrUnsupported is returned by NewWriter for a schema this package cannot write.
var ErrUnsupported = errors.New("not supported by the small-file Parquet writer")

// Parquet's enums, as the format's Thrift definition numbers them.
const (
	typeBoolean   = 0
	typeInt32     = 1
	typeInt64     = 2
	typeDouble    = 5
	typeByteArray = 6
	typeFLBA      = 7

	convertedUTF8            = 0
	convertedDecimal         = 5
	convertedDate            = 6
	convertedTimestampMicros = 10
	convertedInt32           = 17

	repetitionRequired = 0
	repetitionOptional = 1

	encodingPlain = 0
	encodingRLE   = 3

	pageData = 0
)

const magic = "PAR1"

// column is what the writer needs of one field.
type column struct {
	name     string
	id       arrow.Type
	physical int32
	nullable bool
	// size is a decimal's FIXED_LEN_BYTE_ARRAY length.
	size int
}

// Writer writes files of one schema. It holds no per-file state, so one Writer may
// write any number of files, from any number of goroutines.
type Writer struct {
	schema *arrow.Schema
	cols   []column
	// head is the footer's start: its version and schema fields, the same in every file.
	head []byte
	// kv is the key-value metadata every file starts with: the schema's own and the
	// stored Arrow schema.
	kv [][2]string
	// createdBy names the writer in the footer.
	createdBy string
	// buffers holds the buffers of finished files (*[]byte), for the next Write.
	buffers sync.Pool
}

// NewWriter makes a writer for records of schema; createdBy goes in each file's footer.
// A schema with a type the package does not write returns an error wrapping
// ErrUnsupported.
func NewWriter(schema *arrow.Schema, createdBy string) (*Writer, error) {
	w := &Writer{schema: schema, createdBy: createdBy}
	c := compact{}
	c.begin()
	c.i32(1, 2) // version
	c.list(2, tStruct, schema.NumFields()+1)
	c.begin()
	c.str(4, "schema")
	c.i32(5, int32(schema.NumFields()))
	c.end()
	for _, f := range schema.Fields() {
		col, err := newColumn(f)
		if err != nil {
			return nil, err
		}
		w.cols = append(w.cols, col)
		col.schemaElement(&c, f)
	}
	w.head = c.buf

	md := schema.Metadata()
	for i, k := range md.Keys() {
		w.kv = append(w.kv, [2]string{k, md.Values()[i]})
	}
	var ipcSchema bytes.Buffer
	iw := ipc.NewWriter(&ipcSchema, ipc.WithSchema(schema))
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("serializing the Arrow schema: %w", err)
	}
	w.kv = append(w.kv, [2]string{"ARROW:schema", base64.StdEncoding.EncodeToString(ipcSchema.Bytes())})
	return w, nil
}

func newColumn(f arrow.Field) (column, error) {
	col := column{name: f.Name, id: f.Type.ID(), nullable: f.Nullable}
	switch t := f.Type.(type) {
	case *arrow.StringType:
		col.physical = typeByteArray
	case *arrow.Int32Type, *arrow.Date32Type:
		col.physical = typeInt32
	case *arrow.Float64Type:
		col.physical = typeDouble
	case *arrow.BooleanType:
		col.physical = typeBoolean
	case *arrow.Decimal128Type:
		col.physical = typeFLBA
		col.size = decimalSize(t.Precision)
	case *arrow.TimestampType:
		if t.Unit != arrow.Microsecond || t.TimeZone == "" {
			return col, fmt.Errorf("column %q of type %s: %w", f.Name, f.Type, ErrUnsupported)
		}
		col.physical = typeInt64
	default:
		return col, fmt.Errorf("column %q of type %s: %w", f.Name, f.Type, ErrUnsupported)
	}
	return col, nil
}

// decimalSize is the fewest bytes that hold every decimal of precision digits in two's
// complement, the FIXED_LEN_BYTE_ARRAY length Parquet writers use.
func decimalSize(precision int32) int {
	return int(math.Ceil((float64(precision)*math.Log2(10) + 1) / 8))
}

// schemaElement writes the column's SchemaElement: its physical, converted and logical
// types as pqarrow writes them.
func (col column) schemaElement(c *compact, f arrow.Field) {
	c.begin()
	c.i32(1, col.physical)
	if col.physical == typeFLBA {
		c.i32(2, int32(col.size))
	}
	if col.nullable {
		c.i32(3, repetitionOptional)
	} else {
		c.i32(3, repetitionRequired)
	}
	c.str(4, col.name)
	switch t := f.Type.(type) {
	case *arrow.StringType:
		c.i32(6, convertedUTF8)
		c.structField(10)
		c.emptyStruct(1) // STRING
		c.end()
	case *arrow.Int32Type:
		c.i32(6, convertedInt32)
		c.structField(10)
		c.structField(10) // INTEGER
		c.byteField(1, 32)
		c.boolField(2, true)
		c.end()
		c.end()
	case *arrow.Date32Type:
		c.i32(6, convertedDate)
		c.structField(10)
		c.emptyStruct(6) // DATE
		c.end()
	case *arrow.Decimal128Type:
		c.i32(6, convertedDecimal)
		c.i32(7, t.Scale)
		c.i32(8, t.Precision)
		c.structField(10)
		c.structField(5) // DECIMAL
		c.i32(1, t.Scale)
		c.i32(2, t.Precision)
		c.end()
		c.end()
	case *arrow.TimestampType:
		c.i32(6, convertedTimestampMicros)
		c.structField(10)
		c.structField(8) // TIMESTAMP
		c.boolField(1, true)
		c.structField(2)
		c.emptyStruct(2) // MICROS
		c.end()
		c.end()
		c.end()
	}
	c.end()
}

// chunk is where a column's one page landed in the file.
type chunk struct {
	offset int64
	size   int64
}

// Write writes rec as a whole Parquet file to out in one Write call, with meta (in the
// caller's order) after the stored Arrow schema in the footer's key-value metadata. The
// file's buffer is reused by a later Write, so out must not keep the slice it is given
// (io.Writer's own rule). Write may be called from many goroutines at once.
func (w *Writer) Write(out io.Writer, rec arrow.RecordBatch, meta [][2]string) error {
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("writing Parquet: the record's schema is not the writer's")
	}
	n := int(rec.NumRows())
	if n > math.MaxInt32 {
		return fmt.Errorf("writing Parquet: %d rows is more than one page holds", n)
	}
	buf := w.buffer(w.sizeHint(rec, meta))
	defer w.release(&buf)
	buf = append(buf, magic...)
	chunks := make([]chunk, len(w.cols))
	var page []byte
	for i, col := range w.cols {
		var err error
		page, err = col.pageData(page[:0], rec.Column(i))
		if err != nil {
			return fmt.Errorf("writing Parquet column %q: %w", col.name, err)
		}
		start := len(buf)
		c := compact{buf: buf}
		c.begin()
		c.i32(1, pageData)
		c.i32(2, int32(len(page)))
		c.i32(3, int32(len(page)))
		c.structField(5)
		c.i32(1, int32(n))
		c.i32(2, encodingPlain)
		c.i32(3, encodingRLE)
		c.i32(4, encodingRLE)
		c.end()
		c.end()
		buf = append(c.buf, page...)
		chunks[i] = chunk{offset: int64(start), size: int64(len(buf) - start)}
	}
	footer := len(buf)
	buf = w.footer(buf, int64(n), chunks, meta)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(buf)-footer))
	buf = append(buf, magic...)
	if _, err := out.Write(buf); err != nil {
		return fmt.Errorf("writing Parquet: %w", err)
	}
	return nil
}

// maxPooled is the largest buffer kept for the next file.
const maxPooled = 1 << 20

// buffer returns an empty buffer of at least size bytes, from an earlier file when one is
// free.
func (w *Writer) buffer(size int) []byte {
	if b, ok := w.buffers.Get().(*[]byte); ok && cap(*b) >= size {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

// release keeps *buf for the next file, unless it is too large to hold on to.
func (w *Writer) release(buf *[]byte) {
	if cap(*buf) <= maxPooled {
		w.buffers.Put(buf)
	}
}

// sizeHint guesses the file's size, so that it is built in one allocation.
func (w *Writer) sizeHint(rec arrow.RecordBatch, meta [][2]string) int {
	size := 1024 + len(w.head)
	for _, kvs := range [][][2]string{w.kv, meta} {
		for _, kv := range kvs {
			size += len(kv[0]) + len(kv[1]) + 8
		}
	}
	for i, col := range w.cols {
		size += 96 + 2*len(col.name) + int(rec.NumRows())*(col.size+9)
		if s, ok := rec.Column(i).(*array.String); ok {
			size += len(s.ValueBytes())
		}
	}
	return size
}

// footer appends the FileMetaData of a file of rows rows whose columns are chunks.
func (w *Writer) footer(buf []byte, rows int64, chunks []chunk, meta [][2]string) []byte {
	buf = append(buf, w.head...)
	c := compact{buf: buf, last: []int16{2}}
	c.i64(3, rows)
	c.list(4, tStruct, 1)
	c.begin() // RowGroup
	c.list(1, tStruct, len(w.cols))
	var total int64
	for i, col := range w.cols {
		ch := chunks[i]
		total += ch.size
		c.begin() // ColumnChunk
		c.i64(2, ch.offset)
		c.structField(3) // ColumnMetaData
		c.i32(1, col.physical)
		c.list(2, tI32, 2)
		c.i32Value(encodingPlain)
		c.i32Value(encodingRLE)
		c.list(3, tBinary, 1)
		c.strValue(col.name)
		c.i32(4, 0) // UNCOMPRESSED
		c.i64(5, rows)
		c.i64(6, ch.size)
		c.i64(7, ch.size)
		c.i64(9, ch.offset)
		c.end()
		c.end()
	}
	c.i64(2, total)
	c.i64(3, rows)
	c.i64(5, int64(len(magic)))
	c.i64(6, total)
	c.field(7, 4) // ordinal, an i16
	c.buf = append(c.buf, 0)
	c.end()
	kv := len(w.kv) + len(meta)
	c.list(5, tStruct, kv)
	for _, p := range append(w.kv[:len(w.kv):len(w.kv)], meta...) {
		c.begin()
		c.str(1, p[0])
		c.str(2, p[1])
		c.end()
	}
	c.str(6, w.createdBy)
	c.list(7, tStruct, len(w.cols))
	for range w.cols {
		c.begin()        // ColumnOrder
		c.emptyStruct(1) // TYPE_ORDER
		c.end()
	}
	c.end()
	return c.buf
}

// pageData appends a data page's body: the definition levels of a nullable column, then
// the PLAIN values of the rows that are not null.
func (col column) pageData(dst []byte, a arrow.Array) ([]byte, error) {
	if !col.nullable && a.NullN() > 0 {
		return nil, fmt.Errorf("%d nulls in a column that is not nullable", a.NullN())
	}
	if col.nullable {
		dst = defLevels(dst, a)
	}
	valid := func(i int) bool { return a.NullN() == 0 || a.IsValid(i) }
	switch col.id {
	case arrow.STRING:
		s := a.(*array.String)
		for i := range s.Len() {
			if valid(i) {
				v := s.Value(i)
				dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
				dst = append(dst, v...)
			}
		}
	case arrow.INT32:
		for i, v := range a.(*array.Int32).Int32Values() {
			if valid(i) {
				dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
			}
		}
	case arrow.DATE32:
		for i, v := range a.(*array.Date32).Date32Values() {
			if valid(i) {
				dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
			}
		}
	case arrow.FLOAT64:
		for i, v := range a.(*array.Float64).Float64Values() {
			if valid(i) {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
			}
		}
	case arrow.TIMESTAMP:
		for i, v := range a.(*array.Timestamp).TimestampValues() {
			if valid(i) {
				dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
			}
		}
	case arrow.DECIMAL128:
		d := a.(*array.Decimal128)
		var be [16]byte
		for i := range d.Len() {
			if valid(i) {
				v := d.Value(i)
				binary.BigEndian.PutUint64(be[:8], uint64(v.HighBits()))
				binary.BigEndian.PutUint64(be[8:], v.LowBits())
				dst = append(dst, be[16-col.size:]...)
			}
		}
	case arrow.BOOL:
		b := a.(*array.Boolean)
		var cur byte
		k := 0
		for i := range b.Len() {
			if !valid(i) {
				continue
			}
			if b.Value(i) {
				cur |= 1 << (k % 8)
			}
			if k++; k%8 == 0 {
				dst, cur = append(dst, cur), 0
			}
		}
		if k%8 != 0 {
			dst = append(dst, cur)
		}
	}
	return dst, nil
}

// defLevels appends the definition levels of a nullable column (1 where a value is
// present) as a data page v1 holds them: a 4-byte length, then the RLE/bit-packed hybrid
// of bit width 1: one RLE run when every row is alike, bit-packed groups of 8 otherwise.
func defLevels(dst []byte, a arrow.Array) []byte {
	n := a.Len()
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	switch a.NullN() {
	case 0, n:
		level := byte(1)
		if a.NullN() == n && n > 0 {
			level = 0
		}
		dst = binary.AppendUvarint(dst, uint64(n)<<1)
		dst = append(dst, level)
	default:
		groups := (n + 7) / 8
		dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
		for g := range groups {
			var b byte
			for j := range min(8, n-8*g) {
				if a.IsValid(8*g + j) {
					b |= 1 << j
				}
			}
			dst = append(dst, b)
		}
	}
	binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}
