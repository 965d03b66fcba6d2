package controller

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/districtlake/districtlake/internal/testenv"
)

// TestEveryFieldDocumented: every field of every CRD carries a description, which is what
// `kubectl explain` shows a user.
func TestEveryFieldDocumented(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) != 4 {
		t.Fatalf("want the four CRDs in config/crd/bases, found %v (%v)", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := sigsyaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			for _, part := range []string{"spec", "status"} {
				prop, ok := v.Schema.OpenAPIV3Schema.Properties[part]
				if !ok {
					t.Errorf("%s: no %s", crd.Name, part)
					continue
				}
				undocumented(t, crd.Spec.Names.Kind+"."+part, prop)
			}
		}
	}
}

// undocumented reports every property below s that has no description.
func undocumented(t *testing.T, path string, s apiextensionsv1.JSONSchemaProps) {
	t.Helper()
	if strings.TrimSpace(s.Description) == "" {
		t.Errorf("%s has no description: kubectl explain would show nothing", path)
	}
	for name, p := range s.Properties {
		undocumented(t, path+"."+name, p)
	}
	if s.Items != nil && s.Items.Schema != nil {
		for name, p := range s.Items.Schema.Properties {
			undocumented(t, path+"[]."+name, p)
		}
	}
}

// TestKubectlExplain runs the real kubectl against the API server: `kubectl explain
// districtsource.spec.sources` documents the source fields.
func TestKubectlExplain(t *testing.T) {
	testenv.Needs(t, testenv.ServerEnvtest)
	kubectl := filepath.Join(env.assets, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl not found in %s (run hack/k8s-binaries.sh): %v", env.assets, err)
	}
	user, err := env.te.AddUser(envtest.User{Name: "explainer", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	// `kubectl get dsrc -A` shows what a national user scans 13,300 rows for. (The short
	// name ds is also DaemonSet's, which kubectl prefers: the table would list DaemonSets.)
	simpleDS(t)
	out, err := exec.Command(kubectl, "--kubeconfig", path, "get", "dsrc", "-A").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get dsrc -A: %v\n%s", err, out)
	}
	header := strings.Fields(strings.SplitN(string(out), "\n", 2)[0])
	want := []string{"NAMESPACE", "NAME", "DISTRICT", "STATE", "SCHEDULE", "READY", "LAST", "SUCCESS", "REASON", "AGE"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Errorf("kubectl get dsrc -A columns = %v, want %v", header, want)
	}
	if !strings.Contains(string(out), "Madison Metropolitan School District") {
		t.Errorf("kubectl get dsrc -A does not show the district's name:\n%s", out)
	}

	out, err = exec.Command(kubectl, "--kubeconfig", path, "explain", "districtsource.spec.sources").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl explain: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Source is one file that feeds one dataset of the district.",
		"dataset\t<string> -required-", "configMapRef\t<Object>", "columns\t<map[string]string>",
		"columns maps each canonical field (such as annual_cost)",
		`enum: staffing, incidents, contracts`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl explain districtsource.spec.sources does not show %q:\n%s", want, out)
		}
	}
}
