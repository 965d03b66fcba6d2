package controller

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// reconcilePlan writes the owned ConfigMap holding the run plan.
func (r *Runner) reconcilePlan(ctx context.Context, w *workload) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name:      planConfigMapName(w.owner.GetName()),
		Namespace: w.owner.GetNamespace(),
	}}
	res, err := r.createOrPatch(ctx, cm, func() error {
		cm.Labels = mergeLabels(cm.Labels, w.labels())
		cm.Data = map[string]string{planKey: string(w.plan)}
		cm.BinaryData = nil
		return controllerutil.SetControllerReference(w.owner, cm, r.Scheme)
	})
	if err != nil {
		return fmt.Errorf("writing ConfigMap %s: %w", cm.Name, err)
	}
	logResult(ctx, res, "ConfigMap", cm.Name)
	return nil
}

// reconcileCronJob writes the owned CronJob and returns it as written.
func (r *Runner) reconcileCronJob(ctx context.Context, w *workload, hold string) (*batchv1.CronJob, error) {
	desired := r.desiredCronJob(w)
	if hold != "" {
		desired.Spec.Suspend = ptr.To(true)
	}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: desired.Name, Namespace: desired.Namespace}}
	res, err := r.createOrPatch(ctx, cj, func() error {
		cj.Labels = mergeLabels(cj.Labels, desired.Labels)
		cj.Spec = desired.Spec
		return controllerutil.SetControllerReference(w.owner, cj, r.Scheme)
	})
	if err != nil {
		return nil, fmt.Errorf("writing CronJob %s: %w", cj.Name, err)
	}
	logResult(ctx, res, "CronJob", cj.Name)
	if res == controllerutil.OperationResultUpdated && hold != "" {
		logf.FromContext(ctx).Info("Held the schedule while a run-now Job runs", "cronJob", cj.Name, "heldFor", hold)
	}
	return cj, nil
}

// createOrPatch is controllerutil.CreateOrPatch through the cache. When the create finds the
// object already there, the cache has not yet seen a child written by an earlier reconcile:
// it is read again from the API server and patched, instead of failing the reconcile and
// waiting out the retry backoff.
func (r *Runner) createOrPatch(ctx context.Context, obj client.Object, mutate controllerutil.MutateFn) (controllerutil.OperationResult, error) {
	res, err := controllerutil.CreateOrPatch(ctx, r.Client, obj, mutate)
	if !apierrors.IsAlreadyExists(err) || r.APIReader == nil {
		return res, err
	}
	return controllerutil.CreateOrPatch(ctx, liveReads{Client: r.Client, reader: r.APIReader}, obj, mutate)
}

// liveReads is a client whose Get goes to the API server rather than the cache.
type liveReads struct {
	client.Client
	reader client.Reader
}

func (l liveReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return l.reader.Get(ctx, key, obj, opts...)
}

func logResult(ctx context.Context, res controllerutil.OperationResult, kind, name string) {
	switch res {
	case controllerutil.OperationResultCreated:
		logf.FromContext(ctx).Info("Created "+kind, "name", name)
	case controllerutil.OperationResultUpdated:
		logf.FromContext(ctx).Info("Updated "+kind, "name", name)
	}
}

func mergeLabels(have, want map[string]string) map[string]string {
	if have == nil {
		have = map[string]string{}
	}
	for k, v := range want {
		have[k] = v
	}
	return have
}

// desiredCronJob is the CronJob of a workload. Fields the API server would default are set
// to their defaults, so that an unchanged spec patches nothing.
func (r *Runner) desiredCronJob(w *workload) *batchv1.CronJob {
	s := w.schedule
	var tz *string
	if s.TimeZone != nil && *s.TimeZone != "" {
		tz = ptr.To(*s.TimeZone)
	}
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{
			Name:      cronJobName(w.owner.GetName()),
			Namespace: w.owner.GetNamespace(),
			Labels:    w.labels(),
		},
		Spec: batchv1.CronJobSpec{
			Schedule:                   s.Schedule,
			TimeZone:                   tz,
			Suspend:                    ptr.To(ptr.Deref(s.Suspend, false)),
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr.To(ptr.Deref(s.SuccessfulJobsHistoryLimit, 3)),
			FailedJobsHistoryLimit:     ptr.To(ptr.Deref(s.FailedJobsHistoryLimit, 1)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      mergeLabels(w.labels(), r.queueLabels(w)),
					Annotations: map[string]string{AnnotationOwner: w.owner.GetName()},
				},
				Spec: r.jobSpec(w),
			},
		},
	}
}

// jobSpec is the Job that runs `districtlake <command> --plan <planPath>`: non-root, with a
// read-only root filesystem, no capabilities, the RuntimeDefault seccomp profile and
// credentials only as environment variables from Secrets.
func (r *Runner) jobSpec(w *workload) batchv1.JobSpec {
	jt := w.job
	if jt == nil {
		jt = &v1alpha1.JobTemplate{}
	}
	image := r.JobImage
	if jt.Image != "" {
		image = jt.Image
	}
	pull := r.JobImagePullPolicy
	if pull == "" {
		pull = corev1.PullIfNotPresent
	}
	container := corev1.Container{
		Name:                     runContainer,
		Image:                    image,
		ImagePullPolicy:          pull,
		Args:                     []string{w.command, "--plan", planPath},
		Env:                      jobEnv(w),
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			ReadOnlyRootFilesystem:   ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "tmp", MountPath: "/tmp"},
			{Name: "plan", MountPath: planDir, ReadOnly: true},
		},
	}
	container.Resources = *r.JobResources.DeepCopy()
	if jt.Resources != nil {
		container.Resources = *jt.Resources.DeepCopy()
	}
	tmp := &corev1.EmptyDirVolumeSource{}
	if r.JobTmpSizeLimit != nil {
		tmp.SizeLimit = ptr.To(r.JobTmpSizeLimit.DeepCopy())
	}
	volumes := []corev1.Volume{
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: tmp}},
		configMapVolume("plan", planConfigMapName(w.owner.GetName()), planKey, planKey),
	}
	for _, f := range w.configMaps {
		name := volumeName(f.Volume)
		volumes = append(volumes, configMapVolume(name, f.ConfigMap, f.Key, f.File))
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: f.Dir, ReadOnly: true})
	}
	var suspend *bool
	if r.queueName(w) != "" {
		// Kueue starts the Job when its ClusterQueue admits it.
		suspend = ptr.To(true)
	}
	return batchv1.JobSpec{
		Suspend:               suspend,
		BackoffLimit:          ptr.To(ptr.Deref(jt.BackoffLimit, 0)),
		ActiveDeadlineSeconds: jt.ActiveDeadlineSeconds,
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: w.labels()},
			Spec: corev1.PodSpec{
				RestartPolicy:                 corev1.RestartPolicyNever,
				AutomountServiceAccountToken:  ptr.To(false),
				TerminationGracePeriodSeconds: ptr.To[int64](corev1.DefaultTerminationGracePeriodSeconds),
				DNSPolicy:                     corev1.DNSClusterFirst,
				SchedulerName:                 corev1.DefaultSchedulerName,
				SecurityContext: &corev1.PodSecurityContext{
					RunAsNonRoot:   ptr.To(true),
					RunAsUser:      ptr.To[int64](65532),
					RunAsGroup:     ptr.To[int64](65532),
					FSGroup:        ptr.To[int64](65532),
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				},
				Containers: []corev1.Container{container},
				Volumes:    volumes,
			},
		},
	}
}

// queueName is the Kueue LocalQueue of a workload's Jobs, empty for none.
func (r *Runner) queueName(w *workload) string {
	if w.job != nil && w.job.QueueName != "" {
		return w.job.QueueName
	}
	return r.JobQueueName
}

// queueLabels are the labels of a workload's scheduled Jobs: the trigger and, with a
// queue, Kueue's queue-name label.
func (r *Runner) queueLabels(w *workload) map[string]string {
	l := map[string]string{LabelTrigger: triggerSched}
	if q := r.queueName(w); q != "" {
		l[v1alpha1.KueueQueueNameLabel] = q
	}
	return l
}

// jobEnv passes each Secret key the plan needs as an environment variable read from the
// Secret: the value itself never appears in the Job.
func jobEnv(w *workload) []corev1.EnvVar {
	env := []corev1.EnvVar{{
		Name: "DISTRICTLAKE_JOB_NAME",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1", FieldPath: "metadata.labels['" + jobNameLabel + "']",
		}},
	}}
	for _, s := range w.secrets {
		env = append(env, corev1.EnvVar{
			Name: s.Env,
			ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: s.Secret},
				Key:                  s.Key,
			}},
		})
	}
	return env
}

func configMapVolume(name, configMap, key, file string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
		Items:                []corev1.KeyToPath{{Key: key, Path: file}},
		DefaultMode:          ptr.To(corev1.ConfigMapVolumeSourceDefaultMode),
	}}}
}
