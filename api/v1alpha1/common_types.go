package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types shared by every kind. Each is a positive-polarity condition except
// Stalled and Reconciling, which are abnormal-true.
const (
	// ReadyCondition is True when the object's last reconcile succeeded and its last
	// finished run, if any, succeeded. A failed run makes it False with reason RunFailed
	// until a newer run succeeds.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while the controller works toward the desired state
	// (a run is in progress, or a reconcile failed and will be retried).
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when progress needs a change from the user: an invalid
	// spec or schedule, or a missing Secret, ConfigMap or Lake. A failed run is not a stall.
	StalledCondition = "Stalled"
	// UploadCleanupCondition (Lakes only) is True when the bucket has an enabled lifecycle
	// rule that aborts incomplete multipart uploads under the lake's prefix, and False
	// (reason NoAbortRule, with the command that sets one) when it has none; Unknown when
	// the rules could not be read. It is advice: a Lake without the rule is still Ready.
	UploadCleanupCondition = "UploadCleanup"
)

// Condition reasons.
const (
	ReasonSucceeded         = "Succeeded"
	ReasonProgressing       = "Progressing"
	ReasonRunning           = "RunInProgress"
	ReasonRunFailed         = "RunFailed"
	ReasonInvalidSchedule   = "InvalidSchedule"
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonLakeNotFound      = "LakeNotFound"
	ReasonLakeNotReady      = "LakeNotReady"
	ReasonSecretNotFound    = "SecretNotFound"
	ReasonConfigMapNotFound = "ConfigMapNotFound"
	ReasonBucketUnreachable = "BucketUnreachable"
	ReasonBucketNotFound    = "BucketNotFound"
	// Reasons of the UploadCleanup condition.
	ReasonAbortRuleFound      = "AbortRuleFound"
	ReasonNoAbortRule         = "NoAbortRule"
	ReasonLifecycleUnreadable = "LifecycleUnreadable"
	ReasonNeverRun            = "NeverRun"
	// ReasonSharedSourceNotReady: a source names a SharedSource that does not exist or lands
	// in another Lake (Stalled: the spec must change), or that exists but has not landed a
	// revision yet (Ready False and Reconciling True, not Stalled: it passes on its own).
	ReasonSharedSourceNotReady = "SharedSourceNotReady"
	// ReasonRerun is the reason of the events of a re-run started by a SharedSource's
	// rerunDistricts on a new revision.
	ReasonRerun = "Rerun"
)

// RunNowAnnotation starts a run at once when it is set to a value that was not handled
// before; one Job is started per distinct value.
const RunNowAnnotation = "districtlake.io/run-now"

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name of the referenced object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretKeyReference names one key of a Secret in the same namespace.
type SecretKeyReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key within the Secret's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// RunOutcome is the result of one run.
// +kubebuilder:validation:Enum=Running;Succeeded;Failed
type RunOutcome string

const (
	RunRunning   RunOutcome = "Running"
	RunSucceeded RunOutcome = "Succeeded"
	RunFailed    RunOutcome = "Failed"
)

// RunStatus describes the most recent run (Job) of a DistrictSource or StateComparison.
type RunStatus struct {
	// job is the name of the Job that carried the run.
	// +optional
	Job string `json:"job,omitempty"`
	// runID is the run's identifier, as written into the run manifest and the Parquet metadata.
	// +optional
	RunID string `json:"runID,omitempty"`
	// trigger says what started the run: schedule or run-now.
	// +optional
	Trigger string `json:"trigger,omitempty"`
	// outcome is Running, Succeeded or Failed.
	// +optional
	Outcome RunOutcome `json:"outcome,omitempty"`
	// message is the run's own summary, or why it failed.
	// +optional
	Message string `json:"message,omitempty"`
	// startTime is when the Job started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the Job ended.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// ConditionedStatus is what the status of every kind starts with: the generation last
// reconciled and the Ready, Reconciling and Stalled conditions. Its methods edit the
// conditions.
type ConditionedStatus struct {
	// observedGeneration is the generation the controller last reconciled without an
	// error. A failed run does not hold it back: the Ready condition tells how runs went.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WorkloadStatus is the status every kind that runs Jobs (DistrictSource,
// StateComparison) shares; each kind embeds it and adds the figures of its last success.
type WorkloadStatus struct {
	ConditionedStatus `json:",inline"`

	// schedule is the cron schedule the CronJob runs: spec.schedule with any H token
	// replaced by the value hashed from this resource's namespace and name.
	// +optional
	Schedule string `json:"schedule,omitempty"`

	// lastScheduleTime is when a run was last started.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
	// lastSuccessfulTime is when a run last succeeded.
	// +optional
	LastSuccessfulTime *metav1.Time `json:"lastSuccessfulTime,omitempty"`
	// lastRun is the most recent run.
	// +optional
	LastRun *RunStatus `json:"lastRun,omitempty"`
	// lastRunNow is the value of the run-now annotation that was last handled.
	// +optional
	LastRunNow string `json:"lastRunNow,omitempty"`
}

// ScheduleSpec holds the fields that turn a resource into a CronJob.
type ScheduleSpec struct {
	// schedule is a cron expression (five fields, or a descriptor such as @daily) on which
	// runs start.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.startsWith('@') || self.split(' ').filter(f, f != '').size() == 5",message="schedule must be a cron expression with five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily"
	Schedule string `json:"schedule"`
	// timeZone is the IANA time zone the schedule is read in, such as America/Chicago.
	// Empty means the controller manager's time zone.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TimeZone *string `json:"timeZone,omitempty"`
	// suspend stops new scheduled runs; a run-now annotation still starts one.
	// +optional
	Suspend *bool `json:"suspend,omitempty"`
	// successfulJobsHistoryLimit is how many finished Jobs to keep.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	SuccessfulJobsHistoryLimit *int32 `json:"successfulJobsHistoryLimit,omitempty"`
	// failedJobsHistoryLimit is how many failed Jobs to keep.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	FailedJobsHistoryLimit *int32 `json:"failedJobsHistoryLimit,omitempty"`
}

// JobTemplate adjusts the pods that run the Jobs. Everything is optional.
type JobTemplate struct {
	// image overrides the manager's default image for this resource's Jobs.
	// +optional
	Image string `json:"image,omitempty"`
	// resources of the run container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// activeDeadlineSeconds bounds one run.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// backoffLimit is how many times a failed run is retried before the Job fails.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
	// queueName is the Kueue LocalQueue the Jobs are submitted to: they are created suspended
	// with the label kueue.x-k8s.io/queue-name, and Kueue starts them under its ClusterQueue's
	// quota. Overrides the manager's --job-queue-name; empty uses it.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	QueueName string `json:"queueName,omitempty"`
}

// KueueQueueNameLabel is the label that submits a Job to a Kueue LocalQueue.
const KueueQueueNameLabel = "kueue.x-k8s.io/queue-name"

// StateCode is a two-letter USPS code of a state, the District of Columbia, Puerto Rico or an
// outlying area.
// +kubebuilder:validation:Enum=AL;AK;AZ;AR;CA;CO;CT;DE;DC;FL;GA;HI;ID;IL;IN;IA;KS;KY;LA;ME;MD;MA;MI;MN;MS;MO;MT;NE;NV;NH;NJ;NM;NY;NC;ND;OH;OK;OR;PA;RI;SC;SD;TN;TX;UT;VT;VA;WA;WV;WI;WY;PR;AS;GU;MP;VI
type StateCode string

// SchoolYear is a school year written as 2023-24.
// +kubebuilder:validation:MinLength=7
// +kubebuilder:validation:MaxLength=7
// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}$`
// +kubebuilder:validation:XValidation:rule="int(self.substring(5, 7)) == (int(self.substring(0, 4)) + 1) % 100",message="schoolYear must name two consecutive years, such as 2023-24"
type SchoolYear string
