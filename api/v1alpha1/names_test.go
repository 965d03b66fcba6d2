package v1alpha1_test

import (
	"os"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
)

// The API spells the dataset names and formats itself (its enum markers need literals); they
// must be the names the data side uses.
func TestDatasetAndFormatNamesMatchTheDataSide(t *testing.T) {
	for api, data := range map[v1alpha1.Dataset]string{
		v1alpha1.DatasetStaffing:  dataset.Staffing,
		v1alpha1.DatasetIncidents: dataset.Incidents,
		v1alpha1.DatasetContracts: dataset.Contracts,
	} {
		if string(api) != data {
			t.Errorf("API dataset %q is %q on the data side", api, data)
		}
	}
	for api, data := range map[v1alpha1.Format]string{
		v1alpha1.FormatCSV:     dataset.FormatCSV,
		v1alpha1.FormatJSON:    dataset.FormatJSON,
		v1alpha1.FormatNDJSON:  dataset.FormatNDJSON,
		v1alpha1.FormatParquet: dataset.FormatParquet,
		v1alpha1.FormatCRDC:    dataset.FormatCRDC,
	} {
		if string(api) != data {
			t.Errorf("API format %q is %q on the data side", api, data)
		}
	}

	// The CRD accepts exactly the data side's lists, in the same order.
	b, err := os.ReadFile("../../config/crd/bases/districtlake.io_districtsources.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatal(err)
	}
	source := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["sources"].Items.Schema
	for field, want := range map[string][]string{"dataset": dataset.DistrictDatasets(), "format": dataset.Formats()} {
		var got []string
		for _, v := range source.Properties[field].Enum {
			var s string
			if err := yaml.Unmarshal(v.Raw, &s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		if !slices.Equal(got, want) {
			t.Errorf("the CRD's %s enum is %v, the data side's list %v", field, got, want)
		}
	}
}

// The API's standards and costs have the same JSON keys as the plan's per-role values.
func TestStandardsJSONKeysMatchPerRole(t *testing.T) {
	six := int64(6)
	api, err := yaml.Marshal(v1alpha1.Costs{Counselor: &six, Nurse: &six, Psychologist: &six, SocialWorker: &six})
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(dataset.Costs{Counselor: &six, Nurse: &six, Psychologist: &six, SocialWorker: &six})
	if err != nil {
		t.Fatal(err)
	}
	if string(api) != string(data) {
		t.Errorf("API costs marshal as\n%s\nthe data side's as\n%s", api, data)
	}
}
