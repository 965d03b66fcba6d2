package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/districtlake/districtlake/internal/guard"
	"github.com/districtlake/districtlake/internal/plan"
)

// DefaultJobImage is the image of the Jobs unless the manager names another (or a resource
// an allowed one).
const DefaultJobImage = "ghcr.io/districtlake/districtlake:latest"

// Options configure the controllers.
type Options struct {
	// JobImage and JobImagePullPolicy are the Jobs' image and pull policy.
	JobImage           string
	JobImagePullPolicy corev1.PullPolicy
	// AllowedJobImages are the images a resource's spec.job.image may name (none when empty).
	AllowedJobImages guard.JobImages
	// JobQueueName is the Kueue LocalQueue of the Jobs unless a resource names one.
	JobQueueName string
	// JobResources are the Jobs' requests and limits unless a resource sets
	// spec.job.resources; JobTmpSizeLimit caps their /tmp emptyDir (nil: no cap).
	JobResources    corev1.ResourceRequirements
	JobTmpSizeLimit *resource.Quantity
	// Registerer receives the controllers' metrics (controller-runtime's metrics.Registry in
	// the manager).
	Registerer prometheus.Registerer
	// Checker checks Lakes' buckets.
	Checker BucketChecker
	// AbortRules checks that Lakes' buckets abort incomplete multipart uploads (the
	// UploadCleanup condition; nil: not checked).
	AbortRules AbortRuleChecker
	// Clock stamps conditions and times; the real clock when nil.
	Clock clock.PassiveClock
	// LakeInterval is how often a reachable bucket is checked again; 5 minutes when zero.
	LakeInterval time.Duration
	// LakeTimeout bounds one bucket check; 15 seconds when zero.
	LakeTimeout time.Duration
	// ReferenceRecheck is how soon a DistrictSource whose ConfigMap or Secret is missing is
	// looked at again; 1 minute when zero.
	ReferenceRecheck time.Duration
	// Workers is how many resources of each kind are reconciled at once; Defaults when zero.
	Workers Workers
	// Egress is the policy written into the ingest plans, which the Jobs' http and s3
	// fetches obey; the zero value allows every address. The manager sets it from its
	// flags (restricted by default) and gives Checker the same policy.
	Egress plan.Egress
}

// Workers is the number of concurrent reconciles per kind.
type Workers struct {
	DistrictSource  int
	StateComparison int
	Lake            int
}

// DefaultWorkers are the concurrent reconciles per kind unless the manager's flags say
// otherwise.
func DefaultWorkers() Workers {
	return Workers{DistrictSource: 64, StateComparison: 2, Lake: 2}
}

// workerOptions are a controller's options for n concurrent reconciles (at least one).
func workerOptions(n int) crcontroller.Options {
	return crcontroller.Options{MaxConcurrentReconciles: max(n, 1)}
}

// Setup registers the Job index and the three reconcilers with mgr.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.Checker == nil {
		return errors.New("controllers: no BucketChecker given")
	}
	if o.Registerer == nil {
		return errors.New("controllers: no metrics Registerer given")
	}
	if err := o.Egress.Validate(); err != nil {
		return fmt.Errorf("controllers: %w", err)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.JobImage == "" {
		o.JobImage = DefaultJobImage
	}
	if o.LakeInterval == 0 {
		o.LakeInterval = 5 * time.Minute
	}
	if o.ReferenceRecheck == 0 {
		o.ReferenceRecheck = time.Minute
	}
	if o.LakeTimeout == 0 {
		o.LakeTimeout = 15 * time.Second
	}
	if o.Workers == (Workers{}) {
		o.Workers = DefaultWorkers()
	}
	metrics, err := NewMetrics(o.Registerer)
	if err != nil {
		return err
	}
	if err := o.Registerer.Register(newFreshness(mgr.GetCache())); err != nil {
		return fmt.Errorf("registering the freshness metrics: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &batchv1.Job{}, jobOwnerIndex, indexJobOwner); err != nil {
		return fmt.Errorf("indexing Jobs by owner: %w", err)
	}
	writes := newStatusWrites()
	runner := Runner{
		Client:             mgr.GetClient(),
		APIReader:          mgr.GetAPIReader(),
		Scheme:             mgr.GetScheme(),
		Recorder:           mgr.GetEventRecorder("districtlake"),
		Clock:              o.Clock,
		Metrics:            metrics,
		JobImage:           o.JobImage,
		JobImagePullPolicy: o.JobImagePullPolicy,
		AllowedJobImages:   o.AllowedJobImages,
		JobQueueName:       o.JobQueueName,
		JobResources:       o.JobResources,
		JobTmpSizeLimit:    o.JobTmpSizeLimit,
		ReferenceRecheck:   o.ReferenceRecheck,
		Egress:             o.Egress,
		StatusWrites:       writes,
	}
	if err := (&DistrictSourceReconciler{Runner: runner, Workers: o.Workers.DistrictSource}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the DistrictSource controller: %w", err)
	}
	if err := (&StateComparisonReconciler{Runner: runner, Workers: o.Workers.StateComparison}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the StateComparison controller: %w", err)
	}
	// SharedSources are few (a handful of national files); they share the comparisons' workers count.
	if err := (&SharedSourceReconciler{Runner: runner, Workers: o.Workers.StateComparison}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the SharedSource controller: %w", err)
	}
	lake := &LakeReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Clock:        o.Clock,
		Checker:      o.Checker,
		AbortRules:   o.AbortRules,
		Workers:      o.Workers.Lake,
		Interval:     o.LakeInterval,
		Timeout:      o.LakeTimeout,
		StatusWrites: writes,
	}
	if err := lake.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Lake controller: %w", err)
	}
	return nil
}

// childChanges lets through the updates and deletions of an owned ConfigMap or CronJob,
// which the owner's reconcile undoes, but not their creations: a child is created by its
// owner's own reconcile, or, when the manager starts, listed along with its owner, whose own
// event reconciles it. Reconciling the owner again for its new child would only repeat the
// reconcile and, at scale (issue 13), patch status a second time from a cache that had not
// seen the first patch yet and create the other child a second time ("already exists").
func childChanges() predicate.Predicate {
	return predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }}
}

// CacheOptions limits the manager's cache of CronJobs and Jobs to the ones districtlake
// manages, of Secrets to the source credentials, of the users' ConfigMaps and of Secrets to
// their keys (see keysOnly), and every kind to the namespaces in watch (all namespaces when watch is empty): the controllers
// then neither see nor act on a resource elsewhere, and the manager needs rights only in
// those namespaces.
func CacheOptions(watch []string) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{LabelManagedBy: managedBy})
	var namespaces map[string]cache.Config
	if len(watch) > 0 {
		namespaces = make(map[string]cache.Config, len(watch))
		for _, ns := range watch {
			namespaces[ns] = cache.Config{}
		}
	}
	return cache.Options{
		DefaultNamespaces: namespaces,
		// Nothing reads managedFields, which made most of the 29 KB a cached DistrictSource
		// took (issue 13's measurement at 13,300), nor kubectl's copy of the last applied
		// object (see stripUnread).
		DefaultTransform: stripUnread,
		ByObject: map[client.Object]cache.ByObject{
			// Every ConfigMap, for the sources that read one, but only the keys of those
			// districtlake does not write; and only the Secrets a source header may read,
			// keys only (see keysOnly).
			&corev1.ConfigMap{}: {Transform: keysOnly},
			&corev1.Secret{}:    {Label: sourceCredentials(), Transform: keysOnly},
			&batchv1.CronJob{}:  {Label: managed},
			&batchv1.Job{}:      {Label: managed},
		}}
}

// stripUnread is the cache transform of every kind without one of its own: it drops
// managedFields and the kubectl.kubernetes.io/last-applied-configuration annotation, which
// `kubectl apply` fills with the whole object as applied (a second copy of each spec a
// user applies), and which nothing in the manager reads. The manager never writes an
// object's metadata from its cached copy (status writes keep the stored metadata), so
// neither is lost on the API server.
func stripUnread(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil // not an object, such as a tombstone: left as it is
	}
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
			delete(a, corev1.LastAppliedConfigAnnotation)
			if len(a) == 0 {
				obj.SetAnnotations(nil)
			}
		}
	}
	return in, nil
}
