package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// checkGuards applies the isolation rules of package guard before anything is rendered: a
// source header reads only a Secret labelled districtlake.io/source-credential: "true" and
// never a Lake's credentials (SecretNotAllowed), and only the oldest DistrictSource of a
// district on a Lake runs (DuplicateDistrict, naming the oldest). Both are looked at again
// after ReferenceRecheck: a Secret that gains the label wakes this one at once (the watch
// of source credentials), but another DistrictSource's deletion does not. A missing Secret
// is left to checkReferences (SecretNotFound).
func (r *DistrictSourceReconciler) checkGuards(ctx context.Context, ds *v1alpha1.DistrictSource) error {
	if err := r.checkHeaderSecrets(ctx, ds); err != nil {
		return err
	}
	// Only the DistrictSources of ds's district on its Lake, read without copies: listing
	// every DistrictSource of the Lake made each reconcile copy all of them (13,300 at
	// national scale, issue 13).
	var list v1alpha1.DistrictSourceList
	if err := r.Client.List(ctx, &list, client.InNamespace(ds.Namespace),
		client.MatchingFields{dsDistrictIndex: districtIndexKey(ds)}, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing the DistrictSources of district %s %s on Lake %s: %w",
			ds.Spec.District.State, ds.Spec.District.NCESID, ds.Spec.LakeRef.Name, err)
	}
	if first := guard.FirstOfDistrict(ds, list.Items); first.Name != ds.Name {
		return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonDuplicateDistrict, "%v", guard.DuplicateError(ds, first))
	}
	return nil
}

// dsDistrictIndex indexes DistrictSources by the district they write and its Lake (see
// guard.KeyOf), within their namespace.
const dsDistrictIndex = "districtlake.io/district"

// districtIndexKey is a DistrictSource's dsDistrictIndex value: Lake, state and NCES id.
func districtIndexKey(ds *v1alpha1.DistrictSource) string {
	return ds.Spec.LakeRef.Name + "/" + string(ds.Spec.District.State) + "/" + ds.Spec.District.NCESID
}

// indexDSDistrict is the field indexer function of dsDistrictIndex.
func indexDSDistrict(obj client.Object) []string {
	ds, ok := obj.(*v1alpha1.DistrictSource)
	if !ok {
		return nil
	}
	return []string{districtIndexKey(ds)}
}

func (r *DistrictSourceReconciler) checkHeaderSecrets(ctx context.Context, ds *v1alpha1.DistrictSource) error {
	var lakes v1alpha1.LakeList
	listed := false
	for _, s := range ds.Spec.Sources {
		if s.HTTP == nil {
			continue
		}
		for _, h := range s.HTTP.Headers {
			if !listed {
				if err := r.Client.List(ctx, &lakes, client.InNamespace(ds.Namespace)); err != nil {
					return fmt.Errorf("listing Lakes: %w", err)
				}
				listed = true
			}
			secLabels, found, err := r.secretLabels(ctx, types.NamespacedName{Namespace: ds.Namespace, Name: h.ValueFrom.Name})
			if err != nil {
				return err
			}
			if gerr := guard.HeaderSecret(ds.Namespace, h.ValueFrom.Name, secLabels, found, lakes.Items); gerr != nil {
				return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonSecretNotAllowed, "source %q, header %s: %v", s.Name, h.Name, gerr)
			}
		}
	}
	return nil
}

// secretLabels returns a Secret's labels and whether it exists: from the cache, which holds
// the Secrets labelled districtlake.io/source-credential: "true", else (a Secret missing,
// not labelled, or too new for the cache) its metadata only from the API server.
func (r *DistrictSourceReconciler) secretLabels(ctx context.Context, key types.NamespacedName) (map[string]string, bool, error) {
	sec := &corev1.Secret{}
	err := r.Client.Get(ctx, key, sec)
	if err == nil {
		return sec.Labels, true, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, false, fmt.Errorf("reading Secret %s: %w", key.Name, err)
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	switch err := r.APIReader.Get(ctx, key, meta); {
	case err == nil:
		return meta.Labels, true, nil
	case apierrors.IsNotFound(err):
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("reading Secret %s: %w", key.Name, err)
	}
}
