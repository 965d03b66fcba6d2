package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Standards are the recommended numbers of students per FTE of each support role.
type Standards struct {
	// counselor: students per school counselor (ASCA recommends 250).
	// +optional
	// +kubebuilder:default=250
	// +kubebuilder:validation:Minimum=1
	Counselor int32 `json:"counselor,omitempty"`
	// nurse: students per school nurse (NASN, healthy student population: 750).
	// +optional
	// +kubebuilder:default=750
	// +kubebuilder:validation:Minimum=1
	Nurse int32 `json:"nurse,omitempty"`
	// psychologist: students per school psychologist (NASP recommends 500).
	// +optional
	// +kubebuilder:default=500
	// +kubebuilder:validation:Minimum=1
	Psychologist int32 `json:"psychologist,omitempty"`
	// socialWorker: students per school social worker (SSWAA recommends 250).
	// +optional
	// +kubebuilder:default=250
	// +kubebuilder:validation:Minimum=1
	SocialWorker int32 `json:"socialWorker,omitempty"`
}

// Costs are the annual costs, in US dollars, of one FTE of each support role. With them a
// police contract's cost is also shown as the support staff it could pay for.
type Costs struct {
	// counselor: annual cost of one school counselor FTE.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Counselor *int64 `json:"counselor,omitempty"`
	// nurse: annual cost of one school nurse FTE.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Nurse *int64 `json:"nurse,omitempty"`
	// psychologist: annual cost of one school psychologist FTE.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Psychologist *int64 `json:"psychologist,omitempty"`
	// socialWorker: annual cost of one school social worker FTE.
	// +optional
	// +kubebuilder:validation:Minimum=1
	SocialWorker *int64 `json:"socialWorker,omitempty"`
}

// StateComparisonSpec is one state's comparison of its districts.
type StateComparisonSpec struct {
	// state is the two-letter USPS code of the state whose districts are compared.
	// +required
	State StateCode `json:"state"`
	// lakeRef names the Lake (same namespace) to read the districts' datasets from and write
	// the comparison to.
	// +required
	LakeRef LocalObjectReference `json:"lakeRef"`

	ScheduleSpec `json:",inline"`

	// schoolYears to compare, such as ["2020-21"].
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	SchoolYears []SchoolYear `json:"schoolYears"`
	// standards are the recommended students per FTE; ASCA, NASN, NASP and SSWAA levels by
	// default.
	// +optional
	// +kubebuilder:default={}
	Standards Standards `json:"standards,omitempty"`
	// costs, when set, turn each district's police contract into the support staff it could
	// pay for.
	// +optional
	Costs *Costs `json:"costs,omitempty"`

	// job adjusts the Jobs that run the comparison.
	// +optional
	Job *JobTemplate `json:"job,omitempty"`
}

// StateComparisonStatus is the observed state of a StateComparison.
type StateComparisonStatus struct {
	WorkloadStatus `json:",inline"`

	// districts is how many districts the last successful run compared.
	// +optional
	Districts int32 `json:"districts,omitempty"`
	// rows is how many comparison rows the last successful run wrote.
	// +optional
	Rows int64 `json:"rows,omitempty"`
	// objectKeys are the comparison objects the last successful run published.
	// +optional
	// +listType=atomic
	ObjectKeys []string `json:"objectKeys,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sc,categories=districtlake
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.spec.state`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Districts",type=integer,JSONPath=`.status.districts`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Success",type=date,JSONPath=`.status.lastSuccessfulTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1

// StateComparison compares one state's districts: students per counselor, nurse,
// psychologist and social worker against recommended levels, police presence and contract
// costs, and arrests and referrals by student group.
type StateComparison struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the state and how to compare it.
	// +required
	Spec StateComparisonSpec `json:"spec"`
	// status is what the last runs did.
	// +optional
	Status StateComparisonStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// StateComparisonList is a list of StateComparisons.
type StateComparisonList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StateComparison `json:"items"`
}

func init() {
	SchemeBuilder.Register(&StateComparison{}, &StateComparisonList{})
}
