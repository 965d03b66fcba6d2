package main

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerBuildContextBuilds checks the Dockerfile without Docker: every COPY source is in
// the build context that .dockerignore leaves, and the binary builds from that context alone
// (so a package or embedded file outside it fails here, not in a user's docker build).
func TestDockerBuildContextBuilds(t *testing.T) {
	root := filepath.Join("..", "..")
	include := dockerignoreIncludes(t, filepath.Join(root, ".dockerignore"))
	inContext := func(rel string) bool {
		rel = filepath.ToSlash(rel)
		for _, inc := range include {
			if rel == strings.TrimSuffix(inc, "/") || strings.HasPrefix(rel, strings.TrimSuffix(inc, "/")+"/") {
				return true
			}
		}
		return false
	}

	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(df), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "COPY" || strings.HasPrefix(f[1], "--from") {
			continue
		}
		for _, src := range f[1 : len(f)-1] {
			if !inContext(strings.TrimSuffix(src, "/")) {
				t.Errorf("Dockerfile copies %s, which .dockerignore leaves out of the build context", src)
			}
			if _, err := os.Stat(filepath.Join(root, src)); err != nil {
				t.Errorf("Dockerfile copies %s: %v", src, err)
			}
		}
	}

	ctx := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == ".git" || rel == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if !inContext(rel) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(ctx, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying the build context: %v", err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "districtlake"), "./cmd/districtlake")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the binary does not build from the Docker build context alone: %v\n%s", err, out)
	}
}

// dockerignoreIncludes reads a .dockerignore of the form "*" then "!path" lines and returns
// the paths it lets in.
func dockerignoreIncludes(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var inc []string
	sawAll := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "*":
			sawAll = true
		case strings.HasPrefix(line, "!"):
			inc = append(inc, strings.TrimPrefix(line, "!"))
		default:
			t.Fatalf(".dockerignore line %q: this test reads only '*' and '!path' lines", line)
		}
	}
	if !sawAll {
		t.Fatal(".dockerignore does not start by leaving everything out ('*')")
	}
	return inc
}
