package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/districtlake/districtlake/api/v1alpha1"
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
