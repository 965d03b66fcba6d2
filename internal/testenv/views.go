package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// CompareViews runs in DuckDB, after setup, a check that the views (or tables) ours and sql
// have the same wantRows rows (matched by the key columns), the same columns apart from
// ours' run_id and computed_at, and equal values in every column: floats within 1e-9,
// everything else exactly, null only where null. It fails too when a column of ours is
// null in every row, for then the check compared nothing.
func CompareViews(t testing.TB, setup, ours, sql string, keys []string, wantRows int) {
	t.Helper()
	cols := DuckDB(t, setup+`SELECT column_name, column_type FROM (DESCRIBE `+sql+`)`)
	ourCols := DuckDB(t, setup+`SELECT column_name, column_type FROM (DESCRIBE `+ours+`)`)
	var names, ourNames []string
	for _, c := range cols {
		names = append(names, fmt.Sprint(c["column_name"], " ", c["column_type"]))
	}
	for _, c := range ourCols {
		if n := c["column_name"]; n != "run_id" && n != "computed_at" {
			ourNames = append(ourNames, fmt.Sprint(n, " ", c["column_type"]))
		}
	}
	if strings.Join(names, ", ") != strings.Join(ourNames, ", ") {
		t.Fatalf("%s columns:\n%s\n%s columns:\n%s", sql, strings.Join(names, ", "), ours, strings.Join(ourNames, ", "))
	}
	on := make([]string, len(keys))
	for i, k := range keys {
		on[i] = fmt.Sprintf("a.%s = r.%s", k, k)
	}
	counts := DuckDB(t, setup+fmt.Sprintf(`SELECT
		(SELECT count(*) FROM %s) AS ours, (SELECT count(*) FROM %s) AS sql,
		(SELECT count(*) FROM %s a JOIN %s r ON %s) AS matched`, ours, sql, ours, sql, strings.Join(on, " AND ")))
	if c := counts[0]; c["ours"] != int64(wantRows) || c["sql"] != int64(wantRows) || c["matched"] != int64(wantRows) {
		t.Fatalf("%s: %v rows, %s: %v rows, %v matched by key; want %d", ours, c["ours"], sql, c["sql"], c["matched"], wantRows)
	}
	var checks []string
	for _, c := range cols {
		name := c["column_name"].(string)
		cond := fmt.Sprintf("a.%s IS NOT DISTINCT FROM r.%s", name, name)
		if c["column_type"] == "DOUBLE" {
			cond = fmt.Sprintf("(a.%s IS NULL AND r.%s IS NULL) OR abs(a.%s - r.%s) <= 1e-9", name, name, name, name)
		}
		checks = append(checks, fmt.Sprintf(
			"SELECT concat_ws('/', %s) AS row_key, '%s' AS col, a.%s::VARCHAR AS ours, r.%s::VARCHAR AS sql FROM %s a JOIN %s r ON %s WHERE NOT (%s)",
			prefixedNames("a.", keys), name, name, name, ours, sql, strings.Join(on, " AND "), cond))
	}
	mismatches := DuckDB(t, setup+strings.Join(checks, "\nUNION ALL\n")+"\nORDER BY col, row_key")
	for _, m := range mismatches {
		t.Errorf("%s %s column %s: ours %v, SQL %v", ours, m["row_key"], m["col"], m["ours"], m["sql"])
	}
	// Every column holds at least one known value, so that each figure was compared.
	var known []string
	for _, c := range cols {
		known = append(known, fmt.Sprintf("count(%s) AS %s", c["column_name"], c["column_name"]))
	}
	for col, n := range DuckDB(t, setup+"SELECT "+strings.Join(known, ", ")+" FROM "+ours)[0] {
		if n == int64(0) {
			t.Errorf("%s column %s is null in every row of the samples: the check compares nothing", ours, col)
		}
	}
}

func prefixedNames(p string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return strings.Join(out, ", ")
}
