package local

import (
	"bytes"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/compare"
	"github.com/districtlake/districtlake/internal/dataset"
)

func ptr[T any](v T) *T { return &v }

// The table prints the comparison's typed figures, unknowns as "unknown", and says which
// figures cover fewer than all schools.
func TestWriteStateTable(t *testing.T) {
	full := compare.District{NCESID: "5500001", Name: "Alpha", Enrollment: ptr(int64(1200)), SchoolsReporting: 2,
		SchoolsReportingArrests: 2, SchoolsReportingReferrals: 2, ArrestsPer1000: ptr(2.5),
		SupportGapFTETotal: ptr(3.25), SwornOfficersFTE: ptr(1.0), ContractAgencyName: ptr("Alpha PD"),
		ContractInForce: ptr(true), ContractCostPerStudent: ptr(1234.5)}
	for _, r := range dataset.Roles() {
		*full.Roles.Ref(r) = compare.RoleFigures{FTE: ptr(4.0), SchoolsReporting: 2, Recommended: 250}
	}
	full.Roles.Counselor.StudentsPer, full.Roles.Counselor.Meets = ptr(300.0), ptr(false)
	partial := compare.District{NCESID: "5500002", Name: "Beta", SchoolsReporting: 5, SchoolsReportingArrests: 4,
		SchoolsReportingReferrals: 5, ContractAgencyName: ptr("Beta Sheriff"), ContractStatus: ptr("active"),
		ContractInForce: ptr(false)}
	for _, r := range dataset.Roles() {
		*partial.Roles.Ref(r) = compare.RoleFigures{SchoolsReporting: 5, Recommended: 250}
	}
	partial.Roles.Counselor.SchoolsReporting, partial.Roles.Counselor.FTE = 3, ptr(0.0)
	var b bytes.Buffer
	if err := WriteStateTable(&b, "WI", "2023-24", []compare.District{partial, full}); err != nil {
		t.Fatal(err)
	}
	want := `WI 2023-24: 2 districts
DISTRICT  NCES ID  ENROLLMENT  STUDENTS PER COUNSELOR  SUPPORT-STAFF GAP (FTE)  SWORN OFFICERS (FTE)  CONTRACT $ PER STUDENT  ARRESTS PER 1,000
Alpha     5500001       1,200               300 > 250                      3.2                   1.0               $1,234.50               2.50
Beta      5500002     unknown   no counselor (vs 250)                  unknown               unknown           none in force            unknown
Figures that cover fewer than all schools:
  Beta: 3 of 5 schools reported counselors, 4 of 5 arrests
`
	if got := b.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(b.String(), "Alpha:") {
		t.Errorf("a district whose schools all reported has a coverage note")
	}
}
