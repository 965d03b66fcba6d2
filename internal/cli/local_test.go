package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/testenv"
)

// execute runs the districtlake command line with args and returns its output.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestValidateCommand(t *testing.T) {
	out, err := execute(t, "validate", "-f", "../../config/samples")
	if err != nil {
		t.Fatalf("validate config/samples: %v\n%s", err, out)
	}
	if !strings.HasSuffix(out, "\nOK: 15 objects valid (4 DistrictSources, 3 SharedSources, 3 StateComparisons, 1 Lakes, 4 ConfigMaps, 0 Secrets)\n") ||
		!regexp.MustCompile(`(?m)^\.\./\.\./config/samples/wi-madison\.yaml:6 +DistrictSource +districtlake-samples/wi-5508520 +OK$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^\.\./\.\./config/samples/kustomization\.yaml:4 +Kustomization +ignored: not used by a local run$`).MatchString(out) {
		t.Errorf("validate output:\n%s", out)
	}

	dir := t.TempDir()
	bad := "apiVersion: districtlake.io/v1alpha1\nkind: StateComparison\nmetadata: {name: wi, namespace: ns}\n" +
		"spec: {state: WI, lakeRef: {name: statewide}, schedule: \"0 6 * * 8\", schoolYears: [\"2020-21\"]}\n"
	if err := os.WriteFile(filepath.Join(dir, "sc.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = execute(t, "validate", "-f", dir)
	if err == nil || err.Error() != dir+" is not valid (2 errors)" {
		t.Fatalf("validate error = %v\n%s", err, out)
	}
	for _, want := range []string{
		dir + `/sc.yaml:4 (document 1): StateComparison ns/wi: spec.lakeRef.name: Invalid value: "statewide": no Lake "statewide" in namespace ns in this folder`,
		dir + `/sc.yaml:4 (document 1): StateComparison ns/wi: spec.schedule: Invalid value: "0 6 * * 8": is not a valid cron expression: end of range (8) above maximum (6): 8`,
		"\n2 errors\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
}

// TestValidateRefusesWhatTheControllerRefuses: validate runs the controllers' own schedule
// check, so a folder that validates does not stall on a cluster with InvalidSchedule.
func TestValidateRefusesWhatTheControllerRefuses(t *testing.T) {
	lake := "apiVersion: districtlake.io/v1alpha1\nkind: Lake\nmetadata: {name: statewide, namespace: ns}\n" +
		"spec: {endpoint: minio:9000, bucket: lake, credentialsSecretRef: {name: creds}}\n"
	for _, tc := range []struct {
		name, schedule, want string
	}{
		{"time zone Local", `"0 6 * * 1", timeZone: Local`,
			`spec.timeZone: Invalid value: "Local": must name an IANA time zone, such as America/Chicago`},
		{"TZ= in the schedule", `"TZ=America/Chicago 0 6 * *"`,
			`spec.schedule: Invalid value: "TZ=America/Chicago 0 6 * *": must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead`},
		{"CRON_TZ= in the schedule", `"CRON_TZ=UTC 0 6 * *"`,
			`spec.schedule: Invalid value: "CRON_TZ=UTC 0 6 * *": must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sc := "apiVersion: districtlake.io/v1alpha1\nkind: StateComparison\nmetadata: {name: wi, namespace: ns}\n" +
				"spec: {state: WI, lakeRef: {name: statewide}, schedule: " + tc.schedule + ", schoolYears: [\"2020-21\"]}\n"
			if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(lake+"---\n"+sc), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := execute(t, "validate", "-f", dir)
			if err == nil || err.Error() != dir+" is not valid (1 errors)" {
				t.Fatalf("validate error = %v\n%s", err, out)
			}
			if want := dir + "/all.yaml:9 (document 2): StateComparison ns/wi: " + tc.want; !strings.Contains(out, want) {
				t.Errorf("validate output lacks %q:\n%s", want, out)
			}
		})
	}
}

// The README's first command, then the line it prints to open the lake.
func TestRunThenSQLCommands(t *testing.T) {
	lakeDir := filepath.Join(t.TempDir(), "lake")
	out, err := execute(t, "run", "-f", "../../config/samples", "--lake", lakeDir, "--state", "wi")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	for _, want := range []string{"Ingested 2 of 2 districts\n", "WI 2020-21: 2 districts\n",
		"Report: " + lakeDir + "/reports/state=WI/school_year=2020-21/index.html\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "IL 2020-21") || strings.Contains(out, "Chicago") {
		t.Errorf("--state wi ran another state:\n%s", out)
	}
	if !strings.HasSuffix(out, "sql --lake "+lakeDir+")\n") {
		t.Errorf("run does not end with the DuckDB line:\n%s", out)
	}
	sql, err := execute(t, "sql", "--lake", lakeDir)
	if err != nil {
		t.Fatalf("sql: %v\n%s", err, sql)
	}
	rows := testenv.DuckDB(t, sql+"SELECT district_name, rank_students_per_counselor AS rank FROM comparison ORDER BY rank")
	if len(rows) != 2 || rows[0]["rank"] != int64(1) || rows[1]["rank"] != int64(2) {
		t.Errorf("comparison through the printed SQL: %v", rows)
	}
	// No run of IL or MO: their datasets are empty views, not errors.
	rows = testenv.DuckDB(t, sql+"SELECT count(*) AS n FROM staffing WHERE state <> 'WI'")
	if rows[0]["n"] != int64(0) {
		t.Errorf("staffing of other states: %v", rows)
	}
}

func TestSQLCommandS3NeedsKeys(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("DISTRICTLAKE_S3_ENDPOINT", "http://127.0.0.1:1")
	_, err := execute(t, "sql", "--lake", "s3://districtlake/samples")
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") || !strings.Contains(err.Error(), "--credential-chain") {
		t.Errorf("sql without keys: %v", err)
	}
	out, err := execute(t, "sql", "--lake", "s3://districtlake/samples", "--credential-chain")
	if err != nil {
		t.Fatalf("sql --credential-chain: %v", err)
	}
	if !strings.Contains(out, "CREATE OR REPLACE SECRET districtlake (TYPE s3, PROVIDER credential_chain, CHAIN 'env', REGION 'us-east-1', ENDPOINT '127.0.0.1:1', URL_STYLE 'path', USE_SSL false, SCOPE 's3://districtlake');") {
		t.Errorf("sql --credential-chain:\n%s", out)
	}
}

// TestValidateRefusesAnImageTheClusterRefuses: spec.job.image is refused unless
// --allowed-job-images (the manager's list) allows it, as the controller stalls it.
func TestValidateRefusesAnImageTheClusterRefuses(t *testing.T) {
	dir := t.TempDir()
	doc := "apiVersion: districtlake.io/v1alpha1\nkind: Lake\nmetadata: {name: statewide, namespace: ns}\n" +
		"spec: {endpoint: minio:9000, bucket: lake, credentialsSecretRef: {name: creds}}\n---\n" +
		"apiVersion: districtlake.io/v1alpha1\nkind: StateComparison\nmetadata: {name: wi, namespace: ns}\n" +
		"spec:\n  state: WI\n  lakeRef: {name: statewide}\n  schedule: \"0 6 * * 1\"\n  schoolYears: [\"2020-21\"]\n" +
		"  job:\n    image: evil.example/x:1\n"
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := execute(t, "validate", "-f", dir)
	if err == nil || err.Error() != dir+" is not valid (1 errors)" {
		t.Fatalf("validate error = %v\n%s", err, out)
	}
	want := dir + `/all.yaml:15 (document 2): StateComparison ns/wi: spec.job.image: Forbidden: image "evil.example/x:1" is not allowed: the cluster admin allows no spec.job.image`
	if !strings.Contains(out, want) {
		t.Errorf("validate output lacks %q:\n%s", want, out)
	}
	if out, err := execute(t, "validate", "-f", dir, "--allowed-job-images", "registry.example/*,evil.example/x:1"); err != nil {
		t.Errorf("an allowed image was refused: %v\n%s", err, out)
	}
}
