package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/districtlake/districtlake/internal/lake"
)

// fatalTB records the first Fatalf (or, under -short, Skip) and ends the goroutine, as
// testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalTB) Skip(args ...any) {
	f.msg = "skipped: " + fmt.Sprint(args...)
	runtime.Goexit()
}

func fatalOf(t *testing.T, f func(tb testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	return tb.msg
}

func TestMissingBinaryFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "minio")
	t.Setenv("DISTRICTLAKE_MINIO", missing)
	msg := fatalOf(t, func(tb testing.TB) { StartMinIO(tb) })
	want := "MinIO not found at " + missing + " (set DISTRICTLAKE_MINIO or build it): run hack/test-binaries.sh"
	wantDuckDB := "DuckDB not found at "
	if testing.Short() {
		want = "skipped: needs MinIO: skipped under -short (make test-unit); make test runs it"
		wantDuckDB = "skipped: needs DuckDB: "
	}
	if msg != want {
		t.Fatalf("message %q\nwant    %q", msg, want)
	}
	t.Setenv("DISTRICTLAKE_DUCKDB", filepath.Join(t.TempDir(), "duckdb"))
	if msg := fatalOf(t, func(tb testing.TB) { DuckDBPath(tb) }); !strings.HasPrefix(msg, wantDuckDB) {
		t.Fatalf("message %q, want it to start with %q", msg, wantDuckDB)
	}
}

func TestNeedsSkipsOnlyUnderShort(t *testing.T) {
	if msg := shortSkip(false, ServerMinIO); msg != "" {
		t.Fatalf("without -short: %q, want no skip", msg)
	}
	if msg := shortSkip(true, ServerEnvtest); msg != "needs kube-apiserver and etcd (envtest): skipped under -short (make test-unit); make test runs it" {
		t.Fatalf("under -short: %q", msg)
	}
}

func TestRepoRoot(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "testenv.go")); err != nil {
		t.Fatalf("RepoRoot %s: %v", root, err)
	}
}

func TestDuckDB(t *testing.T) {
	rows := DuckDB(t, "SELECT 1 AS a, 'x''y' AS b, 2.5 AS c, NULL AS d, true AS e UNION ALL SELECT 9007199254740993, 'z', 0.5, 1, false")
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	r := rows[0]
	if r["a"] != int64(1) || r["b"] != "x'y" || r["c"] != 2.5 || r["d"] != nil || r["e"] != true {
		t.Fatalf("row %#v", r)
	}
	if rows[1]["a"] != int64(9007199254740993) { // beyond float64's exact integers
		t.Fatalf("big integer %#v", rows[1]["a"])
	}
	if rows := DuckDB(t, "SELECT 1 WHERE false"); len(rows) != 0 {
		t.Fatalf("empty result %v", rows)
	}
	_, err := RunDuckDB(t, "SELECT nope")
	if err == nil || !strings.Contains(err.Error(), `Binder Error: Referenced column "nope" not found`) &&
		!strings.Contains(err.Error(), `Referenced column "nope" was not found`) {
		t.Fatalf("error %v", err)
	}
}

func TestMinIORestartKeepsData(t *testing.T) {
	m := StartMinIO(t)
	m.CreateBucket(t, "bucket")
	l, env := m.Lake("bucket", "p")
	ctx := context.Background()
	s, err := lake.New(ctx, l, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "k/one.json", []byte("1")); err != nil {
		t.Fatal(err)
	}
	endpoint := m.Endpoint
	m.Kill()
	if _, err := s.Stat(ctx, "k/one.json"); err == nil {
		t.Fatal("Stat succeeded with the server killed")
	}
	m.Restart(t)
	if m.Endpoint != endpoint {
		t.Fatalf("endpoint moved from %s to %s", endpoint, m.Endpoint)
	}
	if st, err := s.Stat(ctx, "k/one.json"); err != nil || st.Size != 1 {
		t.Fatalf("after Restart: %+v %v", st, err)
	}
	m.Restart(t) // a restart of a running server stops it first
	if _, err := m.Client(t).StatObject(ctx, "bucket", "p/k/one.json", minio.StatObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	MirrorLake(t, s, dir)
	if b, err := os.ReadFile(filepath.Join(dir, "k", "one.json")); err != nil || !bytes.Equal(b, []byte("1")) {
		t.Fatalf("mirror: %q %v", b, err)
	}
	m.Stop()
	m.Stop() // twice is fine
}
