package compare_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/districtlake/districtlake/internal/compare"
	sl "github.com/districtlake/districtlake/internal/compare/statelake"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/sqlgen"
	"github.com/districtlake/districtlake/internal/summary"
	"github.com/districtlake/districtlake/internal/testenv"
)

var now = time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC)

func fileLake(t *testing.T) (plan.Lake, lake.Store) {
	t.Helper()
	l := plan.Lake{Type: plan.LakeFile, Path: t.TempDir()}
	store, err := lake.New(context.Background(), l, lake.MapEnv(nil))
	if err != nil {
		t.Fatalf("file lake: %v", err)
	}
	return l, store
}

func minioLake(t *testing.T) (plan.Lake, lake.Store) {
	t.Helper()
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "lake")
	l, env := m.Lake("lake", "statewide")
	store, err := lake.New(context.Background(), l, env)
	if err != nil {
		t.Fatalf("MinIO lake: %v", err)
	}
	return l, store
}

func runCompare(t *testing.T, store lake.Store, p *plan.Compare) (summary.Summary, *compare.YearResult, error) {
	t.Helper()
	var yr *compare.YearResult
	sum, err := compare.Run(context.Background(), p, store, compare.Options{
		RunID: "run-1", Now: func() time.Time { return now }, Concurrency: 2,
		OnYear: func(y *compare.YearResult) { yr = y },
	})
	return sum, yr, err
}

var (
	comparisonKey = dataset.StateKey(dataset.Comparison, state, year)
	groupsKey     = dataset.StateKey(dataset.ComparisonGroups, state, year)
	reportKey     = dataset.ReportKey(state, year)
)

// checkPublished reads the comparison and groups back through the lake with pqarrow and
// checks every column against the hand-computed figures.
func checkPublished(t *testing.T, store lake.Store) {
	t.Helper()
	rows, meta := readParquet(t, store, comparisonKey)
	want := expectedComparison()
	if len(rows) != len(want) {
		t.Fatalf("comparison has %d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		checkColumns(t, "comparison", rows[i], dataset.ComparisonSchema())
		checkRow(t, fmt.Sprintf("comparison row %d (%s)", i, w["nces_lea_id"]), rows[i], w)
		if rows[i]["run_id"] != "run-1" || !rows[i]["computed_at"].(time.Time).Equal(now) {
			t.Errorf("row %d: run_id %v, computed_at %v", i, rows[i]["run_id"], rows[i]["computed_at"])
		}
	}
	for k, v := range map[string]string{
		dataset.MetaSchemaVersion: dataset.SchemaVersion, dataset.MetaDataset: dataset.Comparison,
		dataset.MetaState: state, dataset.MetaSchoolYear: year, dataset.MetaRunID: "run-1",
		dataset.MetaStandards: `{"counselor":250,"nurse":750,"psychologist":500,"socialWorker":250}`,
	} {
		if meta[k] != v {
			t.Errorf("comparison metadata %s = %q, want %q", k, meta[k], v)
		}
	}

	grows, gmeta := readParquet(t, store, groupsKey)
	if gmeta[dataset.MetaDataset] != dataset.ComparisonGroups {
		t.Errorf("groups metadata dataset = %q", gmeta[dataset.MetaDataset])
	}
	checkGroups(t, grows)
}

func checkGroups(t *testing.T, grows []row, exclude ...string) {
	t.Helper()
	wantGroups, perDistrict := expectedGroups()
	count := map[string]int{}
	for _, r := range grows {
		count[r["nces_lea_id"].(string)]++
	}
	for id, n := range perDistrict {
		if count[id] != n {
			t.Errorf("district %s has %d group rows, want %d", id, count[id], n)
		}
	}
	got := byKey(grows)
	for _, w := range wantGroups {
		k := fmt.Sprintf("%s/%s", w["nces_lea_id"], w["student_group"])
		g, ok := got[k]
		if !ok {
			t.Errorf("no group row %s", k)
			continue
		}
		checkColumns(t, "comparison_groups", g, dataset.ComparisonGroupsSchema(), exclude...)
		checkRow(t, "group "+k, g, w)
	}
}

// checkDuckDB reads the lake folder with DuckDB, as an analyst would, and checks the same
// figures.
func checkDuckDB(t *testing.T, dir string) {
	t.Helper()
	glob := func(ds string) string {
		return filepath.Join(dir, ds, "**", "*.parquet")
	}
	rows := testenv.DuckDB(t, fmt.Sprintf(
		`SELECT * EXCLUDE (computed_at) FROM read_parquet('%s', hive_partitioning = true, hive_types_autocast = false) ORDER BY nces_lea_id`,
		glob(dataset.Comparison)))
	want := expectedComparison()
	if len(rows) != len(want) {
		t.Fatalf("DuckDB reads %d comparison rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		got := row{}
		for k, v := range rows[i] {
			got[k] = duckValue(v)
		}
		checkColumns(t, "DuckDB comparison", got, dataset.ComparisonSchema(), "computed_at")
		checkRow(t, fmt.Sprintf("DuckDB comparison %s", w["nces_lea_id"]), got, w)
	}
	types := testenv.DuckDB(t, fmt.Sprintf(
		`SELECT typeof(district_cost) AS money, typeof(students_per_counselor) AS ratio, typeof(meets_counselor_standard) AS meets,
		        typeof(computed_at) AS ts, typeof(rank_students_per_counselor) AS rank
		 FROM read_parquet('%s') LIMIT 1`, glob(dataset.Comparison)))
	for k, v := range map[string]string{"money": "DECIMAL(14,2)", "ratio": "DOUBLE", "meets": "BOOLEAN", "ts": "TIMESTAMP WITH TIME ZONE", "rank": "INTEGER"} {
		if types[0][k] != v {
			t.Errorf("DuckDB type of %s = %v, want %s", k, types[0][k], v)
		}
	}
	grows := testenv.DuckDB(t, fmt.Sprintf(
		`SELECT * EXCLUDE (computed_at) FROM read_parquet('%s', hive_partitioning = true, hive_types_autocast = false)`,
		glob(dataset.ComparisonGroups)))
	var norm []row
	for _, r := range grows {
		n := row{}
		for k, v := range r {
			n[k] = duckValue(v)
		}
		norm = append(norm, n)
	}
	checkGroups(t, norm, "computed_at")
}

func TestCompareFileLake(t *testing.T) {
	l, store := fileLake(t)
	writeState(t, store)
	sum, yr, err := runCompare(t, store, testPlan(l))
	if err != nil {
		t.Fatalf("compare: %v", err)
	}
	if sum.Outcome != summary.Succeeded || sum.Districts != 4 || sum.RunID != "run-1" {
		t.Errorf("summary = %+v", sum)
	}
	wantObjects := map[string]int64{comparisonKey: 4, groupsKey: 34, reportKey: 4}
	if len(sum.Objects) != len(wantObjects) {
		t.Errorf("summary objects = %+v", sum.Objects)
	}
	for _, o := range sum.Objects {
		if rows, ok := wantObjects[o.Key]; !ok || rows != o.Rows || len(o.SHA256) != 64 {
			t.Errorf("summary object %+v", o)
		}
	}
	if yr == nil || len(yr.Districts) != 4 || yr.ReportKey != reportKey {
		t.Fatalf("OnYear got %+v", yr)
	}
	checkPublished(t, store)
	checkDuckDB(t, l.Path)

	html := readAll(t, store, reportKey)
	for _, s := range []string{"<title>WI 2023-24", "Delta &amp; Sons Unified", "<svg", "n/a",
		"1 of 2 schools reported nurses", "1 of 2 schools reported referrals", "none in force this year"} {
		if !bytes.Contains(html, []byte(s)) {
			t.Errorf("report lacks %q", s)
		}
	}
}

func TestCompareMinIO(t *testing.T) {
	l, store := minioLake(t)
	writeState(t, store)
	if _, _, err := runCompare(t, store, testPlan(l)); err != nil {
		t.Fatalf("compare: %v", err)
	}
	checkPublished(t, store)
	dir := t.TempDir()
	testenv.MirrorLake(t, store, dir)
	checkDuckDB(t, dir)
}

// A corrupt district file fails the run with an error naming it, and what was published
// before stays byte for byte.
func TestCompareFailurePublishesNothing(t *testing.T) {
	for _, kind := range []string{"file", "minio"} {
		t.Run(kind, func(t *testing.T) {
			l, store := fileLake(t)
			if kind == "minio" {
				l, store = minioLake(t)
			}
			writeState(t, store)
			ctx := context.Background()
			staffKey := dataset.DistrictKey(dataset.Staffing, state, year, delta.NCESID)
			good := readAll(t, store, staffKey)
			if _, err := store.Put(ctx, staffKey, good[:len(good)/2]); err != nil {
				t.Fatal(err)
			}
			sum, _, err := runCompare(t, store, testPlan(l))
			if err == nil || !strings.Contains(err.Error(), staffKey) {
				t.Fatalf("error = %v, want one naming %s", err, staffKey)
			}
			if sum.Outcome != summary.Failed || sum.Message != err.Error() {
				t.Errorf("summary = %+v", sum)
			}
			if objs, _ := store.List(ctx, ""); len(keysUnder(objs, "comparison", "reports")) != 0 {
				t.Fatalf("a failed first run published %v", keysUnder(objs, "comparison", "reports"))
			}

			// Publish a good comparison, then break a file again: the comparison stays.
			if _, err := store.Put(ctx, staffKey, good); err != nil {
				t.Fatal(err)
			}
			if _, _, err := runCompare(t, store, testPlan(l)); err != nil {
				t.Fatalf("compare: %v", err)
			}
			before := map[string][]byte{}
			for _, k := range []string{comparisonKey, groupsKey, reportKey} {
				before[k] = readAll(t, store, k)
			}
			incKey := dataset.DistrictKey(dataset.Incidents, state, year, alpha.NCESID)
			if _, err := store.Put(ctx, incKey, []byte("not parquet at all")); err != nil {
				t.Fatal(err)
			}
			_, _, err = runCompare(t, store, testPlan(l))
			if err == nil || !strings.Contains(err.Error(), incKey) || !strings.Contains(err.Error(), "not a readable Parquet file") {
				t.Fatalf("error = %v, want one naming %s", err, incKey)
			}
			for k, b := range before {
				if !bytes.Equal(readAll(t, store, k), b) {
					t.Errorf("%s changed after a failed run", k)
				}
			}
		})
	}
}

func keysUnder(objs []lake.ObjectInfo, prefixes ...string) []string {
	var out []string
	for _, o := range objs {
		for _, p := range prefixes {
			if strings.HasPrefix(o.Key, p) {
				out = append(out, o.Key)
			}
		}
	}
	return out
}

// Bad values name the file, row and column.
func TestCompareBadValues(t *testing.T) {
	l, store := fileLake(t)
	writeState(t, store)
	ctx := context.Background()
	key, err := sl.Write(ctx, store, dataset.Staffing, beta, []sl.Row{
		{"nces_school_id": "550000200001", "enrollment": int32(500), "counselors_fte": 1.0},
		{"nces_school_id": "550000200002", "enrollment": int32(20), "counselors_fte": -1.0},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = runCompare(t, store, testPlan(l))
	want := "staffing file " + key + ": row 2, column counselors_fte: -1 is not a non-negative FTE"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}

	key, err = sl.Write(ctx, store, dataset.Staffing, beta, []sl.Row{
		{"nces_school_id": "550000200001", "enrollment": int32(500), "nces_lea_id": "5500009"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = runCompare(t, store, testPlan(l))
	want = "staffing file " + key + `: row 1, column nces_lea_id: "5500009" is not the partition's district 5500002`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}

	emptyLake, emptyStore := fileLake(t)
	_, _, err = runCompare(t, emptyStore, testPlan(emptyLake))
	if err == nil || !strings.Contains(err.Error(), "no staffing or incidents files for WI 2023-24") {
		t.Fatalf("empty lake: error = %v", err)
	}
	if errors.Is(err, lake.ErrNotExist) {
		t.Errorf("an empty lake is not a missing object: %v", err)
	}
}

// On a generated state with nulls everywhere, every figure equals what
// hack/bench/compare.sql computes in DuckDB from the same files.
func TestMatchesDuckDBSQL(t *testing.T) {
	l, store := fileLake(t)
	ctx := context.Background()
	if _, err := sl.Generate(ctx, store, sl.State{State: "ZZ", SchoolYear: year, Districts: 60, Schools: 420, Seed: 7}); err != nil {
		t.Fatalf("generating: %v", err)
	}
	p := testPlan(l)
	p.State = "ZZ"
	if _, _, err := runCompare(t, store, p); err != nil {
		t.Fatalf("compare: %v", err)
	}
	sqlText, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "hack", "bench", "compare.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sql := strings.NewReplacer("__LAKE__", l.Path, "__STATE__", "ZZ", "__YEAR__", year, "__OUT__", t.TempDir()).Replace(string(sqlText))

	for _, tc := range []struct {
		ds, key, order string
		schema         *arrow.Schema
	}{
		{dataset.Comparison, dataset.StateKey(dataset.Comparison, "ZZ", year), "nces_lea_id", dataset.ComparisonSchema()},
		{dataset.ComparisonGroups, dataset.StateKey(dataset.ComparisonGroups, "ZZ", year), "nces_lea_id, student_group", dataset.ComparisonGroupsSchema()},
	} {
		want := testenv.DuckDB(t, sql+"\nSELECT * FROM "+tc.ds+" ORDER BY "+tc.order+";")
		got, _ := readParquet(t, store, tc.key)
		if len(got) != len(want) || len(got) < 60 {
			t.Fatalf("%s: we wrote %d rows, DuckDB computed %d", tc.ds, len(got), len(want))
		}
		ours := byKey(got)
		nulls := 0
		for _, w := range want {
			r := row{}
			for k, v := range w {
				r[k] = duckValue(v)
				if v == nil {
					nulls++
				}
			}
			k := fmt.Sprint(r["nces_lea_id"])
			if g, ok := r["student_group"]; ok {
				k += "/" + fmt.Sprint(g)
			}
			checkColumns(t, "DuckDB SQL "+tc.ds, r, tc.schema, "run_id", "computed_at")
			checkRow(t, tc.ds+" "+k, ours[k], r)
		}
		if nulls == 0 {
			t.Errorf("%s: the generated state has no unknown figure", tc.ds)
		}
		if tc.ds == dataset.Comparison {
			kinds := map[any]int{}
			for _, r := range got {
				kinds[r["contract_in_force"]]++
			}
			if kinds[true] == 0 || kinds[false] == 0 || kinds[nil] == 0 {
				t.Errorf("the generated state should have districts with, without and with no contract in force: %v", kinds)
			}
		}
	}
}

// Each school year is compared on its own (ranks and districts_in_state per year), and
// every year's objects are published by one run.
func TestCompareSeveralYears(t *testing.T) {
	l, store := fileLake(t)
	writeState(t, store)
	ctx := context.Background()
	older := func(d sl.District) sl.District { d.SchoolYear = "2022-23"; return d }
	if _, err := sl.Write(ctx, store, dataset.Staffing, older(alpha), []sl.Row{
		{"nces_school_id": "550000100001", "enrollment": int32(800), "counselors_fte": 4.0},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.Write(ctx, store, dataset.Staffing, older(beta), []sl.Row{
		{"nces_school_id": "550000200001", "enrollment": int32(500), "counselors_fte": 1.0},
	}); err != nil {
		t.Fatal(err)
	}
	p := testPlan(l)
	p.SchoolYears = []string{"2022-23", year}
	sum, _, err := runCompare(t, store, p)
	if err != nil {
		t.Fatalf("compare: %v", err)
	}
	if len(sum.Objects) != 6 || sum.Districts != 4 {
		t.Fatalf("summary: %d objects, %d districts", len(sum.Objects), sum.Districts)
	}
	rows, _ := readParquet(t, store, dataset.StateKey(dataset.Comparison, state, "2022-23"))
	if len(rows) != 2 {
		t.Fatalf("2022-23 has %d rows, want 2", len(rows))
	}
	checkRow(t, "2022-23 alpha", rows[0], row{"nces_lea_id": "5500001", "school_year": "2022-23", "students_per_counselor": 200.0,
		"rank_students_per_counselor": 1.0, "districts_in_state": 2.0, "arrests": nil, "contract_status": "active"})
	checkRow(t, "2022-23 beta", rows[1], row{"nces_lea_id": "5500002", "students_per_counselor": 500.0,
		"rank_students_per_counselor": 2.0, "districts_in_state": 2.0})
	checkPublished(t, store) // 2023-24 is as before
}

// recompute.sql (the comparison recomputed from the views `districtlake sql` prints) gives
// every figure of the hand-built state, whose schools report some roles and not others and
// whose contracts are in force or not.
func TestRecomputeSQLOverViews(t *testing.T) {
	l, store := fileLake(t)
	writeState(t, store)
	if _, _, err := runCompare(t, store, testPlan(l)); err != nil {
		t.Fatalf("compare: %v", err)
	}
	views, err := sqlgen.Generate(sqlgen.Options{Lake: l})
	if err != nil {
		t.Fatal(err)
	}
	recompute, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "internal", "sqlgen", "testdata", "recompute.sql"))
	if err != nil {
		t.Fatal(err)
	}
	params := `CREATE TABLE params AS SELECT * FROM (VALUES ('WI', 250, 750, 500, 250, 62000, 58000, 81000, 60000))
		AS p(state, counselor, nurse, psychologist, social_worker, counselor_cost, nurse_cost, psychologist_cost, social_worker_cost);
`
	setup := views + params + string(recompute)
	testenv.CompareViews(t, setup, "comparison", "recomputed_comparison", []string{"state", "school_year", "nces_lea_id"}, 4)
	testenv.CompareViews(t, setup, "comparison_groups", "recomputed_comparison_groups", []string{"state", "school_year", "nces_lea_id", "student_group"}, 34)
}

// A contracts file of no rows means "no contract reported": contract_in_force is false,
// where a district without a contracts file has it unknown.
func TestCompareEmptyContractsFile(t *testing.T) {
	l, store := fileLake(t)
	writeState(t, store)
	if _, err := sl.Write(context.Background(), store, dataset.Contracts, beta, nil); err != nil {
		t.Fatalf("writing an empty contracts file: %v", err)
	}
	if _, _, err := runCompare(t, store, testPlan(l)); err != nil {
		t.Fatalf("compare: %v", err)
	}
	rows, _ := readParquet(t, store, comparisonKey)
	checkRow(t, "beta", byKey(rows)[beta.NCESID], row{"contract_in_force": false, "contract_status": nil,
		"contract_agency_name": nil, "district_cost": nil})
}
