package controller

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/summary"
)

// kindSharedSource is the kind label value of a SharedSource's children.
const kindSharedSource = "SharedSource"

// Field indexes of SharedSources by Lake, and of DistrictSources by the SharedSources
// they read.
const (
	shsLakeIndex  = "districtlake.io/lake"
	dsSharedIndex = "districtlake.io/shared-source"
	landCommand   = "land"
)

// SharedSourceReconciler keeps each SharedSource's plan ConfigMap and CronJob, starts its
// run-now Jobs and records its runs and landed artifact in status.
type SharedSourceReconciler struct {
	Runner
	// Workers is how many SharedSources are reconciled at once.
	Workers int
}

// The SharedSource controller's permissions. The DistrictSource controller reads
// SharedSources too, to resolve its sharedSourceRefs.
// +kubebuilder:rbac:groups=districtlake.io,resources=sharedsources,verbs=get;list;watch
// +kubebuilder:rbac:groups=districtlake.io,resources=sharedsources/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=districtlake.io,resources=sharedsources/finalizers,verbs=update

// Reconcile brings one SharedSource's children in line with its spec and records its runs.
func (r *SharedSourceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	shs := &v1alpha1.SharedSource{}
	if err := r.Client.Get(ctx, req.NamespacedName, shs); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !shs.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	before := revision(shs)
	res, err := r.reconcileWorkload(ctx, shs, &shs.Status.WorkloadStatus,
		func() (*workload, error) { return r.workload(ctx, shs) },
		func(s summary.Summary) { setArtifact(shs, s) })
	if err == nil && revision(shs) != before {
		r.announceRerun(ctx, shs)
		if res.RequeueAfter == 0 {
			// The plan was rendered before the run that landed the new revision was observed:
			// render it again, so that the next fetch is conditional on this one.
			res.RequeueAfter = time.Millisecond
		}
	}
	return res, err
}

// announceRerun records an event on a SharedSource with rerunDistricts enabled that landed
// a new revision: how many DistrictSources read it and will run on it, how many at once.
func (r *SharedSourceReconciler) announceRerun(ctx context.Context, shs *v1alpha1.SharedSource) {
	rd := shs.Spec.RerunDistricts
	if rd == nil || !rd.Enabled {
		return
	}
	var list v1alpha1.DistrictSourceList
	if err := r.Client.List(ctx, &list, client.InNamespace(shs.Namespace),
		client.MatchingFields{dsSharedIndex: shs.Name}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list DistrictSources of SharedSource", "sharedSource", shs.Name)
		return
	}
	limit := ptr.Deref(rd.MaxConcurrentJobs, v1alpha1.DefaultMaxConcurrentRerunJobs)
	r.Recorder.Eventf(shs, nil, corev1.EventTypeNormal, "RerunDistricts", "Rerun",
		"Revision %s landed: the %d DistrictSources that read it run on it once, at most %d at once",
		revision(shs), len(list.Items), limit)
}

// workload checks a SharedSource's schedule and renders its land plan.
func (r *SharedSourceReconciler) workload(ctx context.Context, shs *v1alpha1.SharedSource) (*workload, error) {
	schedule, err := render.ResolveSchedule(shs.Spec.ScheduleSpec, shs.Namespace+"/"+shs.Name)
	if err != nil {
		return nil, r.renderError(err)
	}
	shs.Status.Schedule = schedule.Schedule
	p, err := render.SharedSource(ctx, shs, r.resolver(), render.MountConfigMaps)
	if err != nil {
		return nil, r.renderError(err)
	}
	data, err := plan.Marshal(p.Plan)
	if err != nil {
		return nil, err
	}
	return &workload{
		owner:      shs,
		kind:       kindSharedSource,
		command:    landCommand,
		schedule:   schedule,
		job:        shs.Spec.Job,
		plan:       data,
		secrets:    p.Secrets,
		configMaps: p.ConfigMaps,
	}, nil
}

// setArtifact records the revision a successful run landed (or kept, when the origin's
// file had not changed).
func setArtifact(shs *v1alpha1.SharedSource, s summary.Summary) {
	a := s.Artifact
	if a == nil || a.Revision == "" {
		return
	}
	if s.NotModified && shs.Status.Artifact != nil && shs.Status.Artifact.Revision == a.Revision {
		return
	}
	shs.Status.Artifact = render.SharedArtifact(a)
}

// SetupWithManager registers the reconciler and its watches.
func (r *SharedSourceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.SharedSource{}, shsLakeIndex,
		func(obj client.Object) []string {
			return []string{obj.(*v1alpha1.SharedSource).Spec.LakeRef.Name}
		}); err != nil {
		return fmt.Errorf("indexing SharedSources by Lake: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.SharedSource{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.ConfigMap{}).
		Owns(&batchv1.CronJob{}).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(jobRequests(kindSharedSource))).
		Watches(&v1alpha1.Lake{}, handler.EnqueueRequestsFromMapFunc(r.lakeRequests),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("sharedsource").
		WithOptions(workerOptions(r.Workers)).
		Complete(r)
}

// lakeRequests maps a Lake to the SharedSources that land in it.
func (r *SharedSourceReconciler) lakeRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.SharedSourceList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{shsLakeIndex: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list SharedSources of Lake", "lake", obj.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, s := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
	}
	return reqs
}

// indexDSShared returns every SharedSource a DistrictSource reads.
func indexDSShared(obj client.Object) []string {
	ds, ok := obj.(*v1alpha1.DistrictSource)
	if !ok {
		return nil
	}
	var names []string
	for _, s := range ds.Spec.Sources {
		if s.SharedSourceRef != nil {
			names = append(names, s.SharedSourceRef.Name)
		}
	}
	return names
}

// sharedSourceRequests maps a SharedSource to the DistrictSources that read it, so that
// they render its new revision (or leave SharedSourceNotReady) when it lands one.
func (r *DistrictSourceReconciler) sharedSourceRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.DistrictSourceList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{dsSharedIndex: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list DistrictSources of SharedSource", "sharedSource", obj.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ds := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ds.Namespace, Name: ds.Name}})
	}
	return reqs
}

// sharedRevisionChanged passes the SharedSource events that change what its readers
// render or re-run: creation, deletion, and a new revision, Lake, format or rerunDistricts.
var sharedRevisionChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.SharedSource)
		n, ok2 := e.ObjectNew.(*v1alpha1.SharedSource)
		if !ok1 || !ok2 {
			return true
		}
		return revision(o) != revision(n) || o.Spec.LakeRef != n.Spec.LakeRef || o.Spec.Format != n.Spec.Format ||
			!equality.Semantic.DeepEqual(o.Spec.RerunDistricts, n.Spec.RerunDistricts)
	},
}

func revision(s *v1alpha1.SharedSource) string {
	if s.Status.Artifact == nil {
		return ""
	}
	return s.Status.Artifact.Revision
}
