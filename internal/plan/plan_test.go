package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/dataset"
)

func TestValidateNamesEachProblem(t *testing.T) {
	p := Ingest{Version: 2, Kind: "x", District: District{NCESID: "55", State: "Wisconsin"},
		Lake: Lake{Type: "s3"}, Sources: []Source{{Name: "a", Dataset: "staff", Format: "xml", Encoding: "latin1"}, {Name: "a", Dataset: "contracts", Format: "parquet", Encoding: "windows-1252"}},
		Egress: Egress{DenyPrivate: true, AllowCIDRs: []string{"10.0.0.0/40"}}}
	err := p.Validate()
	if err == nil {
		t.Fatal("a bad plan validated")
	}
	for _, want := range []string{
		"version 2 is not supported (want 1)", `kind "x" is not "ingest"`,
		`district.ncesId "55" is not a 7-digit NCES LEA ID`, `district.state "Wisconsin" is not a two-letter state code`,
		"lake: an s3 lake needs an endpoint and a bucket", `sources[0] (a): dataset "staff" is not staffing, incidents or contracts`,
		`sources[0] (a): format "xml" is not csv, json, ndjson, parquet or crdc`,
		"sources[0] (a): set exactly one of http, s3, file, inline or landed (0 set)", `sources[1]: name "a" is used twice`,
		`sources[0] (a): encoding "latin1" is not utf-8 or windows-1252`,
		"a parquet file is always UTF-8: encoding applies to csv, json, ndjson and crdc",
		`egress: allowed CIDR "10.0.0.0/40" is not an address range`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestReadComparePlanRoundTrip(t *testing.T) {
	p := &Compare{Version: Version, Kind: KindCompare, Namespace: "wisconsin", Name: "wi", State: "WI",
		SchoolYears: []string{"2020-21"}, Standards: dataset.DefaultStandards(),
		Lake: Lake{Type: LakeS3, Endpoint: "statewide:9000", Bucket: "lake-statewide",
			AccessKeyIDEnv: EnvLakeAccessKeyID, SecretAccessKeyEnv: EnvLakeSecretAccessKey}}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCompare(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "WI" || got.SchoolYears[0] != "2020-21" || got.Lake != p.Lake || got.Standards != p.Standards {
		t.Fatalf("read back %+v", got)
	}
	if _, err := ReadIngest(path); err == nil || !strings.Contains(err.Error(), `kind "compare" is not "ingest"`) {
		t.Fatalf("reading a compare plan as an ingest plan: %v", err)
	}
}
