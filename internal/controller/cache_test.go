package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// TestStripUnreadKeepsWhatTheManagerReads: the cache drops managedFields and kubectl's
// last-applied copy of a DistrictSource, and keeps its other annotations (run-now) and
// its spec.
func TestStripUnreadKeepsWhatTheManagerReads(t *testing.T) {
	ds := &v1alpha1.DistrictSource{ObjectMeta: metav1.ObjectMeta{
		Name: "d", Namespace: "ns",
		Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: `{"apiVersion":"districtlake.io/v1alpha1","kind":"DistrictSource"}`,
			v1alpha1.RunNowAnnotation:          "1",
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}, Spec: v1alpha1.DistrictSourceSpec{District: v1alpha1.District{NCESID: "5508520", State: "WI"}}}
	out, err := stripUnread(ds)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*v1alpha1.DistrictSource)
	if got.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", got.ManagedFields)
	}
	want := map[string]string{v1alpha1.RunNowAnnotation: "1"}
	if len(got.Annotations) != 1 || got.Annotations[v1alpha1.RunNowAnnotation] != "1" {
		t.Errorf("annotations %v, want %v", got.Annotations, want)
	}
	if got.Spec.District.NCESID != "5508520" {
		t.Errorf("spec changed: %+v", got.Spec.District)
	}

	only := &v1alpha1.Lake{ObjectMeta: metav1.ObjectMeta{Name: "l", Annotations: map[string]string{
		corev1.LastAppliedConfigAnnotation: "{}",
	}}}
	if out, _ := stripUnread(only); out.(*v1alpha1.Lake).Annotations != nil {
		t.Errorf("annotations %v, want none", out.(*v1alpha1.Lake).Annotations)
	}
	if out, err := stripUnread("not an object"); err != nil || out != "not an object" {
		t.Errorf("stripUnread(string) = %v, %v; want it unchanged", out, err)
	}
}
