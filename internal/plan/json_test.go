package plan

import (
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
)

// A compare plan's JSON is the contract with the Job: its keys stay as they are.
func TestComparePlanJSONShape(t *testing.T) {
	cost := int64(62000)
	p := &Compare{
		Version: Version, Kind: KindCompare, Namespace: "wisconsin", Name: "wi", State: "WI",
		SchoolYears: []string{"2020-21"}, Standards: dataset.DefaultStandards(),
		Costs: &dataset.Costs{Counselor: &cost},
		Lake:  Lake{Type: LakeFile, Path: "/lake"},
	}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "kind": "compare",
  "namespace": "wisconsin",
  "name": "wi",
  "state": "WI",
  "schoolYears": [
    "2020-21"
  ],
  "standards": {
    "counselor": 250,
    "nurse": 750,
    "psychologist": 500,
    "socialWorker": 250
  },
  "costs": {
    "counselor": 62000
  },
  "lake": {
    "type": "file",
    "path": "/lake"
  }
}
`
	if string(b) != want {
		t.Errorf("compare plan JSON\n%s\nwant\n%s", b, want)
	}
}
