package ingest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

const (
	wiLEA  = "5508520"
	wiName = "Madison Metropolitan School District"
)

// staffingJSON is a district's own staffing file: an array of objects, with its own names.
const staffingJSON = `[
 {"School ID": "550852000101", "School": "East High", "Students": 1800, "Counselors": 6.5, "Nurses": 1,
  "Psychologists": null, "Social Workers": "2.0", "SROs": 1, "Comment": {"ignored": true}},
 {"School ID": "550852000102", "School": "West \"Regents\" High", "Students": "1,650", "Counselors": 5, "Nurses": 0.5,
  "Social Workers": 1.5, "SROs": 0}
]`

var staffingJSONColumns = map[string]string{
	"nces_school_id": "School ID", "school_name": "School", "enrollment": "Students", "counselors_fte": "Counselors",
	"nurses_fte": "Nurses", "psychologists_fte": "Psychologists", "social_workers_fte": "Social Workers", "sworn_officers_fte": "SROs",
}

// incidentsNDJSON uses the canonical column names, so it needs no column map, and the
// spellings sources use for labels.
const incidentsNDJSON = `{"nces_school_id":"550852000101","category":"Arrests","student_group":"Black Male IDEA","race_ethnicity":"Black or African American","sex":"M","disability":"IDEA","english_learner":"no","count":3}

{"nces_school_id":"550852000101","category":"law enforcement referral","student_group":"black_male","race_ethnicity":"BL","sex":"male","disability":"without_disability","count":7}
{"nces_school_id":"550852000102","category":"arrest","student_group":"white_female","race_ethnicity":"white","sex":"F","count":null}
`

// staffingCSV is semicolon-separated with a BOM, CRLF, a quoted newline, trailing
// unnamed columns (as spreadsheets write them) and rows of another district (dropped by
// nces_lea_id).
const staffingCSV = "\uFEFFnces_lea_id;nces_school_id;school_name;enrollment;counselors_fte;sworn_officers_fte;;\r\n" +
	"5508520;550852000101;\"East\r\nHigh\";1800;6.5;1;;\r\n" +
	"5500001;550000100001;Elsewhere;100;1;0;;\r\n" +
	"5508520;550852000103;Lincoln;;2;;;\r\n"

// contractsParquet writes a district's contracts as Parquet with typed columns.
func contractsParquet(t *testing.T) []byte {
	t.Helper()
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "agency", Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "cost", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
		{Name: "start", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "end", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "officers", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "url", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"Madison Police Department", "UW Police"}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"terminated", "Suspended"}, nil)
	b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(38000000))
	b.Field(2).AppendNull()
	b.Field(3).(*array.Date32Builder).Append(arrow.Date32FromTime(fixedNow.AddDate(-6, 0, 0).Truncate(24 * 60 * 60 * 1e9)))
	b.Field(3).AppendNull()
	b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(fixedNow.AddDate(-5, 0, 0).Truncate(24 * 60 * 60 * 1e9).UnixMilli()))
	b.Field(4).AppendNull()
	b.Field(5).(*array.Int64Builder).AppendValues([]int64{4, 0}, []bool{true, false})
	b.Field(6).(*array.StringBuilder).AppendValues([]string{"https://example.org/mou.pdf", ""}, []bool{true, false})
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(sch, &buf, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
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

// TestIngestFormatsEndToEnd ingests json (http), ndjson (s3), parquet (file) and csv
// (inline) sources into MinIO and reads them back with DuckDB.
func TestIngestFormatsEndToEnd(t *testing.T) {
	w := newWorld(t)
	w.put(t, "staffing.json", []byte(staffingJSON))
	w.put(t, "incidents.ndjson", []byte(incidentsNDJSON))
	w.put(t, "contracts.parquet", contractsParquet(t))
	json := w.httpSource("staffing-json", "staffing", "json", "2021-22", "staffing.json")
	json.Columns = staffingJSONColumns
	pq := w.fileSource("contracts-parquet", "contracts", "parquet", "", "contracts.parquet")
	pq.Columns = map[string]string{"agency_name": "agency", "annual_cost": "cost", "start_date": "start", "end_date": "end", "source_url": "url"}
	p := newPlan(w.lake, wiLEA, wiName, "WI", json,
		w.s3Source("incidents-ndjson", "incidents", "ndjson", "2021-22", "incidents.ndjson"),
		pq,
		plan.Source{Name: "staffing-csv", Dataset: "staffing", Format: "csv", SchoolYear: "2022-23", Delimiter: ";", Inline: inline(staffingCSV)},
	)
	sum, err := Run(context.Background(), p, w.store, w.env, testOptions("20261126T130501Z-f0f0f0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Objects) != 4 {
		t.Fatalf("objects %+v", sum.Objects)
	}
	dir := w.mirror(t)
	read := func(ds string) string {
		return fmt.Sprintf("read_parquet(%s, hive_partitioning = true)", sqlString(filepath.Join(dir, ds, "**", "*.parquet")))
	}
	check := func(name, sql, want string) {
		t.Helper()
		got := fmt.Sprint(testenv.DuckDB(t, sql))
		if got != want {
			t.Errorf("%s\n got %s\nwant %s", name, got, want)
		}
	}
	check("json staffing", fmt.Sprintf(`SELECT nces_school_id, school_name, enrollment, counselors_fte, nurses_fte, psychologists_fte,
		social_workers_fte, sworn_officers_fte, security_guards_fte, source FROM %s WHERE school_year = '2021-22' ORDER BY 1`, read("staffing")),
		`[map[counselors_fte:6.5 enrollment:1800 nces_school_id:550852000101 nurses_fte:1 psychologists_fte:<nil> school_name:East High security_guards_fte:<nil> social_workers_fte:2 source:staffing-json sworn_officers_fte:1] `+
			`map[counselors_fte:5 enrollment:1650 nces_school_id:550852000102 nurses_fte:0.5 psychologists_fte:<nil> school_name:West "Regents" High security_guards_fte:<nil> social_workers_fte:1.5 source:staffing-json sworn_officers_fte:0]]`)
	check("csv staffing", fmt.Sprintf(`SELECT nces_school_id, school_name, enrollment, counselors_fte, sworn_officers_fte, nces_lea_id
		FROM %s WHERE school_year = '2022-23' ORDER BY 1`, read("staffing")),
		"[map[counselors_fte:6.5 enrollment:1800 nces_lea_id:5508520 nces_school_id:550852000101 school_name:East\nHigh sworn_officers_fte:1] "+
			"map[counselors_fte:2 enrollment:<nil> nces_lea_id:5508520 nces_school_id:550852000103 school_name:Lincoln sworn_officers_fte:<nil>]]")
	check("ndjson incidents", fmt.Sprintf(`SELECT nces_school_id, category, student_group, race_ethnicity, sex, disability,
		english_learner, "count" FROM %s ORDER BY 1, 2`, read("incidents")),
		"[map[category:arrest count:3 disability:idea english_learner:false nces_school_id:550852000101 race_ethnicity:black sex:male student_group:black_male_idea] "+
			"map[category:law_enforcement_referral count:7 disability:without_disability english_learner:<nil> nces_school_id:550852000101 race_ethnicity:black sex:male student_group:black_male] "+
			"map[category:arrest count:<nil> disability:<nil> english_learner:<nil> nces_school_id:550852000102 race_ethnicity:white sex:female student_group:white_female]]")
	check("parquet contracts", fmt.Sprintf(`SELECT agency_name, status, CAST(annual_cost AS VARCHAR) AS cost, CAST(start_date AS VARCHAR) AS s,
		CAST(end_date AS VARCHAR) AS e, officers, source_url FROM %s ORDER BY 1`, read("contracts")),
		"[map[agency_name:Madison Police Department cost:380000.00 e:2021-11-26 officers:4 s:2020-11-26 source_url:https://example.org/mou.pdf status:terminated] "+
			"map[agency_name:UW Police cost:<nil> e:<nil> officers:<nil> s:<nil> source_url:<nil> status:suspended]]")
}
