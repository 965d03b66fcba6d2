package guard

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

func TestHeaderSecret(t *testing.T) {
	lakes := []v1alpha1.Lake{{ObjectMeta: metav1.ObjectMeta{Name: "statewide", Namespace: "wi"},
		Spec: v1alpha1.LakeSpec{CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "lake-creds"}}}}
	labelled := map[string]string{SourceCredentialLabel: "true"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		known  bool
		want   string
	}{
		{"api-token", labelled, true, ""},
		{"api-token", nil, true, `is not labelled districtlake.io/source-credential: "true"`},
		{"api-token", map[string]string{SourceCredentialLabel: "yes"}, true, "is not labelled"},
		{"api-token", nil, false, ""},
		{"lake-creds", labelled, true, "holds the credentials of Lake statewide"},
		{"lake-creds", nil, false, "holds the credentials of Lake statewide"},
	} {
		err := HeaderSecret("wi", tc.name, tc.labels, tc.known, lakes)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("HeaderSecret(%s, %v, known %t) = %v, want %q", tc.name, tc.labels, tc.known, err, tc.want)
		}
	}
}

func TestFirstOfDistrict(t *testing.T) {
	at := func(name, lea string, minutes int) v1alpha1.DistrictSource {
		return v1alpha1.DistrictSource{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "wi", CreationTimestamp: metav1.NewTime(time.Unix(0, 0).Add(time.Duration(minutes) * time.Minute))},
			Spec: v1alpha1.DistrictSourceSpec{District: v1alpha1.District{NCESID: lea, State: "WI"},
				LakeRef: v1alpha1.LocalObjectReference{Name: "statewide"}},
		}
	}
	all := []v1alpha1.DistrictSource{at("zz-new", "5508520", 5), at("madison", "5508520", 1), at("milwaukee", "5509600", 0)}
	if got := FirstOfDistrict(&all[0], all); got.Name != "madison" {
		t.Errorf("first of zz-new = %s, want madison (older)", got.Name)
	}
	if got := FirstOfDistrict(&all[1], all); got.Name != "madison" {
		t.Errorf("first of madison = %s, want itself", got.Name)
	}
	if got := FirstOfDistrict(&all[2], all); got.Name != "milwaukee" {
		t.Errorf("first of milwaukee = %s, want itself", got.Name)
	}
	other := at("b-other-lake", "5508520", 0)
	other.Spec.LakeRef.Name = "elsewhere"
	if got := FirstOfDistrict(&other, append(all, other)); got.Name != "b-other-lake" {
		t.Errorf("a DistrictSource on another Lake is a duplicate of %s", got.Name)
	}
	// Same creation time (a folder has none): the name decides.
	a, b := at("b", "5508520", 0), at("a", "5508520", 0)
	if got := FirstOfDistrict(&a, []v1alpha1.DistrictSource{a, b}); got.Name != "a" {
		t.Errorf("tie: first = %s, want a", got.Name)
	}
}
