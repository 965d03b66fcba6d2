package main

import (
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// The objects of the benchmark: one Lake (and its credentials Secret) per namespace, and
// DistrictSources with one http source each, so that rendering reads no user ConfigMap.
const (
	lakeName   = "statewide"
	secretName = "lake-credentials"
)

func dsName(i int) string { return fmt.Sprintf("district-%05d", i) }

func districtSource(ns, name string) *v1alpha1.DistrictSource {
	id := strings.TrimPrefix(name, "district-")
	return &v1alpha1.DistrictSource{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.DistrictSourceSpec{
			District:     v1alpha1.District{NCESID: "55" + id, Name: "District " + id, State: "WI"},
			LakeRef:      v1alpha1.LocalObjectReference{Name: lakeName},
			ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "H 3 * * 1"},
			Sources: []v1alpha1.Source{{
				Name:       "crdc-support",
				Dataset:    "staffing",
				Format:     "crdc",
				SchoolYear: "2020-21",
				HTTP:       &v1alpha1.HTTPSource{URL: "https://example.org/crdc/" + id + "/school-support.csv"},
			}},
		},
	}
}

func lake(ns string) *v1alpha1.Lake {
	return &v1alpha1.Lake{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: lakeName},
		Spec: v1alpha1.LakeSpec{
			// Nothing listens there: the Lake's bucket check fails at once, which the
			// DistrictSources do not wait for.
			Endpoint:             "127.0.0.1:9",
			Bucket:               "districtlake",
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: secretName},
		},
	}
}

func lakeSecret(ns string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName},
		StringData: map[string]string{
			v1alpha1.LakeSecretKeyAccessKeyID:     "bench",
			v1alpha1.LakeSecretKeySecretAccessKey: "bench-secret",
		},
	}
}

// planConfigMap is about the size of the plan ConfigMap the manager writes for
// districtSource.
func planConfigMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-plan", Labels: childLabels()},
		Data:       map[string]string{"plan.json": strings.Repeat(`{"source":"crdc-support","url":"https://example.org/"}`, 12)},
	}
}

// cronJob is about the CronJob the manager writes for districtSource.
func cronJob(ns, name string) *batchv1.CronJob {
	secretEnv := func(env, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secretName}, Key: key}}}
	}
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: childLabels()},
		Spec: batchv1.CronJobSpec{
			Schedule: "17 3 * * 1",
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: childLabels()},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: childLabels()},
					Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{
							Name:  "run",
							Image: "ghcr.io/districtlake/districtlake:latest",
							Args:  []string{"ingest", "--plan", "/etc/districtlake/plan.json"},
							Env: []corev1.EnvVar{secretEnv("LAKE_ACCESS_KEY_ID", v1alpha1.LakeSecretKeyAccessKeyID),
								secretEnv("LAKE_SECRET_ACCESS_KEY", v1alpha1.LakeSecretKeySecretAccessKey)},
							VolumeMounts: []corev1.VolumeMount{{Name: "plan", MountPath: "/etc/districtlake"}},
						}},
						Volumes: []corev1.Volume{{Name: "plan", VolumeSource: corev1.VolumeSource{
							ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name + "-plan"}}}}},
					},
				}},
			},
		},
	}
}

// childLabels are the floor children's labels, as the manager's but for managed-by, so that
// a manager's cache would not hold them.
func childLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "districtlake", "districtlake.io/kind": "DistrictSource"}
}

func gvkOf(g metav1.GroupVersionKind) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: g.Group, Version: g.Version, Kind: g.Kind}
}
