package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
)

func testLakes(name string) (*v1alpha1.Lake, error) {
	return &v1alpha1.Lake{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.LakeSpec{Endpoint: name + ":9000", Bucket: "lake-" + name, Prefix: "p",
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: name + "-creds"}},
	}, nil
}

func TestForDistrictSourceMapsEverySourceKind(t *testing.T) {
	inline := "a,b\n1,2\n"
	ds := &v1alpha1.DistrictSource{
		ObjectMeta: metav1.ObjectMeta{Name: "wi-5508520", Namespace: "wisconsin"},
		Spec: v1alpha1.DistrictSourceSpec{
			District: v1alpha1.District{NCESID: "5508520", Name: "Madison", State: "WI"},
			LakeRef:  v1alpha1.LocalObjectReference{Name: "statewide"},
			Sources: []v1alpha1.Source{
				{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21", Encoding: v1alpha1.EncodingWindows1252,
					HTTP: &v1alpha1.HTTPSource{URL: "https://example.gov/crdc.zip", Member: "SCH/School Support.csv", Headers: []v1alpha1.HTTPHeader{
						{Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: "token", Key: "value"}}}}},
				{Name: "from-s3", Dataset: "incidents", Format: "parquet", SchoolYear: "2020-21",
					S3: &v1alpha1.S3Source{Bucket: "raw", Key: "x.zip", Member: "x.parquet", LakeRef: &v1alpha1.LocalObjectReference{Name: "archive"}}},
				{Name: "contracts", Dataset: "contracts", Format: "csv",
					ConfigMapRef: &v1alpha1.ConfigMapKeyReference{Name: "cm", Key: "contracts.csv"}},
				{Name: "inline-one", Dataset: "contracts", Format: "csv", Inline: &inline},
			},
		},
	}
	b, err := ForDistrictSource(ds, testLakes)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Plan.Validate(); err != nil {
		t.Fatalf("rendered plan is not valid: %v", err)
	}
	if b.Plan.Lake.Bucket != "lake-statewide" || b.Plan.Lake.AccessKeyIDEnv != EnvLakeAccessKeyID {
		t.Fatalf("lake = %+v", b.Plan.Lake)
	}
	if m := b.Plan.Sources[0].HTTP.Member; m != "SCH/School Support.csv" {
		t.Fatalf("http member = %q", m)
	}
	if e := b.Plan.Sources[0].Encoding; e != EncodingWindows1252 {
		t.Fatalf("encoding = %q", e)
	}
	h := b.Plan.Sources[0].HTTP.Headers[0]
	if h.Name != "Authorization" || h.ValueEnv != "DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0" {
		t.Fatalf("header = %+v", h)
	}
	s3 := b.Plan.Sources[1].S3
	if s3.Member != "x.parquet" || s3.Lake.Endpoint != "archive:9000" || s3.Lake.Prefix != "" || s3.Lake.AccessKeyIDEnv != "DISTRICTLAKE_SRC_FROM_S3_ACCESS_KEY_ID" {
		t.Fatalf("s3 source lake = %+v", s3.Lake)
	}
	if got := b.Plan.Sources[2].File.Path; got != "/etc/districtlake/sources/contracts/data" {
		t.Fatalf("configMap file path = %q", got)
	}
	if len(b.ConfigMaps) != 1 || b.ConfigMaps[0].ConfigMap != "cm" || b.ConfigMaps[0].Key != "contracts.csv" {
		t.Fatalf("configMaps = %+v", b.ConfigMaps)
	}
	want := map[string]string{
		EnvLakeAccessKeyID:                           "statewide-creds/accessKeyID",
		EnvLakeSecretAccessKey:                       "statewide-creds/secretAccessKey",
		"DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0":     "token/value",
		"DISTRICTLAKE_SRC_FROM_S3_ACCESS_KEY_ID":     "archive-creds/accessKeyID",
		"DISTRICTLAKE_SRC_FROM_S3_SECRET_ACCESS_KEY": "archive-creds/secretAccessKey",
	}
	if len(b.Secrets) != len(want) {
		t.Fatalf("secrets = %+v, want %d", b.Secrets, len(want))
	}
	for _, s := range b.Secrets {
		if want[s.Env] != s.Secret+"/"+s.Key {
			t.Errorf("env %s from %s/%s, want %s", s.Env, s.Secret, s.Key, want[s.Env])
		}
	}
}

func TestValidateNamesEachProblem(t *testing.T) {
	p := Ingest{Version: 2, Kind: "x", District: District{NCESID: "55", State: "Wisconsin"},
		Lake: Lake{Type: "s3"}, Sources: []Source{{Name: "a", Dataset: "staff", Format: "xml", Encoding: "latin1"}, {Name: "a", Dataset: "contracts", Format: "parquet", Encoding: "windows-1252"}}}
	err := p.Validate()
	if err == nil {
		t.Fatal("a bad plan validated")
	}
	for _, want := range []string{
		"version 2 is not supported (want 1)", `kind "x" is not "ingest"`,
		`district.ncesId "55" is not a 7-digit NCES LEA ID`, `district.state "Wisconsin" is not a two-letter state code`,
		"lake: an s3 lake needs an endpoint and a bucket", `sources[0] (a): dataset "staff" is not staffing, incidents or contracts`,
		`sources[0] (a): format "xml" is not csv, json, ndjson, parquet or crdc`,
		"sources[0] (a): set exactly one of http, s3, file or inline (0 set)", `sources[1]: name "a" is used twice`,
		`sources[0] (a): encoding "latin1" is not utf-8 or windows-1252`,
		"a parquet file is always UTF-8: encoding applies to csv, json, ndjson and crdc",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestReadComparePlanRoundTrip(t *testing.T) {
	sc := &v1alpha1.StateComparison{
		ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: "wisconsin"},
		Spec: v1alpha1.StateComparisonSpec{State: "WI", SchoolYears: []v1alpha1.SchoolYear{"2020-21"},
			Standards: v1alpha1.Standards{Counselor: 200}},
	}
	lk, _ := testLakes("statewide")
	p, secrets := ForStateComparison(sc, lk)
	if p.Standards != (dataset.Standards{Counselor: 200, Nurse: 750, Psychologist: 500, SocialWorker: 250}) {
		t.Fatalf("standards = %+v: unset ones must take the defaults", p.Standards)
	}
	if len(secrets) != 2 {
		t.Fatalf("secrets = %+v", secrets)
	}
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
	if got.State != "WI" || got.SchoolYears[0] != "2020-21" || got.Lake.Endpoint != "statewide:9000" {
		t.Fatalf("read back %+v", got)
	}
	if _, err := ReadIngest(path); err == nil || !strings.Contains(err.Error(), `kind "compare" is not "ingest"`) {
		t.Fatalf("reading a compare plan as an ingest plan: %v", err)
	}
}
