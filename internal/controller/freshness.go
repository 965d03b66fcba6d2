package controller

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// freshness exports every DistrictSource's, StateComparison's and SharedSource's last run
// from status, and each SharedSource's landed artifact, at scrape time: the Jobs live too
// briefly to be scraped themselves. It reads the manager's cache, so a scrape sends nothing
// to the API server.
type freshness struct {
	reader  client.Reader
	timeout time.Duration

	lastSuccess, created, period, duration, rows, bytes, condition *prometheus.Desc
	// The landed artifact of a SharedSource.
	artifactBytes, artifactRows, artifactDistricts, artifactLanded *prometheus.Desc
}

// Labels of every freshness series.
var freshnessLabels = []string{"kind", "namespace", "name", "state"}

func newFreshness(reader client.Reader) *freshness {
	desc := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string{}, freshnessLabels...), extra...), nil)
	}
	return &freshness{
		reader:      reader,
		timeout:     10 * time.Second,
		lastSuccess: desc("districtlake_last_success_timestamp_seconds", "When the resource's last successful run ended (status.lastSuccessfulTime), in Unix seconds; absent until a run succeeds."),
		created:     desc("districtlake_created_timestamp_seconds", "When the resource was created, in Unix seconds (for alerts on resources that never succeeded)."),
		period:      desc("districtlake_schedule_period_seconds", "Seconds between two scheduled runs of the resource (from its cron schedule)."),
		duration:    desc("districtlake_last_run_duration_seconds", "How long the last finished run took, from its Job's start to its end."),
		rows:        desc("districtlake_last_run_rows", "Rows the last successful run wrote, by dataset.", "dataset"),
		bytes:       desc("districtlake_last_run_fetched_bytes", "Bytes the last successful run read from the district's sources."),
		condition:   desc("districtlake_status_condition", "The resource's current conditions: 1 for the status and reason it has now.", "type", "status", "reason"),

		artifactBytes:     desc("districtlake_shared_artifact_bytes", "Size of the file a SharedSource landed last (status.artifact.bytes)."),
		artifactRows:      desc("districtlake_shared_artifact_rows", "Rows of the file a SharedSource landed last (status.artifact.rows)."),
		artifactDistricts: desc("districtlake_shared_artifact_districts", "Districts (LEAIDs) in the file a SharedSource landed last (status.artifact.districts)."),
		artifactLanded:    desc("districtlake_shared_artifact_landed_timestamp_seconds", "When a SharedSource's current revision was landed (status.artifact.landedAt), in Unix seconds."),
	}
}

// Describe implements prometheus.Collector.
func (f *freshness) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.lastSuccess, f.created, f.period, f.duration, f.rows, f.bytes, f.condition,
		f.artifactBytes, f.artifactRows, f.artifactDistricts, f.artifactLanded} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (f *freshness) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	var sources v1alpha1.DistrictSourceList
	if err := f.reader.List(ctx, &sources, client.UnsafeDisableDeepCopy); err == nil {
		for i := range sources.Items {
			ds := &sources.Items[i]
			labels := []string{kindDistrictSource, ds.Namespace, ds.Name, string(ds.Spec.District.State)}
			f.collectWorkload(ch, labels, &ds.ObjectMeta, resolvedSchedule(ds.Spec.Schedule, ds.Status.Schedule), ds.Status.LastSuccessfulTime, ds.Status.LastRun, ds.Status.Conditions)
			f.collectSources(ch, labels, ds.Status.Sources)
		}
	}
	var comparisons v1alpha1.StateComparisonList
	if err := f.reader.List(ctx, &comparisons, client.UnsafeDisableDeepCopy); err == nil {
		for i := range comparisons.Items {
			sc := &comparisons.Items[i]
			labels := []string{kindStateComparison, sc.Namespace, sc.Name, string(sc.Spec.State)}
			f.collectWorkload(ch, labels, &sc.ObjectMeta, resolvedSchedule(sc.Spec.Schedule, sc.Status.Schedule), sc.Status.LastSuccessfulTime, sc.Status.LastRun, sc.Status.Conditions)
			if sc.Status.LastSuccessfulTime != nil {
				ch <- prometheus.MustNewConstMetric(f.rows, prometheus.GaugeValue, float64(sc.Status.Rows), append(labels, "comparison")...)
			}
		}
	}
	var shared v1alpha1.SharedSourceList
	if err := f.reader.List(ctx, &shared, client.UnsafeDisableDeepCopy); err == nil {
		for i := range shared.Items {
			shs := &shared.Items[i]
			// A SharedSource is national: its state label is empty.
			labels := []string{kindSharedSource, shs.Namespace, shs.Name, ""}
			f.collectWorkload(ch, labels, &shs.ObjectMeta, resolvedSchedule(shs.Spec.Schedule, shs.Status.Schedule), shs.Status.LastSuccessfulTime, shs.Status.LastRun, shs.Status.Conditions)
			f.collectArtifact(ch, labels, shs.Status.Artifact)
		}
	}
}

// collectArtifact exports a SharedSource's landed artifact, if any.
func (f *freshness) collectArtifact(ch chan<- prometheus.Metric, labels []string, a *v1alpha1.SharedArtifact) {
	if a == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(f.artifactBytes, prometheus.GaugeValue, float64(a.Bytes), labels...)
	ch <- prometheus.MustNewConstMetric(f.artifactRows, prometheus.GaugeValue, float64(a.Rows), labels...)
	ch <- prometheus.MustNewConstMetric(f.artifactDistricts, prometheus.GaugeValue, float64(a.Districts), labels...)
	if a.LandedAt != nil {
		ch <- prometheus.MustNewConstMetric(f.artifactLanded, prometheus.GaugeValue, float64(a.LandedAt.Unix()), labels...)
	}
}

func (f *freshness) collectWorkload(ch chan<- prometheus.Metric, labels []string, meta *metav1.ObjectMeta,
	resolved string, lastSuccess *metav1.Time, lastRun *v1alpha1.RunStatus, conditions []metav1.Condition) {
	gauge := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(append([]string{}, labels...), extra...)...)
	}
	gauge(f.created, float64(meta.CreationTimestamp.Unix()))
	if p, ok := schedulePeriod(resolved, meta.CreationTimestamp.Time); ok {
		gauge(f.period, p.Seconds())
	}
	if lastSuccess != nil {
		gauge(f.lastSuccess, float64(lastSuccess.Unix()))
	}
	if lastRun != nil && lastRun.StartTime != nil && lastRun.CompletionTime != nil {
		gauge(f.duration, lastRun.CompletionTime.Sub(lastRun.StartTime.Time).Seconds())
	}
	for _, c := range conditions {
		gauge(f.condition, 1, c.Type, string(c.Status), c.Reason)
	}
}

func (f *freshness) collectSources(ch chan<- prometheus.Metric, labels []string, sources []v1alpha1.SourceStatus) {
	if len(sources) == 0 {
		return
	}
	rows := map[string]int64{}
	var fetched int64
	for _, s := range sources {
		rows[string(s.Dataset)] += s.Rows
		fetched += s.Bytes
	}
	for dataset, n := range rows {
		ch <- prometheus.MustNewConstMetric(f.rows, prometheus.GaugeValue, float64(n), append(append([]string{}, labels...), dataset)...)
	}
	ch <- prometheus.MustNewConstMetric(f.bytes, prometheus.GaugeValue, float64(fetched), labels...)
}

// schedulePeriod is the time between the two scheduled runs that follow from; false when
// the schedule does not parse (the resource is then Stalled and says why).
func schedulePeriod(schedule string, from time.Time) (time.Duration, bool) {
	s, err := cron.ParseStandard(schedule)
	if err != nil {
		return 0, false
	}
	first := s.Next(from)
	second := s.Next(first)
	if first.IsZero() || second.IsZero() {
		return 0, false
	}
	return second.Sub(first), true
}

// resolvedSchedule is the schedule the CronJob runs (status.schedule, H tokens expanded),
// else the spec's.
func resolvedSchedule(spec, status string) string {
	if status != "" {
		return status
	}
	return spec
}
