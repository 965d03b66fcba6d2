package smallparquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

// allTypes is a schema of every type the writer supports, nullable and not.
func allTypes() *arrow.Schema {
	var fields []arrow.Field
	for _, t := range []arrow.DataType{
		arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64,
		arrow.FixedWidthTypes.Boolean, arrow.FixedWidthTypes.Date32, dataset.Money,
		&arrow.Decimal128Type{Precision: 38, Scale: 0}, &arrow.Decimal128Type{Precision: 3, Scale: 1},
		dataset.Timestamp,
	} {
		for _, nullable := range []bool{false, true} {
			name := fmt.Sprintf("%s_%v", strings.NewReplacer("(", "_", ")", "", ",", "_", " ", "", "=", "_", ":", "_").Replace(t.String()), nullable)
			fields = append(fields, arrow.Field{Name: name, Type: t, Nullable: nullable})
		}
	}
	return arrow.NewSchema(fields, nil)
}

// randomRecord makes n rows of schema: nulls in nullable columns at rate nulls (0, 1 or
// between), and the edge values of each type among random ones.
func randomRecord(t testing.TB, schema *arrow.Schema, n int, nulls float64, seed uint64) arrow.RecordBatch {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	strs := []string{"", "a", "Saint-Étienne ISD", "日本語", strings.Repeat("x", 300), "O'Brien \"K-12\"\n"}
	for i, f := range schema.Fields() {
		fb := b.Field(i)
		for r := range n {
			if f.Nullable && rng.Float64() < nulls {
				fb.AppendNull()
				continue
			}
			edge := r%5 == 0
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(strs[rng.IntN(len(strs))] + fmt.Sprint(rng.IntN(1000)))
			case *array.Int32Builder:
				v := rng.Int32() - math.MaxInt32/2
				if edge {
					v = []int32{math.MinInt32, math.MaxInt32, 0, -1}[r%4]
				}
				fb.Append(v)
			case *array.Float64Builder:
				v := rng.NormFloat64() * 1e6
				if edge {
					v = []float64{math.Inf(1), math.Inf(-1), 0, math.SmallestNonzeroFloat64, math.MaxFloat64}[r%5]
				}
				fb.Append(v)
			case *array.BooleanBuilder:
				fb.Append(rng.IntN(2) == 1)
			case *array.Date32Builder:
				fb.Append(arrow.Date32(rng.Int32N(40000) - 5000))
			case *array.Decimal128Builder:
				p := f.Type.(*arrow.Decimal128Type).Precision
				limit := decimal128.GetMaxValue(p)
				v := decimal128.FromI64(rng.Int64N(1<<40) - 1<<39)
				if p < 12 {
					v = decimal128.FromI64(rng.Int64N(1000) - 500)
				}
				if edge {
					v = []decimal128.Num{limit, limit.Negate(), decimal128.FromI64(0), decimal128.FromI64(-1)}[r%4]
				}
				fb.Append(v)
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(rng.Int64N(4e15) - 1e15))
			default:
				t.Fatalf("no random values for %s", f.Type)
			}
		}
	}
	return b.NewRecordBatch()
}

// pqarrowFile is the file the lake's pqarrow writer makes of rec with the small-file
// properties: the file this package must match.
func pqarrowFile(t testing.TB, rec arrow.RecordBatch, meta [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := map[string]string{}
	for _, kv := range meta {
		m[kv[0]] = kv[1]
	}
	fw, err := lake.NewParquetWriter(&buf, rec.Schema(), m, parquet.WithDictionaryDefault(false),
		parquet.WithCompression(compress.Codecs.Uncompressed), parquet.WithStats(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readBack reads a Parquet file with pqarrow, as the project's own readers do.
func readBack(t *testing.T, data []byte) arrow.Table {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("opening the file: %v", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("reading the file: %v", err)
	}
	return tbl
}

// sameTable fails t unless got holds rec's columns (names, types, nullability) and
// values. The reader adds metadata of its own to the schema; readers compare that.
func sameTable(t *testing.T, what string, got arrow.Table, rec arrow.RecordBatch) {
	t.Helper()
	if got.NumCols() != rec.NumCols() {
		t.Fatalf("%s: %d columns, want %d", what, got.NumCols(), rec.NumCols())
	}
	for i, f := range got.Schema().Fields() {
		if want := rec.Schema().Field(i); f.Name != want.Name || !arrow.TypeEqual(f.Type, want.Type) || f.Nullable != want.Nullable {
			t.Fatalf("%s: column %d is %s; want %s", what, i, f, want)
		}
	}
	if got.NumRows() != rec.NumRows() {
		t.Fatalf("%s: %d rows, want %d", what, got.NumRows(), rec.NumRows())
	}
	for i := range int(got.NumCols()) {
		want := arrow.NewChunked(rec.Column(i).DataType(), []arrow.Array{rec.Column(i)})
		if !array.ChunkedEqual(got.Column(i).Data(), want) {
			t.Errorf("%s: column %q differs", what, rec.ColumnName(i))
		}
		want.Release()
	}
}

// A file of this package reads back as the record it was written from, and is the same
// Parquet as pqarrow's with the small-file properties: the same schema elements, column
// chunks and key-value metadata to DuckDB, the same rows to DuckDB and to pqarrow.
func TestWriterMatchesPqarrow(t *testing.T) {
	testenv.Needs(t, testenv.ServerDuckDB)
	schemas := map[string]*arrow.Schema{
		"staffing": dataset.StaffingSchema(), "incidents": dataset.IncidentsSchema(),
		"contracts": dataset.ContractsSchema(), "all-types": allTypes(),
	}
	meta := [][2]string{{"districtlake.dataset", "staffing"}, {"districtlake.run_id", "20261204T052235Z-08194ad8"}}
	dir := t.TempDir()
	for _, side := range []string{"ours", "pqarrow"} {
		if err := os.Mkdir(filepath.Join(dir, side), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	seed := uint64(1)
	for name, schema := range schemas {
		names = append(names, name)
		w, err := NewWriter(schema, "districtlake")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, n := range []int{0, 1, 7, 8, 9, 1024} {
			for _, nulls := range []float64{0, 0.3, 1} {
				seed++
				rec := randomRecord(t, schema, n, nulls, seed)
				var ours bytes.Buffer
				if err := w.Write(&ours, rec, meta); err != nil {
					t.Fatalf("%s, %d rows: %v", name, n, err)
				}
				what := fmt.Sprintf("%s, %d rows, nulls %.1f", name, n, nulls)
				got := readBack(t, ours.Bytes())
				sameTable(t, what+" (ours)", got, rec)
				theirs := pqarrowFile(t, rec, meta)
				want := readBack(t, theirs)
				sameTable(t, what+" (pqarrow)", want, rec)
				if !got.Schema().Equal(want.Schema()) {
					t.Errorf("%s: pqarrow reads the schema\n%s\nfrom pqarrow's file\n%s", what, got.Schema(), want.Schema())
				}
				got.Release()
				want.Release()
				rec.Release()

				base := fmt.Sprintf("%s-%d-%.1f.parquet", name, n, nulls)
				if err := os.WriteFile(filepath.Join(dir, "ours", base), ours.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "pqarrow", base), theirs, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	rows := testenv.DuckDB(t, differencesQuery(dir, names))
	for _, r := range rows {
		t.Errorf("DuckDB: %v of our file differs from pqarrow's", r)
	}
	// The query finds differences: a file of other rows is one.
	other := randomRecord(t, schemas["contracts"], 9, 0.3, 999)
	defer other.Release()
	if err := os.WriteFile(filepath.Join(dir, "ours", "contracts-9-0.3.parquet"), pqarrowFile(t, other, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	parts := map[string]bool{}
	for _, r := range testenv.DuckDB(t, differencesQuery(dir, names)) {
		parts[fmt.Sprint(r["part"])] = true
	}
	if !parts["rows"] || !parts["parquet_kv_metadata"] {
		t.Errorf("DuckDB found %v differing in a file of other rows and metadata; want rows and parquet_kv_metadata", parts)
	}
}

// differencesQuery is a query with a row for each file of dir/ours whose rows, schema
// elements, column chunks or key-value metadata differ from its namesake's in
// dir/pqarrow. Files are named for their schema, and those of one schema are read as one.
func differencesQuery(dir string, schemas []string) string {
	var parts []string
	// both is the rows of from(side) that one side has and the other lacks, named by file.
	both := func(from func(side string) string) string {
		return fmt.Sprintf("((%[1]s EXCEPT ALL %[2]s) UNION ALL (%[2]s EXCEPT ALL %[1]s))", from("ours"), from("pqarrow"))
	}
	for _, name := range schemas {
		parts = append(parts, fmt.Sprintf("SELECT DISTINCT filename AS file, 'rows' AS part FROM %s", both(func(side string) string {
			return fmt.Sprintf("SELECT * REPLACE (replace(filename, '/%[2]s/', '/') AS filename) FROM read_parquet('%[1]s/%[2]s/%[3]s-*.parquet', filename = true)", dir, side, name)
		})))
	}
	for fn, cols := range map[string]string{
		"parquet_schema":      "* EXCLUDE (file_name)",
		"parquet_metadata":    "row_group_id, row_group_num_rows, column_id, path_in_schema, type, encodings, compression, num_values, stats_min, stats_max, stats_null_count",
		"parquet_kv_metadata": "key, value",
	} {
		parts = append(parts, fmt.Sprintf("SELECT DISTINCT file, '%s' FROM %s", fn, both(func(side string) string {
			return fmt.Sprintf("SELECT replace(file_name, '/%[3]s/', '/') AS file, %[4]s FROM %[1]s('%[2]s/%[3]s/*.parquet')", fn, dir, side, cols)
		})))
	}
	return strings.Join(parts, "\nUNION ALL\n") + ";"
}

// A schema with a type the writer does not make says so, so that the caller can use
// pqarrow instead.
func TestNewWriterRefusesOtherTypes(t *testing.T) {
	for _, f := range []arrow.Field{
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "local", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
		{Name: "list", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	} {
		_, err := NewWriter(arrow.NewSchema([]arrow.Field{f}, nil), "districtlake")
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), f.Name) {
			t.Errorf("%s: NewWriter returned %v; want ErrUnsupported naming the column", f.Type, err)
		}
	}
}

// A record with a null in a column the schema says is never null is refused, not
// written as a file readers would misread.
func TestWriterRefusesNullsInRequiredColumn(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "state", Type: arrow.BinaryTypes.String}}, nil)
	w, err := NewWriter(schema, "districtlake")
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.AppendNull()
	col := b.NewArray()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 1)
	var out bytes.Buffer
	if err := w.Write(&out, rec, nil); err == nil || !strings.Contains(err.Error(), `"state"`) || out.Len() != 0 {
		t.Errorf("Write returned %v and %d bytes; want an error naming the column and nothing written", err, out.Len())
	}
}

// Files written from many goroutines at once through one Writer, which reuses its
// buffers, are byte for byte the files written one at a time.
func TestWriterConcurrentFilesMatchSequential(t *testing.T) {
	schema := allTypes()
	w, err := NewWriter(schema, lake.CreatedBy)
	if err != nil {
		t.Fatal(err)
	}
	const files = 64
	recs := make([]arrow.RecordBatch, files)
	want := make([][]byte, files)
	for i := range recs {
		recs[i] = randomRecord(t, schema, 1+i*7%300, 0.2, uint64(i))
		defer recs[i].Release()
		var buf bytes.Buffer
		if err := w.Write(&buf, recs[i], [][2]string{{"file", fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
		want[i] = buf.Bytes()
	}
	got := make([][]byte, files)
	errs := make(chan error, files)
	for i := range recs {
		go func() {
			var buf bytes.Buffer
			err := w.Write(&buf, recs[i], [][2]string{{"file", fmt.Sprint(i)}})
			got[i] = buf.Bytes()
			errs <- err
		}()
	}
	for range files {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range files {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("file %d (%d rows): written concurrently it is %d bytes that differ from the %d written alone",
				i, recs[i].NumRows(), len(got[i]), len(want[i]))
		}
	}
}
