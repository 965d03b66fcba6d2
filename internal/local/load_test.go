package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/config/crd"
)

// A valid folder: one Lake, one DistrictSource with a ConfigMap source, one StateComparison.
const (
	lakeYAML = `apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: statewide, namespace: wisconsin}
spec:
  endpoint: minio.lake:9000
  bucket: districtlake
  credentialsSecretRef: {name: lake-credentials}
`
	dsYAML = `# a district
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata:
  name: wi-5508520
  namespace: wisconsin
spec:
  district:
    ncesId: "5508520"
    name: Madison Metropolitan School District
    state: WI
  lakeRef:
    name: statewide
  schedule: "0 3 * * 1"
  timeZone: America/Chicago
  sources:
  - name: crdc-support
    dataset: staffing
    format: crdc
    schoolYear: "2020-21"
    http:
      url: https://data.example.gov/crdc/2020-21/School%20Support.csv
  - name: contracts
    dataset: contracts
    format: csv
    configMapRef:
      name: wi-5508520-contracts
      key: contracts.csv
---
apiVersion: v1
kind: ConfigMap
metadata: {name: wi-5508520-contracts, namespace: wisconsin}
data:
  contracts.csv: |
    agency_name,status
    Madison Police Department,active
`
	scYAML = `apiVersion: districtlake.io/v1alpha1
kind: StateComparison
metadata: {name: wi, namespace: wisconsin}
spec:
  state: WI
  lakeRef: {name: statewide}
  schedule: "0 6 * * 1"
  schoolYears: ["2020-21"]
`
)

func loadFiles(t *testing.T, files map[string]string) (*Folder, string) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	schemas, err := NewSchemas(crd.Bases())
	if err != nil {
		t.Fatalf("NewSchemas: %v", err)
	}
	f, err := NewLoader(schemas).Load(context.Background(), dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return f, dir
}

func problems(f *Folder, dir string) []string {
	var out []string
	for _, p := range f.Problems {
		out = append(out, strings.TrimPrefix(p.Error(), dir+string(filepath.Separator)))
	}
	return out
}

func validFolder() map[string]string {
	return map[string]string{"lake.yaml": lakeYAML, "wi/madison.yaml": dsYAML, "sc.yaml": scYAML}
}

func TestLoadValidFolderAppliesCRDDefaults(t *testing.T) {
	files := validFolder()
	files["kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [lake.yaml]\n"
	files["notes.txt"] = "not yaml"
	f, dir := loadFiles(t, files)
	if got := problems(f, dir); len(got) != 0 {
		t.Fatalf("problems in a valid folder:\n%s", strings.Join(got, "\n"))
	}
	if len(f.DistrictSources) != 1 || len(f.StateComparisons) != 1 || len(f.Lakes) != 1 || len(f.ConfigMaps) != 1 {
		t.Fatalf("found %d DistrictSources, %d StateComparisons, %d Lakes, %d ConfigMaps; want 1 of each",
			len(f.DistrictSources), len(f.StateComparisons), len(f.Lakes), len(f.ConfigMaps))
	}
	lk := f.Lakes[0].Object
	if !lk.Spec.Secure || !lk.Spec.PathStyle {
		t.Errorf("Lake defaults not applied: secure=%v pathStyle=%v, want true and true", lk.Spec.Secure, lk.Spec.PathStyle)
	}
	sc := f.StateComparisons[0].Object
	if s := sc.Spec.Standards; s.Counselor != 250 || s.Nurse != 750 || s.Psychologist != 500 || s.SocialWorker != 250 {
		t.Errorf("standards defaults = %+v, want 250/750/500/250", s)
	}
	ds := f.DistrictSources[0]
	if h := ds.Object.Spec.SuccessfulJobsHistoryLimit; h == nil || *h != 3 {
		t.Errorf("successfulJobsHistoryLimit default = %v, want 3", h)
	}
	if got, want := ds.Origin.String(), filepath.Join(dir, "wi/madison.yaml")+":2 (document 1)"; got != want {
		t.Errorf("origin = %q, want %q", got, want)
	}
	var ignored []string
	for _, it := range f.Found {
		if it.Ignored != "" {
			ignored = append(ignored, it.Kind)
		}
	}
	if strings.Join(ignored, ",") != "Kustomization" {
		t.Errorf("ignored kinds = %v, want [Kustomization]", ignored)
	}
}

func TestLoadReportsEachRuleWithFileDocumentLineAndField(t *testing.T) {
	cases := []struct {
		name  string
		file  string // file of validFolder() to edit
		edit  func(string) string
		wants []string
	}{
		{
			name: "exactly one source kind (CEL)",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "    http:\n", "    inline: \"a,b\"\n    http:\n", 1)
			},
			wants: []string{`wi/madison.yaml:17 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0]: Invalid value: set exactly one of http, s3, configMapRef, inline or sharedSourceRef`},
		},
		{
			name: "no source kind at all (CEL)",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "    http:\n      url: https://data.example.gov/crdc/2020-21/School%20Support.csv\n", "", 1)
			},
			wants: []string{`wi/madison.yaml:17 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0]: Invalid value: set exactly one of http, s3, configMapRef, inline or sharedSourceRef`},
		},
		{
			name: "crdc contracts (CEL)",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "    dataset: contracts\n    format: csv\n", "    dataset: contracts\n    format: crdc\n", 1)
			},
			wants: []string{`wi/madison.yaml:23 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[1]: Invalid value: the crdc format has no contracts file`},
		},
		{
			name:  "staffing without schoolYear (CEL)",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, "    schoolYear: \"2020-21\"\n", "", 1) },
			wants: []string{`wi/madison.yaml:7 (document 1): DistrictSource wisconsin/wi-5508520: spec: Invalid value: every staffing and incidents source needs a schoolYear`},
		},
		{
			name:  "schoolYear not consecutive (CEL)",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, `schoolYear: "2020-21"`, `schoolYear: "2020-22"`, 1) },
			wants: []string{`wi/madison.yaml:20 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0].schoolYear: Invalid value: "2020-22": schoolYear must name two consecutive years, such as 2023-24`},
		},
		{
			name:  "url scheme (CEL)",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, "url: https://", "url: ftp://", 1) },
			wants: []string{`wi/madison.yaml:22 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0].http.url: Invalid value: "ftp://data.example.gov/crdc/2020-21/School%20Support.csv": url must be an http:// or https:// URL`},
		},
		{
			name:  "schedule fields (CEL)",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, `schedule: "0 3 * * 1"`, `schedule: "0 3 * *"`, 1) },
			wants: []string{`wi/madison.yaml:14 (document 1): DistrictSource wisconsin/wi-5508520: spec.schedule: Invalid value: "0 3 * *": schedule must be a cron expression with five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily`},
		},
		{
			name:  "schedule that does not parse (cron)",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, `schedule: "0 3 * * 1"`, `schedule: "61 3 * * 1"`, 1) },
			wants: []string{`wi/madison.yaml:14 (document 1): DistrictSource wisconsin/wi-5508520: spec.schedule: Invalid value: "61 3 * * 1": is not a valid cron expression: end of range (61) above maximum (59): 61`},
		},
		{
			name: "state comparison descriptor that does not parse (cron)",
			file: "sc.yaml",
			edit: func(s string) string {
				return strings.Replace(s, `schedule: "0 6 * * 1"`, `schedule: "@fortnightly"`, 1)
			},
			wants: []string{`sc.yaml:7 (document 1): StateComparison wisconsin/wi: spec.schedule: Invalid value: "@fortnightly": is not a valid cron expression: unrecognized descriptor: @fortnightly`},
		},
		{
			name:  "time zone",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, "America/Chicago", "America/Madison", 1) },
			wants: []string{`wi/madison.yaml:15 (document 1): DistrictSource wisconsin/wi-5508520: spec.timeZone: Invalid value: "America/Madison": is not a known IANA time zone, such as America/Chicago`},
		},
		{
			// The controller refuses Local (the manager's own zone); so does validate.
			name:  "time zone Local",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, "America/Chicago", "Local", 1) },
			wants: []string{`wi/madison.yaml:15 (document 1): DistrictSource wisconsin/wi-5508520: spec.timeZone: Invalid value: "Local": must name an IANA time zone, such as America/Chicago`},
		},
		{
			// Five fields pass the CRD's shape rule; the CronJob API refuses a zone in the schedule.
			name: "time zone in the schedule",
			file: "sc.yaml",
			edit: func(s string) string {
				return strings.Replace(s, `schedule: "0 6 * * 1"`, `schedule: "TZ=UTC 0 6 * *"`, 1)
			},
			wants: []string{`sc.yaml:7 (document 1): StateComparison wisconsin/wi: spec.schedule: Invalid value: "TZ=UTC 0 6 * *": must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead`},
		},
		{
			name: "CRON_TZ in the schedule",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, `schedule: "0 3 * * 1"`, `schedule: "CRON_TZ=America/Chicago 0 3 * *"`, 1)
			},
			wants: []string{`wi/madison.yaml:14 (document 1): DistrictSource wisconsin/wi-5508520: spec.schedule: Invalid value: "CRON_TZ=America/Chicago 0 3 * *": must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead`},
		},
		{
			name: "endpoint with a scheme (CEL)",
			file: "lake.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "endpoint: minio.lake:9000", "endpoint: http://minio.lake:9000", 1)
			},
			wants: []string{`lake.yaml:5 (document 1): Lake wisconsin/statewide: spec.endpoint: Invalid value: "http://minio.lake:9000": endpoint is host:port, without a scheme or a path`},
		},
		{
			name:  "state comparison school year (CEL on list items)",
			file:  "sc.yaml",
			edit:  func(s string) string { return strings.Replace(s, `["2020-21"]`, `["2020-21", "2021-23"]`, 1) },
			wants: []string{`sc.yaml:8 (document 1): StateComparison wisconsin/wi: spec.schoolYears[1]: Invalid value: "2021-23": schoolYear must name two consecutive years, such as 2023-24`},
		},
		{
			name: "OpenAPI pattern and enum block the CEL rules",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				s = strings.Replace(s, `ncesId: "5508520"`, `ncesId: "550852"`, 1)
				return strings.Replace(s, "state: WI", "state: XX", 1)
			},
			wants: []string{
				`wi/madison.yaml:2 (document 1): DistrictSource wisconsin/wi-5508520: Invalid value: some validation rules (CEL) were not checked because the object was invalid; correct the errors above to check them`,
				`wi/madison.yaml:9 (document 1): DistrictSource wisconsin/wi-5508520: spec.district.ncesId: Invalid value: "550852": spec.district.ncesId in body should match '^[0-9]{7}$'`,
				`wi/madison.yaml:11 (document 1): DistrictSource wisconsin/wi-5508520: spec.district.state: Unsupported value: "XX": supported values: "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "AS", "GU", "MP", "VI"`,
			},
		},
		{
			name: "unknown field",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "    format: csv\n", "    format: csv\n    colums: {a: b}\n", 1)
			},
			wants: []string{`wi/madison.yaml:26 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[1].colums: Forbidden: unknown field (not in the CRD's schema)`},
		},
		{
			name: "duplicate source names (list-map keys)",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "  - name: contracts\n", "  - name: crdc-support\n", 1)
			},
			wants: []string{`wi/madison.yaml:23 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[1]: Duplicate value: {"name":"crdc-support"}`},
		},
		{
			name: "missing Lake",
			file: "sc.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "lakeRef: {name: statewide}", "lakeRef: {name: regional}", 1)
			},
			wants: []string{`sc.yaml:6 (document 1): StateComparison wisconsin/wi: spec.lakeRef.name: Invalid value: "regional": no Lake "regional" in namespace wisconsin in this folder`},
		},
		{
			name: "Lake in another namespace",
			file: "lake.yaml",
			edit: func(s string) string { return strings.Replace(s, "namespace: wisconsin", "namespace: illinois", 1) },
			wants: []string{
				`sc.yaml:6 (document 1): StateComparison wisconsin/wi: spec.lakeRef.name: Invalid value: "statewide": no Lake "statewide" in namespace wisconsin in this folder`,
				`wi/madison.yaml:13 (document 1): DistrictSource wisconsin/wi-5508520: spec.lakeRef.name: Invalid value: "statewide": no Lake "statewide" in namespace wisconsin in this folder`,
			},
		},
		{
			name: "missing ConfigMap",
			file: "wi/madison.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "      name: wi-5508520-contracts\n", "      name: wi-contracts\n", 1)
			},
			wants: []string{`wi/madison.yaml:27 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[1].configMapRef.name: Invalid value: "wi-contracts": no ConfigMap "wi-contracts" in namespace wisconsin in this folder`},
		},
		{
			name:  "missing ConfigMap key",
			file:  "wi/madison.yaml",
			edit:  func(s string) string { return strings.Replace(s, "key: contracts.csv", "key: contract.csv", 1) },
			wants: []string{`wi/madison.yaml:28 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[1].configMapRef.key: Invalid value: "contract.csv": ConfigMap wisconsin/wi-5508520-contracts has no key "contract.csv"`},
		},
		{
			name: "same object twice",
			file: "sc.yaml",
			edit: func(s string) string { return s + "---\n" + s },
			wants: []string{
				`sc.yaml:10 (document 2): StateComparison wisconsin/wi: defined twice (also at ` + "DIR/sc.yaml:1 (document 1))",
			},
		},
		{
			name:  "not YAML",
			file:  "sc.yaml",
			edit:  func(s string) string { return s + "---\nkind: [\n" },
			wants: []string{`sc.yaml:10 (document 2): not valid YAML: yaml: line 10: did not find expected node content`},
		},
		{
			name:  "not an object",
			file:  "sc.yaml",
			edit:  func(s string) string { return s + "---\nname: x\n" },
			wants: []string{`sc.yaml:10 (document 2): not a Kubernetes object (apiVersion and kind are required)`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := validFolder()
			files[tc.file] = tc.edit(files[tc.file])
			f, dir := loadFiles(t, files)
			got := problems(f, dir)
			for i := range got {
				got[i] = strings.ReplaceAll(got[i], dir, "DIR")
			}
			if strings.Join(got, "\n") != strings.Join(tc.wants, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wants, "\n"))
			}
			if f.Err() == nil {
				t.Errorf("Err() = nil with problems")
			}
		})
	}
}

func TestLoadHeaderSecretKeysAndLakeCredentials(t *testing.T) {
	files := validFolder()
	files["wi/madison.yaml"] = strings.Replace(files["wi/madison.yaml"],
		"      url: https://data.example.gov/crdc/2020-21/School%20Support.csv\n",
		"      url: https://data.example.gov/crdc/2020-21/School%20Support.csv\n"+
			"      headers:\n      - name: Authorization\n        valueFrom: {name: api-token, key: token}\n"+
			"      - name: X-Other\n        valueFrom: {name: not-in-folder, key: v}\n", 1)
	files["secrets.yaml"] = `apiVersion: v1
kind: Secret
metadata: {name: api-token, namespace: wisconsin, labels: {districtlake.io/source-credential: "true"}}
stringData:
  tokn: abc
---
apiVersion: v1
kind: Secret
metadata: {name: lake-credentials, namespace: wisconsin}
data:
  accessKeyID: YWJj
`
	f, dir := loadFiles(t, files)
	want := []string{
		`lake.yaml:7 (document 1): Lake wisconsin/statewide: spec.credentialsSecretRef.name: Invalid value: "lake-credentials": the Secret has no key "secretAccessKey"`,
		`wi/madison.yaml:25 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0].http.headers[0].valueFrom.key: Invalid value: "token": Secret wisconsin/api-token has no key "token"`,
	}
	got := problems(f, dir)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A Secret's value never appears in a problem.
	for _, p := range got {
		if strings.Contains(p, "abc") || strings.Contains(p, "YWJj") {
			t.Errorf("a problem shows a secret value: %s", p)
		}
	}
}

func TestLoadDefaultNamespaceAndMissingFolder(t *testing.T) {
	files := map[string]string{
		"all.yml": strings.ReplaceAll(lakeYAML+"---\n"+scYAML, ", namespace: wisconsin", ""),
	}
	f, dir := loadFiles(t, files)
	if got := problems(f, dir); len(got) != 0 {
		t.Fatalf("problems: %v", got)
	}
	if ns := f.StateComparisons[0].Object.Namespace; ns != DefaultNamespace {
		t.Errorf("namespace = %q, want %q", ns, DefaultNamespace)
	}
	schemas, err := NewSchemas(crd.Bases())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(schemas).Load(context.Background(), filepath.Join(dir, "nope")); err == nil ||
		!strings.Contains(err.Error(), "nope: no such file or directory") {
		t.Errorf("Load(missing folder) error = %v, want one naming the folder", err)
	}
	empty := t.TempDir()
	if _, err := NewLoader(schemas).Load(context.Background(), empty); err == nil ||
		err.Error() != "folder "+empty+" holds no .yaml or .yml file" {
		t.Errorf("Load(empty folder) error = %v", err)
	}
}

func TestSamplesAreValid(t *testing.T) {
	f, err := Load(context.Background(), filepath.Join("..", "..", "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatalf("config/samples is not valid:\n%v", err)
	}
	var names []string
	for _, it := range f.DistrictSources {
		names = append(names, it.Object.Spec.District.NCESID)
	}
	if got := strings.Join(names, ","); got != "1709930,2916400,5508520,5509600" {
		t.Errorf("sample districts = %s", got)
	}
	var states []string
	for _, it := range f.StateComparisons {
		states = append(states, string(it.Object.Spec.State))
	}
	if got := strings.Join(states, ","); got != "WI,IL,MO" {
		t.Errorf("sample states = %s", got)
	}
}

// One file of many documents (a state's 400 districts, or the country's 13,000, in one
// file) keeps each document's text once: documents used to be padded with the file's
// lines before them to keep line numbers, which grew with the square of the file.
func TestSplitDocumentsOfALongFileKeepsEachTextOnce(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n", i)
	}
	docs := splitDocuments([]byte(b.String()))
	if len(docs) != 2000 {
		t.Fatalf("%d documents, want 2000", len(docs))
	}
	total := 0
	for _, d := range docs {
		total += len(d.text)
	}
	if total > b.Len() {
		t.Errorf("the documents' texts hold %d bytes for a file of %d", total, b.Len())
	}
	last := docs[len(docs)-1]
	if last.line != 9997 || last.before != 9996 {
		t.Errorf("last document: first line %d, %d lines before it; want 9997 and 9996", last.line, last.before)
	}
}
