package status

import (
	"errors"
	"fmt"
	"time"
)

// StalledError is an error that retrying cannot fix: the spec, or an object it names, must
// change. Summarize marks the object Stalled and not Ready with its reason and message;
// Result ends the reconcile without a retry unless Recheck is set, in which case the object
// is looked at again after that long (for objects the controllers do not watch, such as the
// users' Secrets and ConfigMaps).
type StalledError struct {
	Reason  string
	Message string
	Recheck time.Duration
}

func (e *StalledError) Error() string { return e.Message }

// Stalled returns a StalledError with a formatted message.
func Stalled(reason, format string, args ...any) error {
	return &StalledError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// StalledRecheck returns a StalledError that is looked at again after recheck.
func StalledRecheck(recheck time.Duration, reason, format string, args ...any) error {
	return &StalledError{Reason: reason, Message: fmt.Sprintf(format, args...), Recheck: recheck}
}

// AsStalled reports whether err is (or wraps) a StalledError.
func AsStalled(err error) (*StalledError, bool) {
	var s *StalledError
	ok := errors.As(err, &s)
	return s, ok
}

// RetryError says the object is not ready for a known reason that may pass without a change
// to the spec, such as an unreachable bucket. Summarize marks it not Ready with the reason,
// and Reconciling; the reconcile is retried with backoff.
type RetryError struct {
	Reason  string
	Message string
}

func (e *RetryError) Error() string { return e.Message }

// Retry returns a RetryError.
func Retry(reason, message string) error {
	return &RetryError{Reason: reason, Message: message}
}

// WaitingError says the object waits for another object to get somewhere on its own, such
// as a SharedSource that exists but has not landed a revision yet. Summarize marks it not
// Ready with the reason, and Reconciling; it is not Stalled (nothing in the spec is wrong)
// and the reconcile ends without a retry: a watch on the other object wakes it.
type WaitingError struct {
	Reason  string
	Message string
}

func (e *WaitingError) Error() string { return e.Message }

// Waiting returns a WaitingError with a formatted message.
func Waiting(reason, format string, args ...any) error {
	return &WaitingError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// AsWaiting reports whether err is (or wraps) a WaitingError.
func AsWaiting(err error) (*WaitingError, bool) {
	var w *WaitingError
	ok := errors.As(err, &w)
	return w, ok
}
