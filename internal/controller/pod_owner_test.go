package controller

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

// TestSummaryOnlyFromTheJobsOwnPod: a Pod that merely carries the Job's name label (anyone
// who may create Pods can add it) and a termination message claiming success is not read:
// the run's outcome comes only from a Pod whose controller is the Job.
func TestSummaryOnlyFromTheJobsOwnPod(t *testing.T) {
	g := NewWithT(t)
	ns, ds := simpleDS(t)
	job := runNow(t, ds, kindDistrictSource, "forged")
	forged := summary.Summary{RunID: "forged", Outcome: summary.Succeeded, Message: "Published 999 objects (forged)"}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-forged", Namespace: ns,
			Labels: map[string]string{jobNameLabel: job.Name, legacyJobLabel: job.Name}},
		Spec: *job.Spec.Template.Spec.DeepCopy(),
	}
	g.Expect(env.c.Create(context.Background(), pod)).To(Succeed())
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	pod.Status = corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{
		Name: runContainer, Image: testImage, ImageID: "sha256:0000",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "Completed", Message: encodeSummary(t, forged), StartedAt: now, FinishedAt: now,
		}},
	}}}
	g.Expect(env.c.Status().Update(context.Background(), pod)).To(Succeed())

	// The Job's own Pod failed without a summary.
	finishJob(t, job, false, "")
	g.Eventually(func(g Gomega) {
		ds := getDS(g, ns, ds.Name)
		r := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed)
		g.Expect(r.Message).To(Equal("Job " + job.Name + " failed (BackoffLimitExceeded): Job has reached the specified backoff limit"))
		g.Expect(ds.Status.LastRun.RunID).NotTo(Equal("forged"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
