package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/status"
	"github.com/districtlake/districtlake/internal/summary"
)

// Labels and annotations on the children.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	// LabelKind is the kind of the resource a child belongs to.
	LabelKind = "districtlake.io/kind"
	// LabelTrigger says what started a Job: schedule or run-now.
	LabelTrigger = "districtlake.io/trigger"
	// AnnotationOwner is the name of the resource a Job belongs to (names can be longer than
	// a label value).
	AnnotationOwner = "districtlake.io/owner"
	// AnnotationCreated is when the manager created a Job (run-now, re-run), to the
	// nanosecond: it orders the Jobs of one resource created within one second, which
	// their creationTimestamp (whole seconds) cannot.
	AnnotationCreated = "districtlake.io/created"

	managedBy      = "districtlake"
	triggerSched   = "schedule"
	triggerRunNow  = "run-now"
	runContainer   = "run"
	jobNameLabel   = "batch.kubernetes.io/job-name"
	legacyJobLabel = "job-name"
)

// Runner holds what the DistrictSource and StateComparison reconcilers share: the clients,
// the event recorder, the clock, the metrics and the Jobs' image.
type Runner struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server directly (Pods, and Jobs being adopted).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Metrics   *Metrics
	// JobImage is the image of the Jobs unless a resource sets spec.job.image.
	JobImage string
	// JobImagePullPolicy is the Jobs' image pull policy.
	JobImagePullPolicy corev1.PullPolicy
	// AllowedJobImages are the images a resource's spec.job.image may name; any other stalls
	// the resource (ImageNotAllowed) and removes its CronJob.
	AllowedJobImages guard.JobImages
	// JobQueueName is the Kueue LocalQueue of the Jobs unless a resource sets
	// spec.job.queueName; empty submits them straight to the cluster.
	JobQueueName string
	// JobResources are the Jobs' requests and limits unless a resource sets
	// spec.job.resources.
	JobResources corev1.ResourceRequirements
	// JobTmpSizeLimit caps the Jobs' /tmp emptyDir (nil: no cap).
	JobTmpSizeLimit *resource.Quantity
	// ReferenceRecheck is how soon a workload whose source ConfigMap or Secret is missing is
	// looked at again (the watches see every ConfigMap, but only the Secrets labelled as
	// source credentials).
	ReferenceRecheck time.Duration
	// Egress is the policy the ingest Jobs fetch under, written into every plan.
	Egress plan.Egress
	// StatusWrites tells a status read from a lagging cache apart (nil: never).
	StatusWrites *statusWrites
}

// workload is what a DistrictSource or StateComparison asks for: a plan and a CronJob that
// runs it.
type workload struct {
	owner      client.Object
	kind       string
	command    string
	schedule   v1alpha1.ScheduleSpec
	job        *v1alpha1.JobTemplate
	plan       []byte
	secrets    []render.SecretEnv
	configMaps []render.ConfigMapFile
	// rerun is a DistrictSource's re-run on its SharedSources' new revisions (nil for the
	// other kinds and for a district that reads none with rerunDistricts).
	rerun *rerun
	// requeueAfter asks for another reconcile after this long (a re-run waiting for a
	// slot); zero for none.
	requeueAfter time.Duration
	// created is the Job this reconcile created (run-now or re-run), as the API server
	// returned it: the cache may not hold it yet when the reconcile records its runs.
	created *batchv1.Job
}

// now is the clock's time as a metav1.Time, cut to seconds as the API stores it.
func (r *Runner) now() metav1.Time {
	return metav1.NewTime(r.Clock.Now().Truncate(1e9))
}

// labels are the labels of every child of a workload.
func (w *workload) labels() map[string]string {
	return map[string]string{
		LabelManagedBy: managedBy,
		LabelName:      "districtlake",
		LabelComponent: w.command,
		LabelKind:      w.kind,
	}
}

// reconcileChildren writes the plan ConfigMap, the CronJob and, for a new run-now value or
// a SharedSource's new revision to re-run on (see reconcileRerun), a Job; in that order, once
// the Jobs' image is allowed (see checkJobImage). The CronJob is suspended while a run-now
// Job runs or waits to start (see holdSchedule). waiting says why
// a run-now value waits (see reconcileRunNow).
func (r *Runner) reconcileChildren(ctx context.Context, w *workload, st *v1alpha1.WorkloadStatus) (waiting string, err error) {
	if err := r.checkJobImage(ctx, w); err != nil {
		return "", err
	}
	if err := r.reconcilePlan(ctx, w); err != nil {
		return "", err
	}
	hold, err := r.holdSchedule(ctx, w, st)
	if err != nil {
		return "", err
	}
	cj, err := r.reconcileCronJob(ctx, w, hold)
	if err != nil {
		return "", err
	}
	waiting, err = r.reconcileRunNow(ctx, w, cj, st)
	if err != nil || waiting != "" || w.rerun == nil {
		return waiting, err
	}
	return r.reconcileRerun(ctx, w, cj)
}

// reconcileWorkload runs the steps a DistrictSource and a StateComparison share, in order:
// render the workload (schedule, plan, and the ConfigMaps and Secrets its Job reads),
// write the children (plan ConfigMap, CronJob, run-now Job) and record the newest run in st,
// the object's own status. A deferred block summarises the conditions and patches status
// once, whatever the outcome.
func (r *Runner) reconcileWorkload(ctx context.Context, obj client.Object, st *v1alpha1.WorkloadStatus,
	renderWorkload func() (*workload, error), onSuccess func(summary.Summary)) (res ctrl.Result, retErr error) {
	base := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	var running, waiting string
	defer func() {
		status.Summarize(&st.ConditionedStatus, obj.GetGeneration(), r.now(),
			status.Outcome{Err: retErr, Running: running, Waiting: waiting, Ready: status.RunReady(st)})
		res, retErr = patchStatus(ctx, r.Client, r.StatusWrites, obj, base, res, retErr)
	}()

	w, err := renderWorkload()
	if err != nil {
		return ctrl.Result{}, err
	}
	if waiting, err = r.reconcileChildren(ctx, w, st); err != nil {
		return ctrl.Result{}, err
	}
	running, err = r.observeRuns(ctx, w, st, onSuccess)
	return ctrl.Result{RequeueAfter: w.requeueAfter}, err
}

// patchStatus writes the status changes of one reconcile as a merge patch, then turns a
// stall into the reconcile's result (see status.Result).
// A reconcile that changed nothing sends nothing: at 13,300 DistrictSources a resync would
// otherwise be 13,300 empty PATCH requests. When obj was read at another version than the
// one this manager's last status write left (see statusWrites), the whole status is written
// instead, conditional on that version: a patch computed against a stale copy could skip a
// field the API server holds otherwise. A conflict then means the cache was behind: the
// object is looked at again shortly, with a fresher copy.
func patchStatus(ctx context.Context, c client.Client, writes *statusWrites, obj client.Object, base client.Patch, res ctrl.Result, err error) (ctrl.Result, error) {
	var perr error
	// The patch is computed once: sent as it is, not computed again by the client.
	switch data, derr := base.Data(obj); {
	case writes.stale(obj):
		perr = c.Status().Update(ctx, obj)
	case derr != nil:
		perr = fmt.Errorf("computing the patch: %w", derr)
	case string(data) == "{}":
		return status.Result(ctx, res, err)
	default:
		perr = c.Status().Patch(ctx, obj, client.RawPatch(base.Type(), data))
	}
	switch {
	case perr == nil:
		writes.wrote(obj)
	case apierrors.IsNotFound(perr):
		writes.forget(obj)
	case apierrors.IsConflict(perr) && err == nil:
		res = ctrl.Result{RequeueAfter: time.Second}
	default:
		err = errors.Join(err, fmt.Errorf("patching status: %w", perr))
	}
	return status.Result(ctx, res, err)
}

// checkJobImage stalls a workload whose spec.job.image the cluster admin has not allowed
// (ImageNotAllowed). A CronJob written before (when the image or the list was another) is
// deleted, so that nothing keeps running the refused image; a Job already running is left
// to finish.
func (r *Runner) checkJobImage(ctx context.Context, w *workload) error {
	image := ""
	if w.job != nil {
		image = w.job.Image
	}
	gerr := guard.JobImage(image, r.AllowedJobImages)
	if gerr == nil {
		return nil
	}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: cronJobName(w.owner.GetName()), Namespace: w.owner.GetNamespace()}}
	err := r.Client.Delete(ctx, cj, client.PropagationPolicy(metav1.DeletePropagationBackground))
	switch {
	case err == nil:
		logf.FromContext(ctx).Info("Deleted CronJob of a refused image", "name", cj.Name, "image", image)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("deleting CronJob %s: %w", cj.Name, err)
	}
	return stalled(v1alpha1.ReasonImageNotAllowed, "spec.job.image: %v", gerr)
}
