package sqlgen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

func TestGenerateFileLake(t *testing.T) {
	got, err := Generate(Options{Lake: lake.Config{Type: lake.TypeFile, Path: "/data/it's lake"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `-- districtlake: DuckDB views over the lake /data/it's lake
CREATE OR REPLACE VIEW staffing AS SELECT * EXCLUDE (district) FROM read_parquet('/data/it''s lake/staffing/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true);
CREATE OR REPLACE VIEW incidents AS SELECT * EXCLUDE (district) FROM read_parquet('/data/it''s lake/incidents/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true);
CREATE OR REPLACE VIEW contracts AS SELECT * EXCLUDE (district) FROM read_parquet('/data/it''s lake/contracts/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true);
CREATE OR REPLACE VIEW comparison AS SELECT * FROM read_parquet('/data/it''s lake/comparison/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true);
CREATE OR REPLACE VIEW comparison_groups AS SELECT * FROM read_parquet('/data/it''s lake/comparison_groups/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true);
`
	if got != want {
		t.Errorf("SQL:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Generate(Options{Lake: lake.Config{Type: lake.TypeFile, Path: "lake"}}); err == nil {
		t.Error("a relative file lake path was accepted")
	}
}

func TestGenerateS3Secret(t *testing.T) {
	l := lake.Config{Type: lake.TypeS3, Endpoint: "127.0.0.1:9000", Bucket: "districtlake", Prefix: "v1/",
		PathStyle: true, Secure: false}
	got, err := Generate(Options{Lake: l, Present: map[string]bool{"staffing": true},
		Credentials: Credentials{AccessKeyID: "AKID", SecretAccessKey: "se'cret"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(got, "\n")
	wantSecret := `CREATE OR REPLACE SECRET districtlake (TYPE s3, KEY_ID 'AKID', SECRET 'se''cret', REGION 'us-east-1', ENDPOINT '127.0.0.1:9000', URL_STYLE 'path', USE_SSL false, SCOPE 's3://districtlake');`
	if lines[0] != "-- districtlake: DuckDB views over the lake s3://districtlake/v1" ||
		!strings.HasPrefix(lines[1], "-- This SQL holds the lake's secret key") || lines[2] != wantSecret {
		t.Errorf("SQL starts:\n%s\nwant the header, the warning and\n%s", strings.Join(lines[:3], "\n"), wantSecret)
	}
	if !strings.Contains(got, "read_parquet('s3://districtlake/v1/staffing/**/*.parquet'") {
		t.Errorf("the staffing view does not read s3://districtlake/v1/staffing:\n%s", got)
	}

	aws := lake.Config{Type: lake.TypeS3, Endpoint: "s3.amazonaws.com", Bucket: "b", Region: "us-west-2", Secure: true}
	got, err = Generate(Options{Lake: aws, Credentials: Credentials{Chain: true}})
	if err != nil {
		t.Fatal(err)
	}
	wantSecret = `CREATE OR REPLACE SECRET districtlake (TYPE s3, PROVIDER credential_chain, CHAIN 'env', REGION 'us-west-2', URL_STYLE 'vhost', USE_SSL true, SCOPE 's3://b');`
	if !strings.Contains(got, "\n"+wantSecret+"\n") {
		t.Errorf("SQL:\n%s\nwant the line\n%s", got, wantSecret)
	}
}

// writeParquet writes rows with DuckDB itself at key under root.
func writeParquet(t *testing.T, root, key, selectSQL string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.DuckDB(t, fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", selectSQL, literal(p)))
}

// The partition columns in the paths repeat columns in the files: the views must keep one
// of each, as VARCHAR, and keep the leading zeros of NCES IDs.
func TestViewsOverHivePartitionsInDuckDB(t *testing.T) {
	root := t.TempDir()
	writeParquet(t, root, dataset.DistrictKey("staffing", "AL", "2020-21", "0100005"),
		"SELECT 'AL' AS state, '0100005' AS nces_lea_id, '2020-21' AS school_year, 120::INTEGER AS enrollment")
	writeParquet(t, root, dataset.DistrictKey("staffing", "WI", "2020-21", "5508520"),
		"SELECT 'WI' AS state, '5508520' AS nces_lea_id, '2020-21' AS school_year, 300::INTEGER AS enrollment, 2.5::DOUBLE AS counselors_fte")
	writeParquet(t, root, dataset.StateKey("comparison", "WI", "2020-21"),
		"SELECT 'WI' AS state, '2020-21' AS school_year, '5508520' AS nces_lea_id")
	store, err := lake.New(context.Background(), lake.Config{Type: lake.TypeFile, Path: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	present, err := Present(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(present) != "map[comparison:true staffing:true]" {
		t.Fatalf("present = %v", present)
	}
	views, err := Generate(Options{Lake: lake.Config{Type: lake.TypeFile, Path: root}, Present: present})
	if err != nil {
		t.Fatal(err)
	}
	rows := testenv.DuckDB(t, views+`SELECT column_name, column_type FROM (DESCRIBE staffing)`)
	var cols []string
	for _, r := range rows {
		cols = append(cols, fmt.Sprintf("%v %v", r["column_name"], r["column_type"]))
	}
	if got := strings.Join(cols, ", "); got != "state VARCHAR, nces_lea_id VARCHAR, school_year VARCHAR, enrollment INTEGER, counselors_fte DOUBLE" {
		t.Errorf("staffing view columns: %s", got)
	}
	rows = testenv.DuckDB(t, views+`SELECT state, nces_lea_id, enrollment, counselors_fte FROM staffing ORDER BY nces_lea_id`)
	if got := fmt.Sprint(rows); got != "[map[counselors_fte:<nil> enrollment:120 nces_lea_id:0100005 state:AL] map[counselors_fte:2.5 enrollment:300 nces_lea_id:5508520 state:WI]]" {
		t.Errorf("staffing rows: %s", got)
	}
	// One district alone: DuckDB's type guessing would make district=5508520 a number.
	rows = testenv.DuckDB(t, views+`SELECT typeof(state) s, typeof(school_year) y, count(*) n FROM staffing WHERE state = 'WI' AND school_year = '2020-21' GROUP BY ALL`)
	if got := fmt.Sprint(rows); got != "[map[n:1 s:VARCHAR y:VARCHAR]]" {
		t.Errorf("partition filter: %s", got)
	}
	rows = testenv.DuckDB(t, views+`SELECT * FROM comparison`)
	if got := fmt.Sprint(rows); got != "[map[nces_lea_id:5508520 school_year:2020-21 state:WI]]" {
		t.Errorf("comparison rows: %s", got)
	}
}

// A dataset without files gets an empty view with its canonical columns and the types
// DuckDB reads from our Parquet.
func TestEmptyViewsHaveTheDatasetColumns(t *testing.T) {
	root := t.TempDir()
	views, err := Generate(Options{Lake: lake.Config{Type: lake.TypeFile, Path: root}, Present: map[string]bool{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range Datasets {
		t.Run(ds, func(t *testing.T) {
			rows := testenv.DuckDB(t, views+"SELECT column_name, column_type FROM (DESCRIBE "+ds+")")
			var s = dataset.Schema(ds)
			switch ds {
			case dataset.Comparison:
				s = dataset.ComparisonSchema()
			case dataset.ComparisonGroups:
				s = dataset.ComparisonGroupsSchema()
			}
			if len(rows) != s.NumFields() {
				t.Fatalf("%d columns, want %d", len(rows), s.NumFields())
			}
			for i, f := range s.Fields() {
				want, _ := duckType(f.Type)
				if rows[i]["column_name"] != f.Name || rows[i]["column_type"] != want {
					t.Errorf("column %d = %v %v, want %s %s", i, rows[i]["column_name"], rows[i]["column_type"], f.Name, want)
				}
			}
			if n := testenv.DuckDB(t, views+"SELECT count(*) n FROM "+ds); n[0]["n"] != int64(0) {
				t.Errorf("rows = %v, want 0", n[0]["n"])
			}
		})
	}
}
