//go:build e2e

package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// explain describes an object for a failure message: the object (with its conditions), the
// last events about it and its Jobs and pods, the logs of its last Job and the manager's last
// log lines.
func (s *suite) explain(resource, ns, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n==== %s %s/%s\n", resource, ns, name)
	if out, err := s.kubectl("get", resource, name, "-n", ns, "-o", "yaml"); err == nil {
		b.WriteString(out)
	} else {
		b.WriteString(err.Error())
	}
	b.WriteString("\n==== its last events (and its Jobs' and pods')\n")
	b.WriteString(s.events(ns, name, 15))
	if job := s.lastJob(resource, ns, name); job != "" {
		fmt.Fprintf(&b, "\n==== logs of Job %s\n", job)
		out, err := s.kubectl("logs", "-n", ns, "job/"+job, "--all-containers", "--tail", "40")
		if err != nil {
			out = err.Error()
		}
		b.WriteString(out)
	}
	b.WriteString("\n==== the manager's last log lines\n")
	b.WriteString(s.managerLogs(25))
	return b.String()
}

// events lists the namespace's events about objects whose names start with prefix, oldest
// first, the last n of them.
func (s *suite) events(ns, prefix string, n int) string {
	var list corev1.EventList
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return "listing events: " + err.Error()
	}
	var lines []string
	sort.Slice(list.Items, func(i, j int) bool { return eventTime(list.Items[i]).Before(eventTime(list.Items[j])) })
	for _, e := range list.Items {
		if strings.HasPrefix(e.InvolvedObject.Name, prefix) {
			lines = append(lines, fmt.Sprintf("%s %s %s/%s %s: %s", eventTime(e).Format("15:04:05"), e.Type,
				e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(none)\n"
	}
	return strings.Join(lines, "\n") + "\n"
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

func (s *suite) lastJob(resource, ns, name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := client.ObjectKey{Namespace: ns, Name: name}
	switch resource {
	case "districtsource":
		var ds v1alpha1.DistrictSource
		if s.c.Get(ctx, key, &ds) == nil && ds.Status.LastRun != nil {
			return ds.Status.LastRun.Job
		}
	case "statecomparison":
		var sc v1alpha1.StateComparison
		if s.c.Get(ctx, key, &sc) == nil && sc.Status.LastRun != nil {
			return sc.Status.LastRun.Job
		}
	case "sharedsource":
		var shs v1alpha1.SharedSource
		if s.c.Get(ctx, key, &shs) == nil && shs.Status.LastRun != nil {
			return shs.Status.LastRun.Job
		}
	}
	return ""
}

func (s *suite) managerLogs(tail int) string {
	out, err := s.kubectl("logs", "-n", systemNS, "deployment/"+release+"-manager", "--tail", fmt.Sprint(tail))
	if err != nil {
		return err.Error()
	}
	return out
}

func (s *suite) describeManager() string {
	out, _ := s.kubectl("get", "deployment,replicaset,pods", "-n", systemNS, "-o", "wide")
	return out + "\n" + s.events(systemNS, release, 20) + s.managerLogs(30)
}

// runNow sets the run-now annotation of a DistrictSource or StateComparison to value.
func (s *suite) runNow(ctx context.Context, obj client.Object, value string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.RunNowAnnotation, value)
	return s.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)))
}

func condition(conds []metav1.Condition, typ string) string {
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		return typ + " is not set"
	}
	return fmt.Sprintf("%s=%s (%s: %s)", typ, c.Status, c.Reason, c.Message)
}

func isTrue(conds []metav1.Condition, typ string) bool {
	return meta.IsStatusConditionTrue(conds, typ)
}

// waitDistrictSource waits until ok holds for the DistrictSource, or fails the test with the
// object, its events and its Job's logs.
func (s *suite) waitDistrictSource(t *testing.T, name, what string, ok func(*v1alpha1.DistrictSource) bool) *v1alpha1.DistrictSource {
	t.Helper()
	return s.waitDistrictSourceIn(t, samplesNS, name, what, ok, nil)
}

// waitDistrictSourceIn is waitDistrictSource in namespace ns; more, when set, adds to the
// failure's message (the queue's state, say).
func (s *suite) waitDistrictSourceIn(t *testing.T, ns, name, what string, ok func(*v1alpha1.DistrictSource) bool, more func() string) *v1alpha1.DistrictSource {
	t.Helper()
	ctx := ctxFor(t, runNowTimeout)
	var ds v1alpha1.DistrictSource
	err := poll(ctx, time.Second, func() (bool, error) {
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ds); err != nil {
			return false, nil
		}
		return ok(&ds), nil
	})
	if err != nil {
		extra := ""
		if more != nil {
			extra = more()
		}
		t.Fatalf("DistrictSource %s/%s did not reach %q within %s (%v): %s, %s%s%s", ns, name, what, runNowTimeout, err,
			condition(ds.Status.Conditions, v1alpha1.ReadyCondition), condition(ds.Status.Conditions, v1alpha1.StalledCondition),
			s.explain("districtsource", ns, name), extra)
	}
	return &ds
}

func (s *suite) waitStateComparison(t *testing.T, name, what string, ok func(*v1alpha1.StateComparison) bool) *v1alpha1.StateComparison {
	t.Helper()
	ctx := ctxFor(t, runNowTimeout)
	var sc v1alpha1.StateComparison
	err := poll(ctx, time.Second, func() (bool, error) {
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: name}, &sc); err != nil {
			return false, nil
		}
		return ok(&sc), nil
	})
	if err != nil {
		t.Fatalf("StateComparison %s/%s did not reach %q within %s (%v): %s, %s%s", samplesNS, name, what, runNowTimeout, err,
			condition(sc.Status.Conditions, v1alpha1.ReadyCondition), condition(sc.Status.Conditions, v1alpha1.StalledCondition),
			s.explain("statecomparison", samplesNS, name))
	}
	return &sc
}

// waitSharedSource waits until ok holds for the SharedSource, or fails the test with the
// object, its events and its Job's logs.
func (s *suite) waitSharedSource(t *testing.T, name, what string, ok func(*v1alpha1.SharedSource) bool) *v1alpha1.SharedSource {
	t.Helper()
	ctx := ctxFor(t, runNowTimeout)
	var shs v1alpha1.SharedSource
	err := poll(ctx, time.Second, func() (bool, error) {
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: samplesNS, Name: name}, &shs); err != nil {
			return false, nil
		}
		return ok(&shs), nil
	})
	if err != nil {
		t.Fatalf("SharedSource %s/%s did not reach %q within %s (%v): %s, %s%s", samplesNS, name, what, runNowTimeout, err,
			condition(shs.Status.Conditions, v1alpha1.ReadyCondition), condition(shs.Status.Conditions, v1alpha1.StalledCondition),
			s.explain("sharedsource", samplesNS, name))
	}
	return &shs
}

// succeededFor: the run for this run-now value finished and the DistrictSource is Ready.
func succeededFor(value string) func(*v1alpha1.DistrictSource) bool {
	return func(ds *v1alpha1.DistrictSource) bool {
		return ds.Status.LastRunNow == value && ds.Status.LastRun != nil && ds.Status.LastRun.Outcome == v1alpha1.RunSucceeded &&
			isTrue(ds.Status.Conditions, v1alpha1.ReadyCondition)
	}
}

func (s *suite) districtSources(t *testing.T) []v1alpha1.DistrictSource {
	t.Helper()
	var list v1alpha1.DistrictSourceList
	if err := s.c.List(ctxFor(t, 30*time.Second), &list, client.InNamespace(samplesNS)); err != nil {
		t.Fatalf("listing DistrictSources: %v", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}

// sampleDistrictSources are the DistrictSources of config/samples (without the ones this
// suite adds).
func (s *suite) sampleDistrictSources(t *testing.T) []v1alpha1.DistrictSource {
	var out []v1alpha1.DistrictSource
	for _, ds := range s.districtSources(t) {
		if ds.Labels[addedLabel] == "" {
			out = append(out, ds)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no sample DistrictSources in %s", samplesNS)
	}
	return out
}

// jobsOf lists the Jobs of the named owner (DistrictSource or StateComparison).
func (s *suite) jobsOf(ctx context.Context, owner string) ([]batchv1.Job, error) {
	var list batchv1.JobList
	if err := s.c.List(ctx, &list, client.InNamespace(samplesNS)); err != nil {
		return nil, err
	}
	var out []batchv1.Job
	for _, j := range list.Items {
		if j.Annotations["districtlake.io/owner"] == owner {
			out = append(out, j)
		}
	}
	return out, nil
}

// mirror copies the whole bucket into a new folder, for DuckDB (which has no S3 access here).
func (s *suite) mirror(t *testing.T) string {
	t.Helper()
	env := lake.MapEnv(map[string]string{plan.EnvLakeAccessKeyID: s.minio.accessKey, plan.EnvLakeSecretAccessKey: s.minio.secretKey})
	store, err := lake.New(ctxFor(t, time.Minute), plan.Lake{Type: plan.LakeS3, Endpoint: s.minio.endpoint, Bucket: bucket,
		Region: "us-east-1", PathStyle: true, AccessKeyIDEnv: plan.EnvLakeAccessKeyID, SecretAccessKeyEnv: plan.EnvLakeSecretAccessKey}, env)
	if err != nil {
		t.Fatalf("opening the lake in MinIO: %v", err)
	}
	dir := t.TempDir()
	testenv.MirrorLake(t, store, dir)
	return dir
}

// lakePrefix is the sample Lake's prefix in the bucket.
func (s *suite) lakePrefix(t *testing.T) string {
	t.Helper()
	var l v1alpha1.Lake
	if err := s.c.Get(ctxFor(t, 30*time.Second), client.ObjectKey{Namespace: samplesNS, Name: lakeName}, &l); err != nil {
		t.Fatalf("reading Lake %s: %v", lakeName, err)
	}
	return l.Spec.Prefix
}

// bucketKey is the object key in the bucket of a key the status reports (below the prefix or
// already with it).
func bucketKey(prefix, key string) string {
	if prefix == "" || strings.HasPrefix(key, prefix+"/") {
		return key
	}
	return prefix + "/" + key
}

// csvRows reads a CSV held in a ConfigMap key and returns its data rows.
func (s *suite) csvRows(t *testing.T, configMap, key string) [][]string {
	t.Helper()
	var cm corev1.ConfigMap
	if err := s.c.Get(ctxFor(t, 30*time.Second), client.ObjectKey{Namespace: samplesNS, Name: configMap}, &cm); err != nil {
		t.Fatalf("reading ConfigMap %s: %v", configMap, err)
	}
	rows, err := csv.NewReader(strings.NewReader(cm.Data[key])).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("parsing %s/%s as CSV: %v", configMap, key, err)
	}
	return rows[1:]
}

func toJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
