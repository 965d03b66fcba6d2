package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SetCondition adds c or replaces the condition of its type. The transition time stays
// when the status does not change.
func (s *ConditionedStatus) SetCondition(c metav1.Condition) {
	meta.SetStatusCondition(&s.Conditions, c)
}

// RemoveCondition removes the condition of type typ, if there is one.
func (s *ConditionedStatus) RemoveCondition(typ string) {
	meta.RemoveStatusCondition(&s.Conditions, typ)
}

// FindCondition returns the condition of type typ, or nil.
func (s *ConditionedStatus) FindCondition(typ string) *metav1.Condition {
	return meta.FindStatusCondition(s.Conditions, typ)
}

// IsConditionTrue reports whether the condition of type typ is present and True.
func (s *ConditionedStatus) IsConditionTrue(typ string) bool {
	return meta.IsStatusConditionTrue(s.Conditions, typ)
}

// HasConditionReason reports whether the condition of type typ is present with the given
// status and reason.
func (s *ConditionedStatus) HasConditionReason(typ string, status metav1.ConditionStatus, reason string) bool {
	c := s.FindCondition(typ)
	return c != nil && c.Status == status && c.Reason == reason
}

// Finished reports whether the run has ended, well or badly.
func (r *RunStatus) Finished() bool {
	return r != nil && (r.Outcome == RunSucceeded || r.Outcome == RunFailed)
}
