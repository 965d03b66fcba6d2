package dataset

import "github.com/apache/arrow-go/v18/arrow"

// Student groups of comparison_groups besides the race/ethnicity values.
const (
	GroupIDEA           = "idea"
	GroupEnglishLearner = "english_learner"
)

// Group types of comparison_groups.
const (
	GroupTypeRaceEthnicity  = "race_ethnicity"
	GroupTypeDisability     = "disability"
	GroupTypeEnglishLearner = "english_learner"
)

func boolean(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true}
}

func comparisonKeys() []arrow.Field {
	return []arrow.Field{
		str("state", false),
		str("school_year", false),
		str("nces_lea_id", false),
		str("district_name", false),
	}
}

func comparisonTrailer() []arrow.Field {
	return []arrow.Field{
		str("run_id", false),
		{Name: "computed_at", Type: Timestamp, Nullable: false},
	}
}

// ComparisonSchema: one row per district and school year, built from the district's
// staffing, incidents and contracts files. Null means unknown, never zero. A district
// figure summed over schools covers only the schools that reported it (a null school
// value is left out, not counted as zero); the schools_reporting_* column beside it says
// how many schools it covers, and the figure is null when no school reported it. A ratio
// or rate has matched denominators: it counts a school only when the school reported both
// its numerator and its enrollment, in numerator and denominator alike, and the students
// of those schools are published beside it (enrollment_reporting_*).
//
//   - enrollment: sum of the schools' enrollment (schools_reporting_enrollment of them);
//     schools_reporting: rows of the district's staffing file (schools, or one district
//     total when the source has only that).
//   - for each role R (counselor, nurse, psychologist, social_worker, with the staffing stem
//     counselors, nurses, ...): <stem>_fte (sum over schools_reporting_<stem> schools),
//     enrollment_reporting_<stem> (the students of the schools that report both the role's
//     FTE and their enrollment; null when none does), students_per_R = those students / the
//     FTE of the same schools (null when that FTE is 0 or no school reports both),
//     recommended_students_per_R (the standard), meets_R_standard (students_per_R <=
//     recommended; false when the FTE of those schools is 0; null when unknown),
//     R_gap_fte = max(0, enrollment_reporting_<stem> / recommended - the FTE of the same
//     schools) (null when no school reports both), rank_students_per_R (1 = fewest students
//     per FTE within state and year; equal ratios share a rank, the next rank skips;
//     districts without a ratio share the last rank, one past the districts that have one).
//   - support_gap_fte_total: sum of the four gaps (null when any gap is unknown);
//     districts_in_state: rows of this state and year.
//   - sworn_officers_fte, security_guards_fte (with schools_reporting_* beside them);
//     schools_with_police_no_counselor: schools reporting sworn officers > 0 and counselors
//     = 0 (null when no school reports both).
//   - arrests, law_enforcement_referrals: a school's count is the sum of its incidents rows
//     of that category whose race_ethnicity is set (the rows that partition the total); a
//     school with any such row null (suppressed) or with no such row is not reporting. The
//     district count sums the reporting schools (schools_reporting_arrests,
//     schools_reporting_referrals). enrollment_reporting_arrests (referrals): the students
//     of the reporting schools whose enrollment is known (matched to the staffing file by
//     nces_school_id; a district-total row matches incidents rows without a school).
//     arrests_per_1000, referrals_per_1000: the count of those same schools / their
//     students x 1,000 (null when no school is matched or they have no student).
//   - the police contract of the school year: the contract in force during it, whose term
//     (start_date to end_date, both included; an unknown date leaves that end open)
//     overlaps July 1 to June 30 of the year, whatever its status; when several do, the one
//     in force for the most days of the year, then the latest start_date, then the agency
//     name. contract_in_force: whether one was (null when the district has no contracts
//     file; false when its file has no row or no contract in force). contract_status,
//     contract_agency_name: that contract's; with none in force, those of the district's
//     current contract (an active one, the latest start_date if several, else the one with
//     the latest end_date), so the status still says what the file says. Of the contract in
//     force only (null without one): contract_officers, contract_annual_cost, district_cost
//     (the district_share, or the annual_cost when no share is given),
//     contract_cost_per_student (district_cost / enrollment), and
//     R_fte_equivalent_of_contract (district_cost / the annual cost of one R; null unless the
//     comparison's costs give it).
func ComparisonSchema() *arrow.Schema {
	f := comparisonKeys()
	f = append(f, i32("enrollment"), i32("schools_reporting"), i32("schools_reporting_enrollment"))
	for _, r := range Roles() {
		f = append(f,
			f64(r.Plural()+"_fte"),
			i32("schools_reporting_"+r.Plural()),
			i32("enrollment_reporting_"+r.Plural()),
			f64("students_per_"+r.Name()),
			i32("recommended_students_per_"+r.Name()),
			boolean("meets_"+r.Name()+"_standard"),
			f64(r.Name()+"_gap_fte"),
			i32("rank_students_per_"+r.Name()),
		)
	}
	f = append(f,
		f64("support_gap_fte_total"),
		i32("districts_in_state"),
		f64("sworn_officers_fte"), i32("schools_reporting_sworn_officers"),
		f64("security_guards_fte"), i32("schools_reporting_security_guards"),
		i32("schools_with_police_no_counselor"),
		i32("arrests"), i32("schools_reporting_arrests"), i32("enrollment_reporting_arrests"),
		i32("law_enforcement_referrals"), i32("schools_reporting_referrals"), i32("enrollment_reporting_referrals"),
		f64("arrests_per_1000"), f64("referrals_per_1000"),
		boolean("contract_in_force"), str("contract_status", true), str("contract_agency_name", true), i32("contract_officers"),
		money("contract_annual_cost"), money("district_cost"), f64("contract_cost_per_student"),
	)
	for _, r := range Roles() {
		f = append(f, f64(r.Name()+"_fte_equivalent_of_contract"))
	}
	f = append(f, comparisonTrailer()...)
	return arrow.NewSchema(f, nil)
}

// ComparisonGroupsSchema: one row per district, school year and student group: each CRDC
// race/ethnicity (always), students with disabilities served under IDEA (student_group
// "idea") and English learners ("english_learner"), those two only where the district's
// files have them.
//
//   - group_enrollment, covered_enrollment, enrollment_share: the group's enrollment, the
//     total enrollment and group_enrollment / covered_enrollment, all over the schools that
//     report both the group's and the total enrollment (schools_reporting_enrollment).
//   - group_arrests, covered_arrests, arrest_share (and group_referrals, covered_referrals,
//     referral_share): the group's count, the total count and their ratio, over the schools
//     whose total is known (as in comparison), whose cells for the group are all known, and
//     whose total and group enrollment are known (schools_reporting_arrests,
//     schools_reporting_referrals). group_enrollment_reporting_arrests and
//     enrollment_reporting_arrests (and the same for referrals) are the group's and all
//     students of those same schools.
//     Race/ethnicity and IDEA counts come from the rows that partition the total
//     (race_ethnicity set; IDEA: disability = idea); English learners from the rows with
//     english_learner = true.
//   - arrest_relative_rate = arrest_share / (group_enrollment_reporting_arrests /
//     enrollment_reporting_arrests), referral_relative_rate the same for referrals: the
//     group's share of incidents over its share of the students of the same schools; 1 is
//     proportionate, 2 twice the group's share. Null when a share is unknown or the
//     enrollment share is 0; a share is null when its total is 0.
func ComparisonGroupsSchema() *arrow.Schema {
	f := comparisonKeys()
	f = append(f,
		str("student_group", false), str("group_type", false),
		i32("group_enrollment"), i32("covered_enrollment"), i32("schools_reporting_enrollment"),
		i32("group_arrests"), i32("covered_arrests"), i32("schools_reporting_arrests"),
		i32("group_enrollment_reporting_arrests"), i32("enrollment_reporting_arrests"),
		i32("group_referrals"), i32("covered_referrals"), i32("schools_reporting_referrals"),
		i32("group_enrollment_reporting_referrals"), i32("enrollment_reporting_referrals"),
		f64("enrollment_share"), f64("arrest_share"), f64("referral_share"),
		f64("arrest_relative_rate"), f64("referral_relative_rate"),
	)
	f = append(f, comparisonTrailer()...)
	return arrow.NewSchema(f, nil)
}

// MetaStandards and MetaCosts are the comparison's standards and costs (JSON) in its
// Parquet metadata; MetaSchoolYear is its school year.
const (
	MetaStandards  = "districtlake.standards"
	MetaCosts      = "districtlake.costs"
	MetaSchoolYear = "districtlake.school_year"
)
