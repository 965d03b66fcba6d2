package chart_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/districtlake/districtlake/internal/testenv"
)

// TestServerSideDryRun applies the rendered chart, for every documented values combination,
// with `kubectl apply --server-side --dry-run=server` (strict field validation) to a real
// kube-apiserver, in a namespace that enforces the restricted Pod Security Standard and warns
// on workloads that would break it.
func TestServerSideDryRun(t *testing.T) {
	assets := assetsDir(t)
	env := &envtest.Environment{
		ControlPlaneStartTimeout: testenv.ControlPlaneStartTimeout,
		BinaryAssetsDirectory:    assets,
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: []string{filepath.Join("testdata", "servicemonitor-crd.yaml")}},
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd from %s: %v", assets, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	user, err := env.AddUser(envtest.User{Name: "chart-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}

	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
	}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", releaseNamespace, err)
	}

	for _, c := range combinations {
		t.Run(c.name, func(t *testing.T) {
			manifests, objs := render(t, c)
			file := filepath.Join(t.TempDir(), "rendered.yaml")
			if err := os.WriteFile(file, []byte(manifests), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(filepath.Join(assets, "kubectl"), "--kubeconfig", kcPath, "apply", "--server-side",
				"--dry-run=server", "--field-manager=helm", "--validate=strict", "-f", file)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the apiserver rejected the rendered chart (%s): %v\n%s", c.name, err, out)
			}
			if strings.Contains(string(out), "Warning") {
				t.Errorf("the apiserver warned about the rendered chart (%s), such as a Pod Security violation:\n%s", c.name, out)
			}
			// Every rendered object was accepted, one line each.
			for k := range objs {
				kind, name, _ := strings.Cut(k, "/")
				name = name[strings.LastIndex(name, "/")+1:]
				if !strings.Contains(strings.ToLower(string(out)), strings.ToLower(kind)+"/"+name+" serverside-applied (server dry run)") &&
					!strings.Contains(strings.ToLower(string(out)), "/"+name+" serverside-applied (server dry run)") {
					t.Errorf("kubectl did not report %s as applied:\n%s", k, out)
				}
			}
		})
	}

	// kubectl apply -k config/default installs the same things: its manifests pass the same
	// strict server-side dry run and Pod Security check.
	t.Run("config-default", func(t *testing.T) {
		kubectl := filepath.Join(assets, "kubectl")
		manifests, err := exec.Command(kubectl, "kustomize", filepath.Join(repoRoot(t), "config", "default")).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize config/default: %v", err)
		}
		file := filepath.Join(t.TempDir(), "default.yaml")
		if err := os.WriteFile(file, manifests, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(kubectl, "--kubeconfig", kcPath, "apply", "--server-side", "--dry-run=server",
			"--field-manager=kubectl", "--validate=strict", "-f", file).CombinedOutput()
		if err != nil {
			t.Fatalf("the apiserver rejected config/default: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "Warning") {
			t.Errorf("the apiserver warned about config/default:\n%s", out)
		}
		if !strings.Contains(string(out), "deployment.apps/districtlake-manager serverside-applied") {
			t.Errorf("config/default has no districtlake-manager Deployment:\n%s", out)
		}
	})

	// Nothing was created by the dry runs.
	if _, err := cs.AppsV1().Deployments(releaseNamespace).Get(ctx, "districtlake-manager", metav1.GetOptions{}); err == nil {
		t.Errorf("the dry run created the manager Deployment")
	}
}
