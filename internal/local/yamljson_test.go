package local

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// viaJSON is what decodeYAML replaces: the document as JSON text, read back.
func viaJSON(text []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(text)
	if err != nil {
		return nil, err
	}
	var out any
	if err := utiljson.Unmarshal(js, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeYAML gives what YAML to JSON text and back gives, value for value and type for
// type, on the corners of YAML (numbers of every form, keys that are not strings,
// timestamps, binary, anchors and merges, bad UTF-8 escapes) and on every document of
// the project's samples; and fails where that fails.
func TestDecodeYAMLIsYAMLToJSONAndBack(t *testing.T) {
	docs := []string{
		"",
		"~",
		"null",
		"a: 1",
		"a: [1, -2, 0x1F, 017, 0o17, 0b101, +3, 1_000]",
		"a: [1.0, 1.5, -0.0, 1e3, 1e21, 1e-7, 2.5e+3, .5, 6.02e23]",
		"a: [9223372036854775807, 9223372036854775808, 18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809]",
		"a: [.inf]",
		"a: [-.Inf]",
		"a: [.nan]",
		"a: [true, false, yes, no, on, off, y, n, True, FALSE]",
		"a: [2001-12-14t21:59:43.10-05:00, 2002-12-14, '2002-12-14', !!timestamp 2001-12-15T02:59:43.1Z]",
		"a: !!binary aGVsbG8=",
		"a: !!str 12",
		"a: !!float 12",
		"a: !!int '12'",
		"1: one\n2.5: two\ntrue: three\n-3: four\n0x10: five",
		"1e3: x",
		".inf: x\n-.inf: y\n.nan: z",
		"? [a, b]\n: c",
		"? {a: b}\n: c",
		"~: x",
		"a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2",
		"a: \"\\xff\\u00e9\\U0001F600\"",
		"a: b\na: c",
		"a: {b: 1, b: 2}",
		"- 1\n- 2",
		"just a string",
		"a: 'it''s'\nb: \"tab\\tnew\\nline\"\nc: |\n  block\n  text\nd: >\n  folded\n  text",
		"a: [[], {}, [{}], {b: []}]",
		"a: b: c",
		"a: [1, 2",
		"a:\n\t- tab",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {key: 123}",
	}
	var samples []string
	for _, dir := range []string{"../../config/samples"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range splitDocuments(b) {
				samples = append(samples, string(d.text))
			}
		}
	}
	if len(samples) < 10 {
		t.Fatalf("only %d sample documents found", len(samples))
	}
	for _, doc := range append(docs, samples...) {
		want, wantErr := viaJSON([]byte(doc))
		got, err := decodeYAML([]byte(doc))
		name := strings.ReplaceAll(doc, "\n", `\n`)
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%q: error %v; through JSON: %v", name, err, wantErr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %#v\nwant %#v", name, got, want)
		}
	}
}
