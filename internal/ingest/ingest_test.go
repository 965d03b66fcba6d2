package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
	"github.com/districtlake/districtlake/internal/testenv"
)

// world is a MinIO server with a lake bucket and a bucket of source files, an http server
// of source files and a local folder of them.
type world struct {
	minio   *testenv.MinIO
	lake    plan.Lake
	env     lake.Env
	store   lake.Store
	srcLake plan.Lake // the sources bucket, as an s3 source's lake
	web     *httptest.Server
	dir     string // files served over http and read as file sources
}

func newWorld(t *testing.T) *world {
	t.Helper()
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "lake")
	m.CreateBucket(t, "sources")
	w := &world{minio: m, dir: t.TempDir()}
	w.lake, w.env = m.Lake("lake", "districtlake")
	w.srcLake, _ = m.Lake("sources", "")
	store, err := lake.New(context.Background(), w.lake, w.env)
	if err != nil {
		t.Fatal(err)
	}
	w.store = store
	w.web = httptest.NewServer(http.FileServer(http.Dir(w.dir)))
	t.Cleanup(w.web.Close)
	return w
}

// put stores a source file where every source kind can read it: in the http folder and
// in the sources bucket under the same name.
func (w *world) put(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := w.minio.Client(t).PutObject(context.Background(), "sources", name, strings.NewReader(string(data)),
		int64(len(data)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) httpSource(name, ds, format, year, file string) plan.Source {
	return plan.Source{Name: name, Dataset: ds, Format: format, SchoolYear: year, HTTP: &plan.HTTP{URL: w.web.URL + "/" + file}}
}

func (w *world) s3Source(name, ds, format, year, file string) plan.Source {
	return plan.Source{Name: name, Dataset: ds, Format: format, SchoolYear: year, S3: &plan.S3{Lake: w.srcLake, Bucket: "sources", Key: file}}
}

func (w *world) fileSource(name, ds, format, year, file string) plan.Source {
	return plan.Source{Name: name, Dataset: ds, Format: format, SchoolYear: year, File: &plan.File{Path: filepath.Join(w.dir, file)}}
}

// mirror copies the lake into a folder DuckDB reads.
func (w *world) mirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	testenv.MirrorLake(t, w.store, dir)
	return dir
}

const (
	alLEA  = "0100005" // a leading-zero LEAID
	alName = "Albertville City"
)

// contractsCSV is a district's own contracts file, with the column names it came with.
const contractsCSV = "Agency,Type,Status,Annual Cost (USD),District Share,Start,End,Officers,Notes\r\n" +
	"\"Albertville Police Department, AL\",municipal police,Active,\"$1,234,567.50\",$617283.75,2023-07-01,6/30/2024,5,\"SRO program, 5 officers\"\r\n" +
	"Marshall County Sheriff,sheriff,EXPIRED,85000,,7/1/2021,2022-06-30,1,\r\n"

var contractsColumns = map[string]string{
	"agency_name": "Agency", "agency_type": "Type", "status": "Status", "annual_cost": "Annual Cost (USD)",
	"district_share": "District Share", "start_date": "Start", "end_date": "End", "officers": "Officers", "notes": "Notes",
}

// TestIngestCRDCEndToEnd ingests the three CRDC files (http, s3 and file sources) and a
// contracts csv (inline) into MinIO, then checks with DuckDB, against DuckDB's own reading
// of the generated files, every value the lake holds.
func TestIngestCRDCEndToEnd(t *testing.T) {
	w := newWorld(t)
	o := crdcgen.Defaults()
	o.Schools, o.Districts, o.LEAID, o.DistrictName, o.Seed = 90, 6, alLEA, alName, 7
	o.ReserveRate, o.JJRate, o.Year = 0.1, 0.15, "2021-22"
	files := map[crdcgen.Kind]string{}
	var kept int
	for _, k := range []crdcgen.Kind{crdcgen.Support, crdcgen.Enrollment, crdcgen.Arrests} {
		o.Kind = k
		path, st := writeCRDC(t, t.TempDir(), o)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		w.put(t, string(k)+".csv", b)
		files[k] = filepath.Join(w.dir, string(k)+".csv")
		kept = st.DistrictRows
	}
	p := newPlan(w.lake, alLEA, alName, "AL",
		w.httpSource("crdc-support", "staffing", "crdc", "2021-22", "support.csv"),
		w.s3Source("crdc-enrollment", "staffing", "crdc", "2021-22", "enrollment.csv"),
		w.fileSource("crdc-arrests", "incidents", "crdc", "2021-22", "arrests.csv"),
		plan.Source{Name: "contracts", Dataset: "contracts", Format: "csv", Inline: inline(contractsCSV), Columns: contractsColumns},
	)
	sum, err := Run(context.Background(), p, w.store, w.env, testOptions("20261126T130501Z-a1b2c3"))
	if err != nil {
		t.Fatal(err)
	}
	staffingKey := "staffing/state=AL/school_year=2021-22/district=0100005/data.parquet"
	incidentsKey := "incidents/state=AL/school_year=2021-22/district=0100005/data.parquet"
	contractsKey := "contracts/state=AL/district=0100005/data.parquet"
	if sum.Outcome != summary.Succeeded || sum.Manifest != "_runs/20261126T130501Z-a1b2c3.json" || len(sum.Objects) != 3 || len(sum.Sources) != 4 {
		t.Fatalf("summary %+v", sum)
	}
	for i, key := range []string{staffingKey, incidentsKey, contractsKey} {
		if sum.Objects[i].Key != key || len(sum.Objects[i].SHA256) != 64 {
			t.Errorf("object %d: %+v, want key %s with a sha256", i, sum.Objects[i], key)
		}
	}
	if sum.Sources[0].Rows != int64(kept) || sum.Sources[0].ObjectKey != staffingKey || sum.Sources[3].Rows != 2 {
		t.Errorf("sources %+v: want %d support rows into %s, 2 contracts", sum.Sources, kept, staffingKey)
	}
	if b, err := summary.Encode(sum); err != nil || len(b) > summary.MaxBytes {
		t.Errorf("summary does not encode in 4 KiB: %v", err)
	}

	dir := w.mirror(t)
	glob := func(ds string) string {
		return fmt.Sprintf("read_parquet(%s, hive_partitioning = true)", sqlString(filepath.Join(dir, ds, "**", "*.parquet")))
	}
	t.Run("types", func(t *testing.T) {
		want := map[string]map[string]string{
			"staffing": {"state": "VARCHAR", "nces_lea_id": "VARCHAR", "nces_school_id": "VARCHAR", "school_year": "VARCHAR",
				"enrollment": "INTEGER", "enrollment_black": "INTEGER", "counselors_fte": "DOUBLE", "sworn_officers_fte": "DOUBLE",
				"ingested_at": "TIMESTAMP WITH TIME ZONE", "run_id": "VARCHAR", "source": "VARCHAR"},
			"incidents": {"category": "VARCHAR", "student_group": "VARCHAR", "english_learner": "BOOLEAN", "count": "INTEGER",
				"ingested_at": "TIMESTAMP WITH TIME ZONE"},
			"contracts": {"annual_cost": "DECIMAL(14,2)", "district_share": "DECIMAL(14,2)", "start_date": "DATE",
				"end_date": "DATE", "officers": "INTEGER", "status": "VARCHAR", "ingested_at": "TIMESTAMP WITH TIME ZONE"},
		}
		for ds, cols := range want {
			got := columnTypes(t, glob(ds))
			for c, typ := range cols {
				if got[c] != typ {
					t.Errorf("%s.%s is %s in DuckDB, want %s", ds, c, got[c], typ)
				}
			}
		}
	})
	t.Run("hive partitions", func(t *testing.T) {
		r := duckOne(t, fmt.Sprintf(`SELECT any_value(state) AS state, any_value(school_year) AS year, any_value(district) AS district,
			any_value(nces_lea_id) AS lea, count(*) AS n FROM read_parquet(%s, hive_partitioning = true, hive_types_autocast = false)`,
			sqlString(filepath.Join(dir, "staffing", "**", "*.parquet"))))
		if r["state"] != "AL" || r["year"] != "2021-22" || r["district"] != alLEA || r["lea"] != alLEA || r["n"] != int64(kept) {
			t.Errorf("partitions %v; want AL, 2021-22, district and nces_lea_id %s, %d rows", r, alLEA, kept)
		}
	})
	t.Run("staffing values", func(t *testing.T) {
		// DuckDB's own reading of the published files, with reserve codes made null, must be
		// exactly what the lake holds.
		sql := fmt.Sprintf(`
CREATE MACRO v(x) AS CASE WHEN TRY_CAST(x AS DOUBLE) IN (-2,-3,-4,-5,-6,-7,-8,-9,-11,-12,-13) THEN NULL ELSE TRY_CAST(x AS DOUBLE) END;
CREATE MACRO mfx(m, f, x) AS CASE WHEN v(m) IS NULL OR v(f) IS NULL THEN NULL ELSE v(m) + v(f) + coalesce(v(x), 0) END;
CREATE TABLE s AS SELECT * FROM read_csv(%[1]s, all_varchar = true) WHERE LEAID = %[3]s;
CREATE TABLE e AS SELECT * FROM read_csv(%[2]s, all_varchar = true) WHERE LEAID = %[3]s;
CREATE TABLE want AS SELECT s.COMBOKEY AS nces_school_id, s.SCH_NAME AS school_name,
  CAST(mfx(TOT_ENR_M, TOT_ENR_F, TOT_ENR_X) AS INTEGER) AS enrollment,
  CAST(mfx(SCH_ENR_BL_M, SCH_ENR_BL_F, SCH_ENR_BL_X) AS INTEGER) AS enrollment_black,
  CAST(mfx(SCH_ENR_HI_M, SCH_ENR_HI_F, SCH_ENR_HI_X) AS INTEGER) AS enrollment_hispanic,
  CAST(v(TOT_ENR_X) AS INTEGER) AS enrollment_nonbinary,
  CAST(mfx(SCH_ENR_IDEA_M, SCH_ENR_IDEA_F, SCH_ENR_IDEA_X) AS INTEGER) AS enrollment_idea,
  v(SCH_FTECOUNSELORS) AS counselors_fte, v(SCH_FTESERVICES_NUR) AS nurses_fte, v(SCH_FTESERVICES_PSY) AS psychologists_fte,
  v(SCH_FTESERVICES_SOC) AS social_workers_fte, v(SCH_FTESECURITY_LEO) AS sworn_officers_fte, v(SCH_FTESECURITY_GUA) AS security_guards_fte
  FROM s JOIN e USING (COMBOKEY);
CREATE TABLE got AS SELECT nces_school_id, school_name, enrollment, enrollment_black, enrollment_hispanic, enrollment_nonbinary,
  enrollment_idea, counselors_fte, nurses_fte, psychologists_fte, social_workers_fte, sworn_officers_fte, security_guards_fte
  FROM %[4]s;
SELECT (SELECT count(*) FROM want) AS want_rows, (SELECT count(*) FROM got) AS got_rows,
  (SELECT count(*) FROM (FROM want EXCEPT FROM got)) AS missing, (SELECT count(*) FROM (FROM got EXCEPT FROM want)) AS extra,
  (SELECT count(*) FROM got WHERE counselors_fte IS NULL OR enrollment IS NULL) AS null_rows,
  (SELECT count(*) FROM got WHERE school_name LIKE '%%,%%') AS comma_names,
  (SELECT count(*) FROM got WHERE school_name LIKE '%%"%%') AS quote_names,
  (SELECT min(counselors_fte) FROM got) AS min_fte`,
			sqlString(files[crdcgen.Support]), sqlString(files[crdcgen.Enrollment]), sqlString(alLEA), glob("staffing"))
		r := duckOne(t, sql)
		if r["want_rows"] != int64(kept) || r["got_rows"] != int64(kept) || r["missing"] != int64(0) || r["extra"] != int64(0) {
			t.Errorf("staffing against DuckDB's reading of the CSVs: %v (want %d rows, none missing or extra)", r, kept)
		}
		if r["null_rows"] == int64(0) || r["comma_names"] == int64(0) || r["quote_names"] == int64(0) {
			t.Errorf("the fixture should exercise reserve codes and quoted names: %v", r)
		}
		if min, ok := r["min_fte"].(float64); ok && min < 0 {
			t.Errorf("a negative FTE reached the lake: %v", min)
		}
		r = duckOne(t, fmt.Sprintf(`SELECT count(DISTINCT source) AS sources, any_value(source) AS source, any_value(run_id) AS run,
			any_value(district_name) AS name, max(epoch_us(ingested_at)) AS at FROM %s`, glob("staffing")))
		if r["source"] != "crdc-support,crdc-enrollment" || r["run"] != "20261126T130501Z-a1b2c3" || r["name"] != alName ||
			r["at"] != fixedNow.UnixMicro() {
			t.Errorf("plan columns %v", r)
		}
	})
	t.Run("incidents values", func(t *testing.T) {
		sql := fmt.Sprintf(`
CREATE MACRO v(x) AS CASE WHEN TRY_CAST(x AS INTEGER) IN (-2,-3,-4,-5,-6,-7,-8,-9,-11,-12,-13) THEN NULL ELSE TRY_CAST(x AS INTEGER) END;
CREATE TABLE a AS SELECT * FROM read_csv(%[1]s, all_varchar = true) WHERE LEAID = %[2]s;
CREATE TABLE cells AS SELECT COMBOKEY, col, v(val) AS n FROM (UNPIVOT a ON COLUMNS('^SCH_DISCW') INTO NAME col VALUE val);
CREATE TABLE got AS FROM %[3]s;
SELECT (SELECT count(*) FROM cells) AS want_rows, (SELECT count(*) FROM got) AS got_rows,
  (SELECT count(n) FROM cells) AS want_known, (SELECT count("count") FROM got) AS got_known,
  (SELECT sum(n) FROM cells WHERE col SIMILAR TO 'SCH_DISCW(O)?DIS_ARR_(IDEA_)?(HI|AM|AS|HP|BL|WH|TR)_[MFX]') AS want_arrests,
  (SELECT sum("count") FROM got WHERE category = 'arrest' AND race_ethnicity IS NOT NULL) AS got_arrests,
  (SELECT sum(n) FROM cells WHERE col LIKE 'SCH_DISCWODIS_REF_BL_F') AS want_black_female_ref,
  (SELECT sum("count") FROM got WHERE category = 'law_enforcement_referral' AND student_group = 'black_female_without_disability') AS got_black_female_ref,
  (SELECT sum(n) FROM cells WHERE col = 'SCH_DISCWDIS_ARR_EL_M') AS want_el_idea,
  (SELECT sum("count") FROM got WHERE category = 'arrest' AND english_learner AND disability = 'idea' AND sex = 'male') AS got_el_idea,
  (SELECT count(*) FROM got WHERE disability = 'section_504' AND race_ethnicity IS NULL) AS section_504_rows,
  (SELECT count(DISTINCT student_group) FROM got) AS groups`,
			sqlString(files[crdcgen.Arrests]), sqlString(alLEA), glob("incidents"))
		r := duckOne(t, sql)
		for _, pair := range [][2]string{{"want_rows", "got_rows"}, {"want_known", "got_known"}, {"want_arrests", "got_arrests"},
			{"want_black_female_ref", "got_black_female_ref"}, {"want_el_idea", "got_el_idea"}} {
			if fmt.Sprint(r[pair[0]]) != fmt.Sprint(r[pair[1]]) {
				t.Errorf("%s %v != %s %v", pair[0], r[pair[0]], pair[1], r[pair[1]])
			}
		}
		// 7 races x 2 sexes x 2 disabilities + 2 EL x 2 + 2 section 504, per category (the
		// 2021-22 Referrals and Arrests file has no _X cells).
		if r["groups"] != int64(7*2*2+2*2+2) || r["want_known"] == r["want_rows"] || r["section_504_rows"] == int64(0) {
			t.Errorf("incidents %v: want 34 groups, some reserve-code nulls and section 504 rows", r)
		}
	})
	t.Run("contracts values", func(t *testing.T) {
		rows := testenv.DuckDB(t, fmt.Sprintf(`SELECT agency_name, agency_type, status, CAST(annual_cost AS VARCHAR) AS cost,
			CAST(district_share AS VARCHAR) AS share, CAST(start_date AS VARCHAR) AS start, CAST(end_date AS VARCHAR) AS "end",
			officers, notes, school_year FROM %s ORDER BY start_date DESC`, glob("contracts")))
		want := []map[string]any{
			{"agency_name": "Albertville Police Department, AL", "agency_type": "municipal police", "status": "active",
				"cost": "1234567.50", "share": "617283.75", "start": "2023-07-01", "end": "2024-06-30", "officers": int64(5),
				"notes": "SRO program, 5 officers", "school_year": nil},
			{"agency_name": "Marshall County Sheriff", "agency_type": "sheriff", "status": "expired", "cost": "85000.00",
				"share": nil, "start": "2021-07-01", "end": "2022-06-30", "officers": int64(1), "notes": nil, "school_year": nil},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("contracts\n got %v\nwant %v", rows, want)
		}
	})
	t.Run("parquet metadata", func(t *testing.T) {
		rows := testenv.DuckDB(t, fmt.Sprintf(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(%s) ORDER BY k`,
			sqlString(filepath.Join(dir, filepath.FromSlash(staffingKey)))))
		got := map[string]any{}
		for _, r := range rows {
			got[fmt.Sprint(r["k"])] = r["v"]
		}
		for k, v := range map[string]string{dataset.MetaSchemaVersion: dataset.SchemaVersion, dataset.MetaDataset: "staffing",
			dataset.MetaDistrict: alLEA, dataset.MetaState: "AL", dataset.MetaSources: "crdc-support,crdc-enrollment",
			dataset.MetaRunID: "20261126T130501Z-a1b2c3"} {
			if got[k] != v {
				t.Errorf("metadata %s = %v, want %s", k, got[k], v)
			}
		}
	})
	t.Run("manifest", func(t *testing.T) {
		obj, err := w.store.Open(context.Background(), sum.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		var m Manifest
		if err := json.NewDecoder(obj).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if len(m.Sources) != 4 || len(m.Objects) != 3 || len(m.Checks) == 0 || m.District.NCESID != alLEA {
			t.Fatalf("manifest %+v", m)
		}
		sup := m.Sources[0]
		if sup.Location != w.web.URL+"/support.csv" || sup.CRDCFile != "2021-22 School Support" || sup.RowsKept != int64(kept) ||
			sup.RowsRead != int64(o.Schools) || sup.RowsOtherDistricts != int64(o.Schools-kept) || len(sup.SHA256) != 64 {
			t.Errorf("support source %+v", sup)
		}
		if want := "[LEA_STATE LEA_STATE_NAME LEA_NAME SCH_FTETEACH_TOT SCH_FTETEACH_CERT SCH_FTETEACH_NOTCERT TOT_TEACHERS_CURR_M TOT_TEACHERS_CURR_F]"; fmt.Sprint(sup.UnmappedColumns) != want {
			t.Errorf("unmapped columns %v, want %s", sup.UnmappedColumns, want)
		}
		if m.Sources[1].Location != "s3://sources/enrollment.csv" || m.Sources[1].ETag == "" || m.Sources[1].CRDCFile != "2021-22 Enrollment" {
			t.Errorf("enrollment source %+v", m.Sources[1])
		}
		// Every reserve code the district's rows hold is counted once, under its column.
		r := duckOne(t, fmt.Sprintf(`SELECT count(*) AS n FROM (UNPIVOT (SELECT * FROM read_csv(%s, all_varchar = true) WHERE LEAID = %s)
			ON COLUMNS('^SCH_FTE(COUNSELORS|SERVICES_|SECURITY_(LEO|GUA))') INTO NAME col VALUE val)
			WHERE TRY_CAST(val AS DOUBLE) IN (-2,-3,-4,-5,-6,-7,-8,-9,-11,-12,-13)`, sqlString(files[crdcgen.Support]), sqlString(alLEA)))
		counted := int64(0)
		for _, codes := range sup.ReserveCodes {
			for _, n := range codes {
				counted += n
			}
		}
		if counted != r["n"] || counted == 0 {
			t.Errorf("manifest counts %d reserve codes in the support file, DuckDB finds %v: %v", counted, r["n"], sup.ReserveCodes)
		}
		if len(sup.JusticeFacilitySchools) == 0 {
			t.Errorf("no JJ=Yes schools listed: %+v", sup)
		}
		for _, obj := range m.Objects {
			if len(obj.SHA256) != 64 || obj.Rows == 0 || obj.Bytes == 0 {
				t.Errorf("object %+v", obj)
			}
		}
	})
}
