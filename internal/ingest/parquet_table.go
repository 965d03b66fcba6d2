package ingest

import (
	"context"
	"fmt"
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
// stream to a temporary file first) one record batch at a time, giving each selected cell
// as text so that the same coercion rules apply as to csv and json.
type parquetTable struct {
	source string
	ctx    context.Context
	pf     *file.Reader
	fr     *pqarrow.FileReader
	names  []string
	sel    []int // selected column -> top-level field index (-1 when absent)
	rr     pqarrow.RecordReader
	rec    arrow.RecordBatch
	cols   []arrow.Array // record column per selected column (nil when absent)
	i      int           // row within rec
	row    int
	out    [][]byte
	buf    []byte
	offs   []int
	e      error
}

func newParquetTable(ctx context.Context, source string, r parquet.ReaderAtSeeker) (*parquetTable, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("is not a Parquet file: %w", err)}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, &SourceError{Source: source, Err: fmt.Errorf("reading Parquet schema: %w", err)}
	}
	sch, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, &SourceError{Source: source, Err: fmt.Errorf("reading Parquet schema: %w", err)}
	}
	t := &parquetTable{source: source, ctx: ctx, pf: pf, fr: fr}
	for _, f := range sch.Fields() {
		t.names = append(t.names, f.Name)
	}
	return t, nil
}

func (t *parquetTable) close() {
	if t.rec != nil {
		t.rec.Release()
	}
	if t.rr != nil {
		t.rr.Release()
	}
	t.pf.Close()
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

// leaves lists the parquet leaf columns of the selected top-level fields.
func (t *parquetTable) leaves() ([]int, map[int]int) {
	var leaves []int
	pos := map[int]int{} // top-level field -> position in the record
	sch := t.pf.MetaData().Schema
	for _, f := range t.sel {
		if f < 0 {
			continue
		}
		if _, ok := pos[f]; ok {
			continue
		}
		pos[f] = -1
		for c := 0; c < sch.NumColumns(); c++ {
			if sch.ColumnRoot(c) == sch.Root().Field(f) {
				leaves = append(leaves, c)
			}
		}
	}
	return leaves, pos
}

func (t *parquetTable) next() bool {
	if t.e != nil {
		return false
	}
	if t.rr == nil {
		leaves, _ := t.leaves()
		rr, err := t.fr.GetRecordReader(t.ctx, leaves, nil)
		if err != nil {
			t.e = &SourceError{Source: t.source, Err: fmt.Errorf("reading Parquet: %w", err)}
			return false
		}
		t.rr = rr
	}
	for t.rec == nil || t.i >= int(t.rec.NumRows()) {
		if t.rec != nil {
			t.rec.Release()
			t.rec = nil
		}
		if !t.rr.Next() {
			if err := t.rr.Err(); err != nil {
				t.e = &SourceError{Source: t.source, Err: fmt.Errorf("reading Parquet: %w", err)}
			}
			return false
		}
		t.rec = t.rr.RecordBatch()
		t.rec.Retain()
		t.i = 0
		for i, f := range t.sel {
			t.cols[i] = nil
			if f >= 0 {
				if idx := t.rec.Schema().FieldIndices(t.names[f]); len(idx) == 1 {
					t.cols[i] = t.rec.Column(idx[0])
				}
			}
		}
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
