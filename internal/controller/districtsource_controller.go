package controller

import (
	"context"
	"fmt"
	"sync"

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
	"github.com/districtlake/districtlake/internal/summary"
)

// kindDistrictSource is the kind label value of a DistrictSource's children.
const kindDistrictSource = "DistrictSource"

// dsLakeIndex indexes DistrictSources by every Lake they name.
const dsLakeIndex = "districtlake.io/lake"

// DistrictSourceReconciler keeps each DistrictSource's plan ConfigMap and CronJob, starts
// its run-now Jobs and records its runs in status.
type DistrictSourceReconciler struct {
	Runner
	// Workers is how many DistrictSources are reconciled at once.
	Workers int

	// rerunGate serialises the start of re-run Jobs (see rerun.gate).
	rerunGate sync.Mutex
}

// +kubebuilder:rbac:groups=districtlake.io,resources=districtsources,verbs=get;list;watch
// +kubebuilder:rbac:groups=districtlake.io,resources=districtsources/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=districtlake.io,resources=districtsources/finalizers,verbs=update
// +kubebuilder:rbac:groups=districtlake.io,resources=lakes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=cronjobs/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile brings one DistrictSource's children in line with its spec and records its runs.
func (r *DistrictSourceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ds := &v1alpha1.DistrictSource{}
	if err := r.Client.Get(ctx, req.NamespacedName, ds); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ds.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return r.reconcileWorkload(ctx, ds, &ds.Status.WorkloadStatus,
		func() (*workload, error) { return r.workload(ctx, ds) },
		func(s summary.Summary) { setSourceStatus(ds, s) })
}

// SetupWithManager registers the reconciler and its watches: owned ConfigMaps and CronJobs,
// the ConfigMaps and Secrets its sources read, the Jobs of its CronJobs, and the Lakes and
// SharedSources it names.
func (r *DistrictSourceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.DistrictSource{}, dsLakeIndex, indexDSLakes); err != nil {
		return fmt.Errorf("indexing DistrictSources by Lake: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.DistrictSource{}, dsDistrictIndex, indexDSDistrict); err != nil {
		return fmt.Errorf("indexing DistrictSources by district: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.DistrictSource{}, dsConfigMapIndex, indexDSConfigMaps); err != nil {
		return fmt.Errorf("indexing DistrictSources by ConfigMap: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.DistrictSource{}, dsSecretIndex, indexDSSecrets); err != nil {
		return fmt.Errorf("indexing DistrictSources by Secret: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.DistrictSource{}, dsSharedIndex, indexDSShared); err != nil {
		return fmt.Errorf("indexing DistrictSources by SharedSource: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.DistrictSource{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.ConfigMap{}, builder.WithPredicates(childChanges())).
		Owns(&batchv1.CronJob{}, builder.WithPredicates(childChanges())).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.referenceRequests(dsConfigMapIndex)),
			builder.WithPredicates(unmanaged(), keysChanged())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.referenceRequests(dsSecretIndex)),
			builder.WithPredicates(keysChanged())).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(jobRequests(kindDistrictSource))).
		Watches(&v1alpha1.Lake{}, handler.EnqueueRequestsFromMapFunc(r.lakeRequests),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.SharedSource{}, handler.EnqueueRequestsFromMapFunc(r.sharedSourceRequests),
			builder.WithPredicates(sharedRevisionChanged)).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(r.rerunWaiters),
			builder.WithPredicates(rerunJobEnded)).
		Named("districtsource").
		WithOptions(workerOptions(r.Workers)).
		Complete(r)
}

// indexDSLakes returns every Lake a DistrictSource names.
func indexDSLakes(obj client.Object) []string {
	ds, ok := obj.(*v1alpha1.DistrictSource)
	if !ok {
		return nil
	}
	names := []string{ds.Spec.LakeRef.Name}
	for _, s := range ds.Spec.Sources {
		if s.S3 != nil && s.S3.LakeRef != nil && s.S3.LakeRef.Name != ds.Spec.LakeRef.Name {
			names = append(names, s.S3.LakeRef.Name)
		}
	}
	return names
}

// lakeRequests maps a Lake to the DistrictSources that name it.
func (r *DistrictSourceReconciler) lakeRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.DistrictSourceList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{dsLakeIndex: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list DistrictSources of Lake", "lake", obj.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ds := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ds.Namespace, Name: ds.Name}})
	}
	return reqs
}
