package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// checkGuards applies the isolation rules of package guard before anything is rendered: a
// source header reads only a Secret labelled districtlake.io/source-credential: "true" and
// never a Lake's credentials (SecretNotAllowed), and only the oldest DistrictSource of a
// district on a Lake runs (DuplicateDistrict, naming the oldest). Both are looked at again
// after ReferenceRecheck, since neither a Secret's labels nor another DistrictSource's
// deletion wakes this one. A missing Secret is left to checkReferences (SecretNotFound).
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
			// Only the Secret's metadata is needed: its values are not read here.
			sec := &corev1.Secret{}
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ds.Namespace, Name: h.ValueFrom.Name}, sec)
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("reading Secret %s: %w", h.ValueFrom.Name, err)
			}
			found := err == nil
			if gerr := guard.HeaderSecret(ds.Namespace, h.ValueFrom.Name, sec.Labels, found, lakes.Items); gerr != nil {
				return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonSecretNotAllowed, "source %q, header %s: %v", s.Name, h.Name, gerr)
			}
		}
	}
	return nil
}
