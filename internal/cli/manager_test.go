package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/testenv"
)

func TestManagerFlags(t *testing.T) {
	cmd := newManagerCommand()
	for flag, want := range map[string]string{
		"metrics-bind-address":                  ":8080",
		"metrics-secure":                        "true",
		"health-probe-bind-address":             ":8081",
		"leader-elect":                          "false",
		"job-image":                             "ghcr.io/districtlake/districtlake:latest",
		"job-image-pull-policy":                 "IfNotPresent",
		"concurrent-districtsource-reconciles":  "64",
		"concurrent-statecomparison-reconciles": "2",
		"concurrent-lake-reconciles":            "2",
		"egress-allow-private":                  "false",
		"kube-api-qps":                          "0",
		"kube-api-burst":                        "0",
		"gc-percent":                            "50",
		"pprof-bind-address":                    "0",
		"allowed-job-images":                    "",
		"watch-namespaces":                      "",
	} {
		f := cmd.Flags().Lookup(flag)
		if f == nil {
			t.Fatalf("manager has no --%s flag", flag)
		}
		if f.DefValue != want {
			t.Errorf("--%s defaults to %q, want %q", flag, f.DefValue, want)
		}
	}
	for _, flag := range []string{"zap-log-level", "zap-encoder", "zap-devel"} {
		if cmd.Flags().Lookup(flag) == nil {
			t.Errorf("manager has no --%s flag", flag)
		}
	}
}

func TestManagerRejectsNoWorkers(t *testing.T) {
	root := NewRootCommand()
	root.SetArgs([]string{"manager", "--concurrent-districtsource-reconciles=0"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "--concurrent-districtsource-reconciles is 0; it must be at least 1") {
		t.Fatalf("got %v", err)
	}
}

// TestGCPercentBelowOneIsRefused: the manager and a local run refuse a --gc-percent that
// would weaken or (negative) switch off the garbage collector, before doing anything else.
func TestGCPercentBelowOneIsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"manager", "--gc-percent=0"},
		{"run", "--gc-percent=0", "--lake", t.TempDir()},
		{"run", "--gc-percent=-1", "--lake", t.TempDir()},
	} {
		root := NewRootCommand()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		want := "--gc-percent is " + strings.TrimPrefix(args[1], "--gc-percent=") + "; it must be at least 1"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: got %v, want %q", args, err, want)
		}
	}
}

func TestManagerRejectsBadEgressCIDR(t *testing.T) {
	root := NewRootCommand()
	root.SetArgs([]string{"manager", "--egress-allow-cidrs=10.0.0.0/8,metadata"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `egress: allowed CIDR "metadata" is not an address range`) {
		t.Fatalf("got %v", err)
	}
}

// A local run allows every address unless told otherwise.
func TestRunEgressDefault(t *testing.T) {
	if f := newRunCommand().Flags().Lookup("egress-allow-private"); f == nil || f.DefValue != "true" {
		t.Fatalf("run --egress-allow-private = %+v, want default true", f)
	}
}

func TestManagerRejectsBadPullPolicy(t *testing.T) {
	root := NewRootCommand()
	root.SetArgs([]string{"manager", "--job-image-pull-policy=Sometimes"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `--job-image-pull-policy "Sometimes" is not Always, IfNotPresent or Never`) {
		t.Fatalf("got %v", err)
	}
}

func TestManagerRejectsBadListFlags(t *testing.T) {
	for args, want := range map[string]string{
		"--allowed-job-images=registry.example/*/x": `--allowed-job-images: allowed job image "registry.example/*/x": '*' may only end an entry (a prefix)`,
		"--watch-namespaces=a,Not_A_Namespace":      `--watch-namespaces: "Not_A_Namespace" is not a namespace name`,
	} {
		root := NewRootCommand()
		root.SetArgs([]string{"manager", args})
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", args, err, want)
		}
	}
}

// TestManagerRuns runs `districtlake manager` against a real kube-apiserver and etcd
// (envtest, with the CRDs of config/crd/bases): it elects itself leader, answers its probes,
// serves metrics and reconciles a DistrictSource into its CronJob.
func TestManagerRuns(t *testing.T) {
	cfg, c := startAPIServer(t)

	metricsAddr, probeAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := NewRootCommand()
	cmd.SetArgs([]string{"manager", "--metrics-bind-address=" + metricsAddr, "--health-probe-bind-address=" + probeAddr,
		"--leader-elect", "--leader-election-namespace=default", "--job-image=example.test/districtlake:v9",
		"--zap-log-level=error", "--concurrent-districtsource-reconciles=4", "--kube-api-qps=200", "--kube-api-burst=400"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager ended with: %v", err)
		}
	})

	waitFor(t, "the manager's readyz and healthz", func() error {
		for _, path := range []string{"/readyz", "/healthz"} {
			if _, err := getWithToken("http://"+probeAddr+path, "", http.StatusOK); err != nil {
				return err
			}
		}
		return nil
	})
	waitFor(t, "the leader election Lease", func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "districtlake.io"}, &coordinationv1.Lease{})
	})

	lake := &v1alpha1.Lake{
		ObjectMeta: metav1.ObjectMeta{Name: "statewide", Namespace: "default"},
		Spec: v1alpha1.LakeSpec{Endpoint: "127.0.0.1:1", Bucket: "districtlake",
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "lake-credentials"}},
	}
	ds := &v1alpha1.DistrictSource{
		ObjectMeta: metav1.ObjectMeta{Name: "wi-5508520", Namespace: "default"},
		Spec: v1alpha1.DistrictSourceSpec{
			District:     v1alpha1.District{NCESID: "5508520", Name: "Madison Metropolitan School District", State: "WI"},
			LakeRef:      v1alpha1.LocalObjectReference{Name: "statewide"},
			ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "0 3 * * 1"},
			Sources: []v1alpha1.Source{{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21",
				HTTP: &v1alpha1.HTTPSource{URL: "https://data.example.gov/crdc/2020-21/School%20Support.csv"}}},
		},
	}
	for _, o := range []client.Object{lake, ds} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the DistrictSource's CronJob with the --job-image", func() error {
		cj := &batchv1.CronJob{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "wi-5508520"}, cj); err != nil {
			return err
		}
		if img := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image; img != "example.test/districtlake:v9" {
			return fmt.Errorf("image %s", img)
		}
		return nil
	})
	// Metrics are served over HTTPS to clients whose token may get /metrics.
	reader, stranger := serviceAccountToken(ctx, t, cfg, "prometheus", true), serviceAccountToken(ctx, t, cfg, "stranger", false)
	metricsURL := "https://" + metricsAddr + "/metrics"
	waitFor(t, "reconcile metrics for a client allowed to read them", func() error {
		body, err := getWithToken(metricsURL, reader, http.StatusOK)
		if err != nil {
			return err
		}
		if !strings.Contains(body, `controller_runtime_reconcile_total{controller="districtsource"`) {
			return fmt.Errorf("no districtsource reconcile metrics yet")
		}
		if !strings.Contains(body, `controller_runtime_max_concurrent_reconciles{controller="districtsource"} 4`) {
			return fmt.Errorf("the districtsource controller does not run 4 workers")
		}
		// Every district's freshness, from status: a weekly schedule's period.
		if !strings.Contains(body, `districtlake_schedule_period_seconds{kind="DistrictSource",name="wi-5508520",namespace="default",state="WI"} 604800`) {
			return fmt.Errorf("no schedule period for wi-5508520 in the metrics")
		}
		return nil
	})
	if _, err := getWithToken(metricsURL, "", http.StatusUnauthorized); err != nil {
		t.Errorf("metrics without a token: %v", err)
	}
	if _, err := getWithToken(metricsURL, stranger, http.StatusForbidden); err != nil {
		t.Errorf("metrics for a ServiceAccount not allowed to read them: %v", err)
	}
}

// serviceAccountToken creates a ServiceAccount in default (bound to a ClusterRole that may
// get /metrics when allowed) and returns a token for it.
func serviceAccountToken(ctx context.Context, t *testing.T, cfg *rest.Config, name string, allowed bool) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if allowed {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name + "-metrics-reader"},
			Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name + "-metrics-reader"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: "default"}}}
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for %s: %v", name, err)
	}
	return tr.Status.Token
}

// getWithToken GETs url (over TLS, the manager's certificate being self-signed, when it is
// https) with a bearer token when one is given, and fails unless the status is want.
func getWithToken(url, token string, want int) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test server
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != want {
		return "", fmt.Errorf("GET %s: %s, want %d", url, resp.Status, want)
	}
	return string(b), nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startAPIServer starts kube-apiserver and etcd with the CRDs of config/crd/bases, points
// KUBECONFIG at them and returns a client.
func startAPIServer(t *testing.T) (*rest.Config, client.Client) {
	t.Helper()
	testenv.Needs(t, testenv.ServerEnvtest)
	_, file, _, _ := goruntime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		t.Fatalf("this test needs kube-apiserver and etcd in %s (set KUBEBUILDER_ASSETS or run hack/k8s-binaries.sh): %v", assets, err)
	}
	te := &envtest.Environment{
		ControlPlaneStartTimeout: testenv.ControlPlaneStartTimeout,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		BinaryAssetsDirectory:    assets,
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatalf("starting envtest: %v", err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, te.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)

	scheme := k8sruntime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	return cfg, c
}

// TestManagerWatchesOnlyItsNamespaces: with --watch-namespaces the manager acts on the
// resources of those namespaces only; a DistrictSource elsewhere gets no CronJob, no plan
// and no status.
func TestManagerWatchesOnlyItsNamespaces(t *testing.T) {
	_, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	for _, ns := range []string{"watched", "unwatched"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	// A second manager in this process would register its metrics twice in
	// controller-runtime's global registry: run it in a child process of the test binary.
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildManager$")
	cmd.Env = append(os.Environ(), childManagerArgs+"=manager --metrics-bind-address=0 --health-probe-bind-address=0 --watch-namespaces=watched --zap-log-level=error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	for _, ns := range []string{"watched", "unwatched"} {
		lake := &v1alpha1.Lake{
			ObjectMeta: metav1.ObjectMeta{Name: "statewide", Namespace: ns},
			Spec: v1alpha1.LakeSpec{Endpoint: "127.0.0.1:1", Bucket: "districtlake",
				CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "lake-credentials"}},
		}
		ds := &v1alpha1.DistrictSource{
			ObjectMeta: metav1.ObjectMeta{Name: "wi-5508520", Namespace: ns},
			Spec: v1alpha1.DistrictSourceSpec{
				District:     v1alpha1.District{NCESID: "5508520", Name: "Madison", State: "WI"},
				LakeRef:      v1alpha1.LocalObjectReference{Name: "statewide"},
				ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "0 3 * * 1"},
				Sources: []v1alpha1.Source{{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21",
					HTTP: &v1alpha1.HTTPSource{URL: "https://data.example.gov/crdc/2020-21/support.csv"}}},
			},
		}
		for _, o := range []client.Object{lake, ds} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "the watched namespace's CronJob", func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: "watched", Name: "wi-5508520"}, &batchv1.CronJob{})
	})
	// The watched one is done; the other would have been reconciled by now.
	time.Sleep(2 * time.Second)
	if err := c.Get(ctx, client.ObjectKey{Namespace: "unwatched", Name: "wi-5508520"}, &batchv1.CronJob{}); err == nil {
		t.Error("the manager made a CronJob in a namespace it does not watch")
	}
	var cms corev1.ConfigMapList
	if err := c.List(ctx, &cms, client.InNamespace("unwatched")); err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms.Items {
		if cm.Name != "kube-root-ca.crt" {
			t.Errorf("the manager wrote ConfigMap %s in a namespace it does not watch", cm.Name)
		}
	}
	for _, ns := range []string{"watched", "unwatched"} {
		ds, lake := &v1alpha1.DistrictSource{}, &v1alpha1.Lake{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wi-5508520"}, ds); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "statewide"}, lake); err != nil {
			t.Fatal(err)
		}
		if seen := len(ds.Status.Conditions) > 0 && len(lake.Status.Conditions) > 0; seen != (ns == "watched") {
			t.Errorf("namespace %s: DistrictSource conditions %v, Lake conditions %v", ns, ds.Status.Conditions, lake.Status.Conditions)
		}
	}
}

// childManagerArgs holds the arguments TestChildManager runs districtlake with.
const childManagerArgs = "DISTRICTLAKE_TEST_CHILD_ARGS"

// TestChildManager is not a test: it runs districtlake with the arguments in
// childManagerArgs when a test starts this binary as a child process, and does nothing
// otherwise.
func TestChildManager(t *testing.T) {
	args := os.Getenv(childManagerArgs)
	if args == "" {
		return
	}
	os.Exit(Main(strings.Fields(args)))
}
