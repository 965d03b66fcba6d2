package v1alpha1

import (
	"encoding/json"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStatusJSONFields: the shared status types are embedded inline, so users see the same
// flat status fields on every kind.
func TestStatusJSONFields(t *testing.T) {
	at := metav1.Now()
	ws := WorkloadStatus{
		ConditionedStatus: ConditionedStatus{ObservedGeneration: 2,
			Conditions: []metav1.Condition{{Type: ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonSucceeded}}},
		LastScheduleTime: &at, LastSuccessfulTime: &at, LastRun: &RunStatus{Job: "j"}, LastRunNow: "1", Schedule: "7 3 * * 1",
	}
	workload := []string{"conditions", "lastRun", "lastRunNow", "lastScheduleTime", "lastSuccessfulTime", "observedGeneration", "schedule"}
	tests := []struct {
		name   string
		status any
		want   []string
	}{
		{"DistrictSource", DistrictSourceStatus{WorkloadStatus: ws, Sources: []SourceStatus{{Name: "s"}}},
			append([]string{"sources"}, workload...)},
		{"StateComparison", StateComparisonStatus{WorkloadStatus: ws, Districts: 1, Rows: 1, ObjectKeys: []string{"k"}},
			append([]string{"districts", "objectKeys", "rows"}, workload...)},
		{"Lake", LakeStatus{ConditionedStatus: ws.ConditionedStatus, LastCheckedTime: &at, URL: "s3://b"},
			[]string{"conditions", "lastCheckedTime", "observedGeneration", "url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.status)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(b, &fields); err != nil {
				t.Fatal(err)
			}
			var got []string
			for k := range fields {
				got = append(got, k)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("status fields = %v, want %v", got, want)
			}
		})
	}
}

func TestConditionHelpers(t *testing.T) {
	var s ConditionedStatus
	s.SetCondition(metav1.Condition{Type: ReadyCondition, Status: metav1.ConditionFalse, Reason: ReasonRunFailed, Message: "Job j failed"})
	if !s.HasConditionReason(ReadyCondition, metav1.ConditionFalse, ReasonRunFailed) || s.IsConditionTrue(ReadyCondition) {
		t.Errorf("after setting Ready=False RunFailed: %+v", s.Conditions)
	}
	s.SetCondition(metav1.Condition{Type: ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonSucceeded})
	if !s.IsConditionTrue(ReadyCondition) || len(s.Conditions) != 1 {
		t.Errorf("after setting Ready=True: %+v", s.Conditions)
	}
	s.RemoveCondition(ReadyCondition)
	if s.FindCondition(ReadyCondition) != nil {
		t.Errorf("Ready still there after RemoveCondition: %+v", s.Conditions)
	}
	for _, r := range []*RunStatus{nil, {Outcome: RunRunning}} {
		if r.Finished() {
			t.Errorf("%+v is finished", r)
		}
	}
	for _, o := range []RunOutcome{RunSucceeded, RunFailed} {
		if !(&RunStatus{Outcome: o}).Finished() {
			t.Errorf("a %s run is not finished", o)
		}
	}
}
