package smallparquet

import (
	"io"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
)

// One district's staffing file of 8 rows (a national file's average), written by this
// package (with and without making the Writer) and by pqarrow with the same properties.
func BenchmarkDistrictFile(b *testing.B) {
	schema := dataset.StaffingSchema()
	rec := randomRecord(b, schema, 8, 0.3, 1)
	defer rec.Release()
	meta := [][2]string{{"districtlake.dataset", "staffing"}, {"districtlake.run_id", "20261204T052235Z-08194ad8"}}
	b.Run("smallparquet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w, err := NewWriter(schema, "districtlake")
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Write(io.Discard, rec, meta); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("smallparquet-reused-writer", func(b *testing.B) {
		b.ReportAllocs()
		w, err := NewWriter(schema, "districtlake")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := w.Write(io.Discard, rec, meta); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pqarrow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = pqarrowFile(b, rec, meta)
		}
	})
}
