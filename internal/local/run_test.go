package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/sqlgen"
	"github.com/districtlake/districtlake/internal/testenv"
)

const samplesDir = "../../config/samples"

// sampleDistricts are the sample DistrictSources: state, NCES ID, name, whether a contracts
// source is given.
var sampleDistricts = []struct {
	state, id, name string
	contracts       bool
}{
	{"IL", "1709930", "City of Chicago SD 299", true},
	{"MO", "2916400", "Kansas City 33 School District", false},
	{"WI", "5508520", "Madison Metropolitan School District", true},
	{"WI", "5509600", "Milwaukee Public Schools", true},
}

func loadSamples(t *testing.T) *Folder {
	t.Helper()
	f, err := Load(context.Background(), samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatalf("samples are not valid:\n%v", err)
	}
	return f
}

// expectedKeys are the objects a run of the samples publishes.
// sampleSharedSources are the samples' national CRDC files (crdc-2020-21.yaml).
var sampleSharedSources = []string{"crdc-2020-21-school-support", "crdc-2020-21-enrollment", "crdc-2020-21-referrals-arrests"}

func expectedKeys() []string {
	var keys []string
	for _, d := range sampleDistricts {
		keys = append(keys,
			dataset.DistrictKey(dataset.Staffing, d.state, "2020-21", d.id),
			dataset.DistrictKey(dataset.Incidents, d.state, "2020-21", d.id))
		if d.contracts {
			keys = append(keys, dataset.DistrictKey(dataset.Contracts, d.state, "", d.id))
		}
	}
	for _, st := range []string{"IL", "MO", "WI"} {
		keys = append(keys,
			dataset.StateKey(dataset.Comparison, st, "2020-21"),
			dataset.StateKey(dataset.ComparisonGroups, st, "2020-21"),
			dataset.ReportKey(st, "2020-21"))
	}
	sort.Strings(keys)
	return keys
}

// readObject reads a whole object of the lake.
func readObject(t *testing.T, store lake.Store, key string) []byte {
	t.Helper()
	obj, err := store.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkLakeObjects(t *testing.T, store lake.Store) {
	t.Helper()
	objs, err := store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var got, runs []string
	manifests := map[string]bool{}
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "_runs/") {
			runs = append(runs, o.Key)
			continue
		}
		if strings.HasPrefix(o.Key, "shared/") {
			manifests[o.Key] = true // the landed national files, checked below
			continue
		}
		got = append(got, o.Key)
	}
	for _, name := range sampleSharedSources {
		if key := land.ManifestKey("districtlake-samples", name); !manifests[key] {
			t.Errorf("no manifest %s of the landed SharedSource %s", key, name)
		}
	}
	if strings.Join(got, "\n") != strings.Join(expectedKeys(), "\n") {
		t.Errorf("lake objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(expectedKeys(), "\n"))
	}
	// The districts' manifests are one file's lines, one per district.
	if len(runs) != 1 || !strings.HasSuffix(runs[0], ".ndjson") {
		t.Fatalf("run records %v; want one _runs/<id>.ndjson", runs)
	}
	var districts []string
	for _, line := range strings.Split(strings.TrimSuffix(string(readObject(t, store, runs[0])), "\n"), "\n") {
		var m ingest.Manifest
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a line of %s: %v", runs[0], err)
		}
		if dataset.CheckRunID(m.RunID) != nil || len(m.Objects) == 0 {
			t.Errorf("a record of %s: run %q, %d objects", runs[0], m.RunID, len(m.Objects))
		}
		districts = append(districts, m.District.NCESID)
	}
	slices.Sort(districts)
	var want []string
	for _, d := range sampleDistricts {
		want = append(want, d.id)
	}
	if !slices.Equal(districts, want) {
		t.Errorf("%s records districts %v; want %v", runs[0], districts, want)
	}
}

// checkOutput checks the printed tables against the comparison as DuckDB reads it from
// the lake (views from sqlgen), and the report paths and the DuckDB line.
func checkOutput(t *testing.T, out string, views string, reportPrefix, duckLine string) {
	t.Helper()
	for _, want := range []string{
		"Ingested 4 of 4 districts\n",
		"IL 2020-21: 1 district\n", "MO 2020-21: 1 district\n", "WI 2020-21: 2 districts\n",
		"DISTRICT                              NCES ID  ENROLLMENT  STUDENTS PER COUNSELOR  SUPPORT-STAFF GAP (FTE)  SWORN OFFICERS (FTE)  CONTRACT $ PER STUDENT  ARRESTS PER 1,000\n",
		"Report: " + reportPrefix + "reports/state=WI/school_year=2020-21/index.html\n",
		"Report: " + reportPrefix + "reports/state=IL/school_year=2020-21/index.html\n",
		"Report: " + reportPrefix + "reports/state=MO/school_year=2020-21/index.html\n",
		"Open the lake in DuckDB:\n  " + duckLine + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rows := testenv.DuckDB(t, views+`SELECT district_name, nces_lea_id,
		printf('%,d', enrollment) AS enrollment,
		printf('%,d', round(students_per_counselor)::BIGINT) || CASE WHEN meets_counselor_standard THEN ' <= ' ELSE ' > ' END || recommended_students_per_counselor AS per_counselor,
		printf('%.1f', support_gap_fte_total) AS gap, printf('%.1f', sworn_officers_fte) AS officers,
		CASE WHEN contract_cost_per_student IS NOT NULL THEN '$' || printf('%,.2f', contract_cost_per_student)
		     WHEN contract_agency_name IS NULL THEN 'no contract known'
		     WHEN NOT contract_in_force THEN 'none in force'
		     WHEN contract_status IS NOT NULL THEN 'unknown (' || contract_status || ')'
		     ELSE 'unknown' END AS cost,
		printf('%.2f', arrests_per_1000) AS arrests
		FROM comparison ORDER BY nces_lea_id`)
	if len(rows) != len(sampleDistricts) {
		t.Fatalf("comparison has %d rows, want %d", len(rows), len(sampleDistricts))
	}
	for _, r := range rows {
		// The row as printed: the name, then the figures right-aligned, two spaces apart.
		pattern := regexp.QuoteMeta(r["district_name"].(string)) + ` +` + regexp.QuoteMeta(r["nces_lea_id"].(string))
		for _, c := range []string{"enrollment", "per_counselor", "gap", "officers", "cost", "arrests"} {
			pattern += ` +` + regexp.QuoteMeta(fmt.Sprint(r[c]))
		}
		if !regexp.MustCompile(`(?m)^` + pattern + `$`).MatchString(out) {
			t.Errorf("output has no line %q:\n%s", pattern, out)
		}
	}
}

// viewsFor is the SQL `districtlake sql` prints for a lake.
func viewsFor(t *testing.T, store lake.Store, l plan.Lake, creds sqlgen.Credentials) string {
	t.Helper()
	present, err := sqlgen.Present(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	sql, err := sqlgen.Generate(sqlgen.Options{Lake: l, Present: present, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return sql
}

func TestRunSamplesIntoFileLake(t *testing.T) {
	f := loadSamples(t)
	dir := filepath.Join(t.TempDir(), "lake")
	var out bytes.Buffer
	res, err := Run(context.Background(), f, RunOptions{Lake: dir, Concurrency: 4, Out: &out})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if res.Failed() != 0 || len(res.Districts) != 4 || len(res.States) != 3 {
		t.Fatalf("result: %d failed, %d districts, %d states", res.Failed(), len(res.Districts), len(res.States))
	}
	l := plan.Lake{Type: plan.LakeFile, Path: dir}
	store, err := lake.New(context.Background(), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkLakeObjects(t, store)
	views := viewsFor(t, store, l, sqlgen.Credentials{})
	checkOutput(t, out.String(), views, dir+"/", "duckdb -init <(districtlake sql --lake "+dir+")")
	checkSampleFacts(t, views)
	checkRecompute(t, views)
}

// checkSampleFacts checks what the samples are for: the contracts as reported publicly,
// reserve codes as unknowns, and what is unknown staying unknown.
func checkSampleFacts(t *testing.T, views string) {
	t.Helper()
	rows := testenv.DuckDB(t, views+`SELECT nces_lea_id, contract_status, contract_agency_name,
		contract_annual_cost::VARCHAR AS annual, district_cost::VARCHAR AS district_cost, contract_officers,
		schools_with_police_no_counselor FROM comparison ORDER BY nces_lea_id`)
	want := []string{
		"1709930 terminated Chicago Police Department <nil> <nil> <nil>",
		"2916400 <nil> <nil> <nil> <nil> <nil>",
		"5508520 <nil> Madison Police Department <nil> <nil> <nil>",
		"5509600 active Milwaukee Police Department 1600000.00 800000.00 25",
	}
	for i, r := range rows {
		got := fmt.Sprint(r["nces_lea_id"], " ", r["contract_status"], " ", r["contract_agency_name"], " ", r["annual"], " ", r["district_cost"], " ", r["contract_officers"])
		if i >= len(want) || got != want[i] {
			t.Errorf("contract of row %d = %q, want %q", i, got, want[min(i, len(want)-1)])
		}
	}
	rows = testenv.DuckDB(t, views+`SELECT agency_share::VARCHAR AS city, training_hours, notes FROM contracts WHERE nces_lea_id = '5509600'`)
	if len(rows) != 1 || rows[0]["city"] != "800000.00" || rows[0]["training_hours"] != int64(40) ||
		!strings.Contains(rows[0]["notes"].(string), "38 in training") {
		t.Errorf("Milwaukee contract row: %v", rows)
	}
	// Reserve codes (-9 not applicable) are unknown, never a number in a sum.
	rows = testenv.DuckDB(t, views+`SELECT
		(SELECT nurses_fte FROM staffing WHERE nces_school_id = '550960000014') AS mke_nurse,
		(SELECT security_guards_fte FROM staffing WHERE nces_school_id = '550852000005') AS msn_guards,
		(SELECT schools_reporting_nurses FROM comparison WHERE nces_lea_id = '5509600') AS mke_nurse_schools,
		(SELECT schools_reporting FROM comparison WHERE nces_lea_id = '5509600') AS mke_schools,
		(SELECT count(*) FROM incidents WHERE nces_school_id = '170993000103' AND "count" IS NOT NULL) AS chi_known,
		(SELECT min("count") FROM incidents) AS min_count`)
	if got := fmt.Sprint(rows[0]); got != "map[chi_known:0 min_count:0 mke_nurse:<nil> mke_nurse_schools:4 mke_schools:5 msn_guards:<nil>]" {
		t.Errorf("reserve codes: %s", got)
	}
}

// checkRecompute runs recompute.sql over the views and checks every figure of comparison and
// comparison_groups against it.
func checkRecompute(t *testing.T, views string) {
	t.Helper()
	recompute, err := os.ReadFile("../sqlgen/testdata/recompute.sql")
	if err != nil {
		t.Fatal(err)
	}
	params := `CREATE TABLE params AS SELECT * FROM (VALUES
		('WI', 250, 750, 500, 250, 62000, 58000, 81000, 60000),
		('IL', 250, 750, 500, 250, 62000, 58000, 81000, 60000),
		('MO', 250, 750, 500, 250, 62000, 58000, 81000, 60000))
		AS p(state, counselor, nurse, psychologist, social_worker, counselor_cost, nurse_cost, psychologist_cost, social_worker_cost);
`
	setup := views + params + string(recompute)
	testenv.CompareViews(t, setup, "comparison", "recomputed_comparison", []string{"state", "school_year", "nces_lea_id"}, len(sampleDistricts))
	// 7 race groups per district, plus IDEA and English learners (present in every sample).
	testenv.CompareViews(t, setup, "comparison_groups", "recomputed_comparison_groups", []string{"state", "school_year", "nces_lea_id", "student_group"}, 9*len(sampleDistricts))
}

func TestRunSamplesIntoMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "districtlake")
	env := lake.MapEnv(map[string]string{
		lake.EnvS3Endpoint:  "http://" + m.Endpoint,
		lake.EnvAccessKeyID: m.AccessKey,
		lake.EnvSecretKey:   m.SecretKey,
	})
	f := loadSamples(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), f, RunOptions{Lake: "s3://districtlake/samples", Concurrency: 2, Env: env, Out: &out})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if res.LakeURL != "s3://districtlake/samples" || res.Lake.Secure || !res.Lake.PathStyle {
		t.Errorf("lake = %s %+v, want s3://districtlake/samples over plain http, path style", res.LakeURL, res.Lake)
	}
	if strings.Contains(out.String(), m.SecretKey) {
		t.Errorf("the output shows the secret key")
	}
	store, err := lake.New(context.Background(), res.Lake, env)
	if err != nil {
		t.Fatal(err)
	}
	checkLakeObjects(t, store)

	// The SQL `districtlake sql --lake s3://districtlake/samples` prints: the secret, then
	// views over s3:// paths.
	s3views := viewsFor(t, store, res.Lake, sqlgen.Credentials{AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey})
	wantSecret := fmt.Sprintf("CREATE OR REPLACE SECRET districtlake (TYPE s3, KEY_ID '%s', SECRET '%s', REGION 'us-east-1', ENDPOINT '%s', URL_STYLE 'path', USE_SSL false, SCOPE 's3://districtlake');\n",
		m.AccessKey, m.SecretKey, m.Endpoint)
	if !strings.Contains(s3views, wantSecret) || !strings.Contains(s3views, "read_parquet('s3://districtlake/samples/comparison/**/*.parquet'") {
		t.Errorf("SQL for the s3 lake:\n%s\nwant the secret\n%s", s3views, wantSecret)
	}
	// DuckDB here has no httpfs extension: read a mirror of the bucket with the same layout.
	mirror := t.TempDir()
	testenv.MirrorLake(t, store, mirror)
	views := viewsFor(t, store, plan.Lake{Type: plan.LakeFile, Path: mirror}, sqlgen.Credentials{})
	checkOutput(t, out.String(), views, "s3://districtlake/samples/", "duckdb -init <(districtlake sql --lake s3://districtlake/samples)")
	checkSampleFacts(t, views)
	checkRecompute(t, views)
}

// copySamples copies config/samples into a temp folder, applying edit to each file's text.
func copySamples(t *testing.T, edit func(name, text string) string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(samplesDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(edit(e.Name(), string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRunGoesOnPastAFailingDistrict(t *testing.T) {
	// Madison's East High School reports "lots" of counselors in the national file.
	dir := copySamples(t, func(name, text string) string {
		if name != "crdc-2020-21.yaml" {
			return text
		}
		lines := strings.Split(text, "\n")
		for i, ln := range lines {
			if strings.Contains(ln, ",East High School,") && strings.Count(ln, ",") == 16 { // School Support row (2020-21 layout)
				cells := strings.Split(ln, ",")
				cells[13] = "lots" // SCH_FTECOUNSELORS
				lines[i] = strings.Join(cells, ",")
			}
		}
		return strings.Join(lines, "\n")
	})
	f, err := Load(context.Background(), dir)
	if err != nil || f.Err() != nil {
		t.Fatalf("Load: %v %v", err, f.Err())
	}
	lakeDir := t.TempDir()
	var out bytes.Buffer
	res, err := Run(context.Background(), f, RunOptions{Lake: lakeDir, Concurrency: 4, Out: &out})
	if err == nil || err.Error() != "1 of 10 districts and comparisons failed (see above)" {
		t.Fatalf("Run error = %v, want one failure\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Failed district wi-5508520 (",
		"Ingested 3 of 4 districts\n",
		"  FAILED districtlake-samples/wi-5508520 (Madison Metropolitan School District): ",
		"WI 2020-21: 1 district\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	var msg string
	for _, d := range res.Districts {
		if d.Err != nil {
			msg = d.Err.Error()
		}
	}
	if want := `source "crdc-support" row 1 (line 2) column "SCH_FTECOUNSELORS" (counselors_fte): "lots" is not a number`; msg != want {
		t.Errorf("the district's error = %q, want %q", msg, want)
	}
	if !strings.Contains(text, msg) {
		t.Errorf("the output does not show the error %q", msg)
	}
	store, err := lake.New(context.Background(), plan.Lake{Type: plan.LakeFile, Path: lakeDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		// The landed national files hold the district's rows as they came; its datasets must not.
		if strings.Contains(o.Key, "district=5508520") && !strings.HasPrefix(o.Key, "shared/") {
			t.Errorf("the failed district published %s", o.Key)
		}
	}
	if _, err := store.Stat(context.Background(), dataset.DistrictKey(dataset.Staffing, "WI", "2020-21", "5509600")); err != nil {
		t.Errorf("Milwaukee was not published: %v", err)
	}
}

func TestRunRefusesAnInvalidFolder(t *testing.T) {
	dir := copySamples(t, func(name, text string) string {
		return strings.Replace(text, `ncesId: "5509600"`, `ncesId: "550960"`, 1)
	})
	f, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(t.TempDir(), "lake")
	if _, err := Run(context.Background(), f, RunOptions{Lake: lakeDir}); err == nil ||
		!strings.Contains(err.Error(), `wi-milwaukee.yaml:13 (document 1): DistrictSource districtlake-samples/wi-5509600: spec.district.ncesId: Invalid value: "550960"`) {
		t.Fatalf("Run error = %v", err)
	}
	if _, err := os.Stat(lakeDir); !os.IsNotExist(err) {
		t.Errorf("an invalid folder created the lake (%v)", err)
	}
}

// A folder whose contracts file is fetched over HTTP with an Authorization header from a
// Secret.
const httpFolder = `apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: statewide, namespace: ns}
spec: {endpoint: "minio.lake:9000", bucket: lake, credentialsSecretRef: {name: creds}}
---
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata: {name: wi-5508520, namespace: ns}
spec:
  district: {ncesId: "5508520", name: Madison Metropolitan School District, state: WI}
  lakeRef: {name: statewide}
  schedule: "0 3 * * 1"
  sources:
  - name: contracts
    dataset: contracts
    format: csv
    http:
      url: URL
      headers:
      - name: Authorization
        valueFrom: {name: api-token, key: token}
`

const tokenSecret = `apiVersion: v1
kind: Secret
metadata: {name: api-token, namespace: ns, labels: {districtlake.io/source-credential: "true"}}
stringData: {token: "Bearer s3cr3t-t0ken"}
`

func TestRunResolvesHeaderSecretsFromTheFolderOrTheEnvironment(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cr3t-t0ken" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "agency_name,status\nMadison Police Department,active\n")
	}))
	defer srv.Close()
	folder := strings.Replace(httpFolder, "URL", srv.URL+"/contracts.csv", 1)
	cases := []struct {
		name    string
		files   map[string]string
		env     map[string]string
		wantErr string
	}{
		{name: "Secret in the folder", files: map[string]string{"ds.yaml": folder, "secret.yaml": tokenSecret}},
		{name: "environment", files: map[string]string{"ds.yaml": folder},
			env: map[string]string{"DISTRICTLAKE_SRC_CONTRACTS_HEADER_0": "Bearer s3cr3t-t0ken"}},
		{name: "neither", files: map[string]string{"ds.yaml": folder},
			wantErr: "Secret ns/api-token (key \"token\") is not in DIR and the environment variable DISTRICTLAKE_SRC_CONTRACTS_HEADER_0 is not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, dir := loadFiles(t, tc.files)
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			lakeDir := t.TempDir()
			var out bytes.Buffer
			res, err := Run(context.Background(), f, RunOptions{Lake: lakeDir, Out: &out, Env: lake.MapEnv(tc.env)})
			if strings.Contains(out.String(), "s3cr3t") {
				t.Errorf("the output shows the secret:\n%s", out.String())
			}
			if tc.wantErr != "" {
				if err == nil || res.Districts[0].Err == nil || strings.ReplaceAll(res.Districts[0].Err.Error(), dir, "DIR") != tc.wantErr {
					t.Fatalf("Run: %v; district error %v; want %q", err, res.Districts[0].Err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			// The row arrived, and the secret is nowhere in the lake.
			err = filepath.WalkDir(lakeDir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if bytes.Contains(b, []byte("s3cr3t")) {
					t.Errorf("%s holds the secret", p)
				}
				return err
			})
			if err != nil {
				t.Fatalf("reading the lake: %v", err)
			}
			rows := testenv.DuckDB(t, fmt.Sprintf(`SELECT agency_name, status FROM read_parquet('%s')`,
				filepath.Join(lakeDir, dataset.DistrictKey(dataset.Contracts, "WI", "", "5508520"))))
			if got := fmt.Sprint(rows); got != "[map[agency_name:Madison Police Department status:active]]" {
				t.Errorf("contracts = %s", got)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	var plain bytes.Buffer
	p := NewProgress(&plain, 2, false)
	p.Started("wi-5508520")
	p.Finished("wi-5508520", 1234, nil)
	p.Started("wi-5509600")
	p.Finished("wi-5509600", 0, fmt.Errorf("source \"x\" row 3 column \"y\": bad"))
	p.Close()
	want := "Ingesting district wi-5508520\nIngested district wi-5508520 (1/2): 1,234 rows\n" +
		"Ingesting district wi-5509600\nFailed district wi-5509600 (2/2): source \"x\" row 3 column \"y\": bad\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}
	var term bytes.Buffer
	p = NewProgress(&term, 2, true)
	p.Started("wi-5508520")
	p.Finished("wi-5508520", 1234, nil)
	p.Started("wi-5509600")
	p.Finished("wi-5509600", 0, fmt.Errorf("bad"))
	p.Close()
	want = "[--------------------] 0/2 districts  wi-5508520 ..." +
		"\r\x1b[K[##########----------] 1/2 districts  wi-5508520 ok 1,234 rows" +
		"\r\x1b[K[##########----------] 1/2 districts  wi-5509600 ..." +
		"\r\x1b[KFailed district wi-5509600: bad\n" +
		"[####################] 2/2 districts  wi-5509600 FAILED\n"
	if term.String() != want {
		t.Errorf("terminal progress:\n%q\nwant\n%q", term.String(), want)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Progress is written soon after it is reported, not only at Close: a person watching a
// long run (or a log collector) sees each district start while the next ones run.
func TestProgressReachesItsWriterBeforeClose(t *testing.T) {
	var out lockedBuffer
	p := NewProgress(&out, 3, false)
	defer p.Close()
	p.Started("wi-5508520")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Ingesting district wi-5508520\n") {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after a district started, its line is not written: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Finished("wi-5508520", 7, nil)
	for !strings.Contains(out.String(), "Ingested district wi-5508520 (1/3): 7 rows\n") {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after a district finished, its line is not written: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLocalPlan(t *testing.T) {
	ds := strings.Replace(dsYAML, `    http:
      url: https://data.example.gov/crdc/2020-21/School%20Support.csv
`, `    s3: {bucket: crdc, key: 2020-21/support.csv}
  - name: enrollment
    dataset: staffing
    format: crdc
    schoolYear: "2020-21"
    configMapRef: {name: crdc-binary, key: enrollment.csv}
`, 1)
	files := map[string]string{"lake.yaml": lakeYAML, "ds.yaml": ds, "more.yaml": `apiVersion: v1
kind: Secret
metadata: {name: lake-credentials, namespace: wisconsin}
stringData: {accessKeyID: AKID-x7, secretAccessKey: s3cr3t-x7}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: crdc-binary, namespace: wisconsin}
binaryData: {enrollment.csv: TEVBSUQK}
`}
	f, _ := loadFiles(t, files)
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	local := plan.Lake{Type: plan.LakeFile, Path: "/tmp/lake"}
	p, err := localPlan(context.Background(), f, nil, f.DistrictSources[0].Object, local, lake.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Plan.Lake != local {
		t.Errorf("plan lake = %+v, want the local one", p.Plan.Lake)
	}
	src := map[string]plan.Source{}
	for _, s := range p.Plan.Sources {
		src[s.Name] = s
	}
	if s := src["contracts"]; s.File != nil || s.Inline == nil || *s.Inline != "agency_name,status\nMadison Police Department,active\n" {
		t.Errorf("ConfigMap source = %+v, want the ConfigMap's text inline", s)
	}
	if bin := src["enrollment"]; bin.File != nil || bin.Inline == nil || *bin.Inline != "LEAID\n" {
		t.Errorf("binaryData source = %+v, want the ConfigMap's bytes inline", bin)
	}
	// The s3 source reads the folder's Lake with the keys from its Secret.
	s3 := src["crdc-support"].S3
	if s3 == nil || s3.Lake.Endpoint != "minio.lake:9000" {
		t.Fatalf("s3 source = %+v", s3)
	}
	id, _ := p.Env(s3.Lake.AccessKeyIDEnv)
	secret, _ := p.Env(s3.Lake.SecretAccessKeyEnv)
	if id != "AKID-x7" || secret != "s3cr3t-x7" {
		t.Errorf("s3 source keys = %q %q", id, secret)
	}
	// Plans never hold a secret value.
	js, _ := plan.Marshal(p.Plan)
	if strings.Contains(string(js), "s3cr3t-x7") || strings.Contains(string(js), "AKID-x7") {
		t.Errorf("the plan holds a secret:\n%s", js)
	}
}
