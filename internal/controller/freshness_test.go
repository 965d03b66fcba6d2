package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/land"
)

// gauge reads the gauge name{labels} (exactly those labels) from the running manager's
// registry, failing the test when it is absent.
func gauge(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok, err := gaugeValue(name, labels)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("no %s%v in the manager's metrics", name, labels)
	}
	return v
}

// gaugeValue reads the gauge name{labels} (exactly those labels) from the running manager's
// registry; ok is false when it is absent.
func gaugeValue(name string, labels map[string]string) (v float64, ok bool, err error) {
	families, err := env.registry.Gather()
	if err != nil {
		return 0, false, err
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
				return m.GetGauge().GetValue(), true, nil
			}
		}
	}
	return 0, false, nil
}

// expectGauge waits until the gauge name{labels} has the value want.
func expectGauge(t *testing.T, name string, labels map[string]string, want float64) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		v, ok, err := gaugeValue(name, labels)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(BeTrue(), "no %s%v in the manager's metrics", name, labels)
		g.Expect(v).To(Equal(want), "%s%v", name, labels)
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestSharedSourceFreshness: a SharedSource's runs and landed file are in the manager's
// metrics, and a run that fails (a file that cannot be fetched) shows as Ready=False, which
// the chart's DistrictLakeSharedSourceFailing alert reads.
func TestSharedSourceFreshness(t *testing.T) {
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	shs := sharedSource(ns, "crdc-2021-22-school-support", nil)
	create(t, shs)
	who := map[string]string{"kind": kindSharedSource, "namespace": ns, "name": shs.Name, "state": ""}

	expectGauge(t, "districtlake_schedule_period_seconds", who, (7 * 24 * time.Hour).Seconds())
	landed(t, shs, "1", "aaaaaaaaaaaaaaaa", land.LayoutStateFile)
	expectGauge(t, "districtlake_shared_artifact_bytes", who, 62017)
	expectGauge(t, "districtlake_shared_artifact_rows", who, 1000)
	expectGauge(t, "districtlake_shared_artifact_districts", who, 40)
	landedAt, _ := time.Parse(time.RFC3339, "2026-12-03T06:00:00Z")
	expectGauge(t, "districtlake_shared_artifact_landed_timestamp_seconds", who, float64(landedAt.Unix()))
	got := &v1alpha1.SharedSource{}
	NewWithT(t).Expect(env.c.Get(t.Context(), client.ObjectKeyFromObject(shs), got)).To(Succeed())
	NewWithT(t).Expect(got.Status.LastSuccessfulTime).NotTo(BeNil())
	expectGauge(t, "districtlake_last_success_timestamp_seconds", who, float64(got.Status.LastSuccessfulTime.Unix()))
	expectGauge(t, "districtlake_status_condition",
		with(with(with(who, "type", v1alpha1.ReadyCondition), "status", string(metav1.ConditionTrue)), "reason", v1alpha1.ReasonSucceeded), 1)

	// The origin answers 503: the run fails, the landed revision stays.
	job := runNow(t, shs, kindSharedSource, "2")
	finishJob(t, job, false, "fetching https://data.example.gov/crdc/2021-22-crdc-data.zip: 503 Service Unavailable")
	expectGauge(t, "districtlake_status_condition",
		with(with(with(who, "type", v1alpha1.ReadyCondition), "status", string(metav1.ConditionFalse)), "reason", v1alpha1.ReasonRunFailed), 1)
	expectGauge(t, "districtlake_shared_artifact_rows", who, 1000)
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
