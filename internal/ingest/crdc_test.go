package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

// runCRDC ingests inline CRDC files into a file lake and returns the lake's folder and
// the run manifest.
func runCRDC(t *testing.T, sources ...plan.Source) (string, Manifest) {
	t.Helper()
	l, store := fileLakeAt(t, plan.Lake{Type: plan.LakeFile, Path: t.TempDir()})
	sum, err := Run(context.Background(), newPlan(l, "0100005", "Albertville City", "AL", sources...), store, lake.MapEnv(nil), testOptions("20261126T130501Z-c0ffee"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := store.Open(context.Background(), sum.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, _ := io.ReadAll(obj)
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return l.Path, m
}

func crdcSource(name, ds, body string) plan.Source {
	return plan.Source{Name: name, Dataset: ds, Format: "crdc", SchoolYear: "2021-22", Inline: &body}
}

// TestCRDCEnrollmentSums checks the enrollment rules: M + F (+ X when present and not a
// reserve code), null when M or F is a reserve code or blank, never a reserve code
// summed as a number.
func TestCRDCEnrollmentSums(t *testing.T) {
	const enr = "LEAID,SCH_NAME,COMBOKEY,JJ,SCH_ENR_BL_M,SCH_ENR_BL_F,SCH_ENR_BL_X,TOT_ENR_M,TOT_ENR_F,TOT_ENR_X,SCH_ENR_IDEA_M,SCH_ENR_IDEA_F\n" +
		"0100005,All known,010000500001,No,5,6,1,100,110,2,7,8\n" +
		"0100005,X is a reserve code,010000500002,No,5,6,-9,100,110,-9,7,-11\n" +
		"0100005,M is a reserve code,010000500003,Yes,-3,6,0,-3,110,0,,8\n" +
		"0100001,Another district,010000100001,No,1,1,1,1,1,1,1,1\n"
	dir, m := runCRDC(t, crdcSource("crdc-enrollment", "staffing", enr))
	got := fmt.Sprint(testenv.DuckDB(t, fmt.Sprintf(`SELECT school_name, enrollment, enrollment_black, enrollment_male, enrollment_nonbinary, enrollment_idea
		FROM read_parquet(%s) ORDER BY nces_school_id`, sqlString(filepath.Join(dir, "staffing", "**", "*.parquet")))))
	want := "[map[enrollment:212 enrollment_black:12 enrollment_idea:15 enrollment_male:100 enrollment_nonbinary:2 school_name:All known] " +
		"map[enrollment:210 enrollment_black:11 enrollment_idea:<nil> enrollment_male:100 enrollment_nonbinary:<nil> school_name:X is a reserve code] " +
		"map[enrollment:<nil> enrollment_black:<nil> enrollment_idea:<nil> enrollment_male:<nil> enrollment_nonbinary:0 school_name:M is a reserve code]]"
	if got != want {
		t.Fatalf("staffing\n got %s\nwant %s", got, want)
	}
	s := m.Sources[0]
	wantCodes := `{"SCH_ENR_BL_M":{"-3":1},"SCH_ENR_BL_X":{"-9":1},"SCH_ENR_IDEA_F":{"-11":1},"TOT_ENR_M":{"-3":1},"TOT_ENR_X":{"-9":1}}`
	if b, _ := json.Marshal(s.ReserveCodes); string(b) != wantCodes {
		t.Errorf("reserve codes %s, want %s", b, wantCodes)
	}
	if fmt.Sprint(s.JusticeFacilitySchools) != "[010000500003]" || s.RowsRead != 4 || s.RowsKept != 3 || s.RowsOtherDistricts != 1 || s.CRDCFile != "Enrollment" {
		t.Errorf("source %+v", s)
	}
}

// TestCRDCIncidentsLongForm checks the wide-to-long rules on one school, and that a TOT_
// that disagrees with its cells is reported in the manifest.
func TestCRDCIncidentsLongForm(t *testing.T) {
	const arr = "LEAID,SCH_NAME,COMBOKEY,SCH_DISCWODIS_ARR_BL_M,SCH_DISCWODIS_ARR_WH_M,SCH_DISCWODIS_ARR_LEP_M,SCH_DISCWODIS_ARR_504_M,TOT_DISCWODIS_ARR_M," +
		"SCH_DISCWDIS_ARR_IDEA_BL_M,SCH_DISCWDIS_ARR_IDEA_LEP_M,TOT_DISCWDIS_ARR_IDEA_M,SCH_DISCWODIS_REF_HI_F\n" +
		"0100005,\"Lincoln, North\",010000500001,2,3,1,-5,6,-9,0,4,7\n"
	dir, m := runCRDC(t, crdcSource("crdc-arrests", "incidents", arr))
	got := fmt.Sprint(testenv.DuckDB(t, fmt.Sprintf(`SELECT category, student_group, race_ethnicity, sex, disability, english_learner, "count"
		FROM read_parquet(%s) ORDER BY category, student_group`, sqlString(filepath.Join(dir, "incidents", "**", "*.parquet")))))
	want := "[map[category:arrest count:<nil> disability:idea english_learner:<nil> race_ethnicity:black sex:male student_group:black_male_idea] " +
		"map[category:arrest count:2 disability:without_disability english_learner:<nil> race_ethnicity:black sex:male student_group:black_male_without_disability] " +
		"map[category:arrest count:0 disability:idea english_learner:true race_ethnicity:<nil> sex:male student_group:english_learner_male_idea] " +
		"map[category:arrest count:1 disability:without_disability english_learner:true race_ethnicity:<nil> sex:male student_group:english_learner_male_without_disability] " +
		"map[category:arrest count:<nil> disability:section_504 english_learner:<nil> race_ethnicity:<nil> sex:male student_group:section_504_male] " +
		"map[category:arrest count:3 disability:without_disability english_learner:<nil> race_ethnicity:white sex:male student_group:white_male_without_disability] " +
		"map[category:law_enforcement_referral count:7 disability:without_disability english_learner:<nil> race_ethnicity:hispanic sex:female student_group:hispanic_female_without_disability]]"
	if got != want {
		t.Fatalf("incidents\n got %s\nwant %s", got, want)
	}
	s := m.Sources[0]
	// TOT_DISCWODIS_ARR_M 6 != 2 + 3; TOT_DISCWDIS_ARR_IDEA_M has an unknown cell, so it is not compared.
	if fmt.Sprint(s.TotalMismatches) != "[school 010000500001 TOT_DISCWODIS_ARR_M: total 6, cells add up to 5]" || s.RowsWritten != 7 {
		t.Errorf("source %+v", s)
	}
}
