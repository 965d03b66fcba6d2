package status

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

var (
	started  = metav1.NewTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ended    = metav1.NewTime(started.Add(3 * time.Minute))
	failedAt = metav1.NewTime(started.Add(5 * time.Minute))
)

func job(completion *metav1.Time, conds ...batchv1.JobCondition) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "wi-5508520-run-now-abc"},
		Status: batchv1.JobStatus{CompletionTime: completion, Conditions: conds}}
}

func jobCond(typ batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string, at metav1.Time) batchv1.JobCondition {
	return batchv1.JobCondition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: at}
}

var (
	complete = jobCond(batchv1.JobComplete, corev1.ConditionTrue, "", "", ended)
	failed   = jobCond(batchv1.JobFailed, corev1.ConditionTrue, "BackoffLimitExceeded", "Job has reached the specified backoff limit", failedAt)
)

func TestJobFinished(t *testing.T) {
	tests := []struct {
		name           string
		job            *batchv1.Job
		finished, fail bool
	}{
		{"no conditions yet", job(nil), false, false},
		{"suspended", job(nil, jobCond(batchv1.JobSuspended, corev1.ConditionTrue, "", "", started)), false, false},
		{"a failure being retried", job(nil, jobCond(batchv1.JobFailed, corev1.ConditionFalse, "", "", started)), false, false},
		{"complete", job(&ended, complete), true, false},
		{"failed", job(nil, failed), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			finished, f := JobFinished(tt.job)
			if finished != tt.finished || (f != nil) != tt.fail {
				t.Errorf("JobFinished = %v, failed %v; want %v, failed %v", finished, f != nil, tt.finished, tt.fail)
			}
		})
	}
}

func TestFinishedJobRun(t *testing.T) {
	ok := summary.Summary{RunID: "20260302T090000Z-ab12", Outcome: summary.Succeeded, Message: "Published 2 objects, 98 rows"}
	bad := summary.Summary{RunID: "r2", Outcome: summary.Failed,
		Message: `source "crdc-support" row 12 column SCH_FTECOUNSELORS: "n/a" is not a number`}
	longOutput := "panic: boom\n" + strings.Repeat("x", 600) + "THE END\n"
	tests := []struct {
		name string
		in   FinishedJob
		want v1alpha1.RunStatus
	}{{
		name: "succeeded with a summary",
		in:   FinishedJob{Job: job(&ended, complete), Summary: ok, Found: true},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunSucceeded, RunID: ok.RunID, Message: ok.Message, CompletionTime: &ended},
	}, {
		name: "succeeded without a completion time: the Complete condition's",
		in:   FinishedJob{Job: job(nil, complete), Summary: ok, Found: true},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunSucceeded, RunID: ok.RunID, Message: ok.Message, CompletionTime: &ended},
	}, {
		name: "succeeded without a summary",
		in:   FinishedJob{Job: job(&ended, complete)},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunSucceeded, Message: "Job wi-5508520-run-now-abc succeeded", CompletionTime: &ended},
	}, {
		name: "the run says it failed though its container exited 0",
		in:   FinishedJob{Job: job(&ended, complete), Summary: bad, Found: true},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunFailed, RunID: "r2", CompletionTime: &ended,
			Message: "Job wi-5508520-run-now-abc failed: " + bad.Message},
	}, {
		name: "failed with a summary",
		in:   FinishedJob{Job: job(nil, failed), Summary: bad, Found: true},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunFailed, RunID: "r2", CompletionTime: &failedAt,
			Message: "Job wi-5508520-run-now-abc failed: " + bad.Message},
	}, {
		name: "failed without a summary or output: the Job's reason",
		in:   FinishedJob{Job: job(nil, failed), Raw: " \n"},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunFailed, CompletionTime: &failedAt,
			Message: "Job wi-5508520-run-now-abc failed (BackoffLimitExceeded): Job has reached the specified backoff limit"},
	}, {
		name: "failed with output: the end of it",
		in:   FinishedJob{Job: job(nil, failed), Raw: longOutput},
		want: v1alpha1.RunStatus{Outcome: v1alpha1.RunFailed, CompletionTime: &failedAt,
			Message: "Job wi-5508520-run-now-abc failed (BackoffLimitExceeded): Job has reached the specified backoff limit; output: ..." +
				strings.Repeat("x", 505) + "THE END"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Trigger, tt.in.Started = "run-now", started
			tt.want.Job, tt.want.Trigger, tt.want.StartTime = "wi-5508520-run-now-abc", "run-now", &started
			got := tt.in.Run()
			if got.Outcome != tt.want.Outcome || got.RunID != tt.want.RunID || got.Message != tt.want.Message ||
				got.Job != tt.want.Job || got.Trigger != tt.want.Trigger || !got.StartTime.Equal(tt.want.StartTime) ||
				!sameTime(got.CompletionTime, tt.want.CompletionTime) {
				t.Errorf("Run() =\n%+v\nwant\n%+v", got, tt.want)
			}
			if !got.Finished() {
				t.Errorf("Run() is not finished: %s", got.Outcome)
			}
		})
	}
}

func sameTime(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}
