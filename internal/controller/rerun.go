package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/status"
)

// Annotations of a re-run Job: the SharedSources it re-runs for (comma-separated names)
// and the revisions it reads (name=revision, comma-separated, sorted by name).
const (
	AnnotationRerunFor       = "districtlake.io/rerun-for"
	AnnotationRerunRevisions = "districtlake.io/rerun-revisions"
	triggerRerun             = "rerun"
)

// rerun is what a DistrictSource's re-run needs: the SharedSources with rerunDistricts
// enabled that its plan reads, at the revision rendered, and the record in its status of
// the revision each was last re-run on.
type rerun struct {
	reads     []sharedRead
	suspended bool
	record    *[]v1alpha1.SharedRevision
	// gate makes counting the running re-run Jobs and creating one a single step across
	// the controller's workers, so that no more than a SharedSource's maxConcurrentJobs
	// are ever started.
	gate *sync.Mutex
}

// sharedRead is one SharedSource a plan reads at one revision, re-run at most max at once.
type sharedRead struct {
	name, revision string
	max            int
}

// rerunReads are the SharedSources with rerunDistricts enabled that a plan reads, once
// each, sorted by name, and the names of every SharedSource it reads.
func (r *DistrictSourceReconciler) rerunReads(ctx context.Context, ns string, p *plan.Ingest) ([]sharedRead, map[string]bool, error) {
	var reads []sharedRead
	names := map[string]bool{}
	for _, s := range p.Sources {
		l := s.Landed
		if l == nil || names[l.SharedSource] {
			continue
		}
		names[l.SharedSource] = true
		shs := &v1alpha1.SharedSource{}
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: l.SharedSource}, shs)
		switch {
		case apierrors.IsNotFound(err):
			continue // deleted since the plan was rendered: its deletion wakes the district again
		case err != nil:
			return nil, nil, fmt.Errorf("reading SharedSource %s: %w", l.SharedSource, err)
		}
		rd := shs.Spec.RerunDistricts
		if rd == nil || !rd.Enabled {
			continue
		}
		reads = append(reads, sharedRead{name: l.SharedSource, revision: l.Revision,
			max: int(ptr.Deref(rd.MaxConcurrentJobs, v1alpha1.DefaultMaxConcurrentRerunJobs))})
	}
	slices.SortFunc(reads, func(a, b sharedRead) int { return strings.Compare(a.name, b.name) })
	return reads, names, nil
}

// newRerun is the re-run of a DistrictSource whose plan reads reads; nil when there is
// none. The status record keeps only the SharedSources the district still reads.
func (r *DistrictSourceReconciler) newRerun(ds *v1alpha1.DistrictSource, reads []sharedRead, names map[string]bool) *rerun {
	ds.Status.SharedRevisions = slices.DeleteFunc(ds.Status.SharedRevisions, func(s v1alpha1.SharedRevision) bool {
		return !names[s.Name]
	})
	if len(reads) == 0 {
		return nil
	}
	return &rerun{reads: reads, suspended: ptr.Deref(ds.Spec.Suspend, false),
		record: &ds.Status.SharedRevisions, gate: &r.rerunGate}
}

// due are the reads whose revision the district has not been re-run on.
func (rr *rerun) due() []sharedRead {
	var out []sharedRead
	for _, rd := range rr.reads {
		i := slices.IndexFunc(*rr.record, func(s v1alpha1.SharedRevision) bool { return s.Name == rd.name })
		if i < 0 || (*rr.record)[i].Revision != rd.revision {
			out = append(out, rd)
		}
	}
	return out
}

// revisions is reads written name=revision, comma-separated.
func revisions(reads []sharedRead) string {
	parts := make([]string, len(reads))
	for i, rd := range reads {
		parts[i] = rd.name + "=" + rd.revision
	}
	return strings.Join(parts, ",")
}

// describe names reads for a user: SharedSource a revision x, SharedSource b revision y.
func describe(reads []sharedRead) string {
	parts := make([]string, len(reads))
	for i, rd := range reads {
		parts[i] = fmt.Sprintf("SharedSource %s revision %s", rd.name, rd.revision)
	}
	return strings.Join(parts, ", ")
}

// reconcileRerun starts one Job when a SharedSource with rerunDistricts enabled has a
// revision the district was not re-run on: after any Job of the district has ended (as a
// run-now value waits), and while fewer than the SharedSource's maxConcurrentJobs re-run
// Jobs of its readers are running. A waiting re-run says so (waiting) and is looked at
// again when a re-run Job ends, or after ReferenceRecheck. A suspended district waits to
// be resumed. The revision is recorded when the Job is created: it is re-run once, whatever
// the run's outcome (a failed re-run is run again by the schedule or a run-now value). A
// run-now Job, started from the same plan, records the revisions it reads too (see
// startRunNow), so that a district run by hand on a new revision is not run again.
func (r *Runner) reconcileRerun(ctx context.Context, w *workload, cj *batchv1.CronJob) (waiting string, err error) {
	rr := w.rerun
	due := rr.due()
	if len(due) == 0 || rr.suspended {
		return "", nil
	}
	name := rerunJobName(w.owner.GetName(), revisions(due))
	active, err := r.activeJob(ctx, w, name)
	if err != nil {
		return "", err
	}
	if active != "" {
		return fmt.Sprintf("re-run on %s waits for Job %s to end", describe(due), active), nil
	}
	rr.gate.Lock()
	defer rr.gate.Unlock()
	running, err := r.runningReruns(ctx, w.owner.GetNamespace(), name)
	if err != nil {
		return "", err
	}
	for _, rd := range due {
		if n := running[rd.name]; n >= rd.max {
			w.requeueAfter = r.ReferenceRecheck
			logf.FromContext(ctx).V(1).Info("Delayed re-run for a slot", "sharedSource", rd.name, "running", n, "max", rd.max)
			return fmt.Sprintf("re-run on %s waits for a slot: %d re-run Jobs of SharedSource %s are running (maxConcurrentJobs %d)",
				describe(due), n, rd.name, rd.max), nil
		}
	}
	return "", r.startRerun(ctx, w, cj, due, name)
}

// runningReruns counts, per SharedSource, the unfinished re-run Jobs of the namespace's
// DistrictSources other than except, read from the API server (a Job created a moment ago
// by another worker may not be in the cache yet).
func (r *Runner) runningReruns(ctx context.Context, ns, except string) (map[string]int, error) {
	var jobs batchv1.JobList
	if err := r.APIReader.List(ctx, &jobs, client.InNamespace(ns), client.MatchingLabels{
		LabelManagedBy: managedBy, LabelKind: kindDistrictSource, LabelTrigger: triggerRerun}); err != nil {
		return nil, fmt.Errorf("listing re-run Jobs: %w", err)
	}
	out := map[string]int{}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		if job.Name == except || !jobActive(job) {
			continue
		}
		for _, name := range strings.Split(job.Annotations[AnnotationRerunFor], ",") {
			if name != "" {
				out[name]++
			}
		}
	}
	return out, nil
}

// startRerun creates (or adopts) the re-run Job of due and records its revisions.
func (r *Runner) startRerun(ctx context.Context, w *workload, cj *batchv1.CronJob, due []sharedRead, name string) error {
	names := make([]string, len(due))
	for i, rd := range due {
		names[i] = rd.name
	}
	job := r.jobFromCronJob(w, cj, name, triggerRerun, map[string]string{
		AnnotationRerunFor: strings.Join(names, ","), AnnotationRerunRevisions: revisions(due)})
	created, err := r.createOrAdoptJob(ctx, w, job, AnnotationRerunRevisions, "a re-run on "+describe(due))
	if err != nil {
		return err
	}
	if created {
		r.Recorder.Eventf(w.owner, job, corev1.EventTypeNormal, v1alpha1.ReasonRerun, "CreateJob",
			"Created Job %s to run on %s", job.Name, describe(due))
	}
	w.rerun.ran(due, job.Name, r.now())
	return nil
}

// ran records in status that Job job, started at now, reads the revisions of reads.
func (rr *rerun) ran(reads []sharedRead, job string, now metav1.Time) {
	for _, rd := range reads {
		rec := v1alpha1.SharedRevision{Name: rd.name, Revision: rd.revision, Job: job, StartTime: &now}
		i := slices.IndexFunc(*rr.record, func(s v1alpha1.SharedRevision) bool { return s.Name == rd.name })
		if i < 0 {
			*rr.record = append(*rr.record, rec)
		} else {
			(*rr.record)[i] = rec
		}
	}
	slices.SortFunc(*rr.record, func(a, b v1alpha1.SharedRevision) int { return strings.Compare(a.Name, b.Name) })
}

// rerunJobEnded passes the events of a re-run Job that frees a slot: its end or deletion.
var rerunJobEnded = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*batchv1.Job)
		n, ok2 := e.ObjectNew.(*batchv1.Job)
		if !ok1 || !ok2 || n.Labels[LabelTrigger] != triggerRerun {
			return false
		}
		was, _ := status.JobFinished(o)
		is, _ := status.JobFinished(n)
		return !was && is
	},
	DeleteFunc: func(e event.DeleteEvent) bool { return e.Object.GetLabels()[LabelTrigger] == triggerRerun },
}

// rerunWaiters maps the end of a re-run Job to the DistrictSources that still wait to be
// re-run on a revision of the SharedSources it re-ran for: one of them takes the slot.
func (r *DistrictSourceReconciler) rerunWaiters(ctx context.Context, obj client.Object) []reconcile.Request {
	seen := map[types.NamespacedName]bool{}
	var reqs []reconcile.Request
	for _, name := range strings.Split(obj.GetAnnotations()[AnnotationRerunFor], ",") {
		if name == "" {
			continue
		}
		shs := &v1alpha1.SharedSource{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}, shs); err != nil {
			continue
		}
		var list v1alpha1.DistrictSourceList
		if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
			client.MatchingFields{dsSharedIndex: name}); err != nil {
			logf.FromContext(ctx).Error(err, "Failed to list DistrictSources of SharedSource", "sharedSource", name)
			continue
		}
		for _, ds := range list.Items {
			key := types.NamespacedName{Namespace: ds.Namespace, Name: ds.Name}
			if seen[key] || ranOn(&ds, name, revision(shs)) {
				continue
			}
			seen[key] = true
			reqs = append(reqs, reconcile.Request{NamespacedName: key})
		}
	}
	return reqs
}

// ranOn reports whether a DistrictSource's status records a re-run on the revision of the
// named SharedSource.
func ranOn(ds *v1alpha1.DistrictSource, name, rev string) bool {
	for _, s := range ds.Status.SharedRevisions {
		if s.Name == name {
			return s.Revision == rev
		}
	}
	return false
}
