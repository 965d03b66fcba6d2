package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/cronhash"
)

// A resource that names a Kueue LocalQueue gets Jobs that Kueue can admit: labelled with
// the queue and created suspended, scheduled and run-now alike. Without a queue nothing is
// suspended (the other tests' Jobs run as before).
func TestKueueQueueSuspendsJobs(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	g.Eventually(func(g Gomega) {
		cj := getCronJob(g, ns, ds.Name)
		g.Expect(cj.Spec.JobTemplate.Labels).NotTo(HaveKey(v1alpha1.KueueQueueNameLabel))
		g.Expect(cj.Spec.JobTemplate.Spec.Suspend).To(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		ds.Spec.Job = &v1alpha1.JobTemplate{QueueName: "district-runs"}
	})
	g.Eventually(func(g Gomega) {
		cj := getCronJob(g, ns, ds.Name)
		g.Expect(cj.Spec.JobTemplate.Labels).To(HaveKeyWithValue(v1alpha1.KueueQueueNameLabel, "district-runs"))
		g.Expect(cj.Spec.JobTemplate.Spec.Suspend).To(Equal(ptr.To(true)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	job := runNow(t, ds, kindDistrictSource, "queued")
	g.Expect(job.Labels).To(HaveKeyWithValue(v1alpha1.KueueQueueNameLabel, "district-runs"))
	g.Expect(job.Spec.Suspend).To(Equal(ptr.To(true)))
}

// "H 3 * * 1" runs at a minute of 3 a.m. hashed from the DistrictSource's namespace/name:
// the CronJob gets it, status.schedule shows it, and it does not move on a later reconcile.
func TestHashedScheduleSpreadsRuns(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.Schedule = "H 3 * * 1" })
	want, err := cronhash.Expand("H 3 * * 1", ns+"/"+ds.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func(g Gomega) {
		g.Expect(getCronJob(g, ns, ds.Name).Spec.Schedule).To(Equal(want))
		got := getDS(g, ns, ds.Name)
		g.Expect(got.Status.Schedule).To(Equal(want))
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(want).To(MatchRegexp(`^[0-9]+ 3 \* \* 1$`))

	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		if ds.Annotations == nil {
			ds.Annotations = map[string]string{}
		}
		ds.Annotations["example.test/poke"] = "1"
	})
	g.Consistently(func(g Gomega) {
		g.Expect(getCronJob(g, ns, ds.Name).Spec.Schedule).To(Equal(want))
	}).WithTimeout(time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}
