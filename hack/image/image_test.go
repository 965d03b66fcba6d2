package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// buildPause compiles the pause command as a small static binary to put in an image.
func buildPause(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command("go", "build", "-o", bin, "./pause")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the pause binary: %v\n%s", err, out)
	}
	return bin
}

func TestRunWritesAnImportableImage(t *testing.T) {
	bin := buildPause(t)
	out := filepath.Join(t.TempDir(), "img.tar")
	err := run([]string{"-binary", bin, "-name", "districtlake", "-tag", "localhost/districtlake:dev", "-o", out,
		"-arch", "amd64", "-version", "v0.1.0", "-revision", "abc123", "-ca-bundle", ""})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	tag, _ := name.NewTag("localhost/districtlake:dev")
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("reading %s back under %s: %v", out, tag, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64 (ctr import filters images without it)", cf.OS, cf.Architecture)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/districtlake" {
		t.Errorf("entrypoint = %q, want /districtlake", got)
	}
	if cf.Config.User != "65532" {
		t.Errorf("user = %q, want 65532", cf.Config.User)
	}
	want := map[string]string{LabelSource: "https://github.com/districtlake/districtlake", LabelVersion: "v0.1.0", LabelRevision: "abc123", LabelTitle: "districtlake"}
	for k, v := range want {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], v)
		}
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d (%v), want exactly one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the layer: %v", err)
		}
		entries[h.Name] = h
	}
	binInfo, _ := os.Stat(bin)
	if h := entries["districtlake"]; h == nil || h.Mode != 0o755 || h.Size != binInfo.Size() {
		t.Errorf("/districtlake = %+v, want a %d-byte file with mode 0755", h, binInfo.Size())
	}
	if h := entries["tmp/"]; h == nil || h.Mode != 0o1777 || h.Typeflag != tar.TypeDir {
		t.Errorf("/tmp = %+v, want a folder with mode 1777", h)
	}
	if h := entries["etc/passwd"]; h == nil {
		t.Errorf("/etc/passwd is missing")
	}
	if _, ok := entries["etc/ssl/certs/ca-certificates.crt"]; ok {
		t.Errorf("a CA bundle was added although -ca-bundle was empty")
	}
}

func TestBuildIsReproducible(t *testing.T) {
	bin := buildPause(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	o := Options{Binary: bin, Arch: "amd64", User: "65532", Version: "dev"}
	a, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds of the same binary differ: %s and %s", da, db)
	}
	if mt, _ := a.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type = %s, want OCI", mt)
	}
}

func TestBuildRejectsRootAndNames(t *testing.T) {
	bin := buildPause(t)
	for _, user := range []string{"0", "root", "nonroot", "0:0", ""} {
		if _, err := Build(Options{Binary: bin, Arch: "amd64", User: user}); err == nil {
			t.Errorf("user %q was accepted; want an error (numeric, non-root only)", user)
		}
	}
	if err := run([]string{"-binary", bin, "-o", filepath.Join(t.TempDir(), "x.tar")}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("run without -tag: err = %v, want a 'required' error", err)
	}
	if err := run([]string{"-binary", bin, "-tag", "Not A Tag", "-o", filepath.Join(t.TempDir(), "x.tar")}); err == nil || !strings.Contains(err.Error(), "-tag") {
		t.Errorf("run with a bad tag: err = %v, want an error naming -tag", err)
	}
}
