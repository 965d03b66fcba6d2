package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

// runCRDC ingests inline CRDC files into a file lake and returns the lake's folder and
// the run manifest.
func runCRDC(t *testing.T, sources ...plan.Source) (string, Manifest) {
	t.Helper()
	dir, m, err := tryCRDC(t, sources...)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func tryCRDC(t *testing.T, sources ...plan.Source) (string, Manifest, error) {
	t.Helper()
	l, store := fileLakeAt(t, plan.Lake{Type: plan.LakeFile, Path: t.TempDir()})
	sum, err := Run(context.Background(), newPlan(l, "0100005", "Albertville City", "AL", sources...), store, lake.MapEnv(nil), testOptions("20261126T130501Z-c0ffee"))
	if err != nil {
		return l.Path, Manifest{}, err
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
	return l.Path, m, nil
}

func crdcSource(name, ds, year, body string) plan.Source {
	return plan.Source{Name: name, Dataset: ds, Format: "crdc", SchoolYear: year, Inline: &body}
}

// crdcCSV writes a CRDC file with a header: one row per map, every cell the map does not
// set 0 (the id columns: a school of Albertville City, 0100005).
func crdcCSV(header []string, rows ...map[string]string) string {
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for i, r := range rows {
		schid := fmt.Sprintf("%05d", i+1)
		def := map[string]string{"LEA_STATE": "AL", "LEA_STATE_NAME": "Alabama", "LEAID": "0100005", "LEA_NAME": "Albertville City",
			"SCHID": schid, "SCH_NAME": "School " + schid, "COMBOKEY": "0100005" + schid, "JJ": "No"}
		cells := make([]string, len(header))
		for k, c := range header {
			v, ok := r[c]
			if !ok {
				v, ok = def[c]
			}
			if !ok {
				v = "0"
			}
			if strings.ContainsAny(v, ",\"") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			cells[k] = v
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return b.String()
}

func header(t *testing.T, year string, k crdcgen.Kind) []string {
	t.Helper()
	h, err := crdcgen.Header(year, k)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func parquetRows(t *testing.T, dir, ds, sel string) string {
	t.Helper()
	return fmt.Sprint(testenv.DuckDB(t, fmt.Sprintf(sel, sqlString(filepath.Join(dir, ds, "**", "*.parquet")))))
}

// TestCRDCEnrollmentSums checks the enrollment rules: M + F (+ X when present and not a
// reserve code), null when M or F is a reserve code or blank, never a reserve code
// summed as a number.
func TestCRDCEnrollmentSums(t *testing.T) {
	enr := crdcCSV(header(t, "2021-22", crdcgen.Enrollment),
		map[string]string{"SCH_NAME": "All known", "SCH_ENR_BL_M": "5", "SCH_ENR_BL_F": "6", "SCH_ENR_BL_X": "1", "TOT_ENR_M": "100", "TOT_ENR_F": "110", "TOT_ENR_X": "2", "SCH_ENR_IDEA_M": "7", "SCH_ENR_IDEA_F": "8"},
		map[string]string{"SCH_NAME": "X is a reserve code", "SCH_ENR_BL_M": "5", "SCH_ENR_BL_F": "6", "SCH_ENR_BL_X": "-9", "TOT_ENR_M": "100", "TOT_ENR_F": "110", "TOT_ENR_X": "-12", "SCH_ENR_IDEA_M": "7", "SCH_ENR_IDEA_F": "-12"},
		map[string]string{"SCH_NAME": "M is a reserve code", "JJ": "Yes", "SCH_ENR_BL_M": "-3", "SCH_ENR_BL_F": "6", "TOT_ENR_M": "-3", "TOT_ENR_F": "110", "SCH_ENR_IDEA_M": ""},
		map[string]string{"LEAID": "0100001", "COMBOKEY": "010000100001"})
	dir, m := runCRDC(t, crdcSource("crdc-enrollment", "staffing", "2021-22", enr))
	got := parquetRows(t, dir, "staffing", `SELECT school_name, enrollment, enrollment_black, enrollment_male, enrollment_nonbinary, enrollment_idea
		FROM read_parquet(%s) ORDER BY nces_school_id`)
	want := "[map[enrollment:212 enrollment_black:12 enrollment_idea:15 enrollment_male:100 enrollment_nonbinary:2 school_name:All known] " +
		"map[enrollment:210 enrollment_black:11 enrollment_idea:<nil> enrollment_male:100 enrollment_nonbinary:<nil> school_name:X is a reserve code] " +
		"map[enrollment:<nil> enrollment_black:<nil> enrollment_idea:<nil> enrollment_male:<nil> enrollment_nonbinary:0 school_name:M is a reserve code]]"
	if got != want {
		t.Fatalf("staffing\n got %s\nwant %s", got, want)
	}
	s := m.Sources[0]
	wantCodes := `{"SCH_ENR_BL_M":{"-3":1},"SCH_ENR_BL_X":{"-9":1},"SCH_ENR_IDEA_F":{"-12":1},"TOT_ENR_M":{"-3":1},"TOT_ENR_X":{"-12":1}}`
	if b, _ := json.Marshal(s.ReserveCodes); string(b) != wantCodes {
		t.Errorf("reserve codes %s, want %s", b, wantCodes)
	}
	// -12 (suppressed for privacy) is counted apart from -9 (not applicable).
	if s.ReserveCells == nil || *s.ReserveCells != (ReserveCells{Suppressed: 2, NotApplicable: 1, Missing: 2}) {
		t.Errorf("reserve cells %+v", s.ReserveCells)
	}
	if fmt.Sprint(s.JusticeFacilitySchools) != "[010000500003]" || s.RowsRead != 4 || s.RowsKept != 3 || s.RowsOtherDistricts != 1 || s.CRDCFile != "2021-22 Enrollment" {
		t.Errorf("source %+v", s)
	}
}

// TestCRDCEnglishLearners reads English learners from LEP (up to 2020-21) and EL (2021-22;
// 2020-21 Enrollment either) alike, in both datasets, and refuses a spelling of another year.
func TestCRDCEnglishLearners(t *testing.T) {
	for _, c := range []struct{ year, el string }{{"2017-18", "LEP"}, {"2020-21", "LEP"}, {"2021-22", "EL"}} {
		t.Run(c.year, func(t *testing.T) {
			enr := crdcCSV(header(t, c.year, crdcgen.Enrollment), map[string]string{"TOT_ENR_M": "50", "TOT_ENR_F": "50",
				"SCH_ENR_" + c.el + "_M": "3", "SCH_ENR_" + c.el + "_F": "4"})
			arr := crdcCSV(header(t, c.year, crdcgen.Arrests), map[string]string{"SCH_DISCWODIS_ARR_" + c.el + "_F": "2", "SCH_DISCWDIS_REF_" + c.el + "_M": "1"})
			dir, m := runCRDC(t, crdcSource("crdc-enrollment", "staffing", c.year, enr), crdcSource("crdc-arrests", "incidents", c.year, arr))
			if got := parquetRows(t, dir, "staffing", `SELECT enrollment_english_learner AS el FROM read_parquet(%s)`); got != "[map[el:7]]" {
				t.Errorf("staffing %s", got)
			}
			got := parquetRows(t, dir, "incidents", `SELECT category, student_group, disability, "count" FROM read_parquet(%s) WHERE english_learner ORDER BY ALL`)
			want := "[map[category:arrest count:0 disability:idea student_group:english_learner_female_idea] " +
				"map[category:arrest count:2 disability:without_disability student_group:english_learner_female_without_disability] " +
				"map[category:arrest count:0 disability:idea student_group:english_learner_male_idea] " +
				"map[category:arrest count:0 disability:without_disability student_group:english_learner_male_without_disability] " +
				"map[category:law_enforcement_referral count:0 disability:idea student_group:english_learner_female_idea] " +
				"map[category:law_enforcement_referral count:0 disability:without_disability student_group:english_learner_female_without_disability] " +
				"map[category:law_enforcement_referral count:1 disability:idea student_group:english_learner_male_idea] " +
				"map[category:law_enforcement_referral count:0 disability:without_disability student_group:english_learner_male_without_disability]]"
			if got != want {
				t.Errorf("incidents\n got %s\nwant %s", got, want)
			}
			if m.Sources[1].RowsWritten != 68 || len(m.Sources[1].UnmappedColumns) != 3 {
				t.Errorf("arrests source %+v: want 68 cells, only LEA_STATE, LEA_STATE_NAME and LEA_NAME unmapped", m.Sources[1])
			}
		})
	}
	t.Run("EL in 2020-21 Enrollment", func(t *testing.T) {
		h := header(t, "2020-21", crdcgen.Enrollment)
		for i, c := range h {
			h[i] = strings.Replace(c, "_LEP", "_EL", 1)
		}
		dir, _ := runCRDC(t, crdcSource("crdc-enrollment", "staffing", "2020-21", crdcCSV(h, map[string]string{"SCH_ENR_EL_M": "3", "SCH_ENR_EL_F": "4"})))
		if got := parquetRows(t, dir, "staffing", `SELECT enrollment_english_learner AS el FROM read_parquet(%s)`); got != "[map[el:7]]" {
			t.Errorf("staffing %s", got)
		}
	})
	for _, c := range []struct{ year, kind, want string }{
		{"2017-18", "2021-22/arrests", `the header is of the 2021-22 collection, which names English learners EL (it has SCH_DISCWODIS_REF_EL_M), but the source's schoolYear is 2017-18`},
		{"2021-22", "2017-18/enrollment", `the header is of a collection up to 2020-21, which name English learners LEP (it has SCH_ENR_LEP_M), but the source's schoolYear is 2021-22`},
		{"2020-21", "2021-22/enrollment", `the header is of the 2021-22 collection, the only one with nonbinary (_X) enrollment (it has SCH_ENR_HI_X), but the source's schoolYear is 2020-21`},
		{"2020-21", "2021-22/support", `the header is of the 2021-22 collection (it has TOT_TEACHERS_CURR_M), but the source's schoolYear is 2020-21`},
		{"2021-22", "2015-16/support", `the header is the 2015-16 School Data layout (one file with every module: SCH_FTETEACH_TOT, SCH_ENR_HI_M and SCH_DISCWODIS_REF_HI_M), but the source's schoolYear is 2021-22`},
		{"2013-14", "2017-18/support", `the crdc format reads the school files of the 2015-16, 2017-18, 2020-21, 2021-22 collections; schoolYear is "2013-14"`},
	} {
		year, kind, _ := strings.Cut(c.kind, "/")
		ds := "staffing"
		if kind == "arrests" {
			ds = "incidents"
		}
		_, _, err := tryCRDC(t, crdcSource("crdc", ds, c.year, crdcCSV(header(t, year, crdcgen.Kind(kind)), map[string]string{})))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s file as %s: error %v, want %s", c.kind, c.year, err, c.want)
		}
	}
}

// TestCRDCIncidentsLongForm checks the wide-to-long rules on one school, and that a TOT_
// that disagrees with its cells is reported in the manifest.
func TestCRDCIncidentsLongForm(t *testing.T) {
	arr := crdcCSV(header(t, "2017-18", crdcgen.Arrests), map[string]string{"SCH_NAME": "Lincoln, North",
		"SCH_DISCWODIS_ARR_BL_M": "2", "SCH_DISCWODIS_ARR_WH_M": "3", "SCH_DISCWODIS_ARR_LEP_M": "1", "SCH_DISCWDIS_ARR_504_M": "-5", "TOT_DISCWODIS_ARR_M": "6",
		"SCH_DISCWDIS_ARR_IDEA_BL_M": "-9", "TOT_DISCWDIS_ARR_IDEA_M": "4", "SCH_DISCWODIS_REF_HI_F": "7", "TOT_DISCWODIS_REF_F": "7"})
	dir, m := runCRDC(t, crdcSource("crdc-arrests", "incidents", "2017-18", arr))
	got := parquetRows(t, dir, "incidents", `SELECT category, student_group, race_ethnicity, sex, disability, english_learner, "count"
		FROM read_parquet(%s) WHERE "count" IS DISTINCT FROM 0 ORDER BY category, student_group`)
	want := "[map[category:arrest count:<nil> disability:idea english_learner:<nil> race_ethnicity:black sex:male student_group:black_male_idea] " +
		"map[category:arrest count:2 disability:without_disability english_learner:<nil> race_ethnicity:black sex:male student_group:black_male_without_disability] " +
		"map[category:arrest count:1 disability:without_disability english_learner:true race_ethnicity:<nil> sex:male student_group:english_learner_male_without_disability] " +
		"map[category:arrest count:<nil> disability:section_504 english_learner:<nil> race_ethnicity:<nil> sex:male student_group:section_504_male] " +
		"map[category:arrest count:3 disability:without_disability english_learner:<nil> race_ethnicity:white sex:male student_group:white_male_without_disability] " +
		"map[category:law_enforcement_referral count:7 disability:without_disability english_learner:<nil> race_ethnicity:hispanic sex:female student_group:hispanic_female_without_disability]]"
	if got != want {
		t.Fatalf("incidents\n got %s\nwant %s", got, want)
	}
	s := m.Sources[0]
	// TOT_DISCWODIS_ARR_M 6 != 2 + 3; TOT_DISCWDIS_ARR_IDEA_M has an unknown cell, so it is not compared.
	if fmt.Sprint(s.TotalMismatches) != "[school 010000500001 TOT_DISCWODIS_ARR_M: total 6, cells add up to 5]" || s.RowsWritten != 68 || s.CRDCFile != "2017-18 Referrals and Arrests" {
		t.Errorf("source %+v", s)
	}
}

// layoutsDir is where the published header lines are: DISTRICTLAKE_CRDC_LAYOUTS, else
// ../shared/data/crdc-layouts from the repository's root.
func layoutsDir(t *testing.T) string {
	if d := os.Getenv("DISTRICTLAKE_CRDC_LAYOUTS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data", "crdc-layouts")
}

// TestCRDCPublishedLayouts reads every published header: the preset recognises its layout,
// reads every column it needs and lists the others as unmapped; without a needed column,
// or with one renamed, the file is refused with the column's name.
func TestCRDCPublishedLayouts(t *testing.T) {
	dir := layoutsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no published headers in %s (set DISTRICTLAKE_CRDC_LAYOUTS): %v", dir, err)
	}
	// What each file is read as: dataset -> layout name ("" when the preset refuses it).
	known := map[string]map[string]string{
		"2015-16_CRDC_School_Data.exact.csv":                    {"staffing": "2015-16 School Data", "incidents": "2015-16 School Data"},
		"2015-16_module_Harassment_and_Bullying.exact.csv":      {"staffing": "", "incidents": ""},
		"2017-18_Enrollment.from-2015-16-layout.csv":            {"staffing": "2017-18 Enrollment"},
		"2017-18_Referrals_and_Arrests.from-2015-16-layout.csv": {"incidents": "2017-18 Referrals and Arrests"},
		"2017-18_School_Support.from-2015-16-layout.csv":        {"staffing": "2017-18 School Support"},
		"2020-21_School_Support.reconstructed.csv":              {"staffing": "2020-21 School Support"},
		"2021-22_Enrollment.reconstructed-subset.csv":           {"staffing": "2021-22 Enrollment"},
		"2021-22_Referrals_and_Arrests.reconstructed.csv":       {"incidents": "2021-22 Referrals and Arrests"},
		"2021-22_School_Support.reconstructed.csv":              {"staffing": "2021-22 School Support"},
	}
	for _, f := range files {
		base := filepath.Base(f)
		reads, ok := known[base]
		if !ok {
			t.Errorf("%s: a published header this test does not know: say what the preset should read it as", base)
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h := strings.Split(strings.TrimSpace(string(b)), ",")
		year := base[:7]
		for ds, name := range reads {
			t.Run(base+"/"+ds, func(t *testing.T) {
				lay, lerr := recogniseCRDC(h, ds, year)
				_, m, err := tryCRDC(t, crdcSource("crdc", ds, year, crdcCSV(h, map[string]string{})))
				if name == "" {
					if err == nil {
						t.Fatalf("read as %s", m.Sources[0].CRDCFile)
					}
					return
				}
				if err != nil || lerr != nil {
					t.Fatalf("%v %v", err, lerr)
				}
				s := m.Sources[0]
				needed := lay.needed()
				if s.CRDCFile != name || len(s.UnmappedColumns)+len(needed)+5 != len(h) {
					t.Errorf("read as %q with %d of %d columns unmapped, want %s with %d needed and 5 id columns", s.CRDCFile, len(s.UnmappedColumns), len(h), name, len(needed))
				}
				for _, c := range needed {
					if slices.Contains(s.UnmappedColumns, c) {
						t.Errorf("needed column %s unmapped", c)
					}
				}
				if ds == "incidents" && s.RowsWritten != 68 {
					t.Errorf("%d incidents rows, want 68 cells", s.RowsWritten)
				}
				// A needed column missing, or renamed, is refused by name.
				for _, c := range []string{needed[0], needed[len(needed)-1]} {
					for _, edit := range []string{"", c + "_OLD"} {
						h2 := slices.Clone(h)
						i := slices.Index(h2, c)
						if edit == "" {
							h2 = slices.Delete(h2, i, i+1)
						} else {
							h2[i] = edit
						}
						_, _, err := tryCRDC(t, crdcSource("crdc", ds, year, crdcCSV(h2, map[string]string{})))
						want := fmt.Sprintf(`source "crdc": column %q of the %s layout is missing`, c, name)
						if err == nil || err.Error() != want {
							t.Errorf("without %s: %v, want %s", c, err, want)
						}
					}
				}
			})
		}
	}
}

// TestCRDCRepairs reads the damaged 2015-16 wide file (LEAIDs without their leading zero,
// COMBOKEYs in scientific notation or one digit short) into staffing and incidents, and
// counts each repair; a COMBOKEY that is not the row's LEAID and SCHID is still an error.
func TestCRDCRepairs(t *testing.T) {
	o := crdcgen.Defaults()
	o.Year, o.Schools, o.Districts, o.LEAID, o.DistrictName, o.Damage, o.Seed = "2015-16", 40, 4, "0100005", "Albertville City", true, 3
	var b strings.Builder
	st, err := crdcgen.Generate(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	body := b.String()
	if !strings.Contains(body, ",100005,") || !strings.Contains(body, "E+10") {
		t.Fatal("the fixture should hold the damage")
	}
	dir, m := runCRDC(t, crdcSource("crdc-staffing", "staffing", "2015-16", body), crdcSource("crdc-incidents", "incidents", "2015-16", body))
	n := int64(st.DistrictRows)
	for _, s := range m.Sources {
		if s.RowsKept != n || s.Repairs["leaidPadded"] != n || s.Repairs["combokeyRebuilt"] != n || s.CRDCFile != "2015-16 School Data" {
			t.Errorf("source %s: kept %d, repairs %v, want %d of each", s.Name, s.RowsKept, s.Repairs, n)
		}
	}
	if got := parquetRows(t, dir, "staffing", `SELECT count(*) AS n, count(*) FILTER (WHERE nces_school_id SIMILAR TO '0100005[0-9]{5}') AS ok FROM read_parquet(%s)`); got != fmt.Sprintf("[map[n:%d ok:%d]]", n, n) {
		t.Errorf("staffing school ids %s", got)
	}
	if got := parquetRows(t, dir, "incidents", `SELECT count(DISTINCT nces_school_id) AS n FROM read_parquet(%s)`); got != fmt.Sprintf("[map[n:%d]]", n) {
		t.Errorf("incidents schools %s", got)
	}
	// Never in a district's own file: its 6-digit LEA id is another district's.
	staffing := "nces_lea_id,nces_school_id,counselors_fte\n100005,10000500001,1\n"
	_, _, err = tryCRDC(t, plan.Source{Name: "staffing", Dataset: "staffing", Format: "csv", SchoolYear: "2015-16", Inline: &staffing})
	if want := `source "staffing": no rows of district 0100005 (LEAID) among its 1 rows`; err == nil || err.Error() != want {
		t.Errorf("district file: %v, want %s", err, want)
	}
	h := header(t, "2017-18", crdcgen.Support)
	for _, c := range []struct{ combo, want string }{
		{"1.00006E+10", `"1.00006E+10" is not a 12-digit NCES school id of district 0100005 (nor the LEAID and SCHID 010000500001 of the row, damaged)`},
		{"10000500002", `"10000500002" is not a 12-digit NCES school id of district 0100005 (nor the LEAID and SCHID 010000500001 of the row, damaged)`},
	} {
		_, _, err := tryCRDC(t, crdcSource("crdc-support", "staffing", "2017-18", crdcCSV(h, map[string]string{"COMBOKEY": c.combo})))
		if want := `source "crdc-support" row 1 (line 2) column "COMBOKEY" (nces_school_id): ` + c.want; err == nil || err.Error() != want {
			t.Errorf("COMBOKEY %s: %v, want %s", c.combo, err, want)
		}
	}
}
