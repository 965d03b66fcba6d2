package controller

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controllers' own Prometheus metrics; reconcile counts and durations come
// from controller-runtime.
type Metrics struct {
	runs *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (controller-runtime's
// metrics.Registry in the manager).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "districtlake_runs_total",
		Help: "Runs (Jobs) that finished, by kind of resource (DistrictSource, StateComparison) and outcome (Succeeded, Failed).",
	}, []string{"kind", "outcome"})
	if err := reg.Register(runs); err != nil {
		return nil, fmt.Errorf("registering districtlake_runs_total: %w", err)
	}
	return &Metrics{runs: runs}, nil
}

// runFinished counts one finished run.
func (m *Metrics) runFinished(kind string, outcome string) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(kind, outcome).Inc()
}
