package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// The users' ConfigMaps and Secrets that DistrictSources name are read from the manager's
// cache, which holds them narrowly (see CacheOptions): every ConfigMap but, unless
// districtlake manages it, only its keys; and only the Secrets labelled
// districtlake.io/source-credential: "true" (the only ones a source header may read), again
// keys only. Their changes reach the DistrictSources that name them through the indexes
// below, at once rather than after ReferenceRecheck.
const (
	// dsConfigMapIndex indexes DistrictSources by the ConfigMaps their sources read.
	dsConfigMapIndex = "districtlake.io/configmap"
	// dsSecretIndex indexes DistrictSources by the Secrets their source headers read.
	dsSecretIndex = "districtlake.io/secret"
)

// indexDSConfigMaps is the field indexer function of dsConfigMapIndex.
func indexDSConfigMaps(obj client.Object) []string {
	ds, ok := obj.(*v1alpha1.DistrictSource)
	if !ok {
		return nil
	}
	var names []string
	for _, s := range ds.Spec.Sources {
		if s.ConfigMapRef != nil {
			names = append(names, s.ConfigMapRef.Name)
		}
	}
	return names
}

// indexDSSecrets is the field indexer function of dsSecretIndex.
func indexDSSecrets(obj client.Object) []string {
	ds, ok := obj.(*v1alpha1.DistrictSource)
	if !ok {
		return nil
	}
	var names []string
	for _, s := range ds.Spec.Sources {
		if s.HTTP == nil {
			continue
		}
		for _, h := range s.HTTP.Headers {
			names = append(names, h.ValueFrom.Name)
		}
	}
	return names
}

// referenceRequests maps a ConfigMap or Secret to the DistrictSources of its namespace
// that name it, through index.
func (r *DistrictSourceReconciler) referenceRequests(index string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		var list v1alpha1.DistrictSourceList
		if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
			client.MatchingFields{index: obj.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
			logf.FromContext(ctx).Error(err, "Failed to list the DistrictSources that name an object", "name", obj.GetName())
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for _, ds := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ds.Namespace, Name: ds.Name}})
		}
		return reqs
	}
}

// unmanaged passes the events of ConfigMaps that districtlake does not write (its plan
// ConfigMaps reach their owners through Owns).
func unmanaged() predicate.Predicate {
	return predicate.NewPredicateFuncs(func(obj client.Object) bool {
		return obj.GetLabels()[LabelManagedBy] != managedBy
	})
}

// keysChanged passes creations and deletions, and the updates that change an object's
// labels or keys: a value the Jobs read changes nothing the controller renders, and the
// cache does not hold it anyway.
func keysChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		if !labels.Equals(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) {
			return true
		}
		return !sameKeys(keysOf(e.ObjectOld), keysOf(e.ObjectNew))
	}}
}

func keysOf(obj client.Object) map[string]bool {
	keys := map[string]bool{}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		for k := range o.Data {
			keys[k] = true
		}
		for k := range o.BinaryData {
			keys[k] = true
		}
	case *corev1.Secret:
		for k := range o.Data {
			keys[k] = true
		}
	}
	return keys
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// sourceCredentials selects the Secrets the manager caches: those a source header may read.
func sourceCredentials() labels.Selector {
	return labels.SelectorFromSet(labels.Set{guard.SourceCredentialLabel: "true"})
}

// keysOnly is the cache transform of ConfigMaps and Secrets: it keeps an object's metadata
// (without managedFields and, for the users' objects, without annotations, which
// `kubectl apply` fills with the whole object) and its keys, and drops every value, except
// in the plan ConfigMaps districtlake writes, whose data the reconcile compares. No Secret
// value stays in the manager's memory.
func keysOnly(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		o.ManagedFields = nil
		if o.Labels[LabelManagedBy] == managedBy {
			return o, nil
		}
		o.Annotations = nil
		for k := range o.Data {
			o.Data[k] = ""
		}
		for k := range o.BinaryData {
			o.BinaryData[k] = nil
		}
	case *corev1.Secret:
		o.ManagedFields = nil
		o.Annotations = nil
		o.StringData = nil
		for k := range o.Data {
			o.Data[k] = nil
		}
	}
	return obj, nil
}

var _ toolscache.TransformFunc = keysOnly
