package controller

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

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
	"github.com/districtlake/districtlake/internal/status"
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
// lost status patch) is adopted rather than doubled. While another Job of the workload
// (scheduled or run-now) is active the value waits: nothing is created, the value is not
// recorded as handled, and waiting says why (the Job's end wakes the workload again).
func (r *Runner) reconcileRunNow(ctx context.Context, w *workload, cj *batchv1.CronJob, st *v1alpha1.WorkloadStatus) (waiting string, err error) {
	value := w.owner.GetAnnotations()[v1alpha1.RunNowAnnotation]
	if value == "" || value == st.LastRunNow {
		return "", nil
	}
	active, err := r.activeJob(ctx, w, runNowJobName(w.owner.GetName(), value))
	if err != nil {
		return "", err
	}
	if active != "" {
		logf.FromContext(ctx).Info("Delayed run-now while a Job runs", "job", active, "runNow", value)
		return fmt.Sprintf("run-now %q waits for Job %s to end", value, active), nil
	}
	return "", r.startRunNow(ctx, w, cj, st, value)
}

// holdSchedule says whether the workload's CronJob must be suspended so that a scheduled
// run cannot start beside a run-now Job: the CronJob's concurrencyPolicy Forbid counts only
// the Jobs it made itself. It returns what holds the schedule (a run-now Job that has not
// finished, or a run-now value not yet started, which suspends the CronJob before its Job
// is created), empty when nothing does; the CronJob takes spec.suspend again once the
// run-now Job ends (its end wakes the workload). A scheduled time missed meanwhile is
// started by the CronJob controller when the schedule resumes, after the run-now Job.
func (r *Runner) holdSchedule(ctx context.Context, w *workload, st *v1alpha1.WorkloadStatus) (string, error) {
	if value := w.owner.GetAnnotations()[v1alpha1.RunNowAnnotation]; value != "" && value != st.LastRunNow {
		return fmt.Sprintf("run-now %q", value), nil
	}
	if st.LastRunNow == "" {
		return "", nil // no run-now Job was ever started: nothing to read
	}
	// The cache, through the owner index: no request per reconcile at national scale.
	var jobs batchv1.JobList
	if err := r.Client.List(ctx, &jobs, client.InNamespace(w.owner.GetNamespace()),
		client.MatchingFields{jobOwnerIndex: w.kind + "/" + w.owner.GetName()}); err != nil {
		return "", fmt.Errorf("listing Jobs: %w", err)
	}
	last := runNowJobName(w.owner.GetName(), st.LastRunNow)
	seen := false
	for i := range jobs.Items {
		job := &jobs.Items[i]
		seen = seen || job.Name == last
		if job.Labels[LabelTrigger] == triggerRunNow && jobActive(job) {
			return "Job " + job.Name, nil
		}
	}
	if seen {
		return "", nil
	}
	// The last run-now Job may have been created a moment ago and not be cached yet.
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: w.owner.GetNamespace(), Name: last}, job)
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("reading Job %s: %w", last, err)
	}
	if jobActive(job) {
		return "Job " + job.Name, nil
	}
	return "", nil
}

// jobActive says whether a Job still runs or waits to: not finished, not being deleted.
func jobActive(job *batchv1.Job) bool {
	finished, _ := status.JobFinished(job)
	return !finished && job.DeletionTimestamp.IsZero()
}

// activeJob names an unfinished Job of the workload other than except, read from the API
// server (a Job created a moment ago may not be in the cache yet); empty when there is none.
func (r *Runner) activeJob(ctx context.Context, w *workload, except string) (string, error) {
	var jobs batchv1.JobList
	if err := r.APIReader.List(ctx, &jobs, client.InNamespace(w.owner.GetNamespace()),
		client.MatchingLabels{LabelManagedBy: managedBy, LabelKind: w.kind}); err != nil {
		return "", fmt.Errorf("listing Jobs: %w", err)
	}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		if job.Name != except && job.Annotations[AnnotationOwner] == w.owner.GetName() && jobActive(job) {
			return job.Name, nil
		}
	}
	return "", nil
}

// startRunNow creates (or adopts) the Job of run-now value and records the value as handled.
func (r *Runner) startRunNow(ctx context.Context, w *workload, cj *batchv1.CronJob, st *v1alpha1.WorkloadStatus, value string) error {
	job := r.jobFromCronJob(w, cj, runNowJobName(w.owner.GetName(), value), triggerRunNow,
		map[string]string{v1alpha1.RunNowAnnotation: value})
	created, err := r.createOrAdoptJob(ctx, w, job, v1alpha1.RunNowAnnotation, fmt.Sprintf("run-now %q", value))
	if err != nil {
		return err
	}
	if created {
		r.Recorder.Eventf(w.owner, job, corev1.EventTypeNormal, "RunNow", "CreateJob",
			"Created Job %s for run-now %q", job.Name, value)
	}
	st.LastRunNow = value
	if w.rerun != nil {
		// The Job reads the plan just written: it runs on the revisions the plan names.
		w.rerun.ran(w.rerun.reads, job.Name, r.now())
	}
	return nil
}

// createOrAdoptJob creates job, or adopts the Job of its name when one exists that was
// started for the same reason: the same owner and the same value of the annotation key
// (after a restart or a lost status patch). A Job of that name started for anything else
// stalls the workload; why describes the reason in that message.
func (r *Runner) createOrAdoptJob(ctx context.Context, w *workload, job *batchv1.Job, key, why string) (created bool, err error) {
	log := logf.FromContext(ctx)
	trigger := job.Labels[LabelTrigger]
	err = r.Client.Create(ctx, job)
	switch {
	case err == nil:
		log.Info("Created Job", "job", job.Name, "trigger", trigger)
		w.created = job
		return true, nil
	case apierrors.IsAlreadyExists(err):
		have := &batchv1.Job{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(job), have); err != nil {
			return false, fmt.Errorf("reading Job %s: %w", job.Name, err)
		}
		if have.Annotations[key] != job.Annotations[key] || have.Annotations[AnnotationOwner] != w.owner.GetName() {
			return false, stalled(v1alpha1.ReasonInvalidSpec, "Job %s exists and was not started by %s of this %s", job.Name, why, w.kind)
		}
		log.Info("Adopted Job", "job", job.Name, "trigger", trigger)
		return false, nil
	default:
		return false, fmt.Errorf("creating Job %s: %w", job.Name, err)
	}
}

// jobFromCronJob is a Job started outside the schedule (run-now, re-run): the CronJob's
// template with the trigger label and the given annotations, owned by the CronJob as
// `kubectl create job --from=cronjob/...` does, so the CronJob's history limits prune it.
func (r *Runner) jobFromCronJob(w *workload, cj *batchv1.CronJob, name, trigger string, annotations map[string]string) *batchv1.Job {
	tmpl := cj.Spec.JobTemplate.DeepCopy()
	// The wall clock, not r.Clock: this orders Jobs (see newestJob), so it must move on
	// between two creations, as a clock stamping conditions need not.
	created := map[string]string{AnnotationCreated: time.Now().UTC().Format(time.RFC3339Nano)}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   w.owner.GetNamespace(),
			Labels:      mergeLabels(tmpl.Labels, map[string]string{LabelTrigger: trigger}),
			Annotations: mergeLabels(mergeLabels(tmpl.Annotations, annotations), created),
		},
		Spec: tmpl.Spec,
	}
	// The CronJob was just read back from the API server, so it has a UID.
	_ = controllerutil.SetControllerReference(cj, job, r.Scheme)
	return job
}

// observeRuns records the newest Job of a workload in st. It returns the name of the Job
// when it is still running. A finished Job is read once: its summary (the termination
// message of its Pod) fills lastRun and, on success, the figures that onSuccess copies.
func (r *Runner) observeRuns(ctx context.Context, w *workload, st *v1alpha1.WorkloadStatus, onSuccess func(summary.Summary)) (string, error) {
	var jobs batchv1.JobList
	if err := r.Client.List(ctx, &jobs, client.InNamespace(w.owner.GetNamespace()),
		client.MatchingFields{jobOwnerIndex: w.kind + "/" + w.owner.GetName()}); err != nil {
		return "", fmt.Errorf("listing Jobs: %w", err)
	}
	if w.created != nil && !slices.ContainsFunc(jobs.Items, func(j batchv1.Job) bool { return j.Name == w.created.Name }) {
		// Created by this reconcile and not cached yet: without it, the status written now
		// would pair the new run-now value with the previous, finished run.
		jobs.Items = append(jobs.Items, *w.created)
	}
	if len(jobs.Items) == 0 {
		return "", nil
	}
	job := newestJob(jobs.Items)
	started := job.CreationTimestamp
	if job.Status.StartTime != nil {
		started = *job.Status.StartTime
	}
	if t := st.LastScheduleTime; t == nil || t.Before(&started) {
		st.LastScheduleTime = &started
	}
	lr := st.LastRun
	if finished, _ := status.JobFinished(job); !finished {
		if lr == nil || lr.Job != job.Name {
			st.LastRun = &v1alpha1.RunStatus{Job: job.Name, Trigger: job.Labels[LabelTrigger],
				Outcome: v1alpha1.RunRunning, StartTime: &started}
		}
		return job.Name, nil
	}
	if lr != nil && lr.Job == job.Name && lr.Finished() {
		return "", nil // recorded before
	}
	return "", r.recordFinished(ctx, w, st, job, started, onSuccess)
}

// newestJob is the Job of one resource created last. The creationTimestamp counts whole
// seconds, and two Jobs of a resource can be created within one (a run-now Job that
// ends at once and the next one): then the manager's creation annotation decides, and
// failing that (a scheduled Job has none) an unfinished Job is the newer, since the Jobs
// of one resource never run side by side. The name decides last, so the choice is stable.
func newestJob(jobs []batchv1.Job) *batchv1.Job {
	newest := &jobs[0]
	for i := range jobs[1:] {
		if jobBefore(newest, &jobs[i+1]) {
			newest = &jobs[i+1]
		}
	}
	return newest
}

// jobBefore says whether Job a was created before Job b (see newestJob).
func jobBefore(a, b *batchv1.Job) bool {
	if ta, tb := a.CreationTimestamp, b.CreationTimestamp; !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	ca, errA := time.Parse(time.RFC3339Nano, a.Annotations[AnnotationCreated])
	cb, errB := time.Parse(time.RFC3339Nano, b.Annotations[AnnotationCreated])
	if errA == nil && errB == nil && !ca.Equal(cb) {
		return ca.Before(cb)
	}
	if fa, fb := jobActive(a), jobActive(b); fa != fb {
		return fb
	}
	return a.Name < b.Name
}

// recordFinished reads a finished Job's summary and records its run in st; the conditions
// follow from lastRun when the reconcile is summarised.
func (r *Runner) recordFinished(ctx context.Context, w *workload, st *v1alpha1.WorkloadStatus, job *batchv1.Job,
	started metav1.Time, onSuccess func(summary.Summary)) error {
	sum, found, raw, err := r.readSummary(ctx, job)
	if err != nil {
		return err
	}
	run := status.FinishedJob{Job: job, Trigger: job.Labels[LabelTrigger], Started: started,
		Summary: sum, Found: found, Raw: raw}.Run()
	st.LastRun = &run
	if run.Outcome != v1alpha1.RunFailed {
		st.LastSuccessfulTime = run.CompletionTime
		if found {
			onSuccess(sum)
		}
	}
	if !r.Metrics.firstFinish(w.owner.GetUID(), job.UID) {
		return nil // logged, evented and counted by an earlier reconcile
	}
	log := logf.FromContext(ctx)
	if run.Outcome == v1alpha1.RunFailed {
		log.Info("Run failed", "job", job.Name, "message", run.Message)
		r.Recorder.Eventf(w.owner, job, corev1.EventTypeWarning, v1alpha1.ReasonRunFailed, "Run", "%s", run.Message)
		r.Metrics.runFinished(w.kind, string(v1alpha1.RunFailed))
		return nil
	}
	log.Info("Run succeeded", "job", job.Name, "runID", sum.RunID)
	r.Recorder.Eventf(w.owner, job, corev1.EventTypeNormal, v1alpha1.ReasonSucceeded, "Run", "Job %s succeeded: %s", job.Name, run.Message)
	r.Metrics.runFinished(w.kind, string(v1alpha1.RunSucceeded))
	return nil
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

// jobPods lists a Job's Pods from the API server (Pods are not cached): those labelled with
// its name and controlled by it (see ownedByJob).
func (r *Runner) jobPods(ctx context.Context, job *batchv1.Job) ([]corev1.Pod, error) {
	for _, label := range []string{jobNameLabel, legacyJobLabel} {
		var pods corev1.PodList
		if err := r.APIReader.List(ctx, &pods, client.InNamespace(job.Namespace),
			client.MatchingLabels{label: job.Name}); err != nil {
			return nil, fmt.Errorf("listing Pods of Job %s: %w", job.Name, err)
		}
		if owned := ownedByJob(pods.Items, job); len(owned) > 0 {
			return owned, nil
		}
	}
	return nil, nil
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
