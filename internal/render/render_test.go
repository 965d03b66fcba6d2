package render

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/plan"
)

// objects is a Resolver over a few objects of one namespace; names in notHeld answer
// ErrNotHeld and fail answers every lookup with its error.
type objects struct {
	lakes      map[string]*v1alpha1.Lake
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	shared     map[string]*v1alpha1.SharedSource
	notHeld    map[string]bool
	fail       error
}

func lookup[T any](o *objects, m map[string]T, name string) (T, error) {
	var zero T
	if o.fail != nil {
		return zero, o.fail
	}
	if o.notHeld[name] {
		return zero, ErrNotHeld
	}
	v, ok := m[name]
	if !ok {
		return zero, ErrNotFound
	}
	return v, nil
}

func (o *objects) Lake(_ context.Context, _, name string) (*v1alpha1.Lake, error) {
	return lookup(o, o.lakes, name)
}

func (o *objects) ConfigMap(_ context.Context, _, name string) (*corev1.ConfigMap, error) {
	return lookup(o, o.configMaps, name)
}

func (o *objects) Secret(_ context.Context, _, name string) (*corev1.Secret, error) {
	return lookup(o, o.secrets, name)
}

func (o *objects) SharedSource(_ context.Context, _, name string) (*v1alpha1.SharedSource, error) {
	return lookup(o, o.shared, name)
}

func testLake(name string) *v1alpha1.Lake {
	return &v1alpha1.Lake{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "wisconsin"},
		Spec: v1alpha1.LakeSpec{Endpoint: name + ":9000", Bucket: "lake-" + name, Prefix: "p",
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: name + "-creds"}},
	}
}

func lakeSecret(name string) *corev1.Secret {
	return &corev1.Secret{Data: map[string][]byte{v1alpha1.LakeSecretKeyAccessKeyID: []byte("id"), v1alpha1.LakeSecretKeySecretAccessKey: []byte("s3cr3t")}}
}

// everyKind is a DistrictSource with a source of each kind, and the objects it references.
func everyKind() (*v1alpha1.DistrictSource, *objects) {
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
				{Name: "enrollment", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21",
					ConfigMapRef: &v1alpha1.ConfigMapKeyReference{Name: "cm", Key: "enrollment.csv"}},
				{Name: "inline-one", Dataset: "contracts", Format: "csv", Inline: &inline},
			},
		},
	}
	o := &objects{
		lakes: map[string]*v1alpha1.Lake{"statewide": testLake("statewide"), "archive": testLake("archive")},
		configMaps: map[string]*corev1.ConfigMap{"cm": {
			Data:       map[string]string{"contracts.csv": "agency_name\nMPD\n"},
			BinaryData: map[string][]byte{"enrollment.csv": []byte("LEAID\n\xff")},
		}},
		secrets: map[string]*corev1.Secret{
			"token":         {Data: map[string][]byte{"value": []byte("Bearer t0ken")}},
			"archive-creds": lakeSecret("archive-creds"),
		},
	}
	return ds, o
}

func TestDistrictSourceMapsEverySourceKind(t *testing.T) {
	ds, o := everyKind()
	b, err := DistrictSource(context.Background(), ds, o, MountConfigMaps)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Plan.Validate(); err != nil {
		t.Fatalf("rendered plan is not valid: %v", err)
	}
	if b.Plan.Lake.Bucket != "lake-statewide" || b.Plan.Lake.Prefix != "p" || b.Plan.Lake.AccessKeyIDEnv != plan.EnvLakeAccessKeyID {
		t.Fatalf("lake = %+v", b.Plan.Lake)
	}
	if m := b.Plan.Sources[0].HTTP.Member; m != "SCH/School Support.csv" {
		t.Fatalf("http member = %q", m)
	}
	if e := b.Plan.Sources[0].Encoding; e != plan.EncodingWindows1252 {
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
	if got := b.Plan.Sources[2].File; got == nil || got.Path != "/etc/districtlake/sources/contracts/data" || b.Plan.Sources[2].Inline != nil {
		t.Fatalf("configMap source = %+v", b.Plan.Sources[2])
	}
	if len(b.ConfigMaps) != 2 || b.ConfigMaps[0] != (ConfigMapFile{Source: "contracts", Volume: "src-contracts", ConfigMap: "cm",
		Key: "contracts.csv", Dir: "/etc/districtlake/sources/contracts", File: "data"}) {
		t.Fatalf("configMaps = %+v", b.ConfigMaps)
	}
	want := []string{
		plan.EnvLakeAccessKeyID + "=statewide-creds/accessKeyID",
		plan.EnvLakeSecretAccessKey + "=statewide-creds/secretAccessKey",
		"DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0=token/value",
		"DISTRICTLAKE_SRC_FROM_S3_ACCESS_KEY_ID=archive-creds/accessKeyID",
		"DISTRICTLAKE_SRC_FROM_S3_SECRET_ACCESS_KEY=archive-creds/secretAccessKey",
	}
	var got []string
	for _, s := range b.Secrets {
		got = append(got, s.Env+"="+s.Secret+"/"+s.Key)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("secrets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A plan names the variables that carry secrets, never a value.
	js, _ := plan.Marshal(b.Plan)
	if strings.Contains(string(js), "t0ken") || strings.Contains(string(js), "s3cr3t") {
		t.Errorf("the plan holds a secret value:\n%s", js)
	}
}

func TestInlineConfigMapsCarryTheBytes(t *testing.T) {
	ds, o := everyKind()
	b, err := DistrictSource(context.Background(), ds, o, InlineConfigMaps)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ConfigMaps) != 0 {
		t.Errorf("an inline render mounts %+v", b.ConfigMaps)
	}
	for name, want := range map[string]string{"contracts": "agency_name\nMPD\n", "enrollment": "LEAID\n\xff"} {
		for _, s := range b.Plan.Sources {
			if s.Name == name && (s.File != nil || s.Inline == nil || *s.Inline != want) {
				t.Errorf("source %s = %+v, want the key's bytes inline", name, s)
			}
		}
	}
}

func TestUnresolvedReferencesAreTyped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*objects)
		kind  string
		field string
		msg   string
	}{
		{"no Lake", func(o *objects) { delete(o.lakes, "statewide") }, KindLake, "spec.lakeRef.name",
			`Lake "statewide" not found in namespace wisconsin`},
		{"no other Lake", func(o *objects) { delete(o.lakes, "archive") }, KindLake, "spec.sources[1].s3.lakeRef.name",
			`Lake "archive" not found in namespace wisconsin`},
		{"no ConfigMap", func(o *objects) { delete(o.configMaps, "cm") }, KindConfigMap, "spec.sources[2].configMapRef.name",
			`ConfigMap wisconsin/cm, which source "contracts" reads, not found`},
		{"no ConfigMap key", func(o *objects) { delete(o.configMaps["cm"].Data, "contracts.csv") }, KindConfigMap,
			"spec.sources[2].configMapRef.key", `ConfigMap wisconsin/cm has no key "contracts.csv", which source "contracts" reads`},
		{"no header Secret", func(o *objects) { delete(o.secrets, "token") }, KindSecret, "spec.sources[0].http.headers[0].valueFrom.name",
			"Secret wisconsin/token not found (it fills DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0)"},
		{"no header Secret key", func(o *objects) { o.secrets["token"] = &corev1.Secret{} }, KindSecret,
			"spec.sources[0].http.headers[0].valueFrom.key",
			`Secret wisconsin/token has no key "value" (it fills DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0)`},
		{"no other Lake's Secret", func(o *objects) { delete(o.secrets, "archive-creds") }, KindSecret,
			"spec.sources[1].s3.lakeRef.name", "Secret wisconsin/archive-creds not found (it fills DISTRICTLAKE_SRC_FROM_S3_ACCESS_KEY_ID)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, o := everyKind()
			tc.edit(o)
			_, err := DistrictSource(context.Background(), ds, o, MountConfigMaps)
			var ref *RefError
			if !errors.As(err, &ref) {
				t.Fatalf("error = %v, want a *RefError", err)
			}
			if ref.Kind != tc.kind || ref.Field.String() != tc.field || ref.Error() != tc.msg || !strings.HasPrefix(err.Error(), tc.msg) {
				t.Errorf("RefError = %s %s %q (whole error %q), want %s %s %q", ref.Kind, ref.Field, ref.Error(), err, tc.kind, tc.field, tc.msg)
			}
		})
	}
}

func TestEveryUnresolvedReferenceIsReported(t *testing.T) {
	ds, o := everyKind()
	o.lakes, o.configMaps, o.secrets = nil, nil, nil
	_, err := DistrictSource(context.Background(), ds, o, InlineConfigMaps)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`Lake "statewide" not found in namespace wisconsin`,
		"Secret wisconsin/token not found (it fills DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0)",
		`Lake "archive" not found in namespace wisconsin`,
		`ConfigMap wisconsin/cm, which source "contracts" reads, not found`,
		`ConfigMap wisconsin/cm, which source "enrollment" reads, not found`,
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestNotHeldIsNotAnError(t *testing.T) {
	ds, o := everyKind()
	delete(o.secrets, "token")
	o.notHeld = map[string]bool{"token": true}
	b, err := DistrictSource(context.Background(), ds, o, InlineConfigMaps)
	if err != nil {
		t.Fatal(err)
	}
	if b.Plan.Sources[0].HTTP.Headers[0].ValueEnv != "DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0" {
		t.Errorf("header = %+v", b.Plan.Sources[0].HTTP.Headers[0])
	}
}

func TestResolverFailureStops(t *testing.T) {
	ds, o := everyKind()
	o.fail = errors.New("connection refused")
	_, err := DistrictSource(context.Background(), ds, o, MountConfigMaps)
	var ref *RefError
	if err == nil || errors.As(err, &ref) || err.Error() != "reading Lake wisconsin/statewide: connection refused" {
		t.Errorf("error = %v, want the resolver's error, not a RefError", err)
	}
}

func TestSourceWithoutKindIsASpecError(t *testing.T) {
	ds, o := everyKind()
	ds.Spec.Sources[4].Inline = nil
	_, err := DistrictSource(context.Background(), ds, o, MountConfigMaps)
	var spec *SpecError
	if !errors.As(err, &spec) || spec.Field.String() != "spec.sources[4]" ||
		err.Error() != `source "inline-one": set exactly one of http, s3, configMapRef, inline or sharedSourceRef` {
		t.Errorf("error = %v, want a SpecError at spec.sources[4]", err)
	}
}

func TestStateComparison(t *testing.T) {
	sc := &v1alpha1.StateComparison{
		ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: "wisconsin"},
		Spec: v1alpha1.StateComparisonSpec{State: "WI", SchoolYears: []v1alpha1.SchoolYear{"2020-21"},
			LakeRef:   v1alpha1.LocalObjectReference{Name: "statewide"},
			Standards: v1alpha1.Standards{Counselor: 200}, Costs: &v1alpha1.Costs{Nurse: ptr.To[int64](58000)}},
	}
	_, o := everyKind()
	c, err := StateComparison(context.Background(), sc, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Plan.Validate(); err != nil {
		t.Fatalf("rendered plan is not valid: %v", err)
	}
	if c.Plan.Standards != (dataset.Standards{Counselor: 200, Nurse: 750, Psychologist: 500, SocialWorker: 250}) {
		t.Errorf("standards = %+v: unset ones must take the defaults", c.Plan.Standards)
	}
	if c.Plan.Costs == nil || *c.Plan.Costs.Nurse != 58000 || c.Plan.Costs.Counselor != nil {
		t.Errorf("costs = %+v", c.Plan.Costs)
	}
	if c.Plan.Lake.Endpoint != "statewide:9000" || len(c.Secrets) != 2 || c.Secrets[0].Secret != "statewide-creds" {
		t.Errorf("lake = %+v, secrets = %+v", c.Plan.Lake, c.Secrets)
	}
	delete(o.lakes, "statewide")
	var ref *RefError
	if _, err := StateComparison(context.Background(), sc, o); !errors.As(err, &ref) || ref.Kind != KindLake {
		t.Errorf("missing Lake: %v", err)
	}
}
