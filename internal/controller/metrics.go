package controller

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// Metrics are the controllers' own Prometheus metrics; reconcile counts and durations come
// from controller-runtime.
type Metrics struct {
	runs *prometheus.CounterVec

	mu sync.Mutex
	// counted is the last Job counted per resource (by UID): a second reconcile that reads
	// the resource from the cache before its status patch arrives (woken, say, by its
	// CronJob being resumed) finds the run unrecorded again, and must not count it twice.
	counted map[types.UID]types.UID
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
	return &Metrics{runs: runs, counted: map[types.UID]types.UID{}}, nil
}

// firstFinish says whether Job job of resource owner is seen finished for the first time
// (always true without metrics).
func (m *Metrics) firstFinish(owner, job types.UID) bool {
	if m == nil {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counted[owner] == job {
		return false
	}
	m.counted[owner] = job
	return true
}

// runFinished counts one finished run.
func (m *Metrics) runFinished(kind string, outcome string) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(kind, outcome).Inc()
}
