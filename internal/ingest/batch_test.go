package ingest

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/districtlake/districtlake/internal/dataset"
)

// A full record's buffers, and its constant columns', have room for the record's rows and
// no more: Arrow's Reserve rounds up to the next power of two above, which made every
// buffer of a BatchRows record twice its size.
func TestBatchBuilderBufferSizes(t *testing.T) {
	schema := dataset.ContractsSchema()
	consts := map[int]value{}
	for i, f := range schema.Fields() {
		switch f.Name {
		case "district_name":
			consts[i] = value{ok: true, s: []byte(wiName)}
		case "agency_name", "start_date":
		default:
			consts[i] = value{}
		}
	}
	b, err := newBatchBuilder(schema, consts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.release()
	row := make([]value, len(schema.Fields()))
	agency, date := schema.FieldIndices("agency_name")[0], schema.FieldIndices("start_date")[0]
	for r := range 2 * BatchRows {
		row[agency] = value{ok: true, s: fmt.Appendf(nil, "a%06d", r%BatchRows)}
		row[date] = value{ok: true, i: 19539}
		b.append(row)
		if b.n < BatchRows {
			continue
		}
		rec, err := b.record()
		if err != nil {
			t.Fatal(err)
		}
		if r < BatchRows {
			rec.Release() // the first record grows from a small reservation
			continue
		}
		for i, col := range rec.Columns() {
			f := schema.Field(i)
			for j, buf := range col.Data().Buffers() {
				if buf == nil {
					continue
				}
				want := bufferBytes(f, j, BatchRows)
				if f.Name == "district_name" && j == 2 {
					want = BatchRows * len(wiName)
				}
				if got := buf.Cap(); got > want+64 {
					t.Errorf("column %s buffer %d: room for %d bytes, want %d", f.Name, j, got, want)
				}
			}
		}
		rec.Release()
	}
}

// bufferBytes is the size of buffer j of n values of f (validity, then offsets or values,
// then string bytes); string bytes are given as 7 a value (the test's agency names).
func bufferBytes(f arrow.Field, j, n int) int {
	switch {
	case j == 0:
		return (n + 7) / 8
	case f.Type.ID() == arrow.STRING && j == 1:
		return 4 * (n + 1)
	case f.Type.ID() == arrow.STRING:
		// Reserved at the last record's bytes and an eighth.
		return 7*n + 7*n/8
	default:
		return n * f.Type.(arrow.FixedWidthDataType).Bytes()
	}
}
