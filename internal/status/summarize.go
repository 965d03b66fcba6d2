package status

import (
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// Verdict is the Ready condition a reconcile that met no error leaves: from the last run of
// a workload (RunReady), or from a kind's own check (a Lake's bucket).
type Verdict struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
}

// Outcome is what one reconcile found.
type Outcome struct {
	// Err is the reconcile's error: nil, a *StalledError (the spec or a reference is wrong),
	// a *WaitingError (waits for another object, which wakes it), a *RetryError (not ready for a known reason, retried) or any other error (transient,
	// retried).
	Err error
	// Running names the Job in progress, if any.
	Running string
	// Waiting says what waits for the running Job, such as a run-now value; it joins the
	// Reconciling message.
	Waiting string
	// Ready is the Ready condition when Err is nil. With a transient Err, a False verdict (a
	// known failure, such as a failed run) stands; anything else becomes Unknown.
	Ready Verdict
}

// Summarize sets Ready, Reconciling and Stalled from one reconcile's outcome, each stamped
// with generation and, when its status changes, now. observedGeneration follows generation
// when the reconcile met no error, whatever the last run did: a failed run is Ready=False,
// neither Stalled nor Reconciling.
func Summarize(st *v1alpha1.ConditionedStatus, generation int64, now metav1.Time, o Outcome) {
	set := func(typ string, status metav1.ConditionStatus, reason, message string) {
		st.SetCondition(metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message,
			ObservedGeneration: generation, LastTransitionTime: now})
	}
	var retry *RetryError
	if s, ok := AsStalled(o.Err); ok {
		set(v1alpha1.StalledCondition, metav1.ConditionTrue, s.Reason, s.Message)
		set(v1alpha1.ReadyCondition, metav1.ConditionFalse, s.Reason, s.Message)
		st.RemoveCondition(v1alpha1.ReconcilingCondition)
		return
	}
	st.RemoveCondition(v1alpha1.StalledCondition)
	if w, ok := AsWaiting(o.Err); ok {
		set(v1alpha1.ReadyCondition, metav1.ConditionFalse, w.Reason, w.Message)
		set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, w.Reason, "Waiting: "+w.Message)
		st.ObservedGeneration = generation
		return
	}
	switch {
	case errors.As(o.Err, &retry):
		set(v1alpha1.ReadyCondition, metav1.ConditionFalse, retry.Reason, retry.Message)
		set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, retry.Reason, "Retrying after a backoff: "+retry.Message)
	case o.Err != nil:
		msg := fmt.Sprintf("Reconcile failed, will retry: %v", o.Err)
		set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing, msg)
		if o.Ready.Status == metav1.ConditionFalse {
			set(v1alpha1.ReadyCondition, o.Ready.Status, o.Ready.Reason, o.Ready.Message)
		} else {
			set(v1alpha1.ReadyCondition, metav1.ConditionUnknown, v1alpha1.ReasonProgressing, msg)
		}
	default:
		switch {
		case o.Running != "" && o.Waiting != "":
			set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning, fmt.Sprintf("Job %s is running; %s", o.Running, o.Waiting))
		case o.Running != "":
			set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning, fmt.Sprintf("Job %s is running", o.Running))
		case o.Waiting != "":
			set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning, o.Waiting)
		default:
			st.RemoveCondition(v1alpha1.ReconcilingCondition)
		}
		set(v1alpha1.ReadyCondition, o.Ready.Status, o.Ready.Reason, o.Ready.Message)
		st.ObservedGeneration = generation
	}
}

// Messages of the Ready condition of a workload.
const (
	neverRunMessage  = "Plan and CronJob are up to date; no run has finished yet"
	succeededMessage = "Last run succeeded"
)

// RunReady is a workload's Ready verdict from its runs: the newest finished run decides. A
// failure stands until a run succeeds: while a newer run is in progress, lastRun no longer
// holds the failure, so the Ready condition that recorded it is kept.
func RunReady(ws *v1alpha1.WorkloadStatus) Verdict {
	lr := ws.LastRun
	switch {
	case lr.Finished() && lr.Outcome == v1alpha1.RunFailed:
		return Verdict{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, lr.Message}
	case lr.Finished():
		msg := succeededMessage
		if lr.Message != "" {
			msg += ": " + lr.Message
		}
		return Verdict{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, msg}
	case ws.HasConditionReason(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed):
		c := ws.FindCondition(v1alpha1.ReadyCondition)
		return Verdict{c.Status, c.Reason, c.Message}
	case ws.LastSuccessfulTime != nil:
		return Verdict{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, succeededMessage}
	default:
		return Verdict{metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage}
	}
}
