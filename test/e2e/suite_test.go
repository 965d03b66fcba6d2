//go:build e2e

// Package e2e installs districtlake on a real single-node cluster (hack/cluster/up.sh) as a
// user does, and checks what a user would: the image runs under the chart's RBAC, the
// DistrictSources and StateComparisons publish Parquet that DuckDB reads, a SharedSource
// lands one member of a ZIP archive once for three districts, failures stall without
// touching published data, the garbage collector removes children, restarts and upgrades
// behave, secrets stay secret, pods cannot reach the network, the chart's namespaced RBAC
// confines the manager, a Job image outside the allowed list is refused, and the Jobs'
// NetworkPolicy selects every Job pod (its enforcement is not proven here: the cluster's CNI
// bridge plugin ignores NetworkPolicies).
//
//	make e2e    # cluster-up, image, these tests, cluster-down (even on failure)
//
// TestMain imports the images, starts MinIO and an HTTP file server on the bridge address
// pods reach (10.88.0.1), installs the chart (with an allowed Job image and the Jobs'
// NetworkPolicy, in rbac.namespaced mode watching the samples' namespace), applies
// config/samples with the Lake pointed at MinIO, adds the suite's own HTTP source and
// SharedSource with its three districts, and starts one run of every SharedSource and
// DistrictSource. The tests run in the order of e2e_test.go: the last ones uninstall the
// chart and install config/default.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// Fixed names of the installation under test.
const (
	nodeIP     = "10.88.0.1" // the bridge address of the host: pods reach servers here
	systemNS   = "districtlake-system"
	samplesNS  = "districtlake-samples"
	release    = "districtlake"
	imageRepo  = "localhost/districtlake"
	imageTag   = "dev"
	upgradeTag = "e2e-upgrade"
	probeImage = "localhost/districtlake-egress-probe:e2e"
	// allowedImage is the one image the install lets a resource's spec.job.image name
	// (jobs.allowedImages): the districtlake image under its upgrade tag.
	allowedImage   = imageRepo + ":" + upgradeTag
	bucket         = "districtlake"
	lakeName       = "statewide"
	lakeSecretName = "lake-credentials"
	// The DistrictSource this suite adds to the samples: its files come over HTTP from the
	// test's file server, with a bearer token from a Secret.
	httpDSName     = "mn-2799999"
	httpSecretName = "mn-2799999-http"
	runNowTimeout  = 5 * time.Minute
	// addedLabel marks the DistrictSources this suite adds beside config/samples' own.
	addedLabel = "e2e.districtlake.io/added"
	// unwatchedNS is a namespace the manager does not watch (watchNamespaces) nor may act in.
	unwatchedNS = "districtlake-unwatched"
)

// suite is the environment every test shares.
type suite struct {
	root, state, kubeconfig string
	kubectlPath, helmPath   string
	c                       client.Client
	cs                      *kubernetes.Clientset

	minio *minioServer
	files *fileServer
	tmp   string

	// setupRunNow is the run-now value TestMain set on every DistrictSource.
	setupRunNow string
}

var s *suite

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The fast tier starts no cluster: every test here needs it.
		fmt.Fprintln(os.Stderr, "e2e: needs the local cluster: skipped under -short (make test-unit); make e2e runs it")
		os.Exit(0)
	}
	var err error
	s, err = setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup failed: %v\n", err)
		if s != nil {
			s.close()
		}
		os.Exit(1)
	}
	code := m.Run()
	s.close()
	os.Exit(code)
}

func (s *suite) close() {
	if s.files != nil {
		s.files.close()
	}
	if s.minio != nil {
		s.minio.stop()
	}
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s e2e: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func setup() (*suite, error) {
	start := time.Now()
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	st := &suite{root: root}
	st.state = os.Getenv("DISTRICTLAKE_CLUSTER_STATE")
	if st.state == "" {
		st.state = "/tmp/districtlake-cluster"
	}
	st.kubeconfig = filepath.Join(st.state, "admin.kubeconfig")
	if _, err := os.Stat(st.kubeconfig); err != nil {
		return st, fmt.Errorf("no cluster (%v): run make cluster-up (or make e2e)", err)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	st.kubectlPath = filepath.Join(assets, "kubectl")
	st.helmPath = filepath.Join(root, "bin", "helm")
	for _, p := range []string{st.kubectlPath, st.helmPath} {
		if _, err := os.Stat(p); err != nil {
			return st, fmt.Errorf("%s is missing (%v): run make test-binaries bin/helm", p, err)
		}
	}
	st.tmp, err = os.MkdirTemp("", "districtlake-e2e-")
	if err != nil {
		return st, err
	}
	if err := st.connect(); err != nil {
		return st, err
	}
	if err := st.reset(); err != nil {
		return st, err
	}
	if err := st.importImages(); err != nil {
		return st, err
	}
	if st.minio, err = startMinIO(st.root, st.tmp); err != nil {
		return st, err
	}
	logf("MinIO serves at %s", st.minio.endpoint)
	if st.files, err = startFileServer(); err != nil {
		return st, err
	}
	logf("the HTTP file server serves at %s", st.files.url)
	if err := st.installChart(); err != nil {
		return st, err
	}
	if err := st.applySamples(); err != nil {
		return st, err
	}
	if err := st.startRuns(); err != nil {
		return st, err
	}
	logf("setup done in %s", time.Since(start).Round(time.Second))
	return st, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(data), "module github.com/districtlake/districtlake\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/districtlake/districtlake above the working folder")
		}
		dir = parent
	}
}

func (s *suite) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.kubeconfig, err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return err
	}
	if s.c, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fmt.Errorf("connecting to the cluster: %w", err)
	}
	if s.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	return nil
}

// run runs a command and returns its combined output; the error holds the output too.
func run(dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (s *suite) kubectl(args ...string) (string, error) {
	return run(s.root, nil, s.kubectlPath, append([]string{"--kubeconfig", s.kubeconfig}, args...)...)
}

func (s *suite) helm(args ...string) (string, error) {
	env := []string{"KUBECONFIG=" + s.kubeconfig, "HELM_CACHE_HOME=" + filepath.Join(s.tmp, "helm", "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(s.tmp, "helm", "config"), "HELM_DATA_HOME=" + filepath.Join(s.tmp, "helm", "data")}
	return run(s.root, env, s.helmPath, args...)
}

func (s *suite) ctr(args ...string) (string, error) {
	sock := filepath.Join(s.state, "containerd", "containerd.sock")
	return run(s.root, nil, "ctr", append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...)
}

// reset removes what an earlier run of this suite left on the same cluster (the release, the
// namespaces, the kustomize install's cluster objects and the kept CRDs), so that the suite can
// run again without a new cluster.
func (s *suite) reset() error {
	var ns corev1.Namespace
	err := s.c.Get(context.Background(), client.ObjectKey{Name: samplesNS}, &ns)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading namespace %s: %w", samplesNS, err)
	}
	var crds apiextensionsv1.CustomResourceDefinitionList
	if err := s.c.List(context.Background(), &crds); err != nil {
		return err
	}
	ours := 0
	for _, crd := range crds.Items {
		if crd.Spec.Group == v1alpha1.GroupVersion.Group {
			ours++
		}
	}
	if apierrors.IsNotFound(err) && ours == 0 {
		return nil
	}
	logf("removing what an earlier run left on the cluster")
	_, _ = s.helm("uninstall", release, "--namespace", systemNS, "--wait", "--ignore-not-found")
	steps := [][]string{
		{"delete", "namespace", samplesNS, systemNS, unwatchedNS, "districtlake-egress-check", "--ignore-not-found", "--wait", "--timeout", "3m"},
		{"delete", "clusterrole,clusterrolebinding", "districtlake-manager", "--ignore-not-found"},
		{"delete", "crd", "districtsources.districtlake.io", "statecomparisons.districtlake.io", "lakes.districtlake.io",
			"sharedsources.districtlake.io", "--ignore-not-found"},
	}
	for _, args := range steps {
		if _, err := s.kubectl(args...); err != nil {
			return err
		}
	}
	return nil
}

// importImages imports the districtlake image (make image), tags it for the upgrade test, and
// builds and imports the egress probe.
func (s *suite) importImages() error {
	tar := os.Getenv("DISTRICTLAKE_IMAGE_TAR")
	if tar == "" {
		tar = filepath.Join(s.root, "bin", "districtlake-image.tar")
	}
	if _, err := os.Stat(tar); err != nil {
		return fmt.Errorf("the image tarball is missing (%v): run make image", err)
	}
	if _, err := s.ctr("images", "import", tar); err != nil {
		return err
	}
	out, err := s.ctr("images", "ls", "-q")
	if err != nil {
		return err
	}
	if !strings.Contains(out, imageRepo+":"+imageTag+"\n") {
		return fmt.Errorf("ctr images import did not make %s:%s; images:\n%s", imageRepo, imageTag, out)
	}
	_, _ = s.ctr("images", "rm", imageRepo+":"+upgradeTag)
	if _, err := s.ctr("images", "tag", imageRepo+":"+imageTag, imageRepo+":"+upgradeTag); err != nil {
		return err
	}
	probe := filepath.Join(s.tmp, "egressprobe")
	if _, err := run(s.root, []string{"CGO_ENABLED=0"}, "go", "build", "-o", probe, "./test/e2e/testdata/egressprobe"); err != nil {
		return err
	}
	probeTar := filepath.Join(s.tmp, "egressprobe.tar")
	if _, err := run(s.root, nil, "go", "run", "./hack/image", "-binary", probe, "-tag", probeImage, "-ca-bundle", "", "-o", probeTar); err != nil {
		return err
	}
	if _, err := s.ctr("images", "import", probeTar); err != nil {
		return err
	}
	logf("imported %s:%s (also as :%s) and %s", imageRepo, imageTag, upgradeTag, probeImage)
	return nil
}

// installChart installs the chart as the README says, with the local image, in a namespace
// that enforces the restricted Pod Security Standard, and in the locked-down mode a state
// agency would use, which the security tests check on this one install (a helm upgrade to it
// would cost a manager restart): the manager watches the samples' namespace only, with
// RoleBindings there instead of a ClusterRoleBinding (rbac.namespaced; config/default, which
// TestKustomizeDefaultInstalls applies, is the cluster-wide install); one image a resource
// may name (jobs.allowedImages); and the Jobs' NetworkPolicy in the watched namespace, whose
// egress adds the host's bridge address as the chart's comment tells an admin to add an
// in-cluster lake's.
func (s *suite) installChart() error {
	// The samples' namespace first: the chart renders the Jobs' NetworkPolicy in it.
	for _, ns := range []string{systemNS, samplesNS} {
		if err := s.restrictedNamespace(ns); err != nil {
			return err
		}
	}
	egress := fmt.Sprintf(`[{"cidr":"%s/32"},{"cidr":"0.0.0.0/0","except":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","100.64.0.0/10","127.0.0.0/8","169.254.0.0/16"]}]`, nodeIP)
	out, err := s.helm("install", release, filepath.Join(s.root, "charts", "districtlake"), "--namespace", systemNS,
		"--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag, "--set", "image.pullPolicy=Never",
		// MinIO and the file server listen on the host's bridge address, a private one the
		// default egress policy refuses: allow it as an admin would an in-cluster Lake.
		"--set", "egress.allowCIDRs={"+nodeIP+"/32}",
		"--set", "rbac.namespaced=true", "--set", "watchNamespaces={"+samplesNS+"}",
		"--set", "jobs.allowedImages={"+allowedImage+"}",
		"--set", "jobs.networkPolicy.enabled=true",
		"--set-json", "jobs.networkPolicy.egress="+egress,
		"--wait", "--timeout", "3m")
	if err != nil {
		return fmt.Errorf("helm install: %w\n%s", err, s.describeManager())
	}
	logf("helm install: %s", firstLine(out))
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func (s *suite) restrictedNamespace(name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.c.Create(ctx, ns); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	// Pods need the namespace's default ServiceAccount, which a controller makes.
	return poll(ctx, time.Second, func() (bool, error) {
		var sa corev1.ServiceAccount
		err := s.c.Get(ctx, client.ObjectKey{Namespace: name, Name: "default"}, &sa)
		return err == nil, nil
	})
}

// poll calls f every interval until it returns true, an error, or ctx ends.
func poll(ctx context.Context, interval time.Duration, f func() (bool, error)) error {
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// secretValues are the secret values that must never appear outside Secrets and the Jobs'
// environment.
func (s *suite) secretValues() map[string]string {
	return map[string]string{
		"the lake's access key ID":     s.minio.accessKey,
		"the lake's secret access key": s.minio.secretKey,
		"the HTTP source's token":      s.files.token,
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ---- MinIO on the bridge address -------------------------------------------------------

type minioServer struct {
	endpoint, accessKey, secretKey string
	cmd                            *exec.Cmd
	log                            string
	done                           chan struct{}
}

func freePort(host string) (string, error) {
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		return "", fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port), nil
}

// startMinIO starts bin/minio (DISTRICTLAKE_MINIO) on the bridge address with fresh random
// credentials and makes the bucket.
func startMinIO(root, tmp string) (*minioServer, error) {
	bin := os.Getenv("DISTRICTLAKE_MINIO")
	if bin == "" {
		bin = filepath.Join(root, "bin", "minio")
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("MinIO is missing (%v): run make test-binaries", err)
	}
	port, err := freePort(nodeIP)
	if err != nil {
		return nil, err
	}
	m := &minioServer{
		endpoint:  nodeIP + ":" + port,
		accessKey: "e2e-" + randomHex(6),
		secretKey: "e2e-secret-" + randomHex(12),
		log:       filepath.Join(tmp, "minio.log"),
		done:      make(chan struct{}),
	}
	logFile, err := os.Create(m.log)
	if err != nil {
		return nil, err
	}
	m.cmd = exec.Command(bin, "server", "--quiet", "--address", m.endpoint, filepath.Join(tmp, "minio-data"))
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.accessKey, "MINIO_ROOT_PASSWORD="+m.secretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=on")
	m.cmd.Stdout, m.cmd.Stderr = logFile, logFile
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = m.cmd.Wait(); _ = logFile.Close(); close(m.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = poll(ctx, 200*time.Millisecond, func() (bool, error) {
		select {
		case <-m.done:
			return false, errors.New("MinIO exited")
		default:
		}
		resp, err := http.Get("http://" + m.endpoint + "/minio/health/live")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		logTail, _ := os.ReadFile(m.log)
		m.stop()
		return nil, fmt.Errorf("MinIO at %s did not start: %w\n%s", m.endpoint, err, logTail)
	}
	if err := m.client().MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		m.stop()
		return nil, fmt.Errorf("making bucket %s: %w", bucket, err)
	}
	return m, nil
}

func (m *minioServer) client() *minio.Client {
	c, err := minio.New(m.endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.accessKey, m.secretKey, ""),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		panic(err) // only for a malformed endpoint
	}
	return c
}

func (m *minioServer) stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// ---- an HTTP file server on the bridge address ----------------------------------------------

// fileServer serves files that tests put and remove, to requests that carry its bearer token,
// as a static file server does: with an ETag and Last-Modified, answering conditional and
// range requests (http.ServeContent). It records each request and the body bytes it sent.
type fileServer struct {
	url, token string
	srv        *http.Server

	mu       sync.Mutex
	files    map[string]servedFile
	requests []servedRequest
}

type servedFile struct {
	data     []byte
	modified time.Time
}

// servedRequest is one request the file server answered.
type servedRequest struct {
	Method, Path, Range, From string
	Status                    int
	Sent                      int64 // body bytes
}

func (r servedRequest) String() string {
	return fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status)
}

func startFileServer() (*fileServer, error) {
	l, err := net.Listen("tcp", nodeIP+":0")
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", nodeIP, err)
	}
	f := &fileServer{url: "http://" + l.Addr().String(), token: "e2e-token-" + randomHex(12), files: map[string]servedFile{}}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(l) }()
	return f, nil
}

func (f *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	file, ok := f.files[r.URL.Path]
	f.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	switch {
	case r.Header.Get("Authorization") != "Bearer "+f.token:
		http.Error(cw, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
	case !ok:
		http.Error(cw, http.StatusText(http.StatusNotFound), http.StatusNotFound)
	default:
		sum := sha256.Sum256(file.data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		if strings.HasSuffix(r.URL.Path, ".zip") {
			w.Header().Set("Content-Type", "application/zip")
		} else {
			w.Header().Set("Content-Type", "text/csv")
		}
		http.ServeContent(cw, r, path.Base(r.URL.Path), file.modified, bytes.NewReader(file.data))
	}
	from, _, _ := net.SplitHostPort(r.RemoteAddr)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, servedRequest{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"),
		From: from, Status: cw.status, Sent: cw.sent})
}

// countingWriter records a response's status and counts its body bytes.
type countingWriter struct {
	http.ResponseWriter
	status int
	sent   int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.sent += int64(n)
	return n, err
}

func (f *fileServer) put(path string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = servedFile{data: data, modified: time.Now().UTC().Truncate(time.Second)}
}

func (f *fileServer) remove(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.files, path)
}

// log lists the requests answered so far as "METHOD PATH STATUS".
func (f *fileServer) log() []string {
	var out []string
	for _, r := range f.served("") {
		out = append(out, r.String())
	}
	return out
}

// served lists the requests answered so far for path (every path when empty).
func (f *fileServer) served(path string) []servedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []servedRequest
	for _, r := range f.requests {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (f *fileServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}

// ---- the samples -----------------------------------------------------------------------------

// httpContractsPath is where the file server serves the added DistrictSource's contracts.
const httpContractsPath = "/mn-2799999/contracts.csv"

// httpContractsCSV is the added district's police contracts (made up), two rows.
const httpContractsCSV = `Agency,Status,Annual Cost (USD),Start,End
Example County Sheriff's Office,active,125000.00,2020-07-01,2021-06-30
Example City Police Department,expired,98000.50,2019-07-01,2020-06-30
`

// applySamples applies config/samples as the README says (kubectl apply -k), with the Lake
// pointed at MinIO and its credentials Secret, and adds one DistrictSource whose file comes
// over HTTP with a bearer token from a Secret.
func (s *suite) applySamples() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: lakeSecretName, Namespace: samplesNS},
			StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: s.minio.accessKey, v1alpha1.LakeSecretKeySecretAccessKey: s.minio.secretKey}},
		// Source headers read only Secrets that opt in with this label.
		{ObjectMeta: metav1.ObjectMeta{Name: httpSecretName, Namespace: samplesNS,
			Labels: map[string]string{guard.SourceCredentialLabel: "true"}},
			StringData: map[string]string{"authorization": "Bearer " + s.files.token}},
	}
	for _, sec := range secrets {
		if err := s.c.Create(ctx, sec); err != nil {
			return fmt.Errorf("creating Secret %s: %w", sec.Name, err)
		}
	}
	if out, err := s.kubectl("apply", "-k", filepath.Join(s.root, "config", "samples")); err != nil {
		return err
	} else {
		logf("kubectl apply -k config/samples: %d objects", strings.Count(out, "\n"))
	}
	patch := fmt.Sprintf(`{"spec":{"endpoint":%q,"secure":false,"pathStyle":true}}`, s.minio.endpoint)
	if _, err := s.kubectl("patch", "lake", lakeName, "-n", samplesNS, "--type", "merge", "-p", patch); err != nil {
		return err
	}

	s.files.put(httpContractsPath, []byte(httpContractsCSV))
	ds := s.addedDistrictSource(httpDSName, "2799999", nil, "")
	ds.Spec.District.Name = "E2E Test District (made up)"
	if err := s.c.Create(ctx, ds); err != nil {
		return fmt.Errorf("creating DistrictSource %s: %w", httpDSName, err)
	}
	if err := s.applyShared(ctx); err != nil {
		return err
	}

	// The Lake checks its bucket before runs can write to it.
	var l v1alpha1.Lake
	err := poll(ctx, time.Second, func() (bool, error) {
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: lakeName}, &l); err != nil {
			return false, nil
		}
		return isTrue(l.Status.Conditions, v1alpha1.ReadyCondition) && l.Status.ObservedGeneration == l.Generation, nil
	})
	if err != nil {
		return fmt.Errorf("Lake %s did not become Ready (%s): %w%s", lakeName, condition(l.Status.Conditions, v1alpha1.ReadyCondition),
			err, s.explain("lake", samplesNS, lakeName))
	}
	return nil
}

// startRuns annotates every SharedSource and DistrictSource with one run-now value. The
// districts that read the shared source run once it has landed its file.
func (s *suite) startRuns() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var shared v1alpha1.SharedSourceList
	if err := s.c.List(ctx, &shared, client.InNamespace(samplesNS)); err != nil {
		return err
	}
	var list v1alpha1.DistrictSourceList
	if err := s.c.List(ctx, &list, client.InNamespace(samplesNS)); err != nil {
		return err
	}
	s.setupRunNow = fmt.Sprintf("e2e-setup-%d", time.Now().Unix())
	for i := range shared.Items {
		if err := s.runNow(ctx, &shared.Items[i], s.setupRunNow); err != nil {
			return fmt.Errorf("annotating SharedSource %s: %w", shared.Items[i].Name, err)
		}
	}
	for i := range list.Items {
		if err := s.runNow(ctx, &list.Items[i], s.setupRunNow); err != nil {
			return fmt.Errorf("annotating DistrictSource %s: %w", list.Items[i].Name, err)
		}
	}
	logf("started a run of %d SharedSources and %d DistrictSources (run-now %s)", len(shared.Items), len(list.Items), s.setupRunNow)
	return nil
}
