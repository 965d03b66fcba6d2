// Package guard holds the rules that keep one district's author from reaching what is not
// theirs, shared by `districtlake validate` (a folder) and the controller (a cluster):
// which Secrets a source header may read, that one district is written by one
// DistrictSource per Lake, and which images a resource's Jobs may run.
package guard

import (
	"fmt"
	"sort"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// SourceCredentialLabel marks a Secret that source headers may read: a header's valueFrom
// may name only a Secret labelled SourceCredentialLabel: "true".
const SourceCredentialLabel = "districtlake.io/source-credential"

// HeaderSecret says whether a source header may read the Secret namespace/name, whose
// labels are labels (nil when the Secret is not at hand, such as a Secret a local run
// reads from the environment: then only the Lake rule applies). lakes are the Lakes of the
// namespace: a Lake's credentials Secret is never a header's, labelled or not.
func HeaderSecret(namespace, name string, labels map[string]string, known bool, lakes []v1alpha1.Lake) error {
	for _, lk := range lakes {
		if lk.Namespace == namespace && lk.Spec.CredentialsSecretRef.Name == name {
			return fmt.Errorf("Secret %s/%s holds the credentials of Lake %s: a source header may not read a Lake's credentials",
				namespace, name, lk.Name)
		}
	}
	if known && labels[SourceCredentialLabel] != "true" {
		return fmt.Errorf("Secret %s/%s is not labelled %s: \"true\": a source header may read only Secrets labelled so",
			namespace, name, SourceCredentialLabel)
	}
	return nil
}

// DistrictKey is what makes two DistrictSources write the same partitions: the Lake they
// write to (namespace and name) and the district (state and NCES id).
type DistrictKey struct {
	Namespace, Lake, State, NCESID string
}

// KeyOf is a DistrictSource's DistrictKey.
func KeyOf(ds *v1alpha1.DistrictSource) DistrictKey {
	return DistrictKey{Namespace: ds.Namespace, Lake: ds.Spec.LakeRef.Name,
		State: string(ds.Spec.District.State), NCESID: ds.Spec.District.NCESID}
}

// FirstOfDistrict returns the DistrictSource of all that owns ds's district on its Lake:
// the oldest (by creation time, then name) of those with ds's key. When it is not ds, ds
// must not run.
func FirstOfDistrict(ds *v1alpha1.DistrictSource, all []v1alpha1.DistrictSource) *v1alpha1.DistrictSource {
	key := KeyOf(ds)
	var same []*v1alpha1.DistrictSource
	for i := range all {
		if KeyOf(&all[i]) == key && all[i].DeletionTimestamp.IsZero() {
			same = append(same, &all[i])
		}
	}
	if len(same) == 0 {
		return ds
	}
	sort.SliceStable(same, func(i, j int) bool {
		a, b := same[i].CreationTimestamp, same[j].CreationTimestamp
		if !a.Equal(&b) && !a.IsZero() && !b.IsZero() {
			return a.Before(&b)
		}
		return same[i].Name < same[j].Name
	})
	return same[0]
}

// DuplicateError says that ds writes the district that first already writes.
func DuplicateError(ds, first *v1alpha1.DistrictSource) error {
	return fmt.Errorf("DistrictSource %s/%s already writes district %s %s to Lake %s: one DistrictSource per district and Lake",
		first.Namespace, first.Name, ds.Spec.District.State, ds.Spec.District.NCESID, ds.Spec.LakeRef.Name)
}
