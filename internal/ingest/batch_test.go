package ingest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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

// What a reader finds in a district's file: one of at most smallFileRows rows (written as
// one record) is plain, with no compression, dictionary or statistics; a larger one is zstd
// with dictionaries and statistics on every column chunk. DuckDB reads both back whole.
func TestParquetSinkSmallAndLargeFiles(t *testing.T) {
	schema := dataset.ContractsSchema()
	agency, officers := schema.FieldIndices("agency_name")[0], schema.FieldIndices("officers")[0]
	dir := t.TempDir()
	for _, n := range []int{1, smallFileRows, smallFileRows + 1, 3 * smallFileRows} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var buf bytes.Buffer
			small, err := NewSmallFileWriters().writer("contracts", schema)
			if err != nil {
				t.Fatal(err)
			}
			p, err := newParquetSink(&buf, schema, small, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			row := make([]value, len(schema.Fields()))
			for i, f := range schema.Fields() {
				if !f.Nullable { // the key columns, never null in a canonical row
					row[i] = value{ok: true, s: []byte("x")}
					if f.Type.ID() == arrow.TIMESTAMP {
						row[i] = value{ok: true, i: 1_700_000_000_000_000}
					}
				}
			}
			for r := range n {
				row[agency] = value{ok: true, s: fmt.Appendf(nil, "agency %d", r%7)}
				row[officers] = value{ok: true, i: int64(r)}
				if err := p.add(row); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("%d.parquet", n))
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			file := sqlString(path)
			r := duckOne(t, fmt.Sprintf(`SELECT (SELECT count(*) FROM read_parquet(%[1]s)) AS n,
				(SELECT sum(officers) FROM read_parquet(%[1]s)) AS officers,
				(SELECT count(DISTINCT agency_name) FROM read_parquet(%[1]s)) AS agencies,
				string_agg(DISTINCT compression, ',') AS compression,
				count(*) FILTER (WHERE stats_min_value IS NOT NULL OR stats_min IS NOT NULL OR stats_null_count IS NOT NULL) AS with_stats,
				count(*) FILTER (WHERE encodings LIKE '%%DICTIONARY%%') AS with_dictionary,
				count(*) AS chunks FROM parquet_metadata(%[1]s)`, file))
			if r["n"] != int64(n) || fmt.Sprint(r["officers"]) != fmt.Sprint(n*(n-1)/2) || r["agencies"] != int64(min(n, 7)) {
				t.Errorf("DuckDB read %v; want %d rows, officers summing to %d, %d agencies", r, n, n*(n-1)/2, min(n, 7))
			}
			if n <= smallFileRows {
				if r["compression"] != "UNCOMPRESSED" || r["with_stats"] != int64(0) || r["with_dictionary"] != int64(0) {
					t.Errorf("%d rows written %v; want uncompressed, without statistics or dictionaries", n, r)
				}
			} else if r["compression"] != "ZSTD" || r["with_stats"] != r["chunks"] || r["with_dictionary"] == int64(0) {
				t.Errorf("%d rows written %v; want zstd, statistics on every column chunk and dictionaries", n, r)
			}
		})
	}
}
