package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/testenv"
)

// sharedFolder writes a folder of 30 Wisconsin DistrictSources reading their police
// contracts out of one national file through one SharedSource.
func sharedFolder(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: statewide, namespace: wi}
spec: {endpoint: "minio:9000", bucket: districtlake, credentialsSecretRef: {name: lake-credentials}}
---
apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: national-contracts, namespace: wi}
spec:
  http: {url: "` + url + `/contracts.csv"}
  format: csv
  districtColumn: LEAID
  schoolYear: 2021-22
  lakeRef: {name: statewide}
  schedule: "@weekly"
`)
	for d := range 30 {
		b.WriteString(sharedDistrict(fmt.Sprintf("%07d", 5500000+d), ""))
	}
	if err := os.WriteFile(filepath.Join(dir, "wi.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sharedDistrict is a Wisconsin DistrictSource (a YAML document) reading its police
// contracts through SharedSource national-contracts; extra are more lines of that source.
func sharedDistrict(id, extra string) string {
	return `---
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata: {name: wi-` + id + `, namespace: wi}
spec:
  district: {ncesId: "` + id + `", name: "District ` + id + `", state: WI}
  lakeRef: {name: statewide}
  schedule: "@weekly"
  sources:
  - name: contracts
    dataset: contracts
    sharedSourceRef: {name: national-contracts}
` + extra
}

// runSharedFolder runs the folder of sharedFolder into lakeDir and returns what it printed;
// the test fails unless all 30 districts were ingested.
func runSharedFolder(t *testing.T, dir, lakeDir string) string {
	t.Helper()
	ctx := context.Background()
	f, err := Load(ctx, dir)
	if err != nil || f.Err() != nil {
		t.Fatalf("Load: %v %v", err, f.Err())
	}
	var out bytes.Buffer
	if _, err := Run(ctx, f, RunOptions{Lake: lakeDir, Concurrency: 4, Out: &out}); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Ingested 30 of 30 districts") {
		t.Fatalf("output:\n%s", out.String())
	}
	return out.String()
}

// nationalContracts has two contracts for each of 40 districts (30 in the folder).
func nationalContracts(cost int) []byte {
	var b strings.Builder
	b.WriteString("LEAID,agency_name,annual_cost\n")
	for d := range 40 {
		fmt.Fprintf(&b, "%07d,Police Department %d,%d\n%07d,Sheriff %d,%d\n", 5500000+d, d, cost+d, 5500000+d, d, 1000)
	}
	return []byte(b.String())
}

// TestRunSharedSourceFetchedOnce: 30 districts reading one national file make the file
// server send it once; a second run of the unchanged file downloads nothing and the
// districts still ingest; a changed file lands a new revision that the districts read.
func TestRunSharedSourceFetchedOnce(t *testing.T) {
	ctx := context.Background()
	fsrv := newFileServer()
	body := nationalContracts(90000)
	fsrv.set("/contracts.csv", body)
	srv := httptest.NewServer(fsrv)
	defer srv.Close()
	dir := sharedFolder(t, srv.URL)
	lakeDir := t.TempDir()
	store, err := lake.New(ctx, plan.Lake{Type: plan.LakeFile, Path: lakeDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func() string { t.Helper(); return runSharedFolder(t, dir, lakeDir) }
	revision := func() string {
		t.Helper()
		if _, err := store.Stat(ctx, dataset.DistrictKey(dataset.Contracts, "WI", "", "5500007")); err != nil {
			t.Fatalf("the district's contracts were not published: %v", err)
		}
		m, err := land.ReadManifest(ctx, store, "wi", "national-contracts")
		if err != nil {
			t.Fatal(err)
		}
		return m.Revision
	}

	out := run()
	requests, sent, _ := fsrv.counts()
	if got := requests["/contracts.csv"]; got != 1 {
		t.Errorf("the first run made %d requests for the national file, want 1", got)
	}
	if got := sent["/contracts.csv"]; got != int64(len(body)) {
		t.Errorf("the first run downloaded %d bytes, want the file's %d", got, len(body))
	}
	if !strings.Contains(out, "Shared source wi/national-contracts: landed revision ") || !strings.Contains(out, "80 rows of 40 districts") {
		t.Errorf("output lacks the landing:\n%s", out)
	}
	first := revision()

	out = run()
	requests, sent, _ = fsrv.counts()
	if got := requests["/contracts.csv"]; got != 1 {
		t.Errorf("the second run made %d requests, want 1", got)
	}
	if got := sent["/contracts.csv"]; got != 0 {
		t.Errorf("the second run downloaded %d bytes of an unchanged file", got)
	}
	if !strings.Contains(out, "unchanged since revision") {
		t.Errorf("output lacks the unchanged file:\n%s", out)
	}

	fsrv.set("/contracts.csv", nationalContracts(1234567))
	run()
	if requests, _, _ = fsrv.counts(); requests["/contracts.csv"] != 1 {
		t.Errorf("the third run made %d requests, want 1", requests["/contracts.csv"])
	}
	if revision() == first {
		t.Errorf("the changed file did not land a new revision")
	}
}

// TestRunReadsARevisionLandedInTheOldLayout: a lake whose shared revision was landed by
// an earlier release (one object per district, district=<LEAID>.csv; or, before layouts
// were recorded, a folder per district, district=<LEAID>/data.csv, and a manifest naming
// no layout) keeps being read after an upgrade while the file is unchanged: the districts
// read the old objects, and nothing is downloaded.
func TestRunReadsARevisionLandedInTheOldLayout(t *testing.T) {
	for _, layout := range []string{land.LayoutDistrictFile, ""} {
		t.Run("layout "+layout, func(t *testing.T) {
			ctx := context.Background()
			fsrv := newFileServer()
			fsrv.set("/contracts.csv", nationalContracts(90000))
			srv := httptest.NewServer(fsrv)
			defer srv.Close()
			dir := sharedFolder(t, srv.URL)
			lakeDir := t.TempDir()
			run := func() string { t.Helper(); return runSharedFolder(t, dir, lakeDir) }
			run()
			fsrv.counts() // forget the first run's traffic

			// Turn the landed revision into the old layout: each district's rows into its
			// own object, the state objects gone, the manifest naming the old layout.
			l := plan.Lake{Type: plan.LakeFile, Path: lakeDir}
			store, err := lake.New(ctx, l, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := land.ReadManifest(ctx, store, "wi", "national-contracts")
			if err != nil || m.Layout != land.LayoutStateFile {
				t.Fatalf("manifest %+v, %v: want layout %q", m, err, land.LayoutStateFile)
			}
			for d := range 40 {
				id := fmt.Sprintf("%07d", 5500000+d)
				now := land.Locate("wi", "national-contracts", m.Revision, m.Layout, id, "csv")
				now.Lake = l
				stream, err := source.Open(ctx, plan.Source{Name: "contracts", Format: "csv", Landed: &now}, nil)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := io.ReadAll(stream)
				stream.Close()
				if err != nil || strings.Count(string(rows), "\n") != 3 {
					t.Fatalf("district %s read %q, %v", id, rows, err)
				}
				if _, err := store.Put(ctx, land.Locate("wi", "national-contracts", m.Revision, layout, id, "csv").Key, rows); err != nil {
					t.Fatal(err)
				}
			}
			states, err := filepath.Glob(filepath.Join(lakeDir, filepath.FromSlash(m.Prefix), "fips=*"))
			if err != nil || len(states) != 2 {
				t.Fatalf("state objects %v, %v: want fips=55.csv and its index", states, err)
			}
			for _, f := range states {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
			m.Layout = layout
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Put(ctx, m.ManifestKey, b); err != nil {
				t.Fatal(err)
			}

			out := run()
			if !strings.Contains(out, "unchanged since revision "+m.Revision) {
				t.Errorf("the run did not keep the old revision:\n%s", out)
			}
			if _, sent, _ := fsrv.counts(); sent["/contracts.csv"] != 0 {
				t.Errorf("the run downloaded %d bytes of an unchanged file", sent["/contracts.csv"])
			}
		})
	}
}

// TestValidateSharedSourceRefs: a sharedSourceRef must name a SharedSource of the folder,
// in the district's namespace and Lake.
func TestValidateSharedSourceRefs(t *testing.T) {
	ctx := context.Background()
	dir := sharedFolder(t, "https://data.example.gov")
	path := filepath.Join(dir, "wi.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "sharedSourceRef: {name: national-contracts}", "sharedSourceRef: {name: national-contract}", 1)
	text = strings.Replace(text, "  lakeRef: {name: statewide}\n  schedule: \"@weekly\"\n  sources:",
		"  lakeRef: {name: statewide}\n  schedule: \"@weekly\"\n  sources:", 1)
	text += `---
apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: federal, namespace: wi}
spec: {endpoint: "minio:9000", bucket: federal, credentialsSecretRef: {name: lake-credentials}}
---
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata: {name: wi-other-lake, namespace: wi}
spec:
  district: {ncesId: "5509999", name: "Elsewhere", state: WI}
  lakeRef: {name: federal}
  schedule: "@weekly"
  sources:
  - name: contracts
    dataset: contracts
    sharedSourceRef: {name: national-contracts}
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprint(f.Err())
	for _, want := range []string{
		`DistrictSource wi/wi-5500000: spec.sources[0].sharedSourceRef.name: Invalid value: "national-contract": no SharedSource "national-contract" in namespace wi in this folder`,
		`DistrictSource wi/wi-other-lake: spec.sources[0].sharedSourceRef.name: Invalid value: "national-contracts": SharedSource wi/national-contracts lands in Lake "statewide", not in this DistrictSource's Lake "federal"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

// TestRunSharedParquetFile: a national file published as Parquet (written by DuckDB, the
// LEAID a number that lost its leading zero) is landed once and read by every district
// through the same columns it would name in the file itself: DuckDB reads each district's
// contracts from the lake with their types, a null cost unknown, not zero.
func TestRunSharedParquetFile(t *testing.T) {
	ctx := context.Background()
	national := filepath.Join(t.TempDir(), "contracts.parquet")
	testenv.DuckDB(t, `COPY (SELECT * FROM (VALUES
		(100005::BIGINT, 'Police Department, Town of A', 12500.5::DOUBLE, DATE '2021-07-01'),
		(100005::BIGINT, 'County Sheriff', NULL, DATE '2021-08-15'),
		(5508520::BIGINT, 'Madison "PD"', 90000::DOUBLE, DATE '2020-01-01'),
		(4200001::BIGINT, 'Not in the folder', 1::DOUBLE, DATE '2020-01-01'))
		AS t(leaid, agency, cost, since)) TO '`+national+`' (FORMAT parquet)`)
	body, err := os.ReadFile(national)
	if err != nil {
		t.Fatal(err)
	}
	fsrv := newFileServer()
	fsrv.set("/contracts.parquet", body)
	srv := httptest.NewServer(fsrv)
	defer srv.Close()

	dir := t.TempDir()
	folder := `apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: national-contracts, namespace: wi}
spec:
  http: {url: "` + srv.URL + `/contracts.parquet"}
  format: parquet
  districtColumn: leaid
  schoolYear: 2021-22
  lakeRef: {name: statewide}
  schedule: "@weekly"
---
apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: statewide, namespace: wi}
spec: {endpoint: "minio:9000", bucket: districtlake, credentialsSecretRef: {name: lake-credentials}}
`
	for _, id := range []string{"0100005", "5508520"} {
		folder += sharedDistrict(id, "    columns: {agency_name: agency, annual_cost: cost, start_date: since}\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "wi.yaml"), []byte(folder), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(ctx, dir)
	if err != nil || f.Err() != nil {
		t.Fatalf("Load: %v %v", err, f.Err())
	}
	lakeDir := t.TempDir()
	var out bytes.Buffer
	if _, err := Run(ctx, f, RunOptions{Lake: lakeDir, Concurrency: 2, Out: &out}); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "4 rows of 3 districts") || !strings.Contains(out.String(), "Ingested 2 of 2 districts") {
		t.Errorf("output:\n%s", out.String())
	}
	if requests, _, _ := fsrv.counts(); requests["/contracts.parquet"] != 1 {
		t.Errorf("the national file was requested %d times, want 1", requests["/contracts.parquet"])
	}
	rows := testenv.DuckDB(t, `SELECT nces_lea_id || ' ' || agency_name || ' ' || coalesce(annual_cost::VARCHAR, 'unknown') || ' ' || start_date::VARCHAR AS r
		FROM read_parquet('`+lakeDir+`/contracts/**/*.parquet', hive_partitioning = false) ORDER BY r`)
	var got []string
	for _, r := range rows {
		got = append(got, r["r"].(string))
	}
	want := []string{
		"0100005 County Sheriff unknown 2021-08-15",
		"0100005 Police Department, Town of A 12500.50 2021-07-01",
		`5508520 Madison "PD" 90000.00 2020-01-01`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("DuckDB reads the districts' contracts as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
