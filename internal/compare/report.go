package compare

import (
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/report"
)

// ReportData turns one year's comparison into what the HTML report shows.
func ReportData(yr *YearResult, p *plan.Compare, runID string, now time.Time) report.Data {
	d := report.Data{
		State: yr.State, SchoolYear: yr.SchoolYear, RunID: runID, GeneratedAt: now,
		Standards: p.Standards, Costs: p.Costs,
		Sources: []string{
			yearPrefix(dataset.Staffing, yr.State, yr.SchoolYear),
			yearPrefix(dataset.Incidents, yr.State, yr.SchoolYear),
			dataset.Contracts + "/state=" + yr.State + "/",
		},
	}
	for i := range yr.Districts {
		x := &yr.Districts[i]
		d.Districts = append(d.Districts, report.District{
			NCESID: x.NCESID, Name: x.Name, Enrollment: x.Enrollment,
			CounselorsFTE:                 x.Roles.Counselor.FTE,
			Schools:                       x.SchoolsReporting,
			SchoolsReportingCounselors:    x.Roles.Counselor.SchoolsReporting,
			SchoolsReportingNurses:        x.Roles.Nurse.SchoolsReporting,
			SchoolsReportingPsychologists: x.Roles.Psychologist.SchoolsReporting,
			SchoolsReportingSocialWorkers: x.Roles.SocialWorker.SchoolsReporting,
			SchoolsReportingArrests:       x.SchoolsReportingArrests,
			SchoolsReportingReferrals:     x.SchoolsReportingReferrals,
			StudentsPerCounselor:          x.Roles.Counselor.StudentsPer,
			StudentsPerNurse:              x.Roles.Nurse.StudentsPer,
			StudentsPerPsychologist:       x.Roles.Psychologist.StudentsPer,
			StudentsPerSocialWorker:       x.Roles.SocialWorker.StudentsPer,
			SupportGapFTE:                 x.SupportGapFTETotal,
			SwornOfficersFTE:              x.SwornOfficersFTE, SecurityGuardsFTE: x.SecurityGuardsFTE,
			SchoolsWithPoliceNoCounselor: x.SchoolsWithPoliceNoCounselor,
			Arrests:                      x.Arrests, Referrals: x.Referrals,
			ArrestsPer1000: x.ArrestsPer1000, ReferralsPer1000: x.ReferralsPer1000,
			ContractStatus:         x.ContractStatus,
			ContractInForce:        x.ContractInForce,
			DistrictCost:           dollars(x.DistrictCost),
			ContractCostPerStudent: x.ContractCostPerStudent,
		})
	}
	for _, g := range yr.Groups {
		d.Groups = append(d.Groups, report.Group{
			NCESID: g.NCESID, Group: g.StudentGroup, GroupType: g.GroupType,
			GroupEnrollment: g.GroupEnrollment, CoveredEnrollment: g.CoveredEnrollment,
			GroupArrests: g.GroupArrests, CoveredArrests: g.CoveredArrests,
			GroupReferrals: g.GroupReferrals, CoveredReferrals: g.CoveredReferrals,
			GroupEnrollmentArrests: g.GroupEnrollmentArrests, EnrollmentArrests: g.EnrollmentArrests,
			GroupEnrollmentReferrals: g.GroupEnrollmentReferrals, EnrollmentReferrals: g.EnrollmentReferrals,
		})
	}
	return d
}

func dollars(cents *int64) *float64 {
	if cents == nil {
		return nil
	}
	return ptr(float64(*cents) / 100)
}
