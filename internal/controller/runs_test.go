package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

// simpleDS creates a Lake, its Secret and a DistrictSource in a new namespace and waits
// until the DistrictSource is Ready.
func simpleDS(t *testing.T) (string, *v1alpha1.DistrictSource) {
	t.Helper()
	ns := newNamespace(t)
	ds := newDS(ns, "wi-5508520", "statewide")
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"), ds)
	NewWithT(t).Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		g.Expect(ds.Status.ObservedGeneration).To(Equal(ds.Generation))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	return ns, ds
}

func TestRunNowOneJobPerValue(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)

	job := runNow(t, ds, kindDistrictSource, "1700000000")
	g.Expect(job.Labels).To(HaveKeyWithValue(LabelTrigger, "run-now"))
	g.Expect(job.Annotations).To(HaveKeyWithValue(v1alpha1.RunNowAnnotation, "1700000000"))
	created, err := time.Parse(time.RFC3339Nano, job.Annotations[AnnotationCreated])
	g.Expect(err).NotTo(HaveOccurred(), "the Job's creation annotation orders it among Jobs of the same second")
	g.Expect(created).To(BeTemporally("~", job.CreationTimestamp.Time, 2*time.Second))
	ref := metav1.GetControllerOf(job)
	g.Expect(ref).NotTo(BeNil())
	g.Expect(ref.Kind).To(Equal("CronJob"))
	g.Expect(ref.Name).To(Equal(ds.Name))
	g.Expect(job.Spec.Template.Spec.Containers[0].Args).To(Equal([]string{"ingest", "--plan", "/etc/districtlake/plan.json"}))
	g.Eventually(func(g Gomega) {
		g.Expect(getDS(g, ns, ds.Name).Status.LastRunNow).To(Equal("1700000000"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Many more reconciles of the same value start nothing more.
	for i := range 5 {
		update(t, ds, func(ds *v1alpha1.DistrictSource) {
			ds.Annotations["example.test/poke"] = time.Duration(i).String()
		})
	}
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOf(g, ns, kindDistrictSource, ds.Name)).To(HaveLen(1))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// A manager restart that lost the status (lastRunNow) adopts the Job it finds.
	env.stopManager()
	d := &v1alpha1.DistrictSource{}
	g.Expect(env.c.Get(context.Background(), client.ObjectKeyFromObject(ds), d)).To(Succeed())
	base := client.MergeFrom(d.DeepCopy())
	d.Status.LastRunNow = ""
	g.Expect(env.c.Status().Patch(context.Background(), d, base)).To(Succeed())
	g.Expect(getDS(g, ns, ds.Name).Status.LastRunNow).To(BeEmpty())
	g.Expect(env.startManager()).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(getDS(g, ns, ds.Name).Status.LastRunNow).To(Equal("1700000000"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		jobs := jobsOf(g, ns, kindDistrictSource, ds.Name)
		g.Expect(jobs).To(HaveLen(1))
		g.Expect(jobs[0].UID).To(Equal(job.UID))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// A new value starts one more Job once the first has ended; going back to an old value
	// starts none.
	finishJob(t, job, true, "")
	second := runNow(t, ds, kindDistrictSource, "1700000600")
	g.Expect(second.Name).NotTo(Equal(job.Name))
	finishJob(t, second, true, "")
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Annotations[v1alpha1.RunNowAnnotation] = "1700000000" })
	g.Eventually(func(g Gomega) {
		g.Expect(getDS(g, ns, ds.Name).Status.LastRunNow).To(Equal("1700000000"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOf(g, ns, kindDistrictSource, ds.Name)).To(HaveLen(2))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}

func TestRunResults(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	runs := func(outcome string) float64 {
		return runsTotal(t, kindDistrictSource, outcome)
	}
	succeeded, failed := runs("Succeeded"), runs("Failed")

	// A running Job: Reconciling, lastRun Running, lastScheduleTime set.
	job := runNow(t, ds, kindDistrictSource, "ok")
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		c := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning)
		g.Expect(c.Message).To(ContainSubstring(job.Name))
		g.Expect(ds.Status.LastRun).NotTo(BeNil())
		g.Expect(ds.Status.LastRun.Job).To(Equal(job.Name))
		g.Expect(ds.Status.LastRun.Outcome).To(Equal(v1alpha1.RunRunning))
		g.Expect(ds.Status.LastRun.Trigger).To(Equal("run-now"))
		g.Expect(ds.Status.LastScheduleTime).NotTo(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// The Job completes; its Pod's termination message is the run's summary.
	ok := summary.Summary{
		RunID: "20260302T090000Z-ab12", Outcome: summary.Succeeded,
		Message:  "Published 2 objects, 98 rows",
		Manifest: "v1/_runs/20260302T090000Z-ab12.json",
		Sources: []summary.Source{
			{Name: "crdc-support", Dataset: "staffing", Bytes: 123456, SHA256: "aa11", Rows: 52, ObjectKey: "v1/staffing/state=WI/school_year=2020-21/district=5508520/data.parquet"},
			{Name: "contracts", Dataset: "contracts", Bytes: 512, SHA256: "bb22", Rows: 1, ObjectKey: "v1/contracts/state=WI/district=5508520/data.parquet"},
		},
		Objects: []summary.Object{
			{Dataset: "staffing", Key: "v1/staffing/state=WI/school_year=2020-21/district=5508520/data.parquet", Rows: 52, SHA256: "cc33"},
			{Dataset: "contracts", Key: "v1/contracts/state=WI/district=5508520/data.parquet", Rows: 1, SHA256: "dd44"},
		},
	}
	finishJob(t, job, true, encodeSummary(t, ok))
	wantSources := []v1alpha1.SourceStatus{
		{Name: "crdc-support", Dataset: "staffing", Bytes: 123456, SHA256: "aa11", Rows: 52,
			ObjectKey: "v1/staffing/state=WI/school_year=2020-21/district=5508520/data.parquet", ObjectSHA256: "cc33"},
		{Name: "contracts", Dataset: "contracts", Bytes: 512, SHA256: "bb22", Rows: 1,
			ObjectKey: "v1/contracts/state=WI/district=5508520/data.parquet", ObjectSHA256: "dd44"},
	}
	var lastSuccess *metav1.Time
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		c := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(c.Message).To(ContainSubstring("Published 2 objects, 98 rows"))
		g.Expect(cond(ds.Status.Conditions, v1alpha1.ReconcilingCondition)).To(BeNil())
		g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
		g.Expect(ds.Status.ObservedGeneration).To(Equal(ds.Generation))
		lr := ds.Status.LastRun
		g.Expect(lr.Job).To(Equal(job.Name))
		g.Expect(lr.Outcome).To(Equal(v1alpha1.RunSucceeded))
		g.Expect(lr.RunID).To(Equal("20260302T090000Z-ab12"))
		g.Expect(lr.CompletionTime).NotTo(BeNil())
		g.Expect(ds.Status.LastSuccessfulTime).To(Equal(lr.CompletionTime))
		g.Expect(ds.Status.Sources).To(Equal(wantSources))
		lastSuccess = ds.Status.LastSuccessfulTime
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(runs("Succeeded")).To(Equal(succeeded + 1))

	// The manager exports the run from status for Prometheus, per district and dataset.
	who := map[string]string{"kind": kindDistrictSource, "namespace": ns, "name": ds.Name, "state": "WI"}
	g.Expect(gauge(t, "districtlake_last_success_timestamp_seconds", who)).To(Equal(float64(lastSuccess.Unix())))
	g.Expect(gauge(t, "districtlake_last_run_rows", with(who, "dataset", "staffing"))).To(Equal(52.0))
	g.Expect(gauge(t, "districtlake_last_run_rows", with(who, "dataset", "contracts"))).To(Equal(1.0))
	g.Expect(gauge(t, "districtlake_last_run_fetched_bytes", who)).To(Equal(123456.0 + 512))
	g.Expect(gauge(t, "districtlake_status_condition", with(with(with(who, "type", "Ready"), "status", "True"), "reason", v1alpha1.ReasonSucceeded))).To(Equal(1.0))

	// A failed Job: not Ready, with reason RunFailed and the run's own message, but not
	// Stalled (nothing in the spec needs to change); the last good figures stay.
	bad := runNow(t, ds, kindDistrictSource, "bad")
	msg := `source "crdc-support" row 12 column SCH_FTECOUNSELORS: "n/a" is not a number`
	finishJob(t, bad, false, encodeSummary(t, summary.Summary{RunID: "r2", Outcome: summary.Failed, Message: msg}))
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		r := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed)
		g.Expect(r.Message).To(ContainSubstring(msg))
		g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
		g.Expect(cond(ds.Status.Conditions, v1alpha1.ReconcilingCondition)).To(BeNil())
		g.Expect(ds.Status.ObservedGeneration).To(Equal(ds.Generation))
		g.Expect(ds.Status.LastRun.Job).To(Equal(bad.Name))
		g.Expect(ds.Status.LastRun.Outcome).To(Equal(v1alpha1.RunFailed))
		g.Expect(ds.Status.LastRun.Message).To(ContainSubstring(msg))
		g.Expect(ds.Status.Sources).To(Equal(wantSources))
		g.Expect(ds.Status.LastSuccessfulTime).To(Equal(lastSuccess))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(runs("Failed")).To(Equal(failed + 1))

	// A Job that failed without a summary: the Job's own reason.
	silent := runNow(t, ds, kindDistrictSource, "silent")
	finishJob(t, silent, false, "")
	silentMsg := "Job " + silent.Name + " failed (BackoffLimitExceeded): Job has reached the specified backoff limit"
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		r := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed)
		g.Expect(r.Message).To(Equal(silentMsg))
		g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// While the next run is in progress, the failure still stands.
	again := runNow(t, ds, kindDistrictSource, "again")
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning)
		r := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed)
		g.Expect(r.Message).To(Equal(silentMsg))
		g.Expect(ds.Status.LastRun.Outcome).To(Equal(v1alpha1.RunRunning))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// The next success clears the failure and makes the DistrictSource Ready again.
	ok.RunID = "r4"
	finishJob(t, again, true, encodeSummary(t, ok))
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
		g.Expect(cond(ds.Status.Conditions, v1alpha1.ReconcilingCondition)).To(BeNil())
		g.Expect(ds.Status.LastRun.RunID).To(Equal("r4"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Each finished run is counted once, however often the DistrictSource is reconciled.
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Annotations["example.test/poke"] = "1" })
	g.Consistently(func() float64 { return runs("Succeeded") }).WithTimeout(time.Second).Should(Equal(succeeded + 2))
	g.Expect(runs("Failed")).To(Equal(failed + 2))
	g.Expect(jobsOf(g, ns, kindDistrictSource, ds.Name)).To(HaveLen(4))
}

// runsTotal reads districtlake_runs_total{kind,outcome} from the running manager's registry.
func runsTotal(t *testing.T, kind, outcome string) float64 {
	t.Helper()
	families, err := env.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "districtlake_runs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestRunNowWaitsForTheActiveJob: a run-now value that arrives while a Job of the resource
// runs (run-now or scheduled) is not handled until that Job ends, so that two runs never
// write one district at once; the Reconciling condition says it waits.
func TestRunNowWaitsForTheActiveJob(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	first := runNow(t, ds, kindDistrictSource, "a")

	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Annotations[v1alpha1.RunNowAnnotation] = "b" })
	g.Eventually(func(g Gomega) {
		d := getDS(g, ns, ds.Name)
		c := cond(d.Status.Conditions, v1alpha1.ReconcilingCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Message).To(Equal(fmt.Sprintf(`Job %s is running; run-now "b" waits for Job %s to end`, first.Name, first.Name)))
		g.Expect(d.Status.LastRunNow).To(Equal("a"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOf(g, ns, kindDistrictSource, ds.Name)).To(HaveLen(1))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// The Job ends: the waiting value starts its Job.
	finishJob(t, first, true, "")
	second := &batchv1.Job{}
	g.Eventually(func() error {
		return env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: runNowJobName(ds.Name, "b")}, second)
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(getDS(g, ns, ds.Name).Status.LastRunNow).To(Equal("b"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	finishJob(t, second, true, "")

	// A scheduled Job (made by the CronJob) that is running holds run-now back the same way.
	cj := &batchv1.CronJob{}
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ds.Name}, cj)).To(Succeed())
	sched := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + "-29000000", Namespace: ns,
			Labels: mergeLabels(cj.Spec.JobTemplate.Labels, map[string]string{LabelTrigger: triggerSched}), Annotations: cj.Spec.JobTemplate.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
	g.Expect(env.c.Create(context.Background(), sched)).To(Succeed())
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Annotations[v1alpha1.RunNowAnnotation] = "c" })
	g.Eventually(func(g Gomega) {
		c := cond(getDS(g, ns, ds.Name).Status.Conditions, v1alpha1.ReconcilingCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Message).To(HaveSuffix(fmt.Sprintf(`run-now "c" waits for Job %s to end`, sched.Name)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: runNowJobName(ds.Name, "c")}, &batchv1.Job{})).NotTo(Succeed())
	finishJob(t, sched, true, "")
	g.Eventually(func() error {
		return env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: runNowJobName(ds.Name, "c")}, &batchv1.Job{})
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestRunNowHoldsTheSchedule: the CronJob's concurrencyPolicy Forbid counts only its own
// Jobs, so while a run-now Job runs the controller suspends the CronJob (before the Job is
// created) and gives it back its spec.suspend once the Job ends: a scheduled run never
// starts beside a run-now run of the same district.
func TestRunNowHoldsTheSchedule(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	suspended := func(g Gomega) bool {
		cj := &batchv1.CronJob{}
		g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: cronJobName(ds.Name)}, cj)).To(Succeed())
		return ptr.Deref(cj.Spec.Suspend, false)
	}
	g.Expect(suspended(g)).To(BeFalse())

	job := runNow(t, ds, kindDistrictSource, "a")
	// The CronJob was suspended before the Job was created.
	g.Expect(suspended(g)).To(BeTrue())
	g.Consistently(suspended).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(BeTrue())

	finishJob(t, job, true, "")
	g.Eventually(suspended).WithTimeout(timeout).WithPolling(poll).Should(BeFalse())

	// A DistrictSource suspended by its spec stays suspended after a run-now Job.
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.Suspend = ptr.To(true) })
	g.Eventually(suspended).WithTimeout(timeout).WithPolling(poll).Should(BeTrue())
	job = runNow(t, ds, kindDistrictSource, "b")
	finishJob(t, job, false, "")
	g.Eventually(func(g Gomega) {
		g.Expect(getDS(g, ns, ds.Name).Status.LastRun).NotTo(BeNil())
		g.Expect(getDS(g, ns, ds.Name).Status.LastRun.Job).To(Equal(job.Name))
		g.Expect(getDS(g, ns, ds.Name).Status.LastRun.Finished()).To(BeTrue())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(suspended).WithTimeout(time.Second).WithPolling(200 * time.Millisecond).Should(BeTrue())
}

// TestRunNowStatusNamesTheNewJob: the status write that records a new run-now value as
// handled also names its Job as the run in progress, even when the cache has not seen the
// Job yet. Before, that write could pair the new value with the previous, finished run and
// Ready=True, and a client waiting for "lastRunNow is my value and the last run succeeded"
// took the previous run for its own (an end-to-end flake after a manager change).
func TestRunNowStatusNamesTheNewJob(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	runNowToEnd(t, ds, "1700000000", true)

	wc, err := client.NewWithWatch(env.cfg, client.Options{Scheme: env.scheme})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	w, err := wc.Watch(ctx, &v1alpha1.DistrictSourceList{}, client.InNamespace(ns))
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()

	const value = "1700000600"
	second := runNowJobName(ds.Name, value)
	runNow(t, ds, kindDistrictSource, value)
	for ev := range w.ResultChan() {
		got, ok := ev.Object.(*v1alpha1.DistrictSource)
		if !ok || got.Name != ds.Name || got.Status.LastRunNow != value {
			continue
		}
		// The first version with the new value handled.
		g.Expect(got.Status.LastRun).NotTo(BeNil())
		g.Expect(got.Status.LastRun.Job).To(Equal(second), "lastRun when lastRunNow first read %q", value)
		g.Expect(got.Status.LastRun.Outcome).To(Equal(v1alpha1.RunRunning))
		c := expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning)
		g.Expect(c.Message).To(ContainSubstring(second))
		return
	}
	t.Fatalf("the watch ended before lastRunNow read %q", value)
}

// TestNewestJob: the Job a status records as the last run is the one created last, also
// when two were created within one second (creationTimestamp counts whole seconds) and
// the later one's hashed name sorts first, as SharedSource run-now values "2" and "3" do.
func TestNewestJob(t *testing.T) {
	second := metav1.NewTime(time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC))
	job := func(value string, created metav1.Time, at string, finished bool) batchv1.Job {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: runNowJobName("crdc-support", value), CreationTimestamp: created}}
		if at != "" {
			j.Annotations = map[string]string{AnnotationCreated: at}
		}
		if finished {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: "True"}}
		}
		return j
	}
	two, three := runNowJobName("crdc-support", "2"), runNowJobName("crdc-support", "3")
	if three > two {
		t.Fatalf("the case needs the later Job's name to sort first: %s, %s", two, three)
	}
	for _, tc := range []struct {
		name string
		jobs []batchv1.Job
		want string
	}{
		{"an earlier second", []batchv1.Job{
			job("3", metav1.NewTime(second.Add(time.Second)), "", true), job("2", second, "", true)}, three},
		{"one second, both finished, by creation annotation", []batchv1.Job{
			job("2", second, "2026-12-03T06:00:00.2Z", true), job("3", second, "2026-12-03T06:00:00.7Z", true)}, three},
		{"one second, the annotation against the name order", []batchv1.Job{
			job("3", second, "2026-12-03T06:00:00.1Z", true), job("2", second, "2026-12-03T06:00:00.6Z", true)}, two},
		{"one second, a scheduled Job without annotation: the unfinished one", []batchv1.Job{
			job("2", second, "", false), job("3", second, "2026-12-03T06:00:00.7Z", true)}, two},
		{"one second, nothing else to go by: the name", []batchv1.Job{
			job("2", second, "", true), job("3", second, "", true)}, two},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newestJob(tc.jobs).Name; got != tc.want {
				t.Errorf("newest Job %s, want %s", got, tc.want)
			}
		})
	}
}
