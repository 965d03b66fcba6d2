package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/status"
)

// clusterResolver is the cluster's render.Resolver: Lakes, SharedSources and ConfigMaps
// from the manager's cache (ConfigMaps keys only, see keysOnly), and Secrets from the cache
// when they are labelled districtlake.io/source-credential: "true" (the header Secrets), else
// from the API server (a Lake's credentials that an s3 source of another Lake reads, or a
// Secret that is missing or not labelled, which stalls the DistrictSource). Render only
// looks at which keys a Secret has; no value is kept.
type clusterResolver struct {
	cache client.Reader
	api   client.Reader
}

// resolver is the cluster's render.Resolver.
func (r *Runner) resolver() render.Resolver {
	return clusterResolver{cache: r.Client, api: r.APIReader}
}

func (c clusterResolver) Lake(ctx context.Context, namespace, name string) (*v1alpha1.Lake, error) {
	return get(ctx, c.cache, namespace, name, &v1alpha1.Lake{})
}

func (c clusterResolver) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return get(ctx, c.cache, namespace, name, &corev1.ConfigMap{})
}

func (c clusterResolver) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	sec, err := get(ctx, c.cache, namespace, name, &corev1.Secret{})
	if !errors.Is(err, render.ErrNotFound) || c.api == nil {
		return sec, err
	}
	return get(ctx, c.api, namespace, name, &corev1.Secret{})
}

func (c clusterResolver) SharedSource(ctx context.Context, namespace, name string) (*v1alpha1.SharedSource, error) {
	return get(ctx, c.cache, namespace, name, &v1alpha1.SharedSource{})
}

func get[T client.Object](ctx context.Context, reader client.Reader, namespace, name string, obj T) (T, error) {
	if err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, obj); err != nil {
		var zero T
		if apierrors.IsNotFound(err) {
			return zero, render.ErrNotFound
		}
		return zero, err
	}
	return obj, nil
}

// renderError turns what render refuses into a Stalled reason: an invalid schedule, a
// missing Lake or SharedSource (watched, so no recheck), a missing ConfigMap, Secret or key
// (looked at again after ReferenceRecheck too: the watch sees only the Secrets labelled as
// source credentials), or a spec render cannot use. Any other error is transient and
// retried. A SharedSource that exists but has not landed a revision is a wait, not a stall
// (see status.Waiting): its landing wakes the reader.
func (r *Runner) renderError(err error) error {
	var sched *render.ScheduleError
	if errors.As(err, &sched) {
		return stalled(v1alpha1.ReasonInvalidSchedule, "%v", sched)
	}
	if ref := refError(err); ref != nil {
		switch {
		case ref.Kind == render.KindLake:
			return stalled(v1alpha1.ReasonLakeNotFound, "%v", ref)
		case ref.Kind == render.KindSharedSource && ref.Pending:
			return status.Waiting(v1alpha1.ReasonSharedSourceNotReady, "%v", ref)
		case ref.Kind == render.KindSharedSource:
			return stalled(v1alpha1.ReasonSharedSourceNotReady, "%v", ref)
		case ref.Kind == render.KindConfigMap:
			return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonConfigMapNotFound, "%v", ref)
		default:
			return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonSecretNotFound, "%v", ref)
		}
	}
	var spec *render.SpecError
	if errors.As(err, &spec) {
		return stalled(v1alpha1.ReasonInvalidSpec, "rendering plan: %v", spec)
	}
	return fmt.Errorf("rendering plan: %w", err)
}

// refError is the reference error of a render error that names the user's mistake: the
// first that is not a pending SharedSource when there is one (a spec to fix outranks a wait),
// else the first. nil when err holds none.
func refError(err error) *render.RefError {
	var first *render.RefError
	var walk func(error) *render.RefError
	walk = func(e error) *render.RefError {
		if ref, ok := e.(*render.RefError); ok {
			if first == nil {
				first = ref
			}
			if !ref.Pending {
				return ref
			}
			return nil
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if ref := walk(inner); ref != nil {
					return ref
				}
			}
		case interface{ Unwrap() error }:
			if inner := u.Unwrap(); inner != nil {
				return walk(inner)
			}
		}
		return nil
	}
	if ref := walk(err); ref != nil {
		return ref
	}
	return first
}
