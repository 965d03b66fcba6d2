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
	errs := ks.checkCEL(context.Background(), obj)
	if len(errs) != 1 || errs[0].Field != "spec" || !strings.Contains(errs[0].Detail, "schoolYear") {
		t.Errorf("checkCEL: %v; want the spec's schoolYear rule alone", errs)
	}
}

// The split validators (OpenAPI schema and CEL rules outside lists, each list's items on
// their own with results reused) report exactly what the API server's validators of the
// whole object report, for objects with errors in and out of their lists, checked one
// after another so that later ones reuse earlier items' results.
func TestSplitValidatorsReportWhatWholeValidatorsDo(t *testing.T) {
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
	ks, err := newKindSchema(c.Spec.Versions[0].Schema.OpenAPIV3Schema)
	if err != nil {
		t.Fatal(err)
	}

	source := func(edit string) string {
		base := map[string]string{
			"ok":          `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
			"enum":        `{"name": "support", "dataset": "staff", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
			"type":        `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": 2020, "http": {"url": "https://x.example/s.csv"}}`,
			"required":    `{"dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
			"pattern":     `{"name": "Support!", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv"}}`,
			"cel":         `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "ftp://x.example/s.csv"}, "inline": "a"}`,
			"nested type": `{"name": "support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21", "http": {"url": "https://x.example/s.csv", "headers": "x"}}`,
		}
		return base[edit]
	}
	doc := func(district string, sources ...string) map[string]any {
		var items []string
		for _, s := range sources {
			items = append(items, source(s))
		}
		text := `{"apiVersion": "districtlake.io/v1alpha1", "kind": "DistrictSource", "metadata": {"name": "d", "namespace": "n"},
			"spec": {"district": ` + district + `, "lakeRef": {"name": "l"}, "schedule": "@weekly", "sources": [` + strings.Join(items, ",") + `]}}`
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return m
	}
	good := `{"ncesId": "5508520", "name": "Madison", "state": "WI"}`
	bad := `{"ncesId": "55", "name": "Madison", "state": "XX"}`
	objs := []map[string]any{
		doc(good, "ok"), doc(good, "enum"), doc(bad, "ok", "enum"), doc(good, "type", "required"),
		doc(good, "pattern", "cel"), doc(bad, "cel", "pattern", "ok"), doc(good, "nested type", "enum"),
		doc(good, "enum", "type", "required", "pattern", "cel", "nested type"), doc(good), doc(bad, "ok"),
	}
	ctx := context.Background()
	for round := range 2 { // the second round reuses every item's results
		for i, obj := range objs {
			want := apiservervalidation.ValidateCustomResource(nil, obj, wholeOpenAPI)
			wantCEL, _ := wholeCEL.Validate(ctx, nil, structural, obj, nil, celconfig.RuntimeCELCostBudget)
			got := apiservervalidation.ValidateCustomResource(nil, obj, ks.openAPI)
			for _, l := range ks.listSchemas {
				got = append(got, l.check(obj)...)
			}
			if w, g := errorTexts(append(want, wantCEL...)), errorTexts(append(got, ks.checkCEL(ctx, obj)...)); !slices.Equal(w, g) {
				t.Errorf("round %d, object %d:\ngot\n%s\nwant\n%s", round, i, strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
		}
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
