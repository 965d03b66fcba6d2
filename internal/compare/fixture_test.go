package compare_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	sl "github.com/districtlake/districtlake/internal/compare/statelake"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// The test state: four districts of WI in 2023-24, built so that every rule shows.
//
//   - Alpha (5500001): two schools; S2's nurse FTE and English-learner enrollment are
//     reserve codes (null); S2 has one suppressed referral cell; an active contract with a
//     district share beside an expired one.
//   - Beta (5500002): one school with no counselors and police; psychologist FTE unknown;
//     no contracts file.
//   - Gamma (5500003): a district-total staffing row only, no incidents file; a terminated
//     contract without a share, in force during 2023-24.
//   - Delta (5500004): S5's enrollment is unknown, so its counselors and arrests count in
//     the totals but in no ratio or rate; no contract in force in 2023-24 (an active one
//     starting after it, an expired one ending before it).
const (
	state = "WI"
	year  = "2023-24"
)

var (
	alpha = sl.District{State: state, SchoolYear: year, NCESID: "5500001", Name: "Alpha School District"}
	beta  = sl.District{State: state, SchoolYear: year, NCESID: "5500002", Name: "Beta Area Schools"}
	gamma = sl.District{State: state, SchoolYear: year, NCESID: "5500003", Name: "Gamma Public Schools"}
	delta = sl.District{State: state, SchoolYear: year, NCESID: "5500004", Name: "Delta & Sons Unified"}
)

var costs = &dataset.Costs{Counselor: i64(62000), Nurse: i64(58000), Psychologist: i64(81000), SocialWorker: i64(60000)}

func i64(v int64) *int64 { return &v }

func testPlan(l plan.Lake) *plan.Compare {
	return &plan.Compare{
		Version: plan.Version, Kind: plan.KindCompare, Name: "wi", State: state,
		SchoolYears: []string{year}, Standards: dataset.DefaultStandards(), Costs: costs, Lake: l,
	}
}

// school is a staffing row; races sets enrollment by race name.
func school(id string, enrollment any, fte map[string]any, races map[string]any, idea, el any) sl.Row {
	r := sl.Row{"nces_school_id": id, "school_name": "School " + id, "enrollment": enrollment,
		"enrollment_idea": idea, "enrollment_english_learner": el}
	if id == "" {
		r["nces_school_id"] = nil
		r["school_name"] = nil
	}
	for k, v := range fte {
		r[k+"_fte"] = v
	}
	for _, re := range dataset.RaceEthnicities {
		r["enrollment_"+re.Name] = races[re.Name]
	}
	return r
}

// zeroRaces sets every race's enrollment to 0 but those given.
func zeroRaces(set map[string]any) map[string]any {
	m := map[string]any{}
	for _, re := range dataset.RaceEthnicities {
		m[re.Name] = int32(0)
	}
	for k, v := range set {
		m[k] = v
	}
	return m
}

// cells returns a count function: the given cells (by student_group), 0 for the rest.
func cells(set map[string]any) func(sl.Cell) any {
	return func(c sl.Cell) any {
		if v, ok := set[c.Group()]; ok {
			return v
		}
		return int32(0)
	}
}

func incidents(schoolID, category string, set map[string]any) []sl.Row {
	return sl.IncidentRows(schoolID, "School "+schoolID, category, cells(set))
}

func concat(rs ...[]sl.Row) []sl.Row {
	var out []sl.Row
	for _, r := range rs {
		out = append(out, r...)
	}
	return out
}

const (
	arrest   = dataset.CategoryArrest
	referral = dataset.CategoryLawEnforcementReferral
)

func fte(c, n, p, sw, sworn, guards any) map[string]any {
	return map[string]any{"counselors": c, "nurses": n, "psychologists": p, "social_workers": sw,
		"sworn_officers": sworn, "security_guards": guards}
}

// writeState writes the four districts' files into store.
func writeState(t *testing.T, store lake.Store) {
	t.Helper()
	ctx := context.Background()
	write := func(ds string, d sl.District, rows []sl.Row) {
		t.Helper()
		if _, err := sl.Write(ctx, store, ds, d, rows); err != nil {
			t.Fatalf("writing %s of %s: %v", ds, d.NCESID, err)
		}
	}
	write(dataset.Staffing, alpha, []sl.Row{
		school("550000100001", int32(600), fte(2.0, 0.5, 1.0, 1.0, 1.0, 0.0),
			zeroRaces(map[string]any{"black": int32(200), "white": int32(300), "hispanic": int32(100)}), int32(60), int32(30)),
		school("550000100002", int32(400), fte(1.5, nil, 0.5, 0.0, 0.0, 2.0),
			zeroRaces(map[string]any{"black": int32(100), "white": int32(200), "hispanic": int32(100)}), int32(40), nil),
	})
	otherCategory := sl.Row{"nces_school_id": "550000100001", "category": "corporal_punishment",
		"student_group": "black_male", "race_ethnicity": "black", "sex": "male", "disability": dataset.DisabilityNone, "count": int32(9)}
	write(dataset.Incidents, alpha, concat(
		incidents("550000100001", arrest, map[string]any{"black_male": int32(2), "black_male_idea": int32(1),
			"white_female": int32(1), "english_learner_male": int32(1), "section_504_male": int32(5)}),
		incidents("550000100001", referral, map[string]any{"black_male": int32(3), "section_504_female": int32(2)}),
		incidents("550000100002", arrest, map[string]any{"hispanic_female": int32(1)}),
		incidents("550000100002", referral, map[string]any{"white_male": nil}),
		[]sl.Row{otherCategory},
	))
	write(dataset.Contracts, alpha, []sl.Row{
		{"agency_name": "Old Town Police", "status": "expired", "start_date": sl.Date("2019-07-01"),
			"end_date": sl.Date("2022-06-30"), "annual_cost": sl.Cents(10000000), "officers": int32(1)},
		{"agency_name": "Alpha Police Department", "agency_type": "police", "status": "active",
			"start_date": sl.Date("2023-07-01"), "end_date": sl.Date("2025-06-30"),
			"annual_cost": sl.Cents(20000000), "district_share": sl.Cents(10000000), "agency_share": sl.Cents(10000000),
			"officers": int32(2), "training_hours": int32(40)},
	})

	write(dataset.Staffing, beta, []sl.Row{
		school("550000200001", int32(500), fte(0.0, 1.0, nil, 0.5, 2.0, nil),
			zeroRaces(map[string]any{"black": int32(50), "white": int32(400), "hispanic": int32(50)}), nil, nil),
	})
	write(dataset.Incidents, beta, concat(
		incidents("550000200001", arrest, map[string]any{"black_female": int32(2), "white_male": int32(1)}),
		incidents("550000200001", referral, nil),
	))

	write(dataset.Staffing, gamma, []sl.Row{
		school("", int32(2000), fte(10.0, 2.0, 4.0, 8.0, 0.0, 1.0),
			map[string]any{"black": int32(1000), "white": int32(1000)}, nil, nil),
	})
	write(dataset.Contracts, gamma, []sl.Row{
		{"agency_name": "Gamma County Sheriff", "status": "expired", "end_date": sl.Date("2020-06-30"), "annual_cost": sl.Cents(900000000)},
		{"agency_name": "Gamma Police Department", "status": "terminated", "start_date": sl.Date("2021-07-01"),
			"end_date": sl.Date("2024-06-30"), "annual_cost": sl.Cents(5000000)},
	})

	write(dataset.Staffing, delta, []sl.Row{
		school("550000400001", int32(300), fte(1.2, 0.5, 0.75, 1.5, 0.0, 0.0),
			zeroRaces(map[string]any{"black": int32(30), "white": int32(270)}), int32(30), int32(10)),
		school("550000400002", nil, fte(0.8, nil, nil, nil, 1.0, nil), map[string]any{}, nil, nil),
	})
	write(dataset.Incidents, delta, concat(
		incidents("550000400001", arrest, nil),
		incidents("550000400001", referral, nil),
		incidents("550000400002", arrest, map[string]any{"white_male": int32(1)}),
		incidents("550000400002", referral, nil),
	))
	write(dataset.Contracts, delta, []sl.Row{
		{"agency_name": "Delta County Sheriff", "status": "active", "start_date": sl.Date("2024-08-01"),
			"annual_cost": sl.Cents(9000000), "district_share": sl.Cents(3000000), "officers": int32(1)},
		{"agency_name": "Delta Town Police", "status": "expired", "start_date": sl.Date("2018-07-01"),
			"end_date": sl.Date("2023-06-30"), "annual_cost": sl.Cents(4000000), "officers": int32(1)},
	})
}

// row is one expected or read row: numbers as float64, money in dollars, nil for null.
type row map[string]any

// Expected comparison rows, computed by hand from the files above.
func expectedComparison() []row {
	const n = 4.0
	alphaRow := row{
		"state": state, "school_year": year, "nces_lea_id": "5500001", "district_name": alpha.Name,
		"enrollment": 1000.0, "schools_reporting": 2.0, "schools_reporting_enrollment": 2.0,
		"counselors_fte": 3.5, "schools_reporting_counselors": 2.0, "enrollment_reporting_counselors": 1000.0, "students_per_counselor": 1000 / 3.5,
		"recommended_students_per_counselor": 250.0, "meets_counselor_standard": false, "counselor_gap_fte": 0.5, "rank_students_per_counselor": 3.0,
		// School 2's nurse FTE is unknown: the ratio and gap cover school 1 (600 students).
		"nurses_fte": 0.5, "schools_reporting_nurses": 1.0, "enrollment_reporting_nurses": 600.0, "students_per_nurse": 1200.0,
		"recommended_students_per_nurse": 750.0, "meets_nurse_standard": false, "nurse_gap_fte": 600.0/750 - 0.5, "rank_students_per_nurse": 4.0,
		"psychologists_fte": 1.5, "schools_reporting_psychologists": 2.0, "enrollment_reporting_psychologists": 1000.0, "students_per_psychologist": 1000 / 1.5,
		"recommended_students_per_psychologist": 500.0, "meets_psychologist_standard": false, "psychologist_gap_fte": 0.5, "rank_students_per_psychologist": 3.0,
		"social_workers_fte": 1.0, "schools_reporting_social_workers": 2.0, "enrollment_reporting_social_workers": 1000.0, "students_per_social_worker": 1000.0,
		"recommended_students_per_social_worker": 250.0, "meets_social_worker_standard": false, "social_worker_gap_fte": 3.0, "rank_students_per_social_worker": 3.0,
		"support_gap_fte_total": 0.5 + (600.0/750 - 0.5) + 0.5 + 3, "districts_in_state": n,
		"sworn_officers_fte": 1.0, "schools_reporting_sworn_officers": 2.0,
		"security_guards_fte": 2.0, "schools_reporting_security_guards": 2.0, "schools_with_police_no_counselor": 0.0,
		// Referrals are known in school 1 only: 3 per 600 students.
		"arrests": 5.0, "schools_reporting_arrests": 2.0, "enrollment_reporting_arrests": 1000.0,
		"law_enforcement_referrals": 3.0, "schools_reporting_referrals": 1.0, "enrollment_reporting_referrals": 600.0,
		"arrests_per_1000": 5.0, "referrals_per_1000": 5.0,
		"contract_in_force": true, "contract_status": "active", "contract_agency_name": "Alpha Police Department", "contract_officers": 2.0,
		"contract_annual_cost": 200000.0, "district_cost": 100000.0, "contract_cost_per_student": 100.0,
		"counselor_fte_equivalent_of_contract": 100000.0 / 62000, "nurse_fte_equivalent_of_contract": 100000.0 / 58000,
		"psychologist_fte_equivalent_of_contract": 100000.0 / 81000, "social_worker_fte_equivalent_of_contract": 100000.0 / 60000,
	}
	betaRow := row{
		"state": state, "school_year": year, "nces_lea_id": "5500002", "district_name": beta.Name,
		"enrollment": 500.0, "schools_reporting": 1.0, "schools_reporting_enrollment": 1.0,
		"counselors_fte": 0.0, "schools_reporting_counselors": 1.0, "enrollment_reporting_counselors": 500.0, "students_per_counselor": nil,
		"recommended_students_per_counselor": 250.0, "meets_counselor_standard": false, "counselor_gap_fte": 2.0, "rank_students_per_counselor": 4.0,
		"nurses_fte": 1.0, "schools_reporting_nurses": 1.0, "enrollment_reporting_nurses": 500.0, "students_per_nurse": 500.0,
		"recommended_students_per_nurse": 750.0, "meets_nurse_standard": true, "nurse_gap_fte": 0.0, "rank_students_per_nurse": 1.0,
		"psychologists_fte": nil, "schools_reporting_psychologists": 0.0, "enrollment_reporting_psychologists": nil, "students_per_psychologist": nil,
		"recommended_students_per_psychologist": 500.0, "meets_psychologist_standard": nil, "psychologist_gap_fte": nil, "rank_students_per_psychologist": 4.0,
		"social_workers_fte": 0.5, "schools_reporting_social_workers": 1.0, "enrollment_reporting_social_workers": 500.0, "students_per_social_worker": 1000.0,
		"recommended_students_per_social_worker": 250.0, "meets_social_worker_standard": false, "social_worker_gap_fte": 1.5, "rank_students_per_social_worker": 3.0,
		"support_gap_fte_total": nil, "districts_in_state": n,
		"sworn_officers_fte": 2.0, "schools_reporting_sworn_officers": 1.0,
		"security_guards_fte": nil, "schools_reporting_security_guards": 0.0, "schools_with_police_no_counselor": 1.0,
		"arrests": 3.0, "schools_reporting_arrests": 1.0, "enrollment_reporting_arrests": 500.0,
		"law_enforcement_referrals": 0.0, "schools_reporting_referrals": 1.0, "enrollment_reporting_referrals": 500.0,
		"arrests_per_1000": 6.0, "referrals_per_1000": 0.0,
		"contract_in_force": nil, "contract_status": nil, "contract_agency_name": nil, "contract_officers": nil,
		"contract_annual_cost": nil, "district_cost": nil, "contract_cost_per_student": nil,
		"counselor_fte_equivalent_of_contract": nil, "nurse_fte_equivalent_of_contract": nil,
		"psychologist_fte_equivalent_of_contract": nil, "social_worker_fte_equivalent_of_contract": nil,
	}
	gammaRow := row{
		"state": state, "school_year": year, "nces_lea_id": "5500003", "district_name": gamma.Name,
		"enrollment": 2000.0, "schools_reporting": 1.0, "schools_reporting_enrollment": 1.0,
		"counselors_fte": 10.0, "schools_reporting_counselors": 1.0, "enrollment_reporting_counselors": 2000.0, "students_per_counselor": 200.0,
		"recommended_students_per_counselor": 250.0, "meets_counselor_standard": true, "counselor_gap_fte": 0.0, "rank_students_per_counselor": 1.0,
		"nurses_fte": 2.0, "schools_reporting_nurses": 1.0, "enrollment_reporting_nurses": 2000.0, "students_per_nurse": 1000.0,
		"recommended_students_per_nurse": 750.0, "meets_nurse_standard": false, "nurse_gap_fte": 2000.0/750 - 2, "rank_students_per_nurse": 3.0,
		"psychologists_fte": 4.0, "schools_reporting_psychologists": 1.0, "enrollment_reporting_psychologists": 2000.0, "students_per_psychologist": 500.0,
		"recommended_students_per_psychologist": 500.0, "meets_psychologist_standard": true, "psychologist_gap_fte": 0.0, "rank_students_per_psychologist": 2.0,
		"social_workers_fte": 8.0, "schools_reporting_social_workers": 1.0, "enrollment_reporting_social_workers": 2000.0, "students_per_social_worker": 250.0,
		"recommended_students_per_social_worker": 250.0, "meets_social_worker_standard": true, "social_worker_gap_fte": 0.0, "rank_students_per_social_worker": 2.0,
		"support_gap_fte_total": 2000.0/750 - 2, "districts_in_state": n,
		"sworn_officers_fte": 0.0, "schools_reporting_sworn_officers": 1.0,
		"security_guards_fte": 1.0, "schools_reporting_security_guards": 1.0, "schools_with_police_no_counselor": 0.0,
		"arrests": nil, "schools_reporting_arrests": 0.0, "enrollment_reporting_arrests": nil,
		"law_enforcement_referrals": nil, "schools_reporting_referrals": 0.0, "enrollment_reporting_referrals": nil,
		"arrests_per_1000": nil, "referrals_per_1000": nil,
		// Terminated since, but its term (2021-07-01 to 2024-06-30) covers 2023-24.
		"contract_in_force": true, "contract_status": "terminated", "contract_agency_name": "Gamma Police Department", "contract_officers": nil,
		"contract_annual_cost": 50000.0, "district_cost": 50000.0, "contract_cost_per_student": 25.0,
		"counselor_fte_equivalent_of_contract": 50000.0 / 62000, "nurse_fte_equivalent_of_contract": 50000.0 / 58000,
		"psychologist_fte_equivalent_of_contract": 50000.0 / 81000, "social_worker_fte_equivalent_of_contract": 50000.0 / 60000,
	}
	deltaRow := row{
		"state": state, "school_year": year, "nces_lea_id": "5500004", "district_name": delta.Name,
		"enrollment": 300.0, "schools_reporting": 2.0, "schools_reporting_enrollment": 1.0,
		// School 5's 0.8 counselor FTE counts in the total, not in the ratio (its enrollment
		// is unknown): 300 students per 1.2 FTE.
		"counselors_fte": 2.0, "schools_reporting_counselors": 2.0, "enrollment_reporting_counselors": 300.0, "students_per_counselor": 250.0,
		"recommended_students_per_counselor": 250.0, "meets_counselor_standard": true, "counselor_gap_fte": 0.0, "rank_students_per_counselor": 2.0,
		"nurses_fte": 0.5, "schools_reporting_nurses": 1.0, "enrollment_reporting_nurses": 300.0, "students_per_nurse": 600.0,
		"recommended_students_per_nurse": 750.0, "meets_nurse_standard": true, "nurse_gap_fte": 0.0, "rank_students_per_nurse": 2.0,
		"psychologists_fte": 0.75, "schools_reporting_psychologists": 1.0, "enrollment_reporting_psychologists": 300.0, "students_per_psychologist": 400.0,
		"recommended_students_per_psychologist": 500.0, "meets_psychologist_standard": true, "psychologist_gap_fte": 0.0, "rank_students_per_psychologist": 1.0,
		"social_workers_fte": 1.5, "schools_reporting_social_workers": 1.0, "enrollment_reporting_social_workers": 300.0, "students_per_social_worker": 200.0,
		"recommended_students_per_social_worker": 250.0, "meets_social_worker_standard": true, "social_worker_gap_fte": 0.0, "rank_students_per_social_worker": 1.0,
		"support_gap_fte_total": 0.0, "districts_in_state": n,
		"sworn_officers_fte": 1.0, "schools_reporting_sworn_officers": 2.0,
		"security_guards_fte": 0.0, "schools_reporting_security_guards": 1.0, "schools_with_police_no_counselor": 0.0,
		// School 5's arrest counts in the total, not in the rate (its enrollment is unknown).
		"arrests": 1.0, "schools_reporting_arrests": 2.0, "enrollment_reporting_arrests": 300.0,
		"law_enforcement_referrals": 0.0, "schools_reporting_referrals": 2.0, "enrollment_reporting_referrals": 300.0,
		"arrests_per_1000": 0.0, "referrals_per_1000": 0.0,
		// No contract in force during 2023-24: the status and agency are the active one's
		// (it starts in August 2024), the costs unknown.
		"contract_in_force": false, "contract_status": "active", "contract_agency_name": "Delta County Sheriff", "contract_officers": nil,
		"contract_annual_cost": nil, "district_cost": nil, "contract_cost_per_student": nil,
		"counselor_fte_equivalent_of_contract": nil, "nurse_fte_equivalent_of_contract": nil,
		"psychologist_fte_equivalent_of_contract": nil, "social_worker_fte_equivalent_of_contract": nil,
	}
	return []row{alphaRow, betaRow, gammaRow, deltaRow}
}

// group builds an expected group row; counts are (group, covered, schools) triples, and
// arrEnr and refEnr the (group, all) students of the schools the arrest and referral
// counts cover.
func group(d sl.District, name, typ string, enr, arr, ref [3]any, arrEnr, refEnr [2]any, shares [5]any) row {
	return row{
		"state": state, "school_year": year, "nces_lea_id": d.NCESID, "district_name": d.Name,
		"student_group": name, "group_type": typ,
		"group_enrollment": enr[0], "covered_enrollment": enr[1], "schools_reporting_enrollment": enr[2],
		"group_arrests": arr[0], "covered_arrests": arr[1], "schools_reporting_arrests": arr[2],
		"group_enrollment_reporting_arrests": arrEnr[0], "enrollment_reporting_arrests": arrEnr[1],
		"group_referrals": ref[0], "covered_referrals": ref[1], "schools_reporting_referrals": ref[2],
		"group_enrollment_reporting_referrals": refEnr[0], "enrollment_reporting_referrals": refEnr[1],
		"enrollment_share": shares[0], "arrest_share": shares[1], "referral_share": shares[2],
		"arrest_relative_rate": shares[3], "referral_relative_rate": shares[4],
	}
}

const (
	race = dataset.GroupTypeRaceEthnicity
	dis  = dataset.GroupTypeDisability
	ell  = dataset.GroupTypeEnglishLearner
)

// expectedGroups are the group rows checked column by column, and the number of group
// rows of each district.
func expectedGroups() ([]row, map[string]int) {
	none := [3]any{nil, nil, 0.0}
	noEnr := [2]any{nil, nil}
	rows := []row{
		// Alpha: enrollment over both schools (1,000); arrests over both (5); referrals over
		// school 1 only (3 referrals, 600 students), school 2 having a suppressed cell.
		group(alpha, "hispanic", race, [3]any{200.0, 1000.0, 2.0}, [3]any{1.0, 5.0, 2.0}, [3]any{0.0, 3.0, 1.0},
			[2]any{200.0, 1000.0}, [2]any{100.0, 600.0}, [5]any{0.2, 0.2, 0.0, 1.0, 0.0}),
		group(alpha, "american_indian_alaska_native", race, [3]any{0.0, 1000.0, 2.0}, [3]any{0.0, 5.0, 2.0}, [3]any{0.0, 3.0, 1.0},
			[2]any{0.0, 1000.0}, [2]any{0.0, 600.0}, [5]any{0.0, 0.0, 0.0, nil, nil}),
		group(alpha, "black", race, [3]any{300.0, 1000.0, 2.0}, [3]any{3.0, 5.0, 2.0}, [3]any{3.0, 3.0, 1.0},
			[2]any{300.0, 1000.0}, [2]any{200.0, 600.0}, [5]any{0.3, 0.6, 1.0, 0.6 / 0.3, 3.0}),
		group(alpha, "white", race, [3]any{500.0, 1000.0, 2.0}, [3]any{1.0, 5.0, 2.0}, [3]any{0.0, 3.0, 1.0},
			[2]any{500.0, 1000.0}, [2]any{300.0, 600.0}, [5]any{0.5, 0.2, 0.0, 0.4, 0.0}),
		group(alpha, "idea", dis, [3]any{100.0, 1000.0, 2.0}, [3]any{1.0, 5.0, 2.0}, [3]any{0.0, 3.0, 1.0},
			[2]any{100.0, 1000.0}, [2]any{60.0, 600.0}, [5]any{0.1, 0.2, 0.0, 0.2 / 0.1, 0.0}),
		// English-learner enrollment is unknown in school 2: enrollment and arrests over
		// school 1 (600 students, 4 arrests) only.
		group(alpha, "english_learner", ell, [3]any{30.0, 600.0, 1.0}, [3]any{1.0, 4.0, 1.0}, [3]any{0.0, 3.0, 1.0},
			[2]any{30.0, 600.0}, [2]any{30.0, 600.0}, [5]any{0.05, 0.25, 0.0, 0.25 / 0.05, 0.0}),
		// Beta: no referrals at all: shares of 0 referrals are unknown. IDEA and English-learner
		// enrollment are unknown, so no school counts for their arrests either.
		group(beta, "black", race, [3]any{50.0, 500.0, 1.0}, [3]any{2.0, 3.0, 1.0}, [3]any{0.0, 0.0, 1.0},
			[2]any{50.0, 500.0}, [2]any{50.0, 500.0}, [5]any{0.1, 2.0 / 3, nil, (2.0 / 3) / 0.1, nil}),
		group(beta, "idea", dis, none, none, none, noEnr, noEnr, [5]any{nil, nil, nil, nil, nil}),
		group(beta, "english_learner", ell, none, none, none, noEnr, noEnr, [5]any{nil, nil, nil, nil, nil}),
		// Gamma: no incidents file; asian enrollment not reported.
		group(gamma, "black", race, [3]any{1000.0, 2000.0, 1.0}, none, none, noEnr, noEnr, [5]any{0.5, nil, nil, nil, nil}),
		group(gamma, "asian", race, none, none, none, noEnr, noEnr, [5]any{nil, nil, nil, nil, nil}),
		// Delta: school 5's enrollment is unknown, so every figure covers school 1 (no
		// arrest there: shares of 0 are unknown).
		group(delta, "white", race, [3]any{270.0, 300.0, 1.0}, [3]any{0.0, 0.0, 1.0}, [3]any{0.0, 0.0, 1.0},
			[2]any{270.0, 300.0}, [2]any{270.0, 300.0}, [5]any{0.9, nil, nil, nil, nil}),
		group(delta, "idea", dis, [3]any{30.0, 300.0, 1.0}, [3]any{0.0, 0.0, 1.0}, [3]any{0.0, 0.0, 1.0},
			[2]any{30.0, 300.0}, [2]any{30.0, 300.0}, [5]any{0.1, nil, nil, nil, nil}),
	}
	return rows, map[string]int{"5500001": 9, "5500002": 9, "5500003": 7, "5500004": 9}
}

// readParquet reads a whole (small) Parquet object through the lake with pqarrow.
func readParquet(t *testing.T, store lake.Store, key string) ([]row, map[string]string) {
	t.Helper()
	obj, err := store.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("opening %s: %v", key, err)
	}
	defer obj.Close()
	pf, err := file.NewParquetReader(obj)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	meta := map[string]string{}
	kv := pf.MetaData().KeyValueMetadata()
	for i, k := range kv.Keys() {
		meta[k] = kv.Values()[i]
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	var out []row
	for tr.Next() {
		rec := tr.RecordBatch()
		for r := range int(rec.NumRows()) {
			m := row{}
			for c, f := range rec.Schema().Fields() {
				m[f.Name] = arrowValue(t, rec.Column(c), r)
			}
			out = append(out, m)
		}
	}
	return out, meta
}

func arrowValue(t *testing.T, a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Int32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Decimal128:
		v, err := strconv.ParseFloat(a.ValueStr(i), 64)
		if err != nil {
			t.Fatalf("decimal %s: %v", a.ValueStr(i), err)
		}
		return v
	case *array.Timestamp:
		return a.Value(i).ToTime(arrow.Microsecond)
	}
	t.Fatalf("unexpected column type %s", a.DataType())
	return nil
}

// duckValue normalises a DuckDB JSON value like arrowValue.
func duckValue(v any) any {
	switch v := v.(type) {
	case int64:
		return float64(v)
	}
	return v
}

// checkRow compares every expected column of want with got.
func checkRow(t *testing.T, where string, got, want row) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no column %s", where, k)
			continue
		}
		if !same(g, want[k]) {
			t.Errorf("%s: %s = %v (%T), want %v", where, k, g, g, want[k])
		}
	}
}

func same(got, want any) bool {
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	if w, ok := want.(float64); ok {
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return got == want
}

// checkColumns fails unless the columns are exactly the schema's, less those excluded.
func checkColumns(t *testing.T, where string, got row, schema *arrow.Schema, exclude ...string) {
	t.Helper()
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	var want []string
	for _, f := range schema.Fields() {
		if !slices.Contains(exclude, f.Name) {
			want = append(want, f.Name)
		}
	}
	sort.Strings(want)
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("%s: columns\n %v\nwant\n %v", where, names, want)
	}
}

// byKey indexes rows by nces_lea_id (and student_group when present).
func byKey(rows []row) map[string]row {
	m := map[string]row{}
	for _, r := range rows {
		k := fmt.Sprint(r["nces_lea_id"])
		if g, ok := r["student_group"]; ok {
			k += "/" + fmt.Sprint(g)
		}
		m[k] = r
	}
	return m
}

func readAll(t *testing.T, store lake.Store, key string) []byte {
	t.Helper()
	obj, err := store.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("opening %s: %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}
