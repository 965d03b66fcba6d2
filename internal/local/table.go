package local

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/districtlake/districtlake/internal/compare"
	"github.com/districtlake/districtlake/internal/report"
	"github.com/districtlake/districtlake/internal/term"
)

// WriteStateTable prints a state-year's comparison as a table: district, enrollment,
// students per counselor against the recommended level, support-staff gap, sworn
// officers, contract cost per student and arrests per 1,000. Unknown figures print as
// "unknown", never as zero. Below the table, the districts where a figure covers fewer
// than all schools say so ("3 of 5 schools reported counselors").
func WriteStateTable(w io.Writer, state, schoolYear string, districts []compare.District) error {
	ds := append([]compare.District(nil), districts...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
	noun := "districts"
	if len(ds) == 1 {
		noun = "district"
	}
	fmt.Fprintf(w, "%s %s: %d %s\n", state, schoolYear, len(ds), noun)
	cells := [][]string{{"DISTRICT", "NCES ID", "ENROLLMENT", "STUDENTS PER COUNSELOR", "SUPPORT-STAFF GAP (FTE)",
		"SWORN OFFICERS (FTE)", "CONTRACT $ PER STUDENT", "ARRESTS PER 1,000"}}
	var notes []string
	for i := range ds {
		d := &ds[i]
		cells = append(cells, []string{
			term.Escape(d.Name), term.Escape(d.NCESID), integer(d.Enrollment),
			perCounselor(d), decimal(d.SupportGapFTETotal, 1), decimal(d.SwornOfficersFTE, 1),
			contractCost(d), decimal(d.ArrestsPer1000, 2)})
		if c := coverage(d); c != "" {
			notes = append(notes, "  "+term.Escape(d.Name)+": "+c+"\n")
		}
	}
	if _, err := io.WriteString(w, columns(cells, 2)); err != nil {
		return err
	}
	if len(notes) > 0 {
		notes = append([]string{"Figures that cover fewer than all schools:\n"}, notes...)
	}
	_, err := io.WriteString(w, strings.Join(notes, ""))
	return err
}

// coverage lists the figures a district's schools reported in part, such as "3 of 5
// schools reported counselors, 4 of 5 arrests"; "" when every school reported every one.
func coverage(d *compare.District) string {
	var parts []string
	add := func(n int32, what string) {
		if n >= d.SchoolsReporting {
			return
		}
		format := "%d of %d %s"
		if len(parts) == 0 {
			format = "%d of %d schools reported %s"
		}
		parts = append(parts, fmt.Sprintf(format, n, d.SchoolsReporting, what))
	}
	for r, f := range d.Roles.All() {
		add(f.SchoolsReporting, strings.ReplaceAll(r.Plural(), "_", " "))
	}
	add(d.SchoolsReportingArrests, "arrests")
	add(d.SchoolsReportingReferrals, "referrals")
	return strings.Join(parts, ", ")
}

// columns lays out cells in columns two spaces apart: the first left columns aligned
// left, the others right.
func columns(cells [][]string, left int) string {
	var widths []int
	for _, row := range cells {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, row := range cells {
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c)
				if i < len(row)-1 {
					b.WriteString(pad)
				}
			} else {
				b.WriteString(pad + c)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func perCounselor(d *compare.District) string {
	c := &d.Roles.Counselor
	rec := report.Thousands(int64(c.Recommended))
	if c.StudentsPer == nil {
		if c.FTE != nil && *c.FTE == 0 {
			return "no counselor (vs " + rec + ")"
		}
		return "unknown"
	}
	cmp := ">"
	if c.Meets != nil && *c.Meets {
		cmp = "<="
	}
	return fmt.Sprintf("%s %s %s", report.Thousands(int64(math.Round(*c.StudentsPer))), cmp, rec)
}

// contractCost is the contract's cost per student, or why it is unknown: no contract is
// known, none was in force during the school year, or one was without its cost (with the
// contract's status when known).
func contractCost(d *compare.District) string {
	if d.ContractCostPerStudent != nil {
		return money(*d.ContractCostPerStudent)
	}
	if d.ContractAgencyName == nil {
		return "no contract known"
	}
	if d.ContractInForce != nil && !*d.ContractInForce {
		return "none in force"
	}
	if d.ContractStatus != nil && *d.ContractStatus != "" {
		return "unknown (" + *d.ContractStatus + ")"
	}
	return "unknown"
}

func integer(v *int64) string {
	if v == nil {
		return "unknown"
	}
	return report.Thousands(*v)
}

func decimal(v *float64, places int) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.*f", places, *v)
}

func money(f float64) string {
	whole := int64(math.Floor(f))
	cents := int64(math.Round((f - float64(whole)) * 100))
	if cents == 100 {
		whole, cents = whole+1, 0
	}
	return fmt.Sprintf("$%s.%02d", report.Thousands(whole), cents)
}
