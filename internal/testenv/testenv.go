// Package testenv starts the real servers tests run against (a MinIO process for the
// lake, the DuckDB command line for what analysts read) and finds the repository's test
// binaries. Binaries come from DISTRICTLAKE_MINIO and DISTRICTLAKE_DUCKDB, else from
// <repo>/bin; a missing binary fails the test with the script that builds it. Under
// -short (the fast tier) a test that needs a server skips instead: see Needs.
package testenv

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Module is the repository's Go module path.
const Module = "github.com/districtlake/districtlake"

// RepoRoot is the folder of the repository's go.mod (found upwards from the working
// folder).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	for {
		if isRoot(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("finding the repository root: no go.mod of module %s above the working folder", Module)
		}
		dir = parent
	}
}

func isRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == Module
		}
	}
	return false
}

// binary finds a test binary: the environment variable env if set, else <repo>/bin/name.
// Under -short it skips the test instead (see Needs).
func binary(t testing.TB, env, name string) string {
	t.Helper()
	Needs(t, Server(prettyName(name)))
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(RepoRoot(t), "bin", name)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s not found at %s (set %s or build it): run hack/test-binaries.sh", prettyName(name), p, env)
	}
	return p
}

func prettyName(name string) string {
	switch name {
	case "minio":
		return "MinIO"
	case "duckdb":
		return "DuckDB"
	}
	return name
}

// ControlPlaneStartTimeout bounds the start of envtest's kube-apiserver and etcd. envtest's
// default of 20 seconds is too short on a loaded two-core machine (seen at load 30: five
// retries, all timed out), which failed whole packages before a test ran.
const ControlPlaneStartTimeout = 2 * time.Minute
