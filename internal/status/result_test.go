package status

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestResult(t *testing.T) {
	transient := errors.New("connection reset")
	stall := Stalled("InvalidSchedule", "bad schedule")
	recheck := StalledRecheck(time.Minute, "SecretNotFound", "no Secret")
	tests := []struct {
		name     string
		res      ctrl.Result
		err      error
		want     ctrl.Result
		terminal bool
		retried  bool
	}{
		{name: "success passes through", res: ctrl.Result{RequeueAfter: time.Hour}, want: ctrl.Result{RequeueAfter: time.Hour}},
		{name: "a transient error is retried", err: transient, retried: true},
		{name: "a known reason to retry is retried", err: Retry("BucketUnreachable", "refused"), retried: true},
		{name: "a stall is terminal", err: stall, terminal: true},
		{name: "a wrapped stall is terminal", err: fmt.Errorf("rendering: %w", stall), terminal: true},
		{name: "a stall on an unwatched object is looked at again", err: recheck, want: ctrl.Result{RequeueAfter: time.Minute}},
		{name: "a wait ends without a retry", err: Waiting("SharedSourceNotReady", "not landed yet")},
		{name: "a wait whose status patch failed is retried", err: errors.Join(Waiting("SharedSourceNotReady", "not landed yet"), transient), retried: true},
		{name: "a recheck stall whose status patch failed is terminal", err: errors.Join(recheck, transient), terminal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Result(context.Background(), tt.res, tt.err)
			if got != tt.want {
				t.Errorf("result = %+v, want %+v", got, tt.want)
			}
			terminal := errors.Is(err, reconcile.TerminalError(nil))
			if terminal != tt.terminal {
				t.Errorf("terminal = %v (%v), want %v", terminal, err, tt.terminal)
			}
			if retried := err != nil && !terminal; retried != tt.retried {
				t.Errorf("err = %v, want retried %v", err, tt.retried)
			}
		})
	}
}
