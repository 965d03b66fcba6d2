package local

import (
	"strings"
	"testing"
)

// withHeader adds an Authorization header read from Secret name to the folder's
// DistrictSource.
func withHeader(files map[string]string, name string) map[string]string {
	files["wi/madison.yaml"] = strings.Replace(files["wi/madison.yaml"],
		"      url: https://data.example.gov/crdc/2020-21/School%20Support.csv\n",
		"      url: https://data.example.gov/crdc/2020-21/School%20Support.csv\n"+
			"      headers:\n      - name: Authorization\n        valueFrom: {name: "+name+", key: accessKeyID}\n", 1)
	return files
}

const guardSecrets = `apiVersion: v1
kind: Secret
metadata: {name: lake-credentials, namespace: wisconsin, labels: {districtlake.io/source-credential: "true"}}
stringData: {accessKeyID: AKIA-lake, secretAccessKey: lake-secret}
---
apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: wisconsin}
stringData: {accessKeyID: v}
---
apiVersion: v1
kind: Secret
metadata: {name: api-token, namespace: wisconsin, labels: {districtlake.io/source-credential: "true"}}
stringData: {accessKeyID: v}
`

// A header may not read the Lake's credentials (which would send the lake's keys to the
// author's server), nor a Secret that did not opt in with the source-credential label.
func TestValidateRefusesHeaderSecretsThatDidNotOptIn(t *testing.T) {
	for secret, want := range map[string]string{
		"lake-credentials": `wi/madison.yaml:25 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0].http.headers[0].valueFrom.name: Forbidden: Secret wisconsin/lake-credentials holds the credentials of Lake statewide: a source header may not read a Lake's credentials`,
		"plain":            `wi/madison.yaml:25 (document 1): DistrictSource wisconsin/wi-5508520: spec.sources[0].http.headers[0].valueFrom.name: Forbidden: Secret wisconsin/plain is not labelled districtlake.io/source-credential: "true": a source header may read only Secrets labelled so`,
		"api-token":        "",
		"from-environment": "",
	} {
		files := withHeader(validFolder(), secret)
		files["secrets.yaml"] = guardSecrets
		f, dir := loadFiles(t, files)
		got := strings.Join(problems(f, dir), "\n")
		if got != want {
			t.Errorf("header from Secret %s: problems\n%s\nwant\n%s", secret, got, want)
		}
	}
}

// Two DistrictSources of one district on one Lake would overwrite each other's partitions:
// the second is refused, naming the first.
func TestValidateRefusesASecondDistrictSourceOfADistrict(t *testing.T) {
	files := validFolder()
	files["wi/zz-copy.yaml"] = strings.Replace(strings.Split(dsYAML, "---")[0], "name: wi-5508520", "name: madison-again", 1)
	f, dir := loadFiles(t, files)
	want := `wi/zz-copy.yaml:9 (document 1): DistrictSource wisconsin/madison-again: spec.district.ncesId: Invalid value: "5508520": DistrictSource wisconsin/wi-5508520 already writes district WI 5508520 to Lake statewide: one DistrictSource per district and Lake`
	if got := strings.Join(problems(f, dir), "\n"); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}
}

// The folder is checked with the CRDs' own rules: a URL with a password is refused before
// it could be copied into a plan.
func TestValidateRefusesURLWithUserInformation(t *testing.T) {
	files := validFolder()
	files["wi/madison.yaml"] = strings.Replace(files["wi/madison.yaml"], "https://data.example.gov/", "https://reader:hunter2@data.example.gov/", 1)
	f, dir := loadFiles(t, files)
	got := strings.Join(problems(f, dir), "\n")
	if !strings.Contains(got, "url must not hold user information") {
		t.Errorf("problems:\n%s\nwant the URL refused", got)
	}
}
