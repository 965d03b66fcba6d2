package controller

import (
	"testing"
	"time"
)

// gauge reads the gauge name{labels} (exactly those labels) from the running manager's
// registry, failing the test when it is absent.
func gauge(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := env.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if equalLabels(got, labels) {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s%v in the manager's metrics", name, labels)
	return 0
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// with is labels plus one more.
func with(labels map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for lk, lv := range labels {
		out[lk] = lv
	}
	return out
}

func TestSchedulePeriod(t *testing.T) {
	from := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for schedule, want := range map[string]time.Duration{
		"0 3 * * 1":    7 * 24 * time.Hour,
		"@daily":       24 * time.Hour,
		"*/15 * * * *": 15 * time.Minute,
	} {
		got, ok := schedulePeriod(schedule, from)
		if !ok || got != want {
			t.Errorf("schedulePeriod(%q) = %v, %v; want %v", schedule, got, ok, want)
		}
	}
	if _, ok := schedulePeriod("not a schedule", from); ok {
		t.Error("an invalid schedule has a period")
	}
}
