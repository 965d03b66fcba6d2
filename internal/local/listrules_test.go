package local

import (
	"context"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/districtlake/districtlake/config/crd"
)

// The rules of a list's items are checked once per distinct item and their result reused:
// an equal item elsewhere (another document, another index) reports the same errors at its
// own field path, and an item that differs only in a number's type (1 against 1.0) or a
// character is checked for itself.
func TestListItemRulesReusedAtEachItemsOwnPath(t *testing.T) {
	bad := "  - name: crdc-support\n    dataset: staffing\n    format: crdc\n    schoolYear: \"2020-21\"\n    http:\n      url: ftp://data.example.gov/support.csv\n"
	good := "  - name: contracts\n    dataset: contracts\n    format: csv\n    inline: \"agency_name\\nA\\n\"\n"
	doc := func(name, sources string) string {
		return "apiVersion: districtlake.io/v1alpha1\nkind: DistrictSource\nmetadata: {name: " + name + ", namespace: wisconsin}\n" +
			"spec:\n  district: {ncesId: \"5508520\", name: Madison, state: WI}\n  lakeRef: {name: statewide}\n  schedule: \"@weekly\"\n  sources:\n" + sources
	}
	files := map[string]string{"lake.yaml": lakeYAML, "districts.yaml": strings.Join([]string{
		doc("first", bad+good),
		doc("second", good+bad),
		doc("third", bad+strings.Replace(bad, "crdc-support", "crdc-support-2", 1)),
		doc("fourth", good+strings.Replace(bad, "ftp://", "https://", 1)),
	}, "---\n")}
	f, dir := loadFiles(t, files)
	got := problems(f, dir)
	const msg = `Invalid value: "ftp://data.example.gov/support.csv": url must be an http:// or https:// URL`
	want := []string{
		`districts.yaml:14 (document 1): DistrictSource wisconsin/first: spec.sources[0].http.url: ` + msg,
		`districts.yaml:37 (document 2): DistrictSource wisconsin/second: spec.sources[1].http.url: ` + msg,
		`districts.yaml:52 (document 3): DistrictSource wisconsin/third: spec.sources[0].http.url: ` + msg,
		`districts.yaml:58 (document 3): DistrictSource wisconsin/third: spec.sources[1].http.url: ` + msg,
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Eight items, four distinct: the bad one three times, the good one twice.
	schemas, err := NewSchemas(crd.Bases())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(schemas).Load(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if n := len(schemas.kinds["districtlake.io/v1alpha1/DistrictSource"].lists[0].seen); n != 4 {
		t.Errorf("%d items checked; want 4, one per distinct item", n)
	}
}

// itemKey tells apart what a rule may tell apart, and orders a map's keys.
func TestItemKey(t *testing.T) {
	if itemKey(map[string]any{"a": int64(1), "b": "x"}) != itemKey(map[string]any{"b": "x", "a": int64(1)}) {
		t.Error("equal maps have different keys")
	}
	for _, pair := range [][2]any{
		{int64(1), float64(1)}, {"1", int64(1)}, {nil, "n"}, {true, "true"},
		{[]any{"a,b"}, []any{"a", "b"}}, {map[string]any{"a": nil}, map[string]any{}},
	} {
		if itemKey(pair[0]) == itemKey(pair[1]) {
			t.Errorf("%#v and %#v have the same key %q", pair[0], pair[1], itemKey(pair[0]))
		}
	}
}

// The CEL rules split from the DistrictSource schema are its sources' items', and the
// rules left outside lists still run (every staffing source needs a schoolYear).
func TestSplitListRulesOfDistrictSource(t *testing.T) {
	schemas, err := NewSchemas(crd.Bases())
	if err != nil {
		t.Fatal(err)
	}
	ks := schemas.kinds["districtlake.io/v1alpha1/DistrictSource"]
	var paths []string
	for _, l := range ks.lists {
		paths = append(paths, strings.Join(l.path, "."))
	}
	if !slices.Equal(paths, []string{"spec.sources"}) {
		t.Errorf("lists with item rules: %v; want [spec.sources]", paths)
	}
	obj := map[string]any{"spec": map[string]any{"sources": []any{map[string]any{"name": "a", "dataset": "staffing", "format": "csv", "inline": "x"}}}}
	errs, _ := ks.checkCEL(context.Background(), obj, celconfig.RuntimeCELCostBudget)
	if len(errs) != 1 || errs[0].Field != "spec" || !strings.Contains(errs[0].Detail, "schoolYear") {
		t.Errorf("checkCEL: %v; want the spec's schoolYear rule alone", errs)
	}
}

// The split checks (OpenAPI schema and CEL rules outside lists and identity fields, each
// list's items on their own, identity fields on their own, results reused) report exactly
// what the API server's validators of the whole object report, for objects with errors in
// and out of their lists and identity fields, checked one after another so that later ones
// reuse earlier results.
func TestSplitChecksReportWhatWholeValidatorsDo(t *testing.T) {
	b, err := fs.ReadFile(crd.Bases(), "bases/districtlake.io_districtsources.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatal(err)
	}
	var internal apiextensionsinternal.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(c.Spec.Versions[0].Schema.OpenAPIV3Schema, &internal, nil); err != nil {
		t.Fatal(err)
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		t.Fatal(err)
	}
	wholeOpenAPI, _, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		t.Fatal(err)
	}
	wholeCEL := cel.NewValidator(structural, true, celconfig.PerCallLimit)
	ks, err := newKindSchema("DistrictSource", c.Spec.Versions[0].Schema.OpenAPIV3Schema)
	if err != nil {
		t.Fatal(err)
	}
	ks.namespaced = true
	if len(ks.identities) != 2 {
		t.Fatalf("%d identity fields split; want metadata and spec.district", len(ks.identities))
	}
	// whole is the check with the API server's validators of the whole object.
	whole := func(obj map[string]any) field.ErrorList {
		var errs field.ErrorList
		for _, p := range structuralpruning.PruneWithOptions(obj, structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
			errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field (not in the CRD's schema)"))
		}
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, structural)
		structuraldefaulting.Default(obj, structural)
		errs = append(errs, validateMetadata(obj, true)...)
		errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, wholeOpenAPI)...)
		errs = append(errs, listtype.ValidateListSetsAndMaps(nil, structural, obj)...)
		if blocking(errs) {
			return append(errs, &field.Error{Type: field.ErrorTypeInvalid, BadValue: field.OmitValueType{},
				Detail: "some validation rules (CEL) were not checked because the object was invalid; correct the errors above to check them"})
		}
		celErrs, _ := wholeCEL.Validate(context.Background(), nil, structural, obj, nil, celconfig.RuntimeCELCostBudget)
		return append(errs, celErrs...)
	}

	sources := map[string]string{
		"ok":          `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
		"enum":        `{"name": "support", "dataset": "staff", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
		"type":        `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": 2020, "http": {"url": "https://x.example/s.csv"}}`,
		"required":    `{"dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
		"pattern":     `{"name": "Support!", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
		"cel":         `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "ftp://x.example/s.csv"}, "inline": "a"}`,
		"nested type": `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv", "headers": "x"}}`,
		"unknown":     `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}, "colour": "red"}`,
		"no year":     `{"name": "support", "dataset": "staffing", "format": "csv", "inline": "a"}`,
	}
	districts := []string{
		`{"ncesId": "5508520", "name": "Madison", "state": "WI"}`, `{"ncesId": "5500001", "name": "Other", "state": "WI"}`,
		`{"ncesId": "55", "name": "Madison", "state": "XX"}`, `{"ncesId": "5508520", "state": "WI"}`,
		`{"ncesId": "5508520", "name": "Madison", "state": "WI", "county": "Dane"}`, `"Madison"`, `null`,
	}
	metas := []string{`{"name": "d", "namespace": "n"}`, `{"name": "e", "namespace": "n"}`, `{"name": "Bad_Name"}`, `{"namespace": "n"}`, `"d"`}
	doc := func(meta, district string, srcs ...string) map[string]any {
		var items []string
		for _, s := range srcs {
			items = append(items, sources[s])
		}
		text := `{"apiVersion": "districtlake.io/v1alpha1", "kind": "DistrictSource", "metadata": ` + meta + `,
			"spec": {"district": ` + district + `, "lakeRef": {"name": "l"}, "schedule": "@weekly", "sources": [` + strings.Join(items, ",") + `]}}`
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return m
	}
	var texts [][3]any
	for i, d := range districts {
		for j, m := range metas {
			for _, srcs := range [][]string{{"ok"}, {"enum"}, {"ok", "enum"}, {"type", "required"}, {"pattern", "cel"},
				{"cel", "pattern", "ok"}, {"nested type", "unknown"}, {"no year"}, {}} {
				if (i+j)%2 == 0 || len(srcs) < 2 {
					texts = append(texts, [3]any{m, d, srcs})
				}
			}
		}
	}
	for round := range 2 { // the second round reuses every result
		for _, x := range texts {
			meta, district, srcs := x[0].(string), x[1].(string), x[2].([]string)
			want := errorTexts(whole(doc(meta, district, srcs...)))
			got := errorTexts(ks.check(context.Background(), doc(meta, district, srcs...)))
			if !slices.Equal(got, want) {
				t.Errorf("round %d, metadata %s, district %s, sources %v:\ngot\n%s\nwant\n%s", round, meta, district, srcs, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
	if n := len(ks.rests.seen); n >= len(texts) {
		t.Errorf("%d rests checked for %d objects; want fewer, equal rests checked once", n, len(texts))
	}
}

func errorTexts(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	slices.Sort(out)
	return out
}
