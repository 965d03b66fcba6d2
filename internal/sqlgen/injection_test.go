package sqlgen

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

// injected is a folder name (or a Lake prefix) that ends the header comment and the
// string literal of a naive generator and runs a statement of its own.
const injected = "lake\nCREATE TABLE pwned AS SELECT 1; -- '); CREATE TABLE pwned2 AS SELECT 2; --"

// A newline or a quote in the lake's path is data: DuckDB creates the views over the real
// folder and runs nothing else.
func TestPathCannotInjectAStatementInDuckDB(t *testing.T) {
	root := filepath.Join(t.TempDir(), injected)
	writeParquet(t, root, dataset.DistrictKey("staffing", "WI", "2020-21", "5508520"),
		`SELECT 'WI' AS state, '5508520' AS nces_lea_id, 100 AS enrollment`)
	sql, err := Generate(Options{Lake: lake.Config{Type: lake.TypeFile, Path: root}, Present: map[string]bool{"staffing": true}})
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(sql, "\n"); !strings.HasPrefix(first, "-- ") || !strings.Contains(first, `lake\nCREATE TABLE pwned`) {
		t.Errorf("the header comment does not hold the path escaped on one line: %q", first)
	}
	rows := testenv.DuckDB(t, sql+`SELECT (SELECT count(*) FROM duckdb_tables()) AS tables, (SELECT sum(enrollment) FROM staffing) AS enrollment`)
	if len(rows) != 1 || rows[0]["tables"] != int64(0) || rows[0]["enrollment"] != int64(100) {
		t.Errorf("DuckDB after the SQL: %v, want no table created and the staffing view reading the file (enrollment 100)\nSQL:\n%s", rows, sql)
	}
}

// An s3 lake's prefix, region and endpoint go into string literals only.
func TestS3FieldsCannotInjectAStatement(t *testing.T) {
	l := lake.Config{Type: lake.TypeS3, Endpoint: "127.0.0.1:9\n9", Bucket: "b", Prefix: injected, Region: "x'); CREATE TABLE pwned AS SELECT 1; --"}
	sql, err := Generate(Options{Lake: l, Credentials: Credentials{Chain: true}, Present: map[string]bool{}})
	if err != nil {
		t.Fatal(err)
	}
	// No line of the SQL may start a statement the generator did not write.
	for i, line := range strings.Split(sql, "\n") {
		if strings.HasPrefix(line, "CREATE TABLE") {
			t.Errorf("line %d starts a statement of the path's own: %q", i+1, line)
		}
	}
	if strings.Count(sql, "CREATE OR REPLACE SECRET") != 1 || strings.Count(sql, "CREATE OR REPLACE VIEW") != len(Datasets) {
		t.Errorf("SQL has other statements than one secret and %d views:\n%s", len(Datasets), sql)
	}
}
