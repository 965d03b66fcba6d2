package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
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
	// ReferenceRecheck is how soon a workload whose source ConfigMap or Secret is missing is
	// looked at again (the controllers do not watch the users' ConfigMaps and Secrets).
	ReferenceRecheck time.Duration
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
	secrets    []plan.SecretEnv
	configMaps []plan.ConfigMapFile
}

// runState points into the status fields the two kinds share.
type runState struct {
	observedGeneration *int64
	conditions         *[]metav1.Condition
	lastScheduleTime   **metav1.Time
	lastSuccessfulTime **metav1.Time
	lastRun            **v1alpha1.RunStatus
	lastRunNow         *string
}

// now is the clock's time as a metav1.Time, cut to seconds as the API stores it.
func (r *Runner) now() metav1.Time {
	return metav1.NewTime(r.Clock.Now().Truncate(1e9))
}

func (r *Runner) conditions(obj client.Object, st runState) conditions {
	return conditions{list: st.conditions, generation: obj.GetGeneration(), now: r.now()}
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

// summarize sets Ready, Reconciling and Stalled from the reconcile's outcome: err (nil, a
// stalledError or a transient error) and whether a run is in progress. observedGeneration
// follows the spec only when the object is Ready.
func (r *Runner) summarize(obj client.Object, st runState, running string, err error) {
	c := r.conditions(obj, st)
	if s, ok := asStalled(err); ok {
		c.set(v1alpha1.StalledCondition, metav1.ConditionTrue, s.reason, s.message)
		c.set(v1alpha1.ReadyCondition, metav1.ConditionFalse, s.reason, s.message)
		c.remove(v1alpha1.ReconcilingCondition)
		return
	}
	c.clearSpecStall()
	if err != nil {
		msg := fmt.Sprintf("Reconcile failed, will retry: %v", err)
		c.set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing, msg)
		c.set(v1alpha1.ReadyCondition, metav1.ConditionUnknown, v1alpha1.ReasonProgressing, msg)
		return
	}
	if running != "" {
		c.set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning, fmt.Sprintf("Job %s is running", running))
	} else {
		c.remove(v1alpha1.ReconcilingCondition)
	}
	if f := c.runFailed(); f != nil {
		c.set(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed, f.Message)
		return
	}
	reason, msg := v1alpha1.ReasonNeverRun, "Plan and CronJob are up to date; no run has finished yet"
	if *st.lastSuccessfulTime != nil {
		reason, msg = v1alpha1.ReasonSucceeded, "Last run succeeded"
		if lr := *st.lastRun; lr != nil && lr.Outcome == v1alpha1.RunSucceeded && lr.Message != "" {
			msg = "Last run succeeded: " + lr.Message
		}
	}
	c.set(v1alpha1.ReadyCondition, metav1.ConditionTrue, reason, msg)
	*st.observedGeneration = obj.GetGeneration()
}

// reconcileChildren writes the plan ConfigMap, the CronJob and, for a new run-now value, a
// Job; in that order.
func (r *Runner) reconcileChildren(ctx context.Context, w *workload, st runState) error {
	if err := r.reconcilePlan(ctx, w); err != nil {
		return err
	}
	cj, err := r.reconcileCronJob(ctx, w)
	if err != nil {
		return err
	}
	return r.reconcileRunNow(ctx, w, cj, st)
}

// reconcileWorkload runs the steps a DistrictSource and a StateComparison share, in order:
// render the workload (plan and schedule), check the ConfigMaps and Secrets its Job reads,
// write the children (plan ConfigMap, CronJob, run-now Job) and record the newest run. A
// deferred block sets the conditions and patches status once, whatever the outcome.
func (r *Runner) reconcileWorkload(ctx context.Context, obj client.Object, st runState,
	render func() (*workload, error), onSuccess func(summary.Summary)) (res ctrl.Result, retErr error) {
	base := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	var running string
	defer func() {
		r.summarize(obj, st, running, retErr)
		res, retErr = r.patchStatus(ctx, obj, base, res, retErr)
	}()

	w, err := render()
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.checkReferences(ctx, w); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileChildren(ctx, w, st); err != nil {
		return ctrl.Result{}, err
	}
	running, err = r.observeRuns(ctx, w, st, onSuccess)
	return ctrl.Result{}, err
}

// patchStatus writes the status changes of one reconcile as a merge patch. A stalled
// reconcile ends with a terminal error: it is logged and not retried until something
// changes, or, when the stall asks for it, looked at again after a while.
func (r *Runner) patchStatus(ctx context.Context, obj client.Object, base client.Patch, res ctrl.Result, err error) (ctrl.Result, error) {
	if perr := r.Client.Status().Patch(ctx, obj, base); perr != nil && !apierrors.IsNotFound(perr) {
		err = errors.Join(err, fmt.Errorf("patching status: %w", perr))
	}
	if s, ok := asStalled(err); ok {
		logf.FromContext(ctx).Info("Stalled", "reason", s.reason, "message", s.message)
		if s.recheck > 0 && err == error(s) {
			return ctrl.Result{RequeueAfter: s.recheck}, nil
		}
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	return res, err
}
