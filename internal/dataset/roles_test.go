package dataset_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
)

func TestPerRoleFollowsColumnOrder(t *testing.T) {
	p := dataset.PerRole[string]{Counselor: "c", Nurse: "n", Psychologist: "p", SocialWorker: "s"}
	var names, values []string
	for r, v := range p.All() {
		names = append(names, r.Name())
		values = append(values, v)
		if p.Get(r) != v {
			t.Errorf("Get(%s) = %q, All gave %q", r, p.Get(r), v)
		}
	}
	if !slices.Equal(names, []string{"counselor", "nurse", "psychologist", "social_worker"}) {
		t.Errorf("roles in order %v", names)
	}
	if !slices.Equal(values, []string{"c", "n", "p", "s"}) || !slices.Equal(p.Values(), values) {
		t.Errorf("values %v, Values() %v", values, p.Values())
	}
	*p.Ref(dataset.SocialWorker) = "S"
	if p.SocialWorker != "S" {
		t.Errorf("Ref did not set the named field: %+v", p)
	}
	lengths := dataset.MapRoles(p, func(r dataset.Role, v string) int { return len(r.Plural()) + len(v) })
	if lengths.Nurse != len("nurses")+1 {
		t.Errorf("MapRoles: %+v", lengths)
	}
	if dataset.SocialWorker.Label() != "social worker" || dataset.SocialWorker.Plural() != "social_workers" {
		t.Errorf("social worker: label %q, plural %q", dataset.SocialWorker.Label(), dataset.SocialWorker.Plural())
	}
}

// The plan and the comparison's metadata carry standards and costs as JSON with the API's
// keys; an unknown cost is left out.
func TestPerRoleJSON(t *testing.T) {
	b, err := json.Marshal(dataset.DefaultStandards())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"counselor":250,"nurse":750,"psychologist":500,"socialWorker":250}`; string(b) != want {
		t.Errorf("standards marshal as %s, want %s", b, want)
	}
	cost := int64(62000)
	b, err = json.Marshal(dataset.Costs{Counselor: &cost})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"counselor":62000}`; string(b) != want {
		t.Errorf("costs marshal as %s, want %s", b, want)
	}
	var back dataset.Costs
	if err := json.Unmarshal([]byte(`{"socialWorker":60000}`), &back); err != nil || back.SocialWorker == nil || *back.SocialWorker != 60000 || back.Counselor != nil {
		t.Errorf("unmarshalled %+v, %v", back, err)
	}
}

func TestWithDefaults(t *testing.T) {
	got := dataset.WithDefaults(dataset.Standards{Counselor: 200, Nurse: -1})
	if want := (dataset.Standards{Counselor: 200, Nurse: 750, Psychologist: 500, SocialWorker: 250}); got != want {
		t.Errorf("WithDefaults = %+v, want %+v", got, want)
	}
}
