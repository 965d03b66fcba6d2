package controller

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// TestJobImageMustBeAllowed: spec.job.image would run the author's own container with the
// Lake's keys in its environment. Only images in the manager's --allowed-job-images
// (example.test/custom:* here) run; any other stalls the DistrictSource with no CronJob,
// and a CronJob made before the image changed is removed.
func TestJobImageMustBeAllowed(t *testing.T) {
	g := NewWithT(t)
	ns, ds := madison(t)
	g.Eventually(func(g Gomega) { getCronJob(g, ns, ds.Name) }).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		ds.Spec.Job = &v1alpha1.JobTemplate{Image: "evil.example/exfiltrate:1"}
	})
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonImageNotAllowed,
		`spec.job.image: image "evil.example/exfiltrate:1" is not allowed: spec.job.image must match one of the manager's --allowed-job-images (example.test/custom:*)`)
	g.Eventually(func() error {
		return env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ds.Name}, &batchv1.CronJob{})
	}).WithTimeout(timeout).WithPolling(poll).ShouldNot(Succeed(), "the CronJob of a refused image was kept")

	// An allowed image runs.
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.Job.Image = "example.test/custom:2" })
	g.Eventually(func(g Gomega) {
		cj := getCronJob(g, ns, ds.Name)
		g.Expect(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image).To(Equal("example.test/custom:2"))
		g.Expect(cond(getDS(g, ns, ds.Name).Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// The manager's own image needs no spec.job.image at all.
	update(t, ds, func(ds *v1alpha1.DistrictSource) { ds.Spec.Job.Image = "" })
	g.Eventually(func(g Gomega) {
		g.Expect(getCronJob(g, ns, ds.Name).Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image).To(Equal(testImage))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
