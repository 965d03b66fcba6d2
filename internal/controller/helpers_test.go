package controller

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

// finishJob does what the kubelet and the Job controller would: it creates the Job's Pod
// with a terminated run container whose termination message is message (may be empty), and
// marks the Job Complete (ok) or Failed.
func finishJob(t *testing.T, job *batchv1.Job, ok bool, message string) {
	t.Helper()
	ctx := context.Background()
	g := NewWithT(t)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	start := metav1.NewTime(now.Add(-time.Minute))

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name + "-x1", Namespace: job.Namespace,
			Labels: map[string]string{jobNameLabel: job.Name, legacyJobLabel: job.Name},
			// The Job controller makes the Job the Pod's controller.
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))},
		},
		Spec: *job.Spec.Template.Spec.DeepCopy(),
	}
	g.Expect(env.c.Create(ctx, pod)).To(Succeed())
	exit, phase, reason := int32(0), corev1.PodSucceeded, "Completed"
	if !ok {
		exit, phase, reason = 1, corev1.PodFailed, "Error"
	}
	pod.Status = corev1.PodStatus{
		Phase: phase,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: runContainer, Image: testImage, ImageID: "sha256:0000",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exit, Reason: reason, Message: message, StartedAt: start, FinishedAt: now,
			}},
		}},
	}
	g.Expect(env.c.Status().Update(ctx, pod)).To(Succeed())

	g.Eventually(func() error {
		if err := env.c.Get(ctx, client.ObjectKeyFromObject(job), job); err != nil {
			return err
		}
		job.Status.StartTime = &start
		if ok {
			job.Status.CompletionTime = &now
			job.Status.Succeeded = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached, LastProbeTime: now, LastTransitionTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached, LastProbeTime: now, LastTransitionTime: now},
			}
		} else {
			job.Status.Failed = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonBackoffLimitExceeded, Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonBackoffLimitExceeded, Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now},
			}
		}
		return env.c.Status().Update(ctx, job)
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func encodeSummary(t *testing.T, s summary.Summary) string {
	t.Helper()
	b, err := summary.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runNow sets the run-now annotation and returns the one Job that it starts.
func runNow(t *testing.T, obj client.Object, kind, value string) *batchv1.Job {
	t.Helper()
	update(t, obj, func(o client.Object) {
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a["districtlake.io/run-now"] = value
		o.SetAnnotations(a)
	})
	job := &batchv1.Job{}
	name := runNowJobName(obj.GetName(), value)
	NewWithT(t).Eventually(func() error {
		return env.c.Get(context.Background(), client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}, job)
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	return job
}

// runNowToEnd starts a run-now Job of the DistrictSource, finishes it (succeeded when ok)
// and waits until status records it as the last run.
func runNowToEnd(t *testing.T, ds *v1alpha1.DistrictSource, value string, ok bool) *batchv1.Job {
	t.Helper()
	job := runNow(t, ds, kindDistrictSource, value)
	finishJob(t, job, ok, "")
	outcome := v1alpha1.RunFailed
	if ok {
		outcome = v1alpha1.RunSucceeded
	}
	NewWithT(t).Eventually(func(g Gomega) {
		lr := getDS(g, ds.Namespace, ds.Name).Status.LastRun
		g.Expect(lr).NotTo(BeNil())
		g.Expect(lr.Job).To(Equal(job.Name))
		g.Expect(lr.Outcome).To(Equal(outcome))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	return job
}
