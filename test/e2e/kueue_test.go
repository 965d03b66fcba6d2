//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// Kueue on the local cluster (hack/kueue.sh builds it from the Go module proxy), and a second
// districtlake release whose chart value jobs.queueName submits its Jobs to a LocalQueue.
const (
	kueueNS             = "kueue-system"
	kueueDeployment     = "kueue-controller-manager"
	kueueWebhookSecret  = "kueue-webhook-server-cert"
	kueueWebhookService = "kueue-webhook-service"
	kueueNamespace      = "districtlake-kueue" // the queued DistrictSources
	kueueRelease        = "districtlake-kueue"
	kueueReleaseNS      = "districtlake-kueue-system"
	kueueLocalQueue     = "district-runs"
	kueueClusterQueue   = "districtlake-e2e"
	kueueFlavor         = "districtlake-e2e"
	kueueLakeName       = "queued"
	kueueDistricts      = 10
	kueueAtOnce         = 2 // the ClusterQueue's quota holds two Jobs' requests
	kueueContractsPath  = "/kueue/contracts.csv"
)

// TestKueueAdmitsTwoJobsAtATime: with Kueue installed and a ClusterQueue whose quota holds two
// ingest Jobs' requests, a manager installed with the chart value jobs.queueName runs ten
// DistrictSources started at once two at a time: every Job is created suspended, Kueue
// unsuspends at most two at any moment, and all ten finish and publish.
func TestKueueAdmitsTwoJobsAtATime(t *testing.T) {
	start := time.Now()
	s.resetKueueTest(t)
	s.installKueue(t)
	logf("Kueue is up after %s", time.Since(start).Round(time.Second))
	s.applyKueueQueues(t)
	s.pauseOtherManager(t)
	s.installQueuedRelease(t)
	names := s.queuedDistrictSources(t)
	logf("Kueue test ready to run after %s", time.Since(start).Round(time.Second))

	ctx := ctxFor(t, 2*runNowTimeout)
	jobs, err := s.cs.BatchV1().Jobs(kueueNamespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watching Jobs in %s: %v", kueueNamespace, err)
	}
	defer jobs.Stop()
	tally := newAdmissionTally()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range jobs.ResultChan() {
			if job, ok := ev.Object.(*batchv1.Job); ok && ev.Type != watch.Error {
				tally.observe(job, ev.Type == watch.Deleted)
			}
		}
	}()

	value := fmt.Sprintf("e2e-kueue-%d", time.Now().Unix())
	runStart := time.Now()
	for _, name := range names {
		ds := &v1alpha1.DistrictSource{ObjectMeta: metav1.ObjectMeta{Namespace: kueueNamespace, Name: name}}
		if err := s.runNow(ctx, ds, value); err != nil {
			t.Fatalf("annotating DistrictSource %s: %v", name, err)
		}
	}
	for _, name := range names {
		s.waitQueued(t, name, "Ready=True after run-now "+value+" through Kueue", succeededFor(value))
	}
	logf("ten queued runs finished %s after run-now", time.Since(runStart).Round(100*time.Millisecond))
	jobs.Stop()
	<-done

	t.Logf("Jobs as the watch saw them (times from run-now):\n%s", tally.timeline(runStart))
	if n := len(tally.jobs); n != kueueDistricts {
		t.Errorf("saw %d Jobs; want one per DistrictSource, %d", n, kueueDistricts)
	}
	for name, j := range tally.jobs {
		if !j.createdSuspended {
			t.Errorf("Job %s was first seen unsuspended: the manager must create it suspended for Kueue", name)
		}
		if j.queue != kueueLocalQueue {
			t.Errorf("Job %s has queue-name label %q; want %q", name, j.queue, kueueLocalQueue)
		}
		if j.started.IsZero() || j.finished.IsZero() {
			t.Errorf("Job %s was never unsuspended and finished (started %v, finished %v)", name, j.started, j.finished)
		}
	}
	if tally.max != kueueAtOnce {
		t.Errorf("at most %d Jobs ran at once; want exactly %d (the ClusterQueue's quota)", tally.max, kueueAtOnce)
	}
	if tally.maxWaiting == 0 {
		t.Errorf("no Job ever waited suspended while others ran: Kueue did not queue anything")
	}
	s.checkWorkloadsAdmitted(t)
}

// resetKueueTest removes what an earlier run of this test left on the same cluster.
func (s *suite) resetKueueTest(t *testing.T) {
	t.Helper()
	_, _ = s.helm("uninstall", kueueRelease, "--namespace", kueueReleaseNS, "--wait", "--ignore-not-found")
	if out, err := s.kubectl("delete", "namespace", kueueNamespace, kueueReleaseNS, "--ignore-not-found", "--wait", "--timeout", "3m"); err != nil {
		t.Fatalf("removing an earlier run's namespaces: %v\n%s", err, out)
	}
}

// ---- Kueue -------------------------------------------------------------------------------

// kueueDir is hack/kueue.sh's output: the manager, its image tarball and manifests.
func (s *suite) kueueDir(t *testing.T) (dir, version string) {
	t.Helper()
	dir = os.Getenv("DISTRICTLAKE_KUEUE")
	if dir == "" {
		dir = filepath.Join(s.root, "bin", "kueue")
	}
	v, err := os.ReadFile(filepath.Join(dir, "version"))
	if err != nil {
		t.Fatalf("Kueue is not built (%v): run make kueue (hack/kueue.sh)", err)
	}
	return dir, strings.TrimSpace(string(v))
}

// installKueue imports Kueue's image and applies its manifests, adapted to this cluster, with
// kubectl server-side apply, then waits until its webhooks answer.
func (s *suite) installKueue(t *testing.T) {
	t.Helper()
	dir, version := s.kueueDir(t)
	image := "localhost/kueue:" + version
	// An earlier run on the same cluster left it running: a second apply would replace the
	// webhook certificates under the running pod.
	if out, err := s.kubectl("-n", kueueNS, "get", "deployment", kueueDeployment, "-o", "jsonpath={.spec.template.spec.containers[0].image} {.status.availableReplicas}", "--ignore-not-found"); err == nil && out == image+" 1" {
		logf("Kueue %s is installed already", version)
		return
	}
	if _, err := s.ctr("images", "import", filepath.Join(dir, "kueue-image.tar")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manifests, err := adaptKueueManifests(raw, image)
	if err != nil {
		t.Fatalf("adapting Kueue's manifests: %v", err)
	}
	path := filepath.Join(s.tmp, "kueue.yaml")
	writeFile(t, path, manifests)
	if out, err := s.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager", "districtlake-e2e", "-f", path); err != nil {
		t.Fatalf("installing Kueue %s: %v\n%s", version, err, out)
	}
	applied := time.Now()
	if out, err := s.kubectl("-n", kueueNS, "rollout", "status", "deployment/"+kueueDeployment, "--timeout", "4m"); err != nil {
		t.Fatalf("Kueue did not roll out: %v\n%s\n%s", err, out, s.kueueLogs())
	}
	logf("Kueue %s rolled out %s after the apply", version, time.Since(applied).Round(time.Second))
}

// adaptKueueManifests makes Kueue's config/default fit the local cluster:
//   - the manager runs the imported image, never pulled;
//   - it manages batch/v1 Jobs only (the other integrations' CRDs are not installed);
//   - the visibility APIService is left out: this API server has no aggregation layer
//     (no front-proxy client certificate), so the APIService would stay unavailable and
//     break discovery, which namespace deletion and the garbage collector need;
//   - the webhook Secret, empty in config/default, is seeded with a CA and serving
//     certificate of the kind Kueue's own cert rotator makes (kueueWebhookCerts). Kueue's
//     internal certificate management stays on: it finds them valid and injects the CA into
//     the webhooks and CRDs. Without them the rotator writes the Secret after the pod
//     starts and waits, with exponential back-off, for the kubelet's next sync of the
//     mounted volume: one to three minutes here instead of seconds.
func adaptKueueManifests(raw []byte, image string) ([]byte, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out bytes.Buffer
	deployments, configs, secrets := 0, 0, 0
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if len(u.Object) == 0 {
			continue
		}
		switch {
		case u.GetKind() == "APIService":
			continue
		case u.GetKind() == "Deployment" && u.GetName() == kueueDeployment:
			if err := setKueueImage(&u, image); err != nil {
				return nil, err
			}
			deployments++
		case u.GetKind() == "ConfigMap" && u.GetName() == "kueue-manager-config":
			if err := setKueueIntegrations(&u); err != nil {
				return nil, err
			}
			configs++
		case u.GetKind() == "Secret" && u.GetName() == kueueWebhookSecret:
			data, err := kueueWebhookCerts(time.Now())
			if err != nil {
				return nil, err
			}
			if err := unstructured.SetNestedField(u.Object, data, "data"); err != nil {
				return nil, err
			}
			secrets++
		}
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	if deployments != 1 || configs != 1 || secrets != 1 {
		return nil, fmt.Errorf("found %d Deployments %s, %d ConfigMaps kueue-manager-config and %d Secrets %s; want one each",
			deployments, kueueDeployment, configs, secrets, kueueWebhookSecret)
	}
	return out.Bytes(), nil
}

// kueueWebhookCerts makes the webhook Secret's data as Kueue's cert rotator
// (github.com/open-policy-agent/cert-controller) would: a CA named kueue-ca and a serving
// certificate for the webhook Service's DNS name, RSA keys in PKCS #1, base64 for a manifest.
// They are valid for a year, past the rotator's 90-day look-ahead.
func kueueWebhookCerts(now time.Time) (map[string]any, error) {
	begin, end := now.Add(-time.Hour), now.AddDate(1, 0, 0)
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kueue-ca", Organization: []string{"kueue"}},
		DNSNames: []string{"kueue-ca"}, NotBefore: begin, NotAfter: end, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	dns := kueueWebhookService + "." + kueueNS + ".svc"
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dns}, DNSNames: []string{dns},
		NotBefore: begin, NotAfter: end, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	b64 := func(typ string, der []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	return map[string]any{
		"ca.crt":  b64("CERTIFICATE", caDER),
		"ca.key":  b64("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(caKey)),
		"tls.crt": b64("CERTIFICATE", der),
		"tls.key": b64("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
	}, nil
}

func setKueueImage(u *unstructured.Unstructured, image string) error {
	containers, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) != 1 {
		return fmt.Errorf("deployment %s: want one container (%v)", u.GetName(), err)
	}
	c := containers[0].(map[string]any)
	c["image"] = image
	c["imagePullPolicy"] = string(corev1.PullNever)
	return unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
}

func setKueueIntegrations(u *unstructured.Unstructured) error {
	const key = "controller_manager_config.yaml"
	text, ok, err := unstructured.NestedString(u.Object, "data", key)
	if err != nil || !ok {
		return fmt.Errorf("ConfigMap %s has no %s (%v)", u.GetName(), key, err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		return fmt.Errorf("parsing %s: %w", key, err)
	}
	cfg["integrations"] = map[string]any{"frameworks": []any{"batch/job"}}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return unstructured.SetNestedField(u.Object, string(b), "data", key)
}

func (s *suite) kueueLogs() string {
	out, err := s.kubectl("-n", kueueNS, "logs", "deployment/"+kueueDeployment, "--tail", "30")
	if err != nil {
		out = err.Error()
	}
	pods, _ := s.kubectl("-n", kueueNS, "get", "pods", "-o", "wide")
	return pods + "\n" + out
}

// applyKueueQueues makes the ResourceFlavor, a ClusterQueue with quota for two ingest Jobs'
// requests (the chart's default jobs.resources: 100m CPU and 256Mi each) and the LocalQueue
// in the test namespace. The first tries may meet Kueue's webhooks still starting.
func (s *suite) applyKueueQueues(t *testing.T) {
	t.Helper()
	if err := s.restrictedNamespace(kueueNamespace); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	queues := fmt.Sprintf(`apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata:
  name: %[1]s
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: %[2]s
spec:
  namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: %[3]s
  resourceGroups:
  - coveredResources: [cpu, memory]
    flavors:
    - name: %[1]s
      resources:
      - {name: cpu, nominalQuota: 200m}
      - {name: memory, nominalQuota: 512Mi}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata:
  name: %[4]s
  namespace: %[3]s
spec:
  clusterQueue: %[2]s
`, kueueFlavor, kueueClusterQueue, kueueNamespace, kueueLocalQueue)
	path := filepath.Join(s.tmp, "kueue-queues.yaml")
	writeFile(t, path, []byte(queues))
	ctx := ctxFor(t, 2*time.Minute)
	var last error
	err := poll(ctx, 2*time.Second, func() (bool, error) {
		_, last = s.kubectl("apply", "--server-side", "--field-manager", "districtlake-e2e", "-f", path)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("creating the Kueue queues: %v\n%s", last, s.kueueLogs())
	}
	err = poll(ctx, time.Second, func() (bool, error) {
		out, err := s.kubectl("get", "clusterqueue", kueueClusterQueue, "-o", `jsonpath={.status.conditions[?(@.type=="Active")].status}`)
		return err == nil && out == "True", nil
	})
	if err != nil {
		out, _ := s.kubectl("get", "clusterqueue", kueueClusterQueue, "-o", "yaml")
		t.Fatalf("ClusterQueue %s did not become Active: %v\n%s", kueueClusterQueue, err, out)
	}
}

// pauseOtherManager scales the suite's manager (the chart's or config/default's, both
// districtlake-manager, watching every namespace) to zero while the queued release runs, so
// that one manager only acts on the test's DistrictSources; it scales it back afterwards.
func (s *suite) pauseOtherManager(t *testing.T) {
	t.Helper()
	out, err := s.kubectl("-n", systemNS, "get", "deployment", release+"-manager", "-o", "jsonpath={.spec.replicas}", "--ignore-not-found")
	if err != nil {
		t.Fatal(err)
	}
	if out == "" || out == "0" {
		return
	}
	if _, err := s.kubectl("-n", systemNS, "scale", "deployment/"+release+"-manager", "--replicas=0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.helm("uninstall", kueueRelease, "--namespace", kueueReleaseNS, "--wait", "--timeout", "2m")
		_, _ = s.kubectl("-n", systemNS, "scale", "deployment/"+release+"-manager", "--replicas="+out)
	})
	ctx := ctxFor(t, 2*time.Minute)
	err = poll(ctx, time.Second, func() (bool, error) {
		var pods corev1.PodList
		if err := s.c.List(ctx, &pods, client.InNamespace(systemNS)); err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Name, release+"-manager-") {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the suite's manager did not stop: %v\n%s", err, s.describeManager())
	}
}

// installQueuedRelease installs the chart a second time, as a user would with Kueue: the
// value jobs.queueName names the LocalQueue; it watches the test's namespace only and leaves
// the CRDs to the first installation.
func (s *suite) installQueuedRelease(t *testing.T) {
	t.Helper()
	if err := s.restrictedNamespace(kueueReleaseNS); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	out, err := s.helm("install", kueueRelease, filepath.Join(s.root, "charts", "districtlake"), "--namespace", kueueReleaseNS,
		"--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag, "--set", "image.pullPolicy=Never",
		"--set", "egress.allowCIDRs={"+nodeIP+"/32}", "--set", "crds.install=false",
		"--set", "watchNamespaces={"+kueueNamespace+"}", "--set", "jobs.queueName="+kueueLocalQueue,
		"--wait", "--timeout", "3m")
	if err != nil {
		pods, _ := s.kubectl("-n", kueueReleaseNS, "get", "pods", "-o", "wide")
		t.Fatalf("helm install %s with jobs.queueName=%s: %v\n%s", kueueRelease, kueueLocalQueue, err, pods)
	}
	logf("helm install %s: %s", kueueRelease, firstLine(out))
}

// queuedDistrictSources creates the Lake and ten DistrictSources in the test namespace, each
// reading one small CSV from the suite's file server, and waits until the manager has made
// their CronJobs.
func (s *suite) queuedDistrictSources(t *testing.T) []string {
	t.Helper()
	ctx := ctxFor(t, 3*time.Minute)
	const httpSecret = "kueue-http"
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: lakeSecretName, Namespace: kueueNamespace},
			StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: s.minio.accessKey, v1alpha1.LakeSecretKeySecretAccessKey: s.minio.secretKey}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: httpSecret, Namespace: kueueNamespace,
			Labels: map[string]string{guard.SourceCredentialLabel: "true"}},
			StringData: map[string]string{"authorization": "Bearer " + s.files.token}},
		&v1alpha1.Lake{ObjectMeta: metav1.ObjectMeta{Name: kueueLakeName, Namespace: kueueNamespace},
			Spec: v1alpha1.LakeSpec{Endpoint: s.minio.endpoint, Bucket: bucket, Prefix: "kueue", PathStyle: true,
				CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: lakeSecretName}}},
	}
	s.files.put(kueueContractsPath, []byte(httpContractsCSV))
	var names []string
	for i := 1; i <= kueueDistricts; i++ {
		name := fmt.Sprintf("mn-27999%02d", i)
		names = append(names, name)
		objs = append(objs, &v1alpha1.DistrictSource{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: kueueNamespace},
			Spec: v1alpha1.DistrictSourceSpec{
				District:     v1alpha1.District{NCESID: fmt.Sprintf("27999%02d", i), Name: fmt.Sprintf("Queued District %d (made up)", i), State: "MN"},
				LakeRef:      v1alpha1.LocalObjectReference{Name: kueueLakeName},
				ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "0 3 * * 1"},
				Sources: []v1alpha1.Source{{
					Name: "contracts", Dataset: v1alpha1.DatasetContracts, Format: v1alpha1.FormatCSV,
					HTTP: &v1alpha1.HTTPSource{URL: s.files.url + kueueContractsPath, Headers: []v1alpha1.HTTPHeader{
						{Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: httpSecret, Key: "authorization"}}}},
					Columns: map[string]string{"agency_name": "Agency", "status": "Status", "annual_cost": "Annual Cost (USD)",
						"start_date": "Start", "end_date": "End"},
				}},
			},
		})
	}
	for _, o := range objs {
		if err := s.c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	for _, name := range names {
		s.waitQueued(t, name, "its CronJob queued on "+kueueLocalQueue, func(ds *v1alpha1.DistrictSource) bool {
			return ds.Status.ObservedGeneration == ds.Generation && isTrue(ds.Status.Conditions, v1alpha1.ReadyCondition)
		})
		var cj batchv1.CronJob
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: kueueNamespace, Name: name}, &cj); err != nil {
			t.Fatalf("reading the CronJob of %s: %v", name, err)
		}
		if q := cj.Spec.JobTemplate.Labels[v1alpha1.KueueQueueNameLabel]; q != kueueLocalQueue || cj.Spec.JobTemplate.Spec.Suspend == nil || !*cj.Spec.JobTemplate.Spec.Suspend {
			t.Fatalf("the CronJob of %s makes Jobs with queue %q and suspend %v; want %q and true", name, q, cj.Spec.JobTemplate.Spec.Suspend, kueueLocalQueue)
		}
	}
	return names
}

// waitQueued waits until ok holds for a DistrictSource of the test namespace; a failure
// shows the Workloads, the Jobs and Kueue's log.
func (s *suite) waitQueued(t *testing.T, name, what string, ok func(*v1alpha1.DistrictSource) bool) {
	t.Helper()
	s.waitDistrictSourceIn(t, kueueNamespace, name, what, ok, func() string {
		wl, _ := s.kubectl("-n", kueueNamespace, "get", "workloads,jobs", "-o", "wide")
		return fmt.Sprintf("\n==== workloads and Jobs\n%s\n==== Kueue\n%s", wl, s.kueueLogs())
	})
}

// checkWorkloadsAdmitted: Kueue made a Workload for each Job, admitted it to the ClusterQueue
// and saw it finish.
func (s *suite) checkWorkloadsAdmitted(t *testing.T) {
	t.Helper()
	var list unstructured.UnstructuredList
	list.SetAPIVersion("kueue.x-k8s.io/v1beta2")
	list.SetKind("WorkloadList")
	if err := s.c.List(ctxFor(t, 30*time.Second), &list, client.InNamespace(kueueNamespace)); err != nil {
		t.Fatalf("listing Kueue Workloads: %v", err)
	}
	finished := 0
	for _, w := range list.Items {
		cq, _, _ := unstructured.NestedString(w.Object, "status", "admission", "clusterQueue")
		conds, _, _ := unstructured.NestedSlice(w.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Finished" && m["status"] == "True" && cq == kueueClusterQueue {
				finished++
			}
		}
	}
	if finished != kueueDistricts {
		out, _ := s.kubectl("-n", kueueNamespace, "get", "workloads", "-o", "wide")
		t.Errorf("%d Workloads admitted to %s and finished; want %d\n%s", finished, kueueClusterQueue, kueueDistricts, out)
	}
}

// ---- what the Job watch saw ------------------------------------------------------------------

type jobSeen struct {
	createdSuspended bool
	queue            string
	created          time.Time
	started          time.Time // first seen unsuspended
	finished         time.Time // first seen Complete or Failed
}

// admissionTally follows the Jobs through one watch (one ordered stream): a Job holds quota
// from when it is seen unsuspended until it is seen Complete or Failed, as Kueue counts it.
type admissionTally struct {
	jobs            map[string]*jobSeen
	max, maxWaiting int
}

func newAdmissionTally() *admissionTally { return &admissionTally{jobs: map[string]*jobSeen{}} }

func (a *admissionTally) observe(job *batchv1.Job, deleted bool) {
	j, ok := a.jobs[job.Name]
	now := time.Now()
	if !ok {
		j = &jobSeen{created: now, queue: job.Labels[v1alpha1.KueueQueueNameLabel],
			createdSuspended: job.Spec.Suspend != nil && *job.Spec.Suspend}
		a.jobs[job.Name] = j
	}
	if job.Spec.Suspend != nil && !*job.Spec.Suspend && j.started.IsZero() {
		j.started = now
	}
	if (jobFinished(job) || deleted) && j.finished.IsZero() {
		j.finished = now
	}
	running, waiting := 0, 0
	for _, o := range a.jobs {
		switch {
		case !o.started.IsZero() && o.finished.IsZero():
			running++
		case o.started.IsZero() && o.finished.IsZero():
			waiting++
		}
	}
	a.max = max(a.max, running)
	if running > 0 {
		a.maxWaiting = max(a.maxWaiting, waiting)
	}
}

func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func (a *admissionTally) timeline(t0 time.Time) string {
	names := make([]string, 0, len(a.jobs))
	for n := range a.jobs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, k int) bool { return a.jobs[names[i]].started.Before(a.jobs[names[k]].started) })
	at := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%5.1fs", t.Sub(t0).Seconds())
	}
	var b strings.Builder
	for _, n := range names {
		j := a.jobs[n]
		fmt.Fprintf(&b, "  %-40s created %s  unsuspended %s  finished %s\n", n, at(j.created), at(j.started), at(j.finished))
	}
	fmt.Fprintf(&b, "  at most %d running at once, at most %d waiting while some ran", a.max, a.maxWaiting)
	return b.String()
}
