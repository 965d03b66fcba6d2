package local

import (
	"context"
	"slices"
	"strings"
	"testing"

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
