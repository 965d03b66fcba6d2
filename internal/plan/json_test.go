package plan

import (
	"strings"
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

// An ingest plan carries the manager's egress policy to the Job.
func TestIngestPlanEgressJSON(t *testing.T) {
	p := &Ingest{Egress: Egress{DenyPrivate: true, AllowCIDRs: []string{"10.20.0.0/16"}, AllowHosts: []string{"minio.storage.svc"}}}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `"egress": {
    "denyPrivate": true,
    "allowCIDRs": [
      "10.20.0.0/16"
    ],
    "allowHosts": [
      "minio.storage.svc"
    ]
  }`
	if !strings.Contains(string(b), want) {
		t.Errorf("ingest plan JSON\n%s\nlacks\n%s", b, want)
	}
	b, _ = Marshal(&Ingest{})
	if strings.Contains(string(b), "egress") {
		t.Errorf("a plan that allows everything writes an egress key:\n%s", b)
	}
}
