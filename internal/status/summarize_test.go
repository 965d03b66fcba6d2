package status

import (
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

const gen = 4

var (
	earlier = metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	now     = metav1.NewTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
)

// want is one condition as a user reads it: status, reason and message ("" for a condition
// that must be absent).
type want struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message,
		ObservedGeneration: gen - 1, LastTransitionTime: earlier}
}

var (
	readyNeverRun  = Verdict{metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage}
	readySucceeded = Verdict{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded: Published 2 objects"}
	readyRunFailed = Verdict{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-1 failed: HTTP 503"}
)

func TestSummarize(t *testing.T) {
	transient := errors.New("listing Jobs: connection reset")
	tests := []struct {
		name        string
		before      []metav1.Condition
		outcome     Outcome
		ready       want
		reconciling want
		stalled     want
		observed    int64
	}{{
		name:     "reconciled, never run",
		outcome:  Outcome{Ready: readyNeverRun},
		ready:    want{metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage},
		observed: gen,
	}, {
		name:     "reconciled after a success",
		outcome:  Outcome{Ready: readySucceeded},
		ready:    want{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded: Published 2 objects"},
		observed: gen,
	}, {
		name: "a failed run is not Ready, and neither Stalled nor Reconciling",
		before: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded"),
			cond(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning, "Job ds-1 is running")},
		outcome:  Outcome{Ready: readyRunFailed},
		ready:    want{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-1 failed: HTTP 503"},
		observed: gen,
	}, {
		name:        "a run in progress is Reconciling",
		outcome:     Outcome{Running: "ds-2", Ready: readySucceeded},
		ready:       want{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded: Published 2 objects"},
		reconciling: want{metav1.ConditionTrue, v1alpha1.ReasonRunning, "Job ds-2 is running"},
		observed:    gen,
	}, {
		name: "a spec error stalls and holds observedGeneration back",
		before: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded"),
			cond(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonRunning, "Job ds-1 is running")},
		outcome: Outcome{Err: Stalled(v1alpha1.ReasonInvalidSchedule, "unknown time zone Mars/Olympus"), Ready: readySucceeded},
		ready:   want{metav1.ConditionFalse, v1alpha1.ReasonInvalidSchedule, "unknown time zone Mars/Olympus"},
		stalled: want{metav1.ConditionTrue, v1alpha1.ReasonInvalidSchedule, "unknown time zone Mars/Olympus"},
	}, {
		name: "a wrapped reference error stalls too",
		outcome: Outcome{Err: fmt.Errorf("checking references: %w",
			StalledRecheck(time.Minute, v1alpha1.ReasonSecretNotFound, `Secret "token" not found`))},
		ready:   want{metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, `Secret "token" not found`},
		stalled: want{metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound, `Secret "token" not found`},
	}, {
		name:     "fixing the spec clears the stall",
		before:   []metav1.Condition{cond(v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonLakeNotFound, "Lake missing")},
		outcome:  Outcome{Ready: readyNeverRun},
		ready:    want{metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage},
		observed: gen,
	}, {
		name:        "a transient error makes Ready Unknown and retries",
		before:      []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded")},
		outcome:     Outcome{Err: transient, Ready: readySucceeded},
		ready:       want{metav1.ConditionUnknown, v1alpha1.ReasonProgressing, "Reconcile failed, will retry: listing Jobs: connection reset"},
		reconciling: want{metav1.ConditionTrue, v1alpha1.ReasonProgressing, "Reconcile failed, will retry: listing Jobs: connection reset"},
	}, {
		name:        "a transient error does not hide a failed run",
		outcome:     Outcome{Err: transient, Ready: readyRunFailed},
		ready:       want{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-1 failed: HTTP 503"},
		reconciling: want{metav1.ConditionTrue, v1alpha1.ReasonProgressing, "Reconcile failed, will retry: listing Jobs: connection reset"},
	}, {
		name:        "waiting for another object is not Ready and Reconciling, not Stalled",
		before:      []metav1.Condition{cond(v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSharedSourceNotReady, "SharedSource not found")},
		outcome:     Outcome{Err: Waiting(v1alpha1.ReasonSharedSourceNotReady, "SharedSource wi/crdc has not landed a revision yet"), Ready: readySucceeded},
		ready:       want{metav1.ConditionFalse, v1alpha1.ReasonSharedSourceNotReady, "SharedSource wi/crdc has not landed a revision yet"},
		reconciling: want{metav1.ConditionTrue, v1alpha1.ReasonSharedSourceNotReady, "Waiting: SharedSource wi/crdc has not landed a revision yet"},
		observed:    gen,
	}, {
		name:        "a known reason to retry is not Ready with that reason",
		before:      []metav1.Condition{cond(v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound, "no Secret")},
		outcome:     Outcome{Err: Retry(v1alpha1.ReasonBucketUnreachable, "dial tcp 127.0.0.1:9: connection refused")},
		ready:       want{metav1.ConditionFalse, v1alpha1.ReasonBucketUnreachable, "dial tcp 127.0.0.1:9: connection refused"},
		reconciling: want{metav1.ConditionTrue, v1alpha1.ReasonBucketUnreachable, "Retrying after a backoff: dial tcp 127.0.0.1:9: connection refused"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &v1alpha1.ConditionedStatus{ObservedGeneration: gen - 1, Conditions: tt.before}
			Summarize(st, gen, now, tt.outcome)
			check(t, st, v1alpha1.ReadyCondition, tt.ready)
			check(t, st, v1alpha1.ReconcilingCondition, tt.reconciling)
			check(t, st, v1alpha1.StalledCondition, tt.stalled)
			observed := tt.observed
			if observed == 0 {
				observed = gen - 1
			}
			if st.ObservedGeneration != observed {
				t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, observed)
			}
		})
	}
}

// check compares one condition with w, and that it names the generation summarised.
func check(t *testing.T, st *v1alpha1.ConditionedStatus, typ string, w want) {
	t.Helper()
	c := st.FindCondition(typ)
	if w.status == "" {
		if c != nil {
			t.Errorf("%s = %s %s %q, want none", typ, c.Status, c.Reason, c.Message)
		}
		return
	}
	if c == nil {
		t.Errorf("%s missing, want %s %s %q", typ, w.status, w.reason, w.message)
		return
	}
	if c.Status != w.status || c.Reason != w.reason || c.Message != w.message {
		t.Errorf("%s = %s %s %q, want %s %s %q", typ, c.Status, c.Reason, c.Message, w.status, w.reason, w.message)
	}
	if c.ObservedGeneration != gen {
		t.Errorf("%s observedGeneration = %d, want %d", typ, c.ObservedGeneration, gen)
	}
}

// TestSummarizeTransitionTime: a condition whose status stays keeps its transition time; one
// that changes takes the reconcile's time.
func TestSummarizeTransitionTime(t *testing.T) {
	st := &v1alpha1.ConditionedStatus{Conditions: []metav1.Condition{
		cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage)}}
	Summarize(st, gen, now, Outcome{Ready: readySucceeded})
	if got := st.FindCondition(v1alpha1.ReadyCondition).LastTransitionTime; !got.Equal(&earlier) {
		t.Errorf("Ready True -> True moved its transition time to %v", got)
	}
	Summarize(st, gen, now, Outcome{Ready: readyRunFailed})
	if got := st.FindCondition(v1alpha1.ReadyCondition).LastTransitionTime; !got.Equal(&now) {
		t.Errorf("Ready True -> False: transition time %v, want %v", got, now)
	}
}

func TestRunReady(t *testing.T) {
	success := metav1.NewTime(earlier.Add(-time.Hour))
	running := &v1alpha1.RunStatus{Job: "ds-3", Outcome: v1alpha1.RunRunning}
	tests := []struct {
		name   string
		status v1alpha1.WorkloadStatus
		want   Verdict
	}{{
		name: "no run yet",
		want: readyNeverRun,
	}, {
		name: "the first run is in progress",
		status: v1alpha1.WorkloadStatus{LastRun: running, ConditionedStatus: v1alpha1.ConditionedStatus{
			Conditions: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage)}}},
		want: readyNeverRun,
	}, {
		name: "the last run succeeded",
		status: v1alpha1.WorkloadStatus{LastSuccessfulTime: &success,
			LastRun: &v1alpha1.RunStatus{Job: "ds-1", Outcome: v1alpha1.RunSucceeded, Message: "Published 2 objects"}},
		want: readySucceeded,
	}, {
		name: "the last run failed",
		status: v1alpha1.WorkloadStatus{LastSuccessfulTime: &success,
			LastRun: &v1alpha1.RunStatus{Job: "ds-1", Outcome: v1alpha1.RunFailed, Message: "Job ds-1 failed: HTTP 503"}},
		want: readyRunFailed,
	}, {
		name: "a run in progress after a success",
		status: v1alpha1.WorkloadStatus{LastSuccessfulTime: &success, LastRun: running, ConditionedStatus: v1alpha1.ConditionedStatus{
			Conditions: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded: Published 2 objects")}}},
		want: Verdict{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded"},
	}, {
		name: "a run in progress after a failure: the failure stands",
		status: v1alpha1.WorkloadStatus{LastSuccessfulTime: &success, LastRun: running, ConditionedStatus: v1alpha1.ConditionedStatus{
			Conditions: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-1 failed: HTTP 503")}}},
		want: readyRunFailed,
	}, {
		name: "a run in progress after a spec stall",
		status: v1alpha1.WorkloadStatus{LastSuccessfulTime: &success, LastRun: running, ConditionedStatus: v1alpha1.ConditionedStatus{
			Conditions: []metav1.Condition{cond(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonInvalidSchedule, "bad")}}},
		want: Verdict{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunReady(&tt.status); got != tt.want {
				t.Errorf("RunReady = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRunCycle follows a workload through runs as the controller summarises it after each
// reconcile: a failure is Ready=False until a success, survives a run in progress and a
// transient error meanwhile, and is never Stalled.
func TestRunCycle(t *testing.T) {
	ws := &v1alpha1.WorkloadStatus{}
	success := metav1.NewTime(earlier.Add(-time.Hour))
	steps := []struct {
		name    string
		apply   func()
		running string
		err     error
		ready   want
	}{
		{"created", func() {}, "", nil, want{metav1.ConditionTrue, v1alpha1.ReasonNeverRun, neverRunMessage}},
		{"first run succeeded", func() {
			ws.LastRun = &v1alpha1.RunStatus{Job: "ds-1", Outcome: v1alpha1.RunSucceeded, Message: "Published 2 objects"}
			ws.LastSuccessfulTime = &success
		}, "", nil, want{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded: Published 2 objects"}},
		{"second run failed", func() {
			ws.LastRun = &v1alpha1.RunStatus{Job: "ds-2", Outcome: v1alpha1.RunFailed, Message: "Job ds-2 failed: HTTP 503"}
		}, "", nil, want{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-2 failed: HTTP 503"}},
		{"third run started", func() {
			ws.LastRun = &v1alpha1.RunStatus{Job: "ds-3", Outcome: v1alpha1.RunRunning}
		}, "ds-3", nil, want{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-2 failed: HTTP 503"}},
		{"a transient error meanwhile", func() {}, "", errors.New("listing Jobs: timeout"),
			want{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-2 failed: HTTP 503"}},
		{"still running", func() {}, "ds-3", nil, want{metav1.ConditionFalse, v1alpha1.ReasonRunFailed, "Job ds-2 failed: HTTP 503"}},
		{"third run succeeded", func() {
			ws.LastRun = &v1alpha1.RunStatus{Job: "ds-3", Outcome: v1alpha1.RunSucceeded, Message: "Published 2 objects"}
		}, "", nil, want{metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Last run succeeded: Published 2 objects"}},
	}
	for _, s := range steps {
		s.apply()
		Summarize(&ws.ConditionedStatus, gen, now, Outcome{Err: s.err, Running: s.running, Ready: RunReady(ws)})
		c := ws.FindCondition(v1alpha1.ReadyCondition)
		if c == nil || c.Status != s.ready.status || c.Reason != s.ready.reason || c.Message != s.ready.message {
			t.Fatalf("%s: Ready = %+v, want %+v", s.name, c, s.ready)
		}
		if ws.IsConditionTrue(v1alpha1.StalledCondition) {
			t.Fatalf("%s: Stalled", s.name)
		}
	}
}
