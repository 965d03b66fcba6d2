package controller

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/summary"
)

// kindStateComparison is the kind label value of a StateComparison's children.
const kindStateComparison = "StateComparison"

// scLakeIndex indexes StateComparisons by their Lake.
const scLakeIndex = "districtlake.io/lake"

// StateComparisonReconciler keeps each StateComparison's plan ConfigMap and CronJob, starts
// its run-now Jobs and records its runs in status.
type StateComparisonReconciler struct {
	Runner
	// Workers is how many StateComparisons are reconciled at once.
	Workers int
}

// +kubebuilder:rbac:groups=districtlake.io,resources=statecomparisons,verbs=get;list;watch
// +kubebuilder:rbac:groups=districtlake.io,resources=statecomparisons/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=districtlake.io,resources=statecomparisons/finalizers,verbs=update

// Reconcile brings one StateComparison's children in line with its spec and records its runs.
func (r *StateComparisonReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sc := &v1alpha1.StateComparison{}
	if err := r.Client.Get(ctx, req.NamespacedName, sc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return r.reconcileWorkload(ctx, sc, &sc.Status.WorkloadStatus,
		func() (*workload, error) { return r.workload(ctx, sc) },
		func(s summary.Summary) { setComparisonStatus(sc, s) })
}

// workload checks a StateComparison's schedule and renders its plan, resolving its Lake.
func (r *StateComparisonReconciler) workload(ctx context.Context, sc *v1alpha1.StateComparison) (*workload, error) {
	schedule, err := render.ResolveSchedule(sc.Spec.ScheduleSpec, sc.Namespace+"/"+sc.Name)
	if err != nil {
		return nil, r.renderError(err)
	}
	sc.Status.Schedule = schedule.Schedule
	p, err := render.StateComparison(ctx, sc, r.resolver())
	if err != nil {
		return nil, r.renderError(err)
	}
	p.Plan.Egress = r.Egress
	data, err := plan.Marshal(p.Plan)
	if err != nil {
		return nil, err
	}
	return &workload{
		owner:    sc,
		kind:     kindStateComparison,
		command:  "compare",
		schedule: schedule,
		job:      sc.Spec.Job,
		plan:     data,
		secrets:  p.Secrets,
	}, nil
}

// setComparisonStatus copies a successful comparison's figures into status.
func setComparisonStatus(sc *v1alpha1.StateComparison, s summary.Summary) {
	sc.Status.Districts = s.Districts
	var rows int64
	keys := make([]string, 0, len(s.Objects))
	for _, o := range s.Objects {
		if o.Dataset == dataset.Comparison {
			rows += o.Rows // one row per district and year; groups and reports are not counted
		}
		keys = append(keys, o.Key)
	}
	sc.Status.Rows = rows
	sc.Status.ObjectKeys = keys
}

// SetupWithManager registers the reconciler and its watches.
func (r *StateComparisonReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.StateComparison{}, scLakeIndex,
		func(obj client.Object) []string {
			return []string{obj.(*v1alpha1.StateComparison).Spec.LakeRef.Name}
		}); err != nil {
		return fmt.Errorf("indexing StateComparisons by Lake: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.StateComparison{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.ConfigMap{}, builder.WithPredicates(childChanges())).
		Owns(&batchv1.CronJob{}, builder.WithPredicates(childChanges())).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(jobRequests(kindStateComparison))).
		Watches(&v1alpha1.Lake{}, handler.EnqueueRequestsFromMapFunc(r.lakeRequests),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("statecomparison").
		WithOptions(workerOptions(r.Workers)).
		Complete(r)
}

// lakeRequests maps a Lake to the StateComparisons that name it.
func (r *StateComparisonReconciler) lakeRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.StateComparisonList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{scLakeIndex: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list StateComparisons of Lake", "lake", obj.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, sc := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: sc.Namespace, Name: sc.Name}})
	}
	return reqs
}
