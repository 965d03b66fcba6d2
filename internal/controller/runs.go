package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

// jobOwnerIndex indexes Jobs by the resource they run for, as "<kind>/<name>".
const jobOwnerIndex = "districtlake.io/job-owner"

// jobOwnerKey is the index key of a Job: a Job has a controller (the CronJob) and carries
// the kind label and the owner annotation that the CronJob's template gives it.
func jobOwnerKey(job *batchv1.Job) (string, bool) {
	kind, owner := job.Labels[LabelKind], job.Annotations[AnnotationOwner]
	if kind == "" || owner == "" || metav1.GetControllerOf(job) == nil {
		return "", false
	}
	return kind + "/" + owner, true
}

// indexJobOwner is the field indexer function of jobOwnerIndex.
func indexJobOwner(obj client.Object) []string {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil
	}
	if key, ok := jobOwnerKey(job); ok {
		return []string{key}
	}
	return nil
}

// reconcileRunNow starts one Job for a run-now annotation value not handled before. The
// Job's name is derived from the value, so a Job that already exists (after a restart or a
// lost status patch) is adopted rather than doubled.
func (r *Runner) reconcileRunNow(ctx context.Context, w *workload, cj *batchv1.CronJob, st runState) error {
	value := w.owner.GetAnnotations()[v1alpha1.RunNowAnnotation]
	if value == "" || value == *st.lastRunNow {
		return nil
	}
	log := logf.FromContext(ctx)
	job := r.runNowJob(w, cj, value)
	err := r.Client.Create(ctx, job)
	switch {
	case err == nil:
		log.Info("Created Job", "job", job.Name, "trigger", triggerRunNow)
		r.Recorder.Eventf(w.owner, job, corev1.EventTypeNormal, "RunNow", "CreateJob",
			"Created Job %s for run-now %q", job.Name, value)
	case apierrors.IsAlreadyExists(err):
		have := &batchv1.Job{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(job), have); err != nil {
			return fmt.Errorf("reading Job %s: %w", job.Name, err)
		}
		if have.Annotations[v1alpha1.RunNowAnnotation] != value || have.Annotations[AnnotationOwner] != w.owner.GetName() {
			return stalled(v1alpha1.ReasonInvalidSpec, "Job %s exists and was not started by run-now %q of this %s", job.Name, value, w.kind)
		}
		log.Info("Adopted Job", "job", job.Name, "trigger", triggerRunNow)
	default:
		return fmt.Errorf("creating Job %s: %w", job.Name, err)
	}
	*st.lastRunNow = value
	return nil
}

// runNowJob is the Job for one run-now value: the CronJob's template, owned by the CronJob
// as `kubectl create job --from=cronjob/...` does, so the CronJob's history limits prune it.
func (r *Runner) runNowJob(w *workload, cj *batchv1.CronJob, value string) *batchv1.Job {
	tmpl := cj.Spec.JobTemplate.DeepCopy()
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        runNowJobName(w.owner.GetName(), value),
			Namespace:   w.owner.GetNamespace(),
			Labels:      mergeLabels(tmpl.Labels, map[string]string{LabelTrigger: triggerRunNow}),
			Annotations: mergeLabels(tmpl.Annotations, map[string]string{v1alpha1.RunNowAnnotation: value}),
		},
		Spec: tmpl.Spec,
	}
	// The CronJob was just read back from the API server, so it has a UID.
	_ = controllerutil.SetControllerReference(cj, job, r.Scheme)
	return job
}

// observeRuns records the newest Job of a workload in status. It returns the name of the
// Job when it is still running. A finished Job is read once: its summary (the termination
// message of its Pod) fills lastRun and, on success, the figures that onSuccess copies.
func (r *Runner) observeRuns(ctx context.Context, w *workload, st runState, onSuccess func(summary.Summary)) (string, error) {
	var jobs batchv1.JobList
	if err := r.Client.List(ctx, &jobs, client.InNamespace(w.owner.GetNamespace()),
		client.MatchingFields{jobOwnerIndex: w.kind + "/" + w.owner.GetName()}); err != nil {
		return "", fmt.Errorf("listing Jobs: %w", err)
	}
	if len(jobs.Items) == 0 {
		return "", nil
	}
	sort.Slice(jobs.Items, func(i, j int) bool {
		a, b := jobs.Items[i].CreationTimestamp, jobs.Items[j].CreationTimestamp
		if a.Equal(&b) {
			return jobs.Items[i].Name < jobs.Items[j].Name
		}
		return a.Before(&b)
	})
	job := &jobs.Items[len(jobs.Items)-1]
	started := job.CreationTimestamp
	if job.Status.StartTime != nil {
		started = *job.Status.StartTime
	}
	if t := *st.lastScheduleTime; t == nil || t.Before(&started) {
		*st.lastScheduleTime = &started
	}
	finished, failed := jobFinished(job)
	lr := *st.lastRun
	if !finished {
		if lr == nil || lr.Job != job.Name {
			*st.lastRun = &v1alpha1.RunStatus{Job: job.Name, Trigger: job.Labels[LabelTrigger],
				Outcome: v1alpha1.RunRunning, StartTime: &started}
		}
		return job.Name, nil
	}
	if lr != nil && lr.Job == job.Name && lr.Outcome != v1alpha1.RunRunning {
		return "", nil // recorded before
	}
	return "", r.recordFinished(ctx, w, st, job, started, failed, onSuccess)
}

// recordFinished reads a finished Job's summary and records it.
func (r *Runner) recordFinished(ctx context.Context, w *workload, st runState, job *batchv1.Job,
	started metav1.Time, failed *batchv1.JobCondition, onSuccess func(summary.Summary)) error {
	sum, found, raw, err := r.readSummary(ctx, job)
	if err != nil {
		return err
	}
	run := &v1alpha1.RunStatus{Job: job.Name, Trigger: job.Labels[LabelTrigger], StartTime: &started,
		RunID: sum.RunID, Message: sum.Message}
	c := r.conditions(w.owner, st)
	log := logf.FromContext(ctx)
	if failed != nil || (found && sum.Outcome == summary.Failed) {
		run.Outcome = v1alpha1.RunFailed
		run.CompletionTime = job.Status.CompletionTime
		if failed != nil {
			run.CompletionTime = ptrTime(failed.LastTransitionTime)
		}
		run.Message = failureMessage(job, failed, sum, found, raw)
		*st.lastRun = run
		c.set(v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonRunFailed, run.Message)
		log.Info("Run failed", "job", job.Name, "message", run.Message)
		r.Recorder.Eventf(w.owner, job, corev1.EventTypeWarning, v1alpha1.ReasonRunFailed, "Run", "%s", run.Message)
		r.Metrics.runFinished(w.kind, string(v1alpha1.RunFailed))
		return nil
	}
	run.Outcome = v1alpha1.RunSucceeded
	done := job.Status.CompletionTime
	if done == nil {
		done = ptrTime(conditionTime(job, batchv1.JobComplete))
	}
	run.CompletionTime = done
	if run.Message == "" {
		run.Message = fmt.Sprintf("Job %s succeeded", job.Name)
	}
	*st.lastRun = run
	*st.lastSuccessfulTime = done
	if found {
		onSuccess(sum)
	}
	if c.runFailed() != nil {
		c.remove(v1alpha1.StalledCondition)
	}
	log.Info("Run succeeded", "job", job.Name, "runID", sum.RunID)
	r.Recorder.Eventf(w.owner, job, corev1.EventTypeNormal, v1alpha1.ReasonSucceeded, "Run", "Job %s succeeded: %s", job.Name, run.Message)
	r.Metrics.runFinished(w.kind, string(v1alpha1.RunSucceeded))
	return nil
}

// jobFinished reports whether a Job has ended; a failed Job also returns its Failed
// condition. It reads the conditions, not status.failed, which counts retried Pods too.
func jobFinished(job *batchv1.Job) (finished bool, failed *batchv1.JobCondition) {
	for i := range job.Status.Conditions {
		c := &job.Status.Conditions[i]
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, nil
		case batchv1.JobFailed:
			return true, c
		}
	}
	return false, nil
}

func conditionTime(job *batchv1.Job, typ batchv1.JobConditionType) metav1.Time {
	for _, c := range job.Status.Conditions {
		if c.Type == typ {
			return c.LastTransitionTime
		}
	}
	return metav1.Time{}
}

func ptrTime(t metav1.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// readSummary finds the termination message of the Job's newest finished run container and
// decodes it. found is false when no Pod holds a summary (raw then holds any
// non-summary message, such as the log tail that FallbackToLogsOnError keeps).
func (r *Runner) readSummary(ctx context.Context, job *batchv1.Job) (sum summary.Summary, found bool, raw string, err error) {
	pods, err := r.jobPods(ctx, job)
	if err != nil {
		return sum, false, "", err
	}
	sort.Slice(pods, func(i, j int) bool {
		return pods[j].CreationTimestamp.Before(&pods[i].CreationTimestamp)
	})
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			t := cs.State.Terminated
			if cs.Name != runContainer || t == nil || t.Message == "" {
				continue
			}
			s, err := summary.Decode(t.Message)
			if err != nil {
				if raw == "" {
					raw = t.Message
				}
				continue
			}
			return s, true, "", nil
		}
	}
	return sum, false, raw, nil
}

// jobPods lists a Job's Pods from the API server (Pods are not cached).
func (r *Runner) jobPods(ctx context.Context, job *batchv1.Job) ([]corev1.Pod, error) {
	for _, label := range []string{jobNameLabel, legacyJobLabel} {
		var pods corev1.PodList
		if err := r.APIReader.List(ctx, &pods, client.InNamespace(job.Namespace),
			client.MatchingLabels{label: job.Name}); err != nil {
			return nil, fmt.Errorf("listing Pods of Job %s: %w", job.Name, err)
		}
		if len(pods.Items) > 0 {
			return pods.Items, nil
		}
	}
	return nil, nil
}

// failureMessage says why a run failed: the run's own message when it wrote a summary, else
// the Job's Failed condition and the end of the container's output.
func failureMessage(job *batchv1.Job, failed *batchv1.JobCondition, sum summary.Summary, found bool, raw string) string {
	if found && sum.Message != "" {
		return fmt.Sprintf("Job %s failed: %s", job.Name, sum.Message)
	}
	msg := fmt.Sprintf("Job %s failed", job.Name)
	if failed != nil && failed.Reason != "" {
		msg += " (" + failed.Reason + ")"
	}
	if failed != nil && failed.Message != "" {
		msg += ": " + failed.Message
	}
	if raw = strings.TrimSpace(raw); raw != "" {
		if len(raw) > 512 {
			raw = "..." + raw[len(raw)-512:]
		}
		msg += "; output: " + raw
	}
	return msg
}

// jobRequests maps a Job event to the resource of the given kind it runs for.
func jobRequests(kind string) func(context.Context, client.Object) []reconcile.Request {
	return func(_ context.Context, obj client.Object) []reconcile.Request {
		job, ok := obj.(*batchv1.Job)
		if !ok || job.Labels[LabelKind] != kind {
			return nil
		}
		owner := job.Annotations[AnnotationOwner]
		if owner == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: job.Namespace, Name: owner}}}
	}
}
