// Package chart_test checks the Helm chart in charts/districtlake as a user meets it: helm lint,
// helm template for each documented values combination, the values schema, and a server-side
// dry run of the rendered objects against a real kube-apiserver (envtest).
package chart_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/districtlake/districtlake/internal/testenv"
)

// kubeVersion is the cluster version helm template renders for (helm built with go install
// does not know its own client version and would assume v1.20).
const kubeVersion = "1.37.2"

const releaseName = "districtlake"
const releaseNamespace = "districtlake-system"

// repoRoot is the folder of the repository's go.mod, found upwards from the test's folder.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(data, []byte("module github.com/districtlake/districtlake\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/districtlake/districtlake above the working folder")
		}
		dir = parent
	}
}

func chartDir(t testing.TB) string { return filepath.Join(repoRoot(t), "charts", "districtlake") }

// helmPath is bin/helm (or DISTRICTLAKE_HELM); the test fails when it is missing, and
// skips under -short.
func helmPath(t testing.TB) string {
	t.Helper()
	testenv.Needs(t, testenv.ServerHelm)
	p := os.Getenv("DISTRICTLAKE_HELM")
	if p == "" {
		p = filepath.Join(repoRoot(t), "bin", "helm")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("helm not found at %s (%v): run `make bin/helm` (go install helm.sh/helm/v3/cmd/helm@v3.22.0 into bin/)", p, err)
	}
	return p
}

// assetsDir is KUBEBUILDER_ASSETS (or bin/k8s) and must hold kube-apiserver, etcd and kubectl.
// Under -short it skips the test.
func assetsDir(t testing.TB) string {
	t.Helper()
	testenv.Needs(t, testenv.ServerEnvtest)
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("%s not found in %s (%v): run hack/k8s-binaries.sh (make test-binaries)", b, dir, err)
		}
	}
	return dir
}

// helm runs helm and returns stdout, or stdout+stderr in the error.
func helm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmPath(t), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// combination is one documented set of values (README.md, "Values combinations").
type combination struct {
	name string
	set  []string
}

var combinations = []combination{
	{name: "defaults"},
	{name: "crds-not-installed", set: []string{"crds.install=false"}},
	{name: "crds-not-kept", set: []string{"crds.keep=false"}},
	{name: "service-monitor", set: []string{"serviceMonitor.enabled=true", "serviceMonitor.labels.release=prometheus"}},
	{name: "custom-image", set: []string{"image.repository=localhost/districtlake", "image.tag=dev", "image.pullPolicy=Never"}},
	{name: "namespaced-rbac", set: []string{"rbac.namespaced=true", "watchNamespaces={default," + releaseNamespace + "}"}},
	{name: "job-network-policy", set: []string{"jobs.networkPolicy.enabled=true"}},
	{name: "grafana-dashboard", set: []string{"grafanaDashboard.enabled=true"}},
	{name: "existing-service-account", set: []string{"serviceAccount.create=false", "serviceAccount.name=districtlake-sa", "rbac.create=false", "leaderElection.enabled=false"}},
}

func templateArgs(t testing.TB, c combination) []string {
	args := []string{"template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--kube-version", kubeVersion}
	for _, s := range c.set {
		args = append(args, "--set", s)
	}
	return args
}

// render runs helm template for c and returns the objects by "Kind/name" ("Kind/namespace/name"
// outside the release's namespace).
func render(t testing.TB, c combination) (string, map[string]*unstructured.Unstructured) {
	t.Helper()
	out, err := helm(t, templateArgs(t, c)...)
	if err != nil {
		t.Fatalf("rendering %s: %v", c.name, err)
	}
	objs, err := decode(out)
	if err != nil {
		t.Fatalf("rendering %s: %v\n%s", c.name, err, out)
	}
	byKey := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		k := o.GetKind() + "/" + o.GetName()
		if ns := o.GetNamespace(); ns != "" && ns != releaseNamespace {
			k = o.GetKind() + "/" + ns + "/" + o.GetName() // such as a RoleBinding per watched namespace
		}
		if _, dup := byKey[k]; dup {
			t.Fatalf("rendering %s: %s twice", c.name, k)
		}
		byKey[k] = o
	}
	return out, byKey
}

func decode(manifests string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the rendered YAML: %w", err)
		}
		if m == nil {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

func kinds(objs map[string]*unstructured.Unstructured) []string {
	var ks []string
	for k := range objs {
		ks = append(ks, k)
	}
	return ks
}
