package status

import (
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

// maxOutput is how much of a failed container's output a run's message keeps.
const maxOutput = 512

// JobFinished reports whether a Job has ended; a failed Job also returns its Failed
// condition. It reads the conditions, not status.failed, which counts retried Pods too.
func JobFinished(job *batchv1.Job) (finished bool, failed *batchv1.JobCondition) {
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

// FinishedJob is what the controller read of a finished Job.
type FinishedJob struct {
	Job *batchv1.Job
	// Trigger says what started the Job: schedule or run-now.
	Trigger string
	// Started is when the Job started.
	Started metav1.Time
	// Summary is the run's own result, when Found.
	Summary summary.Summary
	Found   bool
	// Raw is a termination message that is not a summary, such as the log tail that
	// FallbackToLogsOnError keeps.
	Raw string
}

// Run is the record of a finished Job's run. It failed when the Job failed or its summary
// says so; its message is then the run's own or, without one, the Job's reason and the end
// of the container's output. A successful run's message is its summary's, or says that the
// Job succeeded.
func (f FinishedJob) Run() v1alpha1.RunStatus {
	job := f.Job
	_, failed := JobFinished(job)
	run := v1alpha1.RunStatus{Job: job.Name, Trigger: f.Trigger, StartTime: &f.Started,
		RunID: f.Summary.RunID, Message: f.Summary.Message}
	if failed != nil || (f.Found && f.Summary.Outcome == summary.Failed) {
		run.Outcome = v1alpha1.RunFailed
		run.CompletionTime = job.Status.CompletionTime
		if failed != nil {
			run.CompletionTime = ptrTime(failed.LastTransitionTime)
		}
		run.Message = f.failureMessage(failed)
		return run
	}
	run.Outcome = v1alpha1.RunSucceeded
	run.CompletionTime = job.Status.CompletionTime
	if run.CompletionTime == nil {
		run.CompletionTime = ptrTime(conditionTime(job, batchv1.JobComplete))
	}
	if run.Message == "" {
		run.Message = fmt.Sprintf("Job %s succeeded", job.Name)
	}
	return run
}

// failureMessage says why a run failed: the run's own message when it wrote a summary, else
// the Job's Failed condition and the end of the container's output.
func (f FinishedJob) failureMessage(failed *batchv1.JobCondition) string {
	if f.Found && f.Summary.Message != "" {
		return fmt.Sprintf("Job %s failed: %s", f.Job.Name, f.Summary.Message)
	}
	msg := fmt.Sprintf("Job %s failed", f.Job.Name)
	if failed != nil && failed.Reason != "" {
		msg += " (" + failed.Reason + ")"
	}
	if failed != nil && failed.Message != "" {
		msg += ": " + failed.Message
	}
	if raw := strings.TrimSpace(f.Raw); raw != "" {
		if len(raw) > maxOutput {
			raw = "..." + raw[len(raw)-maxOutput:]
		}
		msg += "; output: " + raw
	}
	return msg
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
