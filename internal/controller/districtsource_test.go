package controller

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
)

// madison creates, in a new namespace, the Secrets, two Lakes and a DistrictSource with one
// source of each kind (http with a header from a Secret, s3 through the other Lake,
// configMapRef, inline).
func madison(t *testing.T) (string, *v1alpha1.DistrictSource) {
	t.Helper()
	ns := newNamespace(t)
	token := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "api-token", Namespace: ns, Labels: sourceCredential},
		StringData: map[string]string{"token": tokenValue},
	}
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), lakeSecret(ns, "other-creds", otherSecretValue), token,
		newLake(ns, "statewide", "lake-creds"), newLake(ns, "other", "other-creds"))
	ds := newDS(ns, "wi-5508520", "statewide")
	ds.Spec.Sources[0].HTTP.Headers = []v1alpha1.HTTPHeader{{
		Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: "api-token", Key: "token"},
	}}
	inline := "agency_name,annual_cost\nMadison Police Department,380000.00\n"
	ds.Spec.Sources = append(ds.Spec.Sources,
		v1alpha1.Source{Name: "crdc-enrollment", Dataset: v1alpha1.DatasetStaffing, Format: v1alpha1.FormatCRDC, SchoolYear: "2020-21",
			S3: &v1alpha1.S3Source{Bucket: "crdc-mirror", Key: "2020-21/Enrollment.csv", LakeRef: &v1alpha1.LocalObjectReference{Name: "other"}}},
		v1alpha1.Source{Name: "more-contracts", Dataset: v1alpha1.DatasetContracts, Format: v1alpha1.FormatCSV, Inline: &inline},
	)
	create(t, ds)
	return ns, ds
}

func getCronJob(g Gomega, ns, name string) *batchv1.CronJob {
	cj := &batchv1.CronJob{}
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cj)).To(Succeed())
	return cj
}

func getPlan(g Gomega, ns, name string) (*corev1.ConfigMap, *plan.Ingest) {
	cm := &corev1.ConfigMap{}
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name + "-plan"}, cm)).To(Succeed())
	var p plan.Ingest
	g.Expect(json.Unmarshal([]byte(cm.Data["plan.json"]), &p)).To(Succeed())
	return cm, &p
}

func TestDistrictSourceChildren(t *testing.T) {
	g := NewWithT(t)
	ns, ds := madison(t)

	var cj *batchv1.CronJob
	var p *plan.Ingest
	g.Eventually(func(g Gomega) {
		var cm *corev1.ConfigMap
		cm, p = getPlan(g, ns, ds.Name)
		cj = getCronJob(g, ns, ds.Name)
		for _, o := range []client.Object{cm, cj} {
			ref := metav1.GetControllerOf(o)
			g.Expect(ref).NotTo(BeNil())
			g.Expect(ref.Kind).To(Equal("DistrictSource"))
			g.Expect(ref.Name).To(Equal(ds.Name))
		}
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// The plan: what to fetch and where to write, valid for `districtlake ingest`.
	g.Expect(p.Validate()).To(Succeed())
	g.Expect(p.District).To(Equal(plan.District{NCESID: "5508520", Name: "Madison Metropolitan School District", State: "WI"}))
	g.Expect(p.Lake.Endpoint).To(Equal("127.0.0.1:1"))
	g.Expect(p.Lake.Bucket).To(Equal("districtlake"))
	g.Expect(p.Lake.Prefix).To(Equal("v1"))
	g.Expect(p.Sources).To(HaveLen(4))
	g.Expect(p.Sources[0].HTTP.URL).To(Equal("https://data.example.gov/crdc/2020-21/School%20Support.csv"))
	g.Expect(p.Sources[1].File.Path).To(Equal("/etc/districtlake/sources/contracts/data"))

	// The CronJob: schedule, time zone, suspend, history limits and concurrency.
	g.Expect(cj.Spec.Schedule).To(Equal("0 3 * * 1"))
	g.Expect(cj.Spec.TimeZone).To(Equal(ptr.To("America/Chicago")))
	g.Expect(cj.Spec.Suspend).To(Equal(ptr.To(false)))
	g.Expect(cj.Spec.SuccessfulJobsHistoryLimit).To(Equal(ptr.To[int32](3)))
	g.Expect(cj.Spec.FailedJobsHistoryLimit).To(Equal(ptr.To[int32](1)))
	g.Expect(cj.Spec.ConcurrencyPolicy).To(Equal(batchv1.ForbidConcurrent))

	// The Job template: the one image, non-root, read-only, no capabilities, RuntimeDefault.
	js := cj.Spec.JobTemplate.Spec
	g.Expect(js.BackoffLimit).To(Equal(ptr.To[int32](0)))
	pod := js.Template.Spec
	g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
	g.Expect(pod.SecurityContext.RunAsNonRoot).To(Equal(ptr.To(true)))
	g.Expect(pod.SecurityContext.RunAsUser).To(Equal(ptr.To[int64](65532)))
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
	g.Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	g.Expect(c.Image).To(Equal(testImage))
	g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullNever))
	g.Expect(c.Args).To(Equal([]string{"ingest", "--plan", "/etc/districtlake/plan.json"}))
	g.Expect(c.TerminationMessagePolicy).To(Equal(corev1.TerminationMessageFallbackToLogsOnError))
	g.Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(Equal(ptr.To(true)))
	g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(Equal(ptr.To(false)))
	g.Expect(c.SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	g.Expect(mounts).To(HaveKeyWithValue("tmp", "/tmp"))
	g.Expect(mounts).To(HaveKeyWithValue("plan", "/etc/districtlake"))
	g.Expect(mounts).To(HaveKeyWithValue("src-contracts", "/etc/districtlake/sources/contracts"))
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	g.Expect(volumes["tmp"].EmptyDir).NotTo(BeNil())
	// Without spec.job.resources the Job gets the manager's requests and limits, and its
	// scratch volume the manager's size limit.
	g.Expect(volumes["tmp"].EmptyDir.SizeLimit.String()).To(Equal("2Gi"))
	g.Expect(c.Resources.Requests.Memory().String()).To(Equal("256Mi"))
	g.Expect(c.Resources.Requests.Cpu().String()).To(Equal("100m"))
	g.Expect(c.Resources.Limits.Memory().String()).To(Equal("512Mi"))
	g.Expect(volumes["plan"].ConfigMap.Name).To(Equal(ds.Name + "-plan"))
	g.Expect(volumes["src-contracts"].ConfigMap.Name).To(Equal("wi-5508520-contracts"))
	g.Expect(volumes["src-contracts"].ConfigMap.Items).To(Equal([]corev1.KeyToPath{{Key: "contracts.csv", Path: "data"}}))

	// Credentials reach the Job only as references to Secret keys.
	refs := map[string]string{}
	for _, e := range c.Env {
		g.Expect(e.Value).To(BeEmpty(), "env %s has a literal value", e.Name)
		if e.ValueFrom.SecretKeyRef != nil {
			refs[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	g.Expect(refs).To(Equal(map[string]string{
		plan.EnvLakeAccessKeyID:                 "lake-creds/accessKeyID",
		plan.EnvLakeSecretAccessKey:             "lake-creds/secretAccessKey",
		p.Sources[0].HTTP.Headers[0].ValueEnv:   "api-token/token",
		p.Sources[2].S3.Lake.AccessKeyIDEnv:     "other-creds/accessKeyID",
		p.Sources[2].S3.Lake.SecretAccessKeyEnv: "other-creds/secretAccessKey",
	}))

	// A spec change updates both children in place.
	uid := cj.UID
	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		ds.Spec.Schedule = "30 4 * * *"
		ds.Spec.TimeZone = ptr.To("America/New_York")
		ds.Spec.Suspend = ptr.To(true)
		ds.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](5)
		ds.Spec.FailedJobsHistoryLimit = ptr.To[int32](2)
		ds.Spec.Job = &v1alpha1.JobTemplate{Image: "example.test/custom:1", BackoffLimit: ptr.To[int32](2)}
		ds.Spec.Sources = ds.Spec.Sources[:2]
	})
	g.Eventually(func(g Gomega) {
		cj := getCronJob(g, ns, ds.Name)
		g.Expect(cj.UID).To(Equal(uid))
		g.Expect(cj.Spec.Schedule).To(Equal("30 4 * * *"))
		g.Expect(cj.Spec.TimeZone).To(Equal(ptr.To("America/New_York")))
		g.Expect(cj.Spec.Suspend).To(Equal(ptr.To(true)))
		g.Expect(cj.Spec.SuccessfulJobsHistoryLimit).To(Equal(ptr.To[int32](5)))
		g.Expect(cj.Spec.FailedJobsHistoryLimit).To(Equal(ptr.To[int32](2)))
		g.Expect(cj.Spec.JobTemplate.Spec.BackoffLimit).To(Equal(ptr.To[int32](2)))
		g.Expect(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image).To(Equal("example.test/custom:1"))
		g.Expect(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env).To(HaveLen(1 + 3))
		_, p := getPlan(g, ns, ds.Name)
		g.Expect(p.Sources).To(HaveLen(2))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestNoSecretValueInChildren puts recognisable values in every referenced Secret and scans
// every object the controllers write (ConfigMaps, CronJobs, Jobs, status, events).
func TestNoSecretValueInChildren(t *testing.T) {
	g := NewWithT(t)
	ns, ds := madison(t)
	runNowToEnd(t, ds, "scan", false)

	lists := []client.ObjectList{
		&corev1.ConfigMapList{}, &batchv1.CronJobList{}, &batchv1.JobList{}, &corev1.PodList{},
		&v1alpha1.DistrictSourceList{}, &v1alpha1.LakeList{}, &eventsv1.EventList{}, &corev1.EventList{},
	}
	scanned := 0
	for _, l := range lists {
		g.Expect(env.c.List(context.Background(), l, client.InNamespace(ns))).To(Succeed())
		b, err := json.Marshal(l)
		g.Expect(err).NotTo(HaveOccurred())
		text := string(b)
		for _, secret := range []string{secretAccessKeyValue, otherSecretValue, tokenValue} {
			g.Expect(text).NotTo(ContainSubstring(secret), "%T holds a secret value", l)
			g.Expect(text).NotTo(ContainSubstring(base64.StdEncoding.EncodeToString([]byte(secret))), "%T holds a secret value in base64", l)
		}
		scanned += strings.Count(text, `"uid"`)
	}
	// The scan saw the children: plan ConfigMap, CronJob, Job, Pod, DistrictSource, Lakes, events.
	g.Expect(scanned).To(BeNumerically(">=", 7))
}

func TestObservedGenerationAndStalls(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	ds := newDS(ns, "wi-5508520", "statewide")
	create(t, ds)

	ready := func(gen int64, schedule string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			ds := getDS(g, ns, ds.Name)
			g.Expect(ds.Generation).To(Equal(gen))
			g.Expect(ds.Status.ObservedGeneration).To(Equal(gen))
			c := expectCondition(g, ds.Status.Conditions, gen, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNeverRun)
			g.Expect(c.LastTransitionTime.Time).To(BeTemporally("==", env.clock.Now().Truncate(1e9)))
			g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
			g.Expect(cond(ds.Status.Conditions, v1alpha1.ReconcilingCondition)).To(BeNil())
			g.Expect(getCronJob(g, ns, ds.Name).Spec.Schedule).To(Equal(schedule))
		}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	}
	stalledWith := func(gen, observed int64, reason, message string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			ds := getDS(g, ns, ds.Name)
			g.Expect(ds.Generation).To(Equal(gen))
			expectCondition(g, ds.Status.Conditions, gen, v1alpha1.ReadyCondition, metav1.ConditionFalse, reason)
			c := expectCondition(g, ds.Status.Conditions, gen, v1alpha1.StalledCondition, metav1.ConditionTrue, reason)
			g.Expect(c.Message).To(ContainSubstring(message))
			g.Expect(ds.Status.ObservedGeneration).To(Equal(observed))
		}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	}

	ready(1, "0 3 * * 1")
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.Schedule = "15 2 * * *" })
	ready(2, "15 2 * * *")

	// Five fields pass the API's shape rule, but minute 61 does not exist.
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.Schedule = "61 * * * *" })
	stalledWith(3, 2, v1alpha1.ReasonInvalidSchedule, `schedule "61 * * * *" is not a valid cron expression`)
	g.Expect(getCronJob(g, ns, ds.Name).Spec.Schedule).To(Equal("15 2 * * *"))

	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		ds.Spec.Schedule = "0 3 * * 1"
		ds.Spec.TimeZone = ptr.To("America/Madison")
	})
	stalledWith(4, 2, v1alpha1.ReasonInvalidSchedule, `timeZone "America/Madison" is not a known IANA time zone`)

	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.TimeZone = ptr.To("America/Chicago") })
	ready(5, "0 3 * * 1")

	// A missing Lake stalls the DistrictSource until the Lake appears.
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.LakeRef.Name = "later" })
	stalledWith(6, 5, v1alpha1.ReasonLakeNotFound, `Lake "later" not found in namespace `+ns)
	create(t, newLake(ns, "later", "lake-creds"))
	ready(6, "0 3 * * 1")
	_, p := getPlan(g, ns, ds.Name)
	g.Expect(p.Lake.Endpoint).To(Equal("127.0.0.1:1"))
}

// TestMissingReferencesStall: a source whose ConfigMap or Secret is missing stalls the
// DistrictSource with a reason naming it (instead of Jobs whose Pods never start), and the
// controller looks again until it appears.
func TestMissingReferencesStall(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	ds := newDS(ns, "wi-5508520", "statewide")
	ds.Spec.Sources[1].ConfigMapRef.Name = "contracts-later"
	create(t, ds)

	expectStalled := func(reason, message string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			ds := getDS(g, ns, ds.Name)
			expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, reason)
			c := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.StalledCondition, metav1.ConditionTrue, reason)
			g.Expect(c.Message).To(Equal(message))
		}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	}
	expectReady := func() {
		t.Helper()
		g.Eventually(func(g Gomega) {
			ds := getDS(g, ns, ds.Name)
			expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNeverRun)
			g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
		}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	}

	expectStalled(v1alpha1.ReasonConfigMapNotFound,
		"ConfigMap "+ns+`/contracts-later, which source "contracts" reads, not found`)
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ds.Name}, &batchv1.CronJob{})).
		NotTo(Succeed(), "no CronJob may start Pods that cannot mount their source")

	// A ConfigMap without the key is no better.
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "contracts-later", Namespace: ns},
		Data: map[string]string{"other.csv": "x"}})
	expectStalled(v1alpha1.ReasonConfigMapNotFound,
		"ConfigMap "+ns+`/contracts-later has no key "contracts.csv", which source "contracts" reads`)

	// The controller does not watch users' ConfigMaps; it looks again on its own.
	update(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "contracts-later", Namespace: ns}},
		func(cm *corev1.ConfigMap) { cm.Data["contracts.csv"] = "Agency\nMPD\n" })
	expectReady()

	// A header whose Secret is missing stalls it too, naming the Secret and never a value.
	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		ds.Spec.Sources[0].HTTP.Headers = []v1alpha1.HTTPHeader{{
			Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: "api-token", Key: "token"},
		}}
	})
	expectStalled(v1alpha1.ReasonSecretNotFound,
		"Secret "+ns+"/api-token not found (it fills DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0)")
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api-token", Namespace: ns, Labels: sourceCredential},
		StringData: map[string]string{"token": tokenValue}})
	expectReady()
}
