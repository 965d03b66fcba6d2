package controller

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// stalledError is an error that retrying cannot fix: the user must change something. The
// reconcile that meets it marks the object Stalled (and not Ready) with its reason and
// message, and does not requeue, unless recheck is set: then the controller looks again
// after that long (for objects it does not watch, such as the user's Secrets).
type stalledError struct {
	reason  string
	message string
	recheck time.Duration
}

func (e *stalledError) Error() string { return e.message }

// stalled returns a stalledError with a formatted message.
func stalled(reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// stalledRecheck returns a stalledError that is looked at again after recheck.
func stalledRecheck(recheck time.Duration, reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...), recheck: recheck}
}

// asStalled reports whether err is (or wraps) a stalledError.
func asStalled(err error) (*stalledError, bool) {
	var s *stalledError
	ok := errors.As(err, &s)
	return s, ok
}

// conditions edits a status' condition list, stamping the generation and the clock's time.
type conditions struct {
	list       *[]metav1.Condition
	generation int64
	now        metav1.Time
}

func (c conditions) set(typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(c.list, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: c.generation,
		LastTransitionTime: c.now,
	})
}

func (c conditions) get(typ string) *metav1.Condition { return meta.FindStatusCondition(*c.list, typ) }

func (c conditions) remove(typ string) { meta.RemoveStatusCondition(c.list, typ) }

// runFailed returns the Stalled condition left by a failed run, if any: it stays until a
// newer run succeeds.
func (c conditions) runFailed() *metav1.Condition {
	s := c.get(v1alpha1.StalledCondition)
	if s == nil || s.Status != metav1.ConditionTrue || s.Reason != v1alpha1.ReasonRunFailed {
		return nil
	}
	return s
}

// clearSpecStall removes a Stalled condition caused by the spec (not by a failed run).
func (c conditions) clearSpecStall() {
	if s := c.get(v1alpha1.StalledCondition); s != nil && c.runFailed() == nil {
		c.remove(v1alpha1.StalledCondition)
	}
}
