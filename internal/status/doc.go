// Package status turns what one reconcile found into the status every districtlake kind
// shows: the Ready, Reconciling and Stalled conditions (kstatus' meaning: Stalled only when
// the spec or an object it names must change) and observedGeneration, and, for the kinds
// that run Jobs, the record of a finished run. It holds no client: the controllers read the
// cluster and hand the findings in, so every rule here is a pure function.
package status
