package controller

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

// The test control plane, shared by every test of the package: a real kube-apiserver and
// etcd (envtest) with the CRDs of config/crd/bases, and a manager running the controllers.
// Tests run one at a time, so a test may stop and restart the manager. Under -short (the
// fast tier) TestMain starts none and env is nil: a test that uses it starts with
// newNamespace or emptyNamespace, or calls testenv.Needs(t, testenv.ServerEnvtest), which
// skip it there.
var env *testEnv

const (
	testImage = "example.test/districtlake:test"
	// allowedTestImages is the test manager's --allowed-job-images.
	allowedTestImages = "example.test/custom:*"
	timeout           = 30 * time.Second
	poll              = 100 * time.Millisecond
	testTimeRF        = "2026-03-02T09:00:00Z"
)

type testEnv struct {
	cfg    *rest.Config
	scheme *k8sruntime.Scheme
	// c reads from and writes to the API server directly, never through a cache.
	c     client.Client
	clock *clocktesting.FakePassiveClock

	registry *prometheus.Registry
	// cache is the running manager's cache.
	cache  client.Reader
	cancel context.CancelFunc
	done   chan error

	// te is the running control plane; assets holds its binaries (and kubectl).
	te     *envtest.Environment
	assets string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The fast tier: no control plane; the tests that need it skip.
		os.Exit(m.Run())
	}
	os.Exit(runSuite(m))
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func runSuite(m *testing.M) int {
	root := repoRoot()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: the controller tests need %s in %s (set KUBEBUILDER_ASSETS or run hack/k8s-binaries.sh): %v\n", bin, assets, err)
			return 1
		}
	}
	logOut := io.Discard
	if testing.Verbose() {
		logOut = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut), zap.UseDevMode(true)))

	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fail(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return fail(err)
	}
	te := &envtest.Environment{
		ControlPlaneStartTimeout: testenv.ControlPlaneStartTimeout,
		Scheme:                   scheme,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		BinaryAssetsDirectory:    assets,
	}
	cfg, err := te.Start()
	if err != nil {
		return fail(fmt.Errorf("starting envtest from %s: %w", assets, err))
	}
	defer func() {
		if err := te.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fail(err)
	}
	now, _ := time.Parse(time.RFC3339, testTimeRF)
	env = &testEnv{cfg: cfg, scheme: scheme, c: c, clock: clocktesting.NewFakePassiveClock(now), te: te, assets: assets}
	if err := env.startManager(); err != nil {
		return fail(err)
	}
	code := m.Run()
	env.stopManager()
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "FAIL:", err)
	return 1
}

// startManager starts a new manager with the controllers, as `districtlake manager` does but
// with the test clock, a test image and its own metrics registry.
func (e *testEnv) startManager() error {
	mgr, err := ctrl.NewManager(e.cfg, ctrl.Options{
		Scheme:                 e.scheme,
		Cache:                  CacheOptions(nil),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	e.registry = prometheus.NewRegistry()
	if err := Setup(mgr, Options{
		JobImage:           testImage,
		JobImagePullPolicy: corev1.PullNever,
		AllowedJobImages:   guard.JobImages{allowedTestImages},
		JobResources:       testJobResources,
		JobTmpSizeLimit:    ptr.To(resource.MustParse("2Gi")),
		Registerer:         e.registry,
		Checker:            BucketCheckFunc(lake.CheckBucket),
		AbortRules:         AbortRuleCheckFunc(lake.CheckAbortRule),
		Clock:              e.clock,
		LakeTimeout:        5 * time.Second,
		ReferenceRecheck:   300 * time.Millisecond,
	}); err != nil {
		return err
	}
	e.cache = mgr.GetCache()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- mgr.Start(ctx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, timeout)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		return fmt.Errorf("manager cache did not sync")
	}
	return nil
}

// stopManager stops the running manager and waits for it to end.
func (e *testEnv) stopManager() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	if err := <-e.done; err != nil {
		fmt.Fprintln(os.Stderr, "manager ended with:", err)
	}
	e.cancel = nil
}

// newNamespace creates a namespace of its own for a test (envtest deletes none), with the
// contracts ConfigMap that newDS's configMapRef source reads.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := emptyNamespace(t)
	create(t, contractsConfigMap(ns, "wi-5508520-contracts"))
	return ns
}

// emptyNamespace creates a namespace with nothing in it. Under -short it skips the test,
// which needs the control plane.
func emptyNamespace(t *testing.T) string {
	t.Helper()
	testenv.Needs(t, testenv.ServerEnvtest)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := env.c.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

func contractsConfigMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       map[string]string{"contracts.csv": "Agency,Annual Cost (USD)\nMadison Police Department,\n"},
	}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// Secrets with recognisable values: no child, status or event may ever hold them.
const (
	secretAccessKeyValue = "SECRET-lake-key-7f3a9c1e-do-not-leak"
	accessKeyIDValue     = "AKID-lake-5b2d"
	otherSecretValue     = "SECRET-other-key-44e1b0-do-not-leak"
	tokenValue           = "SECRET-api-token-91c6d2-do-not-leak"
)

func lakeSecret(ns, name, secret string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: accessKeyIDValue, v1alpha1.LakeSecretKeySecretAccessKey: secret},
	}
}

func newLake(ns, name, secret string) *v1alpha1.Lake {
	return &v1alpha1.Lake{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.LakeSpec{
			// Nothing listens here: the bucket check fails fast and the tests do not wait on it.
			Endpoint:             "127.0.0.1:1",
			Bucket:               "districtlake",
			Prefix:               "v1",
			PathStyle:            true,
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: secret},
		},
	}
}

// newDS is Madison's DistrictSource from DESIGN.md, with one source of each kind.
func newDS(ns, name, lakeName string) *v1alpha1.DistrictSource {
	return &v1alpha1.DistrictSource{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.DistrictSourceSpec{
			District: v1alpha1.District{NCESID: "5508520", Name: "Madison Metropolitan School District", State: "WI"},
			LakeRef:  v1alpha1.LocalObjectReference{Name: lakeName},
			ScheduleSpec: v1alpha1.ScheduleSpec{
				Schedule: "0 3 * * 1",
				TimeZone: ptr.To("America/Chicago"),
			},
			Sources: []v1alpha1.Source{
				{
					Name: "crdc-support", Dataset: v1alpha1.DatasetStaffing, Format: v1alpha1.FormatCRDC, SchoolYear: "2020-21",
					HTTP: &v1alpha1.HTTPSource{URL: "https://data.example.gov/crdc/2020-21/School%20Support.csv"},
				},
				{
					Name: "contracts", Dataset: v1alpha1.DatasetContracts, Format: v1alpha1.FormatCSV,
					ConfigMapRef: &v1alpha1.ConfigMapKeyReference{Name: "wi-5508520-contracts", Key: "contracts.csv"},
					Columns:      map[string]string{"agency_name": "Agency", "annual_cost": "Annual Cost (USD)"},
				},
			},
		},
	}
}

func getDS(g Gomega, ns, name string) *v1alpha1.DistrictSource {
	ds := &v1alpha1.DistrictSource{}
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ds)).To(Succeed())
	return ds
}

// update re-reads obj, applies change and writes it, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func() error {
		if err := env.c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change(obj)
		return env.c.Update(context.Background(), obj)
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func cond(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// expectCondition checks one condition's status and reason, and that it names the
// object's current generation.
func expectCondition(g Gomega, conds []metav1.Condition, gen int64, typ string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	c := cond(conds, typ)
	g.Expect(c).NotTo(BeNil(), "condition %s missing in %v", typ, conds)
	g.Expect(c.Status).To(Equal(status), "condition %s: %s", typ, c.Message)
	g.Expect(c.Reason).To(Equal(reason), "condition %s: %s", typ, c.Message)
	g.Expect(c.ObservedGeneration).To(Equal(gen))
	return c
}

// jobsOf lists, from the API server, the Jobs run for a resource.
func jobsOf(g Gomega, ns, kind, owner string) []batchv1.Job {
	var list batchv1.JobList
	g.Expect(env.c.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{LabelKind: kind})).To(Succeed())
	var out []batchv1.Job
	for _, j := range list.Items {
		if j.Annotations[AnnotationOwner] == owner {
			out = append(out, j)
		}
	}
	return out
}

// testJobResources are the manager's default Job requests and limits in the tests.
var testJobResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
	Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
}
