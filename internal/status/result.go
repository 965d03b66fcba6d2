package status

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Result is what a reconcile returns once its status is written. A wait (WaitingError)
// ends it without an error: a watch wakes it. A stall ends it with a
// terminal error (logged, not retried until something changes) or, when the stall asks for
// it and nothing else went wrong, with a look again after a while; any other outcome passes
// through.
func Result(ctx context.Context, res ctrl.Result, err error) (ctrl.Result, error) {
	if w, ok := AsWaiting(err); ok && err == error(w) {
		logf.FromContext(ctx).Info("Waited", "reason", w.Reason, "message", w.Message)
		return res, nil
	}
	s, ok := AsStalled(err)
	if !ok {
		return res, err
	}
	logf.FromContext(ctx).Info("Stalled", "reason", s.Reason, "message", s.Message)
	if s.Recheck > 0 && err == error(s) {
		return ctrl.Result{RequeueAfter: s.Recheck}, nil
	}
	return ctrl.Result{}, reconcile.TerminalError(err)
}
