package lake_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

var ingestedAt = time.Date(2024, 3, 1, 12, 34, 56, 123456000, time.UTC)

// sampleRecord fills every column of a schema: row 0 and 2 with values, row 1 with nulls
// wherever the column is nullable. It returns the values DuckDB should print (as VARCHAR).
func sampleRecord(t *testing.T, schema *arrow.Schema) (arrow.RecordBatch, [][]any) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	const rows = 3
	want := make([][]any, rows)
	for r := range want {
		want[r] = make([]any, len(schema.Fields()))
	}
	for c, f := range schema.Fields() {
		for r := 0; r < rows; r++ {
			if r == 1 && f.Nullable {
				b.Field(c).AppendNull()
				want[r][c] = nil
				continue
			}
			switch fb := b.Field(c).(type) {
			case *array.StringBuilder:
				v := fmt.Sprintf("0055%02d%d", c, r) // leading zeros, as NCES ids have
				fb.Append(v)
				want[r][c] = v
			case *array.Int32Builder:
				fb.Append(int32(c*100 + r))
				want[r][c] = fmt.Sprint(c*100 + r)
			case *array.Float64Builder:
				fb.Append(float64(c) + 0.25)
				want[r][c] = fmt.Sprint(float64(c) + 0.25)
			case *array.Decimal128Builder:
				v := "999999999999.99"
				if r == 2 {
					v = "-1234.50"
				}
				d, err := decimal128.FromString(v, 14, 2)
				if err != nil {
					t.Fatal(err)
				}
				fb.Append(d)
				want[r][c] = v
			case *array.Date32Builder:
				fb.Append(arrow.Date32FromTime(time.Date(2023, 8, 15+r, 0, 0, 0, 0, time.UTC)))
				want[r][c] = fmt.Sprintf("2023-08-%d", 15+r)
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(ingestedAt.UnixMicro()))
				want[r][c] = "2024-03-01 12:34:56.123456+00"
			case *array.BooleanBuilder:
				fb.Append(r == 0)
				want[r][c] = fmt.Sprint(r == 0)
			default:
				t.Fatalf("column %s: no sample for %s", f.Name, f.Type)
			}
		}
	}
	return b.NewRecordBatch(), want
}

// duckType is the DuckDB type an analyst must see for an Arrow column type.
func duckType(t *testing.T, dt arrow.DataType) string {
	switch dt := dt.(type) {
	case *arrow.StringType:
		return "VARCHAR"
	case *arrow.Int32Type:
		return "INTEGER"
	case *arrow.Float64Type:
		return "DOUBLE"
	case *arrow.Decimal128Type:
		return fmt.Sprintf("DECIMAL(%d,%d)", dt.Precision, dt.Scale)
	case *arrow.Date32Type:
		return "DATE"
	case *arrow.TimestampType:
		return "TIMESTAMP WITH TIME ZONE"
	case *arrow.BooleanType:
		return "BOOLEAN"
	}
	t.Fatalf("no DuckDB type for %s", dt)
	return ""
}

func writeParquet(t *testing.T, s lake.Store, key string, schema *arrow.Schema, meta map[string]string, recs ...arrow.RecordBatch) lake.ObjectInfo {
	t.Helper()
	w, err := s.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := lake.NewParquetWriter(w, schema, meta)
	if err != nil {
		w.Abort(err)
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := pw.Write(rec); err != nil {
			w.Abort(err)
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		w.Abort(err)
		t.Fatal(err)
	}
	info, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Every canonical dataset, written with NewParquetWriter, reads in real DuckDB with the
// column types, values, nulls and file metadata an analyst expects.
func TestParquetInDuckDB(t *testing.T) {
	dir, s := fileStore(t)
	for _, name := range []string{dataset.Staffing, dataset.Incidents, dataset.Contracts} {
		t.Run(name, func(t *testing.T) {
			schema := dataset.Schema(name)
			rec, want := sampleRecord(t, schema)
			defer rec.Release()
			meta := map[string]string{
				dataset.MetaSchemaVersion: dataset.SchemaVersion,
				dataset.MetaDataset:       name,
				dataset.MetaDistrict:      "5508520",
				dataset.MetaRunID:         "wi-5508520-20240301t123456",
			}
			key := dataset.DistrictKey(name, "WI", "2023-24", "5508520")
			writeParquet(t, s, key, schema, meta, rec)
			file := sqlString(filepath.Join(dir, key))

			// Types.
			desc := testenv.DuckDB(t, "DESCRIBE SELECT * FROM read_parquet("+file+", hive_partitioning = false)")
			if len(desc) != len(schema.Fields()) {
				t.Fatalf("DuckDB sees %d columns, the schema has %d", len(desc), len(schema.Fields()))
			}
			for i, f := range schema.Fields() {
				if desc[i]["column_name"] != f.Name || desc[i]["column_type"] != duckType(t, f.Type) {
					t.Errorf("column %d: DuckDB %v %v, want %s %s", i, desc[i]["column_name"], desc[i]["column_type"], f.Name, duckType(t, f.Type))
				}
			}

			// Values and nulls, as text.
			var cols []string
			for _, f := range schema.Fields() {
				cols = append(cols, fmt.Sprintf("CAST(%q AS VARCHAR) AS %q", f.Name, f.Name))
			}
			rows := testenv.DuckDB(t, "SET TimeZone = 'UTC'; SELECT "+strings.Join(cols, ", ")+" FROM read_parquet("+file+", hive_partitioning = false)")
			if len(rows) != 3 {
				t.Fatalf("%d rows", len(rows))
			}
			for r := range rows {
				for c, f := range schema.Fields() {
					if got := rows[r][f.Name]; got != want[r][c] {
						t.Errorf("row %d %s = %v, want %v", r, f.Name, got, want[r][c])
					}
				}
			}

			// Key-value metadata.
			kv := testenv.DuckDB(t, "SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata("+file+")")
			got := map[string]any{}
			for _, row := range kv {
				got[row["k"].(string)] = row["v"]
			}
			for k, v := range meta {
				if got[k] != v {
					t.Errorf("metadata %s = %v, want %s", k, got[k], v)
				}
			}
			if _, ok := got["ARROW:schema"]; !ok {
				t.Error("the Arrow schema is not stored")
			}

			// zstd and statistics on every column chunk.
			pm := testenv.DuckDB(t, "SELECT DISTINCT compression, stats_min_value IS NOT NULL OR stats_min IS NOT NULL AS has_min, "+
				"stats_null_count IS NOT NULL AS has_nulls FROM parquet_metadata("+file+")")
			if len(pm) != 1 || pm[0]["compression"] != "ZSTD" || pm[0]["has_min"] != true || pm[0]["has_nulls"] != true {
				t.Errorf("column chunks: %v", pm)
			}
		})
	}
}

// Row groups: one per record of up to MaxRowGroupRows rows; a larger record is split.
func TestParquetRowGroups(t *testing.T) {
	dir := t.TempDir()
	l, _ := lake.ParseURL(dir, nil)
	s, err := lake.New(context.Background(), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	mk := func(n int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		ib := b.Field(0).(*array.Int32Builder)
		for i := 0; i < n; i++ {
			ib.Append(int32(i))
		}
		return b.NewRecordBatch()
	}
	big, small := mk(lake.MaxRowGroupRows+10), mk(lake.MinRecordRows)
	defer big.Release()
	defer small.Release()
	writeParquet(t, s, "n/data.parquet", schema, nil, big, small)
	rows := testenv.DuckDB(t, "SELECT row_group_id, row_group_num_rows FROM parquet_metadata("+
		sqlString(filepath.Join(dir, "n/data.parquet"))+") ORDER BY row_group_id")
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprint(r["row_group_num_rows"]))
	}
	want := fmt.Sprintf("%d %d %d", lake.MaxRowGroupRows, 10, lake.MinRecordRows)
	if strings.Join(got, " ") != want {
		t.Fatalf("row groups %v, want %s", got, want)
	}
}

// A lake in MinIO, copied with MirrorLake, reads in DuckDB with hive partitioning.
func TestS3LakeInDuckDB(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := newS3(t, m, "statewide", "districtlake/v1")
	schema := dataset.StaffingSchema()
	rec, _ := sampleRecord(t, schema)
	defer rec.Release()
	for _, d := range []string{"5508520", "0100005"} {
		writeParquet(t, s, dataset.DistrictKey(dataset.Staffing, "WI", "2023-24", d), schema,
			map[string]string{dataset.MetaDistrict: d}, rec)
	}
	dir := t.TempDir()
	testenv.MirrorLake(t, s, dir)
	rows := testenv.DuckDB(t, "SELECT district, school_year, count(*) AS n FROM read_parquet("+
		sqlString(filepath.Join(dir, "staffing/**/*.parquet"))+", hive_partitioning = true) GROUP BY ALL ORDER BY district")
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%v %v %v", r["district"], r["school_year"], r["n"]))
	}
	sort.Strings(got)
	if want := "0100005 2023-24 3,5508520 2023-24 3"; strings.Join(got, ",") != want {
		t.Fatalf("DuckDB read %v, want %s", got, want)
	}
}
