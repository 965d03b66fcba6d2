package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// TestIngestLimits runs sources past each memory cap, with the cap set low: each fails
// with an error naming the source, row and column, and the lake is unchanged.
func TestIngestLimits(t *testing.T) {
	w := newWorld(t)
	w.put(t, "long-dictionary.parquet", longValueParquet(t, 3, 200_000))
	contractsHeader := "Agency,Type,Status,Annual Cost (USD),District Share,Start,End,Officers,Notes\r\n"
	contracts := func(body string) plan.Source {
		return plan.Source{Name: "contracts", Dataset: "contracts", Format: "csv", Inline: inline(contractsHeader + body), Columns: contractsColumns}
	}
	row := func(agency, start string) string {
		return agency + ",municipal police,active,1000,500," + start + ",2030-06-30,1,x\r\n"
	}
	staffing := func(format, body string) plan.Source {
		return plan.Source{Name: "staffing", Dataset: "staffing", Format: format, SchoolYear: "2020-21", Inline: inline(body)}
	}
	pq := w.fileSource("contracts-parquet", "contracts", "parquet", "", "long-dictionary.parquet")
	pq.Columns = map[string]string{"agency_name": "agency", "start_date": "start", "end_date": "end", "annual_cost": "cost", "status": "status"}

	cases := []struct {
		name   string
		limits Limits
		source plan.Source
		want   string
	}{
		{name: "csv fields per record", limits: Limits{FieldsPerRecord: 12},
			source: contracts(row("A", "2023-07-01") + strings.Repeat("x,", 20) + "x\r\n"),
			want:   `source "contracts" row 2 (line 3): the row has more than 12 fields (the limit of one record)`},
		{name: "csv header fields", limits: Limits{FieldsPerRecord: 5},
			source: contracts(row("A", "2023-07-01")),
			want:   `source "contracts": the row has more than 5 fields (the limit of one record)`},
		{name: "csv cell length", limits: Limits{CellBytes: 20},
			source: contracts(row("A", "2023-07-01") + row(strings.Repeat("x", 40), "2023-07-01")),
			want:   `source "contracts" row 2 (line 3) column "Agency": the cell is longer than 20 bytes (the limit of one cell)`},
		{name: "csv quoted cell length", limits: Limits{CellBytes: 20},
			source: contracts(row(`"`+strings.Repeat("x\n", 20)+`"`, "2023-07-01")),
			want:   `source "contracts" row 1 (line 2) column "Agency": the cell is longer than 20 bytes (the limit of one cell)`},
		{name: "json nesting", limits: Limits{JSONDepth: 4},
			source: staffing("json", `[{"nces_school_id":"550852000001"},`+"\n"+`{"nces_school_id":"550852000002","extra":[[[[[1]]]]]}]`),
			want:   `source "staffing" row 2 (line 2) column "extra": the value nests objects and arrays more than 4 levels deep (the limit of one row)`},
		{name: "ndjson nesting", limits: Limits{JSONDepth: 3},
			source: staffing("ndjson", `{"nces_school_id":"550852000001","extra":{"a":{"b":{"c":1}}}}`+"\n"),
			want:   `source "staffing" row 1 (line 1) column "extra": the value nests objects and arrays more than 3 levels deep (the limit of one row)`},
		{name: "json object size", limits: Limits{ObjectBytes: 1024},
			source: staffing("json", `[{"nces_school_id":"550852000001"},`+"\n"+`{"nces_school_id":"550852000002","notes":"`+strings.Repeat("x", 300_000)+`"}]`),
			want:   `source "staffing" row 2 (line 2) column "notes": the object is larger than 1024 bytes (the limit of one row)`},
		{name: "json value length", limits: Limits{CellBytes: 8},
			source: staffing("json", `[{"nces_school_id":"550852000001"}]`),
			want:   `source "staffing" row 1 (line 1) column "nces_school_id": the value is longer than 8 bytes (the limit of one cell)`},
		{name: "ndjson line length", limits: Limits{ObjectBytes: 1024},
			source: staffing("ndjson", `{"nces_school_id":"550852000001"}`+"\n"+`{"nces_school_id":"550852000002","notes":"`+strings.Repeat("x", 2000)+`"}`+"\n"),
			want:   `source "staffing" row 2 (line 2): the line is longer than 1024 bytes (the limit of one object)`},
		{name: "parquet batch", limits: Limits{ParquetBatchBytes: 180_000},
			source: pq,
			want:   `source "contracts-parquet" row 1 column "agency": decoding the column from this row on needs more than 180000 bytes of memory (the limit of one Parquet batch): its values or its dictionary are too large`},
		{name: "parquet value length", limits: Limits{CellBytes: 1000},
			source: pq,
			want:   `source "contracts-parquet" row 1 column "agency": the value is longer than 1000 bytes (the limit of one cell)`},
		{name: "duplicate key past the keys in memory", limits: Limits{KeysInMemory: 2},
			source: contracts(row("A", "2023-07-01") + row("B", "2023-07-01") + row("C", "2023-07-01") + row("D", "2023-07-01") + row("A", "2023-07-01") + row("E", "2023-07-01")),
			want:   `source "contracts" row 5 (line 6) column "Agency" (agency_name): the row's agency_name, start_date is also on row 1 (line 2)`},
		{name: "duplicate key in memory", limits: Limits{KeysInMemory: 100},
			source: contracts(row("A", "2023-07-01") + row("B", "2023-07-01") + row("A", "2023-07-01")),
			want:   `source "contracts" row 3 (line 4) column "Agency" (agency_name): agency_name "A", starting 2023-07-01 is also on row 1 (line 2)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, w.store)
			opts := testOptions("20261126T130501Z-cap000")
			opts.Limits = c.limits
			opts.TempDir = t.TempDir()
			sum, err := Run(context.Background(), newPlan(w.lake, wiLEA, wiName, "WI", c.source), w.store, w.env, opts)
			if err == nil {
				t.Fatalf("the run succeeded; want error %q", c.want)
			}
			if err.Error() != c.want {
				t.Fatalf("error\n got %s\nwant %s", err, c.want)
			}
			if sum.Outcome != summary.Failed {
				t.Fatalf("outcome %s, want Failed", sum.Outcome)
			}
			assertUnchanged(t, w.store, before)
		})
	}

	// Past the keys in memory, rows without a repeat are all kept.
	var body strings.Builder
	for i := range 50 {
		body.WriteString(row(fmt.Sprintf("Agency %d", i), "2023-07-01"))
	}
	opts := testOptions("20261126T130501Z-cap001")
	opts.Limits = Limits{KeysInMemory: 7}
	opts.TempDir = t.TempDir()
	sum, err := Run(context.Background(), newPlan(w.lake, wiLEA, wiName, "WI", contracts(body.String())), w.store, w.env, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sources) != 1 || sum.Sources[0].Rows != 50 {
		t.Fatalf("sources %+v, want 50 rows", sum.Sources)
	}
}

// longValueParquet writes contracts whose agency is one long value on every row (a
// dictionary of one entry, which compresses to almost nothing).
func longValueParquet(t *testing.T, rows, length int) []byte {
	t.Helper()
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "agency", Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "start", Type: arrow.BinaryTypes.String},
		{Name: "end", Type: arrow.BinaryTypes.String},
		{Name: "cost", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	long := strings.Repeat("x", length)
	for i := range rows {
		b.Field(0).(*array.StringBuilder).Append(long)
		b.Field(1).(*array.StringBuilder).Append("active")
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("2023-07-%02d", i+1))
		b.Field(3).(*array.StringBuilder).Append("2024-06-30")
		b.Field(4).(*array.StringBuilder).Append("1000")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithCompression(compress.Codecs.Zstd))
	fw, err := pqarrow.NewFileWriter(sch, &buf, props, pqarrow.DefaultWriterProps())
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
