package controller

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ownedByJob keeps the Pods whose controller is the Job (by UID). The job-name label alone
// proves nothing: anyone who may create Pods in the namespace can put it on a Pod of
// theirs, with a termination message that claims a run succeeded.
func ownedByJob(pods []corev1.Pod, job *batchv1.Job) []corev1.Pod {
	out := pods[:0:0]
	for _, p := range pods {
		if ref := metav1.GetControllerOf(&p); ref != nil && ref.UID == job.UID && ref.Kind == "Job" {
			out = append(out, p)
		}
	}
	return out
}
