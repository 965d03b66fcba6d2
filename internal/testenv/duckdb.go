package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/lake"
)

// DuckDBPath is the DuckDB command line (DISTRICTLAKE_DUCKDB or <repo>/bin/duckdb); the
// test fails if it is missing.
func DuckDBPath(t testing.TB) string {
	t.Helper()
	return binary(t, "DISTRICTLAKE_DUCKDB", "duckdb")
}

// DuckDB runs sql in a fresh in-memory DuckDB and returns the last statement's rows as
// JSON objects (`duckdb -json`): whole numbers as int64, other numbers as float64,
// strings, bools and nil. A DuckDB error fails the test with DuckDB's message.
func DuckDB(t testing.TB, sql string) []map[string]any {
	t.Helper()
	rows, err := RunDuckDB(t, sql)
	if err != nil {
		t.Fatalf("DuckDB: %v\nSQL: %s", err, sql)
	}
	return rows
}

// RunDuckDB is DuckDB that returns DuckDB's error (its stderr) instead of failing, for
// tests that expect a query to fail.
func RunDuckDB(t testing.TB, sql string) ([]map[string]any, error) {
	t.Helper()
	bin := DuckDBPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-json", "-c", sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return nil, errors.New(err.Error() + ": " + msg)
	}
	return parseJSONRows(stdout.Bytes())
}

func parseJSONRows(out []byte) ([]map[string]any, error) {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return []map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		return nil, errors.New("DuckDB printed something that is not a JSON array of rows: " + err.Error() + "\n" + string(out))
	}
	for _, r := range rows {
		for k, v := range r {
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					r[k] = i
				} else if f, err := n.Float64(); err == nil {
					r[k] = f
				}
			}
		}
	}
	return rows, nil
}

// MirrorLake copies every object of a lake into dir under the same keys, so that DuckDB
// (which has no httpfs extension here) can read an s3 lake's files with the same layout.
func MirrorLake(t testing.TB, s lake.Store, dir string) {
	t.Helper()
	ctx := context.Background()
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatalf("mirroring %s: %v", s.URL(), err)
	}
	for _, o := range objs {
		if err := copyObject(ctx, s, o.Key, filepath.Join(dir, filepath.FromSlash(o.Key))); err != nil {
			t.Fatalf("mirroring %s: %v", s.URL(), err)
		}
	}
}

func copyObject(ctx context.Context, s lake.Store, key, dst string) error {
	obj, err := s.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, obj); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
