// Command duckdb is a small stand-in for the DuckDB command-line shell's
// non-interactive use, so that tests and benchmarks can exec a DuckDB built
// from the Go module proxy:
//
//	duckdb [-json|-csv] [DBFILE] [-c SQL]
//
// It opens DBFILE (an in-memory database without it) and runs the SQL given
// with -c (or as a second argument, as the official shell allows), else read
// from standard input. Statements separated by ';' run in order; the result
// of the last statement that returns rows is printed, as a JSON array of
// objects with -json or as CSV with a header (the default, also -csv).
// An error is printed to standard error and the exit status is 1.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/uuid"
)

const usage = "usage: duckdb [-json|-csv] [DBFILE] [-c SQL]"

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	asJSON, query, haveQuery := false, "", false
	var files []string
	for i := 0; i < len(args); i++ {
		switch a := strings.TrimPrefix(args[i], "-"); {
		case a == "json" || a == "-json":
			asJSON = true
		case a == "csv" || a == "-csv":
			asJSON = false
		case a == "c" || a == "-c":
			if i++; i == len(args) {
				return errors.New(usage)
			}
			query, haveQuery = args[i], true
		case strings.HasPrefix(args[i], "-"):
			return fmt.Errorf("unknown option %s\n%s", args[i], usage)
		default:
			files = append(files, args[i])
		}
	}
	if len(files) == 2 && !haveQuery {
		query, haveQuery, files = files[1], true, files[:1]
	}
	if len(files) > 1 {
		return errors.New(usage)
	}
	if !haveQuery {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return err
		}
		query = string(b)
	}

	db, err := sql.Open("duckdb", strings.Join(files, ""))
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close()

	stmts := split(query)
	var last []byte // output of the last statement so far that returned rows
	for i, q := range stmts {
		// The last statement streams straight to stdout; an earlier one is
		// buffered until a later one that returns rows replaces it.
		var buf bytes.Buffer
		w := io.Writer(&buf)
		if i == len(stmts)-1 {
			w = stdout
		}
		var printed bool
		err := conn.Raw(func(dc any) error {
			var err error
			printed, err = execute(dc.(driver.ConnPrepareContext), q, w, asJSON)
			return err
		})
		switch {
		case err != nil:
			return err
		case printed && w == stdout:
			return nil
		case printed:
			last = buf.Bytes()
		}
	}
	_, err = stdout.Write(last)
	return err
}

// execute runs one statement and, if it returns rows, writes them to w.
func execute(c driver.ConnPrepareContext, q string, w io.Writer, asJSON bool) (bool, error) {
	ctx := context.Background()
	st, err := c.PrepareContext(ctx, q)
	if err != nil {
		return false, err
	}
	defer st.Close()
	typ, err := st.(*duckdb.Stmt).StatementType()
	if err != nil {
		return false, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	cols := rows.Columns()
	if !returnsRows(typ, cols) {
		return false, nil
	}
	types := make([]string, len(cols))
	for i := range cols {
		types[i] = rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
	}
	if asJSON {
		return true, writeJSON(w, rows, cols, types)
	}
	return true, writeCSV(w, rows, cols, types)
}

// returnsRows tells whether a statement's result is rows to print, as in the
// shell, rather than a "Count" of changed rows or a "Success" flag.
func returnsRows(t duckdb.StmtType, cols []string) bool {
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN, duckdb.STATEMENT_TYPE_CALL,
		duckdb.STATEMENT_TYPE_RELATION, duckdb.STATEMENT_TYPE_LOGICAL_PLAN:
		return true
	case duckdb.STATEMENT_TYPE_INSERT, duckdb.STATEMENT_TYPE_UPDATE, duckdb.STATEMENT_TYPE_DELETE,
		duckdb.STATEMENT_TYPE_EXECUTE, duckdb.STATEMENT_TYPE_PRAGMA:
		// RETURNING clauses, prepared queries and pragmas with a result.
		return len(cols) > 0 && !slices.Equal(cols, []string{"Count"}) && !slices.Equal(cols, []string{"Success"})
	}
	return false
}

// writeJSON writes rows like the shell's -json mode: [{"col":value,...},\n...].
func writeJSON(w io.Writer, rows driver.Rows, cols, types []string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('[')
	dest := make([]driver.Value, len(cols))
	for n := 0; ; n++ {
		if err := rows.Next(dest); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if n > 0 {
			b.WriteString(",\n")
		}
		for i, v := range dest {
			if i == 0 {
				b.WriteByte('{')
			} else {
				b.WriteByte(',')
			}
			if err := enc.Encode(cols[i]); err != nil {
				return err
			}
			b.Truncate(b.Len() - 1) // Encode ends with a newline
			b.WriteByte(':')
			if err := enc.Encode(normalize(v, types[i])); err != nil {
				return err
			}
			b.Truncate(b.Len() - 1)
		}
		b.WriteByte('}')
		if b.Len() >= 64<<10 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeCSV writes a header and the rows; NULL is an empty field.
func writeCSV(w io.Writer, rows driver.Rows, cols, types []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	dest := make([]driver.Value, len(cols))
	record := make([]string, len(cols))
	for {
		if err := rows.Next(dest); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		for i, v := range dest {
			switch v := normalize(v, types[i]).(type) {
			case nil:
				record[i] = ""
			case string:
				record[i] = v
			case json.Number:
				record[i] = string(v)
			default:
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				record[i] = string(b)
			}
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// normalize turns a driver value into a JSON-ready value rendered the way
// DuckDB renders it: times, decimals, UUIDs and blobs as DuckDB text.
func normalize(v any, typ string) any {
	switch v := v.(type) {
	case time.Time:
		layout := map[string]string{
			"DATE":        "2006-01-02",
			"TIME":        "15:04:05.999999999",
			"TIMETZ":      "15:04:05.999999999-07",
			"TIMESTAMPTZ": "2006-01-02 15:04:05.999999999-07",
		}[typ]
		if layout == "" {
			layout = "2006-01-02 15:04:05.999999999"
		}
		return v.Format(layout)
	case float32:
		return number(float64(v), 32)
	case float64:
		return number(v, 64)
	case *big.Int:
		return json.Number(v.String())
	case duckdb.Decimal:
		s := new(big.Int).Abs(v.Value).String()
		if scale := int(v.Scale); scale > 0 {
			s = strings.Repeat("0", max(0, scale+1-len(s))) + s
			s = s[:len(s)-scale] + "." + s[len(s)-scale:]
		}
		if v.Value.Sign() < 0 {
			s = "-" + s
		}
		return json.Number(s)
	case []byte:
		if u, err := uuid.FromBytes(v); err == nil && typ == "UUID" {
			return u.String()
		}
		var b strings.Builder
		for _, c := range v {
			if c >= 0x20 && c < 0x7f && c != '\\' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02X`, c)
			}
		}
		return b.String()
	case duckdb.Interval:
		return interval(v)
	case duckdb.Union:
		return normalize(v.Value, "")
	case []any:
		elem := ""
		if i := strings.LastIndexByte(typ, '['); i > 0 {
			elem = typ[:i] // "DATE[]" or "DATE[3]"
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e, elem)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalize(e, "")
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(normalize(k, ""))] = normalize(e, "")
		}
		return out
	}
	return v
}

func number(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}

// interval renders an interval as DuckDB does: "1 year 2 days 03:04:05.5".
func interval(iv duckdb.Interval) string {
	var parts []string
	for _, p := range []struct {
		n    int64
		unit string
	}{{int64(iv.Months / 12), "year"}, {int64(iv.Months % 12), "month"}, {int64(iv.Days), "day"}} {
		if p.n == 1 || p.n == -1 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.unit))
		} else if p.n != 0 {
			parts = append(parts, fmt.Sprintf("%d %ss", p.n, p.unit))
		}
	}
	if iv.Micros != 0 || len(parts) == 0 {
		sign, us := "", iv.Micros
		if us < 0 {
			sign, us = "-", -us
		}
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3600e6, us/60e6%60, us/1e6%60)
		if frac := us % 1e6; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z_0-9]*)?\$`)

// split cuts SQL text into statements at semicolons outside quotes, dollar
// quotes and comments, and drops those with no SQL in them.
func split(s string) []string {
	var stmts []string
	start, code := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			i = end(s, i+1, s[i:i+1]) - 1
		case c == '$' && dollarTag.MatchString(s[i:]):
			tag := dollarTag.FindString(s[i:])
			i = end(s, i+len(tag), tag) - 1
		case strings.HasPrefix(s[i:], "--"):
			i = end(s, i, "\n") - 1
			continue
		case strings.HasPrefix(s[i:], "/*"):
			i = end(s, i+2, "*/") - 1
			continue
		case c == ';':
			if code {
				stmts = append(stmts, s[start:i])
			}
			start, code = i+1, false
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		code = true
	}
	if code {
		stmts = append(stmts, s[start:])
	}
	return stmts
}

// end returns the index just past the first closer in s at or after from,
// or len(s) if there is none.
func end(s string, from int, closer string) int {
	if j := strings.Index(s[from:], closer); j >= 0 {
		return from + j + len(closer)
	}
	return len(s)
}
