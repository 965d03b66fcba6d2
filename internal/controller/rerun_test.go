package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/status"
	"github.com/districtlake/districtlake/internal/summary"
)

// rerunJobs lists, from the API server, the re-run Jobs of the namespace's districts.
func rerunJobs(g Gomega, ns string) []batchv1.Job {
	var list batchv1.JobList
	g.Expect(env.c.List(context.Background(), &list, client.InNamespace(ns),
		client.MatchingLabels{LabelKind: kindDistrictSource, LabelTrigger: triggerRerun})).To(Succeed())
	return list.Items
}

// unfinished are the Jobs that have not ended.
func unfinished(jobs []batchv1.Job) []batchv1.Job {
	var out []batchv1.Job
	for _, j := range jobs {
		if done, _ := status.JobFinished(&j); !done {
			out = append(out, j)
		}
	}
	return out
}

// TestSharedSourceRerunDistricts: with rerunDistricts enabled, a new revision runs each
// district that reads it once, never more than maxConcurrentJobs at once, the others
// waiting for a slot; the revision each ran on is kept in its status, so a manager restart
// starts nothing again; the next revision runs them once more. Districts of a SharedSource
// without the opt-in run nothing.
func TestSharedSourceRerunDistricts(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	const districts, limit = 5, 2
	shs := sharedSource(ns, "crdc-support", func(s *v1alpha1.SharedSource) {
		s.Spec.RerunDistricts = &v1alpha1.RerunDistricts{Enabled: true, MaxConcurrentJobs: ptr.To[int32](limit)}
	})
	plain := sharedSource(ns, "crdc-plain", nil)
	create(t, shs, plain)
	var names []string
	for i := range districts {
		ds := sharedDS(ns, fmt.Sprintf("wi-55000%02d", i), shs.Name)
		ds.Spec.District.NCESID = fmt.Sprintf("55000%02d", i)
		create(t, ds)
		names = append(names, ds.Name)
	}
	other := sharedDS(ns, "wi-5509999", plain.Name)
	other.Spec.District.NCESID = "5509999"
	create(t, other)

	// Without the opt-in, a landed revision starts nothing.
	landed(t, plain, "1", "cccccccccccccccc", land.LayoutStateFile)
	g.Eventually(func(g Gomega) {
		_, p := getPlan(g, ns, other.Name)
		g.Expect(p.Sources[0].Landed.Revision).To(Equal("cccccccccccccccc"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// runRevision lands rev and finishes the re-run Jobs as they start, checking that no
	// more than limit run at once and that each district runs once.
	runRevision := func(rev string, before int, names []string) {
		t.Helper()
		districts := len(names)
		finished := map[string]bool{}
		deadline := time.Now().Add(2 * timeout)
		for len(finished) < districts {
			if time.Now().After(deadline) {
				t.Fatalf("revision %s: %d of %d districts re-ran", rev, len(finished), districts)
			}
			jobs := rerunJobs(g, ns)
			g.Expect(len(jobs)).To(BeNumerically("<=", before+districts), "more re-run Jobs than districts")
			running := unfinished(jobs)
			g.Expect(len(running)).To(BeNumerically("<=", limit), "re-run Jobs running at once")
			if len(running) < limit && len(finished)+len(running) < districts {
				time.Sleep(poll) // the controller has a slot to fill
				continue
			}
			for i := range running {
				job := &running[i]
				g.Expect(job.Annotations[AnnotationRerunRevisions]).To(Equal(shs.Name + "=" + rev))
				owner := job.Annotations[AnnotationOwner]
				g.Expect(finished).NotTo(HaveKey(owner), "district %s re-ran twice on %s", owner, rev)
				finished[owner] = true
				finishJob(t, job, true, encodeSummary(t, summary.Summary{Outcome: summary.Succeeded, Message: "re-ran on " + rev}))
			}
		}
		g.Eventually(func(g Gomega) {
			for _, name := range names {
				got := getDS(g, ns, name)
				g.Expect(got.Status.SharedRevisions).To(HaveLen(1))
				g.Expect(got.Status.SharedRevisions[0].Name).To(Equal(shs.Name))
				g.Expect(got.Status.SharedRevisions[0].Revision).To(Equal(rev))
			}
		}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	}

	// A first revision: every district runs once, at most two at once; while two run, the
	// others say they wait for a slot.
	landed(t, shs, "1", "aaaaaaaaaaaaaaaa", land.LayoutStateFile)
	g.Eventually(func(g Gomega) {
		g.Expect(unfinished(rerunJobs(g, ns))).To(HaveLen(limit))
		waiting := 0
		for _, name := range names {
			c := cond(getDS(g, ns, name).Status.Conditions, v1alpha1.ReconcilingCondition)
			if c != nil && c.Status == metav1.ConditionTrue && c.Message ==
				"re-run on SharedSource crdc-support revision aaaaaaaaaaaaaaaa waits for a slot: 2 re-run Jobs of SharedSource crdc-support are running (maxConcurrentJobs 2)" {
				waiting++
			}
		}
		g.Expect(waiting).To(Equal(districts - limit))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(len(unfinished(rerunJobs(g, ns)))).To(BeNumerically("<=", limit))
	}).WithTimeout(time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	runRevision("aaaaaaaaaaaaaaaa", 0, names)

	// A manager restart starts nothing again: the status says every district ran on it.
	env.stopManager()
	g.Expect(env.startManager()).To(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(rerunJobs(g, ns)).To(HaveLen(districts))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// A corrected release: each district runs once more.
	landed(t, shs, "2", "bbbbbbbbbbbbbbbb", land.LayoutStateFile)
	runRevision("bbbbbbbbbbbbbbbb", districts, names)
	g.Expect(rerunJobs(g, ns)).To(HaveLen(2 * districts))

	// A district suspended when a revision lands is not re-run; run by hand (run-now), it
	// reads the new revision and that counts as its run on it: resuming it starts nothing.
	held := &v1alpha1.DistrictSource{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: names[0]}}
	update(t, held, func(d *v1alpha1.DistrictSource) { d.Spec.Suspend = ptr.To(true) })
	g.Eventually(func(g Gomega) {
		got := getDS(g, ns, held.Name)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	landed(t, shs, "3", "dddddddddddddddd", land.LayoutStateFile)
	runRevision("dddddddddddddddd", 2*districts, names[1:])
	g.Expect(rerunJobs(g, ns)).To(HaveLen(3*districts - 1))
	byHand := runNow(t, held, kindDistrictSource, "by-hand")
	g.Eventually(func(g Gomega) {
		got := getDS(g, ns, held.Name).Status.SharedRevisions
		g.Expect(got).To(HaveLen(1))
		g.Expect(got[0].Revision).To(Equal("dddddddddddddddd"))
		g.Expect(got[0].Job).To(Equal(byHand.Name))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	finishJob(t, byHand, true, encodeSummary(t, summary.Summary{Outcome: summary.Succeeded, Message: "ran by hand"}))
	update(t, held, func(d *v1alpha1.DistrictSource) { d.Spec.Suspend = nil })
	g.Consistently(func(g Gomega) {
		g.Expect(rerunJobs(g, ns)).To(HaveLen(3*districts - 1))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// The district without the opt-in never ran; events say what happened.
	g.Expect(jobsOf(g, ns, kindDistrictSource, other.Name)).To(BeEmpty())
	var events corev1.EventList
	g.Eventually(func(g Gomega) {
		g.Expect(env.c.List(ctx, &events, client.InNamespace(ns))).To(Succeed())
		reasons := map[string]int{}
		for _, e := range events.Items {
			reasons[e.InvolvedObject.Kind+"/"+e.Reason]++
			g.Expect(e.Message).NotTo(ContainSubstring(secretAccessKeyValue))
		}
		g.Expect(reasons["SharedSource/RerunDistricts"]).To(BeNumerically(">=", 2))
		g.Expect(reasons["DistrictSource/Rerun"]).To(BeNumerically(">=", 2*districts))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
