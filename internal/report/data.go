// Package report renders a state comparison as one self-contained HTML page: inline SVG
// charts drawn with gonum/plot (students per counselor against the standard, support-staff
// gap beside sworn officers, arrests per 1,000, relative rates by student group) and the
// table behind them. The page fetches nothing: no scripts, fonts or style sheets from
// elsewhere. Unknown figures show as "n/a".
package report

import (
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
)

// Data is what a report shows: one state and school year.
type Data struct {
	State, SchoolYear string
	RunID             string
	GeneratedAt       time.Time
	// Standards are recommended students per FTE.
	Standards dataset.Standards
	// Costs are the annual costs of one FTE per role, when the comparison has them.
	Costs *dataset.Costs
	// Districts in any order; the page sorts them for each chart.
	Districts []District
	// Groups are the district group rows; the page sums them statewide.
	Groups []Group
	// Sources says where the figures come from (dataset prefixes, lake URL).
	Sources []string
}

// District is one district's figures; nil is unknown ("n/a").
type District struct {
	NCESID, Name  string
	Enrollment    *int64
	CounselorsFTE *float64
	// Schools is the number of schools of the district; SchoolsReporting* how many of them
	// reported a figure. The table notes a ratio or rate that covers fewer than all.
	Schools                                                      int32
	SchoolsReportingCounselors, SchoolsReportingNurses           int32
	SchoolsReportingPsychologists, SchoolsReportingSocialWorkers int32
	SchoolsReportingArrests, SchoolsReportingReferrals           int32
	// StudentsPerCounselor and the other ratios are the students per FTE of the schools
	// that report both the role's FTE and their enrollment.
	StudentsPerCounselor, StudentsPerNurse, StudentsPerPsychologist, StudentsPerSocialWorker *float64
	SupportGapFTE                                                                            *float64
	SwornOfficersFTE, SecurityGuardsFTE                                                      *float64
	SchoolsWithPoliceNoCounselor                                                             *int64
	Arrests, Referrals                                                                       *int64
	ArrestsPer1000, ReferralsPer1000                                                         *float64
	ContractStatus                                                                           *string
	// ContractInForce says whether a contract was in force during the school year (nil:
	// no contracts file); without one, DistrictCost and ContractCostPerStudent are nil.
	ContractInForce *bool
	// DistrictCost is the district's cost of its police contract, in dollars.
	DistrictCost           *float64
	ContractCostPerStudent *float64
}

// Group is one district's counts for one student group, with the totals of the same
// schools (Covered*), and the group's and all students of the schools the arrest and
// referral counts cover (GroupEnrollmentArrests, EnrollmentArrests, ...).
type Group struct {
	NCESID, Group, GroupType                      string
	GroupEnrollment, CoveredEnrollment            *int64
	GroupArrests, CoveredArrests                  *int64
	GroupReferrals, CoveredReferrals              *int64
	GroupEnrollmentArrests, EnrollmentArrests     *int64
	GroupEnrollmentReferrals, EnrollmentReferrals *int64
}
