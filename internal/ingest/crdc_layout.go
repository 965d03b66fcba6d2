package ingest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/districtlake/districtlake/internal/dataset"
)

// The CRDC collections the preset knows, and the layouts of their school files. The
// layouts are written down from the published record layouts and user's manuals (see
// the README's CRDC section for what differs from year to year):
//   - 2015-16 is one wide file (CRDC 2015-16 School Data.csv) holding every module: it
//     feeds both staffing (its School Support and Enrollment columns) and incidents (its
//     Referrals and Arrests columns).
//   - 2017-18, 2020-21 and 2021-22 publish one file per module: School Support and
//     Enrollment feed staffing (joined on COMBOKEY), Referrals and Arrests feeds incidents.
//   - English learners are LEP up to 2020-21 and EL in 2021-22 (one description of the
//     2020-21 Enrollment file says EL already, so 2020-21 accepts either).
//   - Only the 2021-22 Enrollment file has nonbinary (_X) columns.
//   - School Support: 2017-18 (and the 2015-16 wide file) has SCH_FTETEACH_FY/_SY/_ABSENT
//     and SCH_TEACHERS_CURR_TOT/_PREV_TOT; 2020-21 has none of them; 2021-22 adds
//     TOT_TEACHERS_CURR_M/_F.

// crdcYears are the collections the preset reads.
var crdcYears = []string{"2015-16", "2017-18", "2020-21", "2021-22"}

// crdcPart is one module of a school file the preset reads.
type crdcPart int

const (
	partSupport crdcPart = iota
	partEnrollment
	partArrests
)

var crdcPartNames = [...]string{"School Support", "Enrollment", "Referrals and Arrests"}

// crdcLayout is a recognised school file: its collection, the modules the preset reads
// from it, and the spelling of its English-learner and sex columns.
type crdcLayout struct {
	year  string
	parts []crdcPart
	// el is "LEP" or "EL".
	el string
	// nonbinary says the Enrollment columns have _X cells.
	nonbinary bool
}

// name is how errors and the manifest call the layout: "2020-21 School Support".
func (l crdcLayout) name() string {
	if l.year == "2015-16" {
		return "2015-16 School Data"
	}
	names := make([]string, len(l.parts))
	for i, p := range l.parts {
		names[i] = crdcPartNames[p]
	}
	return l.year + " " + strings.Join(names, " + ")
}

// needed lists the columns the preset reads from the layout, in the published order.
func (l crdcLayout) needed() []string {
	var cols []string
	for _, p := range l.parts {
		cols = append(cols, l.partColumns(p)...)
	}
	return cols
}

func (l crdcLayout) partColumns(p crdcPart) []string {
	var cols []string
	switch p {
	case partSupport:
		for _, f := range crdcFTE {
			cols = append(cols, f.column)
		}
	case partEnrollment:
		sexes := []string{"M", "F"}
		if l.nonbinary {
			sexes = append(sexes, "X")
		}
		for _, r := range dataset.RaceEthnicities {
			for _, s := range sexes {
				cols = append(cols, "SCH_ENR_"+r.Code+"_"+s)
			}
		}
		for _, s := range sexes {
			cols = append(cols, "TOT_ENR_"+s)
		}
		for _, g := range []string{l.el, "504", "IDEA"} {
			for _, s := range sexes {
				cols = append(cols, "SCH_ENR_"+g+"_"+s)
			}
		}
	case partArrests:
		sexes := []string{"M", "F"}
		for _, cat := range []string{"REF", "ARR"} {
			for _, r := range dataset.RaceEthnicities {
				for _, s := range sexes {
					cols = append(cols, "SCH_DISCWODIS_"+cat+"_"+r.Code+"_"+s)
				}
			}
			for _, s := range sexes {
				cols = append(cols, "TOT_DISCWODIS_"+cat+"_"+s)
			}
			for _, s := range sexes {
				cols = append(cols, "SCH_DISCWODIS_"+cat+"_"+l.el+"_"+s)
			}
			for _, r := range dataset.RaceEthnicities {
				for _, s := range sexes {
					cols = append(cols, "SCH_DISCWDIS_"+cat+"_IDEA_"+r.Code+"_"+s)
				}
			}
			for _, s := range sexes {
				cols = append(cols, "TOT_DISCWDIS_"+cat+"_IDEA_"+s)
			}
			for _, g := range []string{l.el, "504"} {
				for _, s := range sexes {
					cols = append(cols, "SCH_DISCWDIS_"+cat+"_"+g+"_"+s)
				}
			}
		}
	}
	return cols
}

var (
	crdcSupportCol    = regexp.MustCompile(`^SCH_FTE(COUNSELORS|SERVICES_|SECURITY_|TEACH_)`)
	crdcEnrollmentCol = regexp.MustCompile(`^(TOT_ENR_|SCH_ENR_)`)
	crdcArrestsCol    = regexp.MustCompile(`^(SCH|TOT)_DISCW(O?)DIS_(REF|ARR)_`)
	crdcLEPCol        = regexp.MustCompile(`^(SCH_ENR_LEP_|SCH_DISCW(O?)DIS_(REF|ARR)_LEP_)`)
	crdcELCol         = regexp.MustCompile(`^(SCH_ENR_EL_|SCH_DISCW(O?)DIS_(REF|ARR)_EL_)`)
	crdcNonbinaryCol  = regexp.MustCompile(`^(TOT_ENR_X|SCH_ENR_[A-Z0-9]+_X)$`)
)

// crdcHeader is what a header says about its collection.
type crdcHeader struct {
	upper []string // the header's names, upper case, in order
	parts [3]string
}

// firstMatch returns the first column of the header that re matches ("" when none).
func (h crdcHeader) firstMatch(re *regexp.Regexp) string {
	for _, u := range h.upper {
		if re.MatchString(u) {
			return u
		}
	}
	return ""
}

func (h crdcHeader) has(col string) bool { return slices.Contains(h.upper, col) }

// recogniseCRDC finds the layout of a header for a dataset and checks it against the
// source's schoolYear.
func recogniseCRDC(upper []string, ds, year string) (crdcLayout, error) {
	h := crdcHeader{upper: upper}
	for p, re := range []*regexp.Regexp{crdcSupportCol, crdcEnrollmentCol, crdcArrestsCol} {
		h.parts[p] = h.firstMatch(re)
	}
	support, enrollment, arrests := h.parts[partSupport] != "", h.parts[partEnrollment] != "", h.parts[partArrests] != ""
	l := crdcLayout{year: year}
	switch ds {
	case dataset.Staffing:
		if !support && !enrollment {
			what := "this header has neither"
			if arrests {
				what = "this header is the Referrals and Arrests file's, which feeds the incidents dataset"
			}
			return l, fmt.Errorf("a CRDC file for the staffing dataset needs the School Support columns (SCH_FTECOUNSELORS, SCH_FTESERVICES_NUR, ...) or the Enrollment columns (TOT_ENR_M, TOT_ENR_F, SCH_ENR_*); %s", what)
		}
	case dataset.Incidents:
		if !arrests {
			return l, fmt.Errorf("a CRDC file for the incidents dataset needs the Referrals and Arrests columns (SCH_DISCWODIS_REF_<race>_<sex>, SCH_DISCWODIS_ARR_<race>_<sex>, SCH_DISCWDIS_*_IDEA_*); this header has none")
		}
	default:
		return l, fmt.Errorf("the crdc format has no %s file", ds)
	}
	if !slices.Contains(crdcYears, year) {
		return l, fmt.Errorf("the crdc format reads the school files of the %s collections; schoolYear is %q", strings.Join(crdcYears, ", "), year)
	}
	wide := support && enrollment && arrests
	switch {
	case year == "2015-16":
		// One wide file: staffing reads its School Support and Enrollment modules.
		if ds == dataset.Staffing {
			l.parts = []crdcPart{partSupport, partEnrollment}
		} else {
			l.parts = []crdcPart{partArrests}
		}
	case wide:
		return l, fmt.Errorf("the header is the 2015-16 School Data layout (one file with every module: %s, %s and %s), but the source's schoolYear is %s",
			h.parts[partSupport], h.parts[partEnrollment], h.parts[partArrests], year)
	case ds == dataset.Staffing:
		if support {
			l.parts = append(l.parts, partSupport)
		}
		if enrollment {
			l.parts = append(l.parts, partEnrollment)
		}
	default:
		l.parts = []crdcPart{partArrests}
	}
	if err := h.checkYear(&l, ds); err != nil {
		return l, err
	}
	return l, nil
}

// checkYear sets the layout's spellings from the header and checks that they are the
// collection's.
func (h crdcHeader) checkYear(l *crdcLayout, ds string) error {
	year := l.year
	mismatch := func(col, whose string) error {
		return fmt.Errorf("the header is of %s (it has %s), but the source's schoolYear is %s", whose, col, year)
	}
	lep, el := h.firstMatch(crdcLEPCol), h.firstMatch(crdcELCol)
	switch {
	case lep != "" && el != "":
		return fmt.Errorf("the header names English learners both LEP (%s) and EL (%s); a CRDC file uses one", lep, el)
	case el != "" && year != "2021-22" && !(year == "2020-21" && !slices.Contains(l.parts, partArrests)):
		return mismatch(el, "the 2021-22 collection, which names English learners EL")
	case lep != "" && year == "2021-22":
		return mismatch(lep, "a collection up to 2020-21, which name English learners LEP")
	case el != "":
		l.el = "EL"
	case lep != "":
		l.el = "LEP"
	case year == "2021-22":
		l.el = "EL"
	default:
		l.el = "LEP"
	}
	if slices.Contains(l.parts, partEnrollment) {
		x := h.firstMatch(crdcNonbinaryCol)
		if x != "" && year != "2021-22" {
			return mismatch(x, "the 2021-22 collection, the only one with nonbinary (_X) enrollment")
		}
		l.nonbinary = year == "2021-22"
	}
	if slices.Contains(l.parts, partSupport) && year != "2015-16" {
		for _, c := range []string{"SCH_FTETEACH_FY", "SCH_FTETEACH_SY", "SCH_FTETEACH_ABSENT", "SCH_TEACHERS_CURR_TOT", "SCH_TEACHERS_PREV_TOT"} {
			if h.has(c) && year != "2017-18" {
				return mismatch(c, "the 2017-18 collection")
			}
		}
		for _, c := range []string{"TOT_TEACHERS_CURR_M", "TOT_TEACHERS_CURR_F"} {
			if h.has(c) && year != "2021-22" {
				return mismatch(c, "the 2021-22 collection")
			}
		}
	}
	var missing []string
	for _, c := range l.needed() {
		if !h.has(c) {
			missing = append(missing, fmt.Sprintf("%q", c))
		}
	}
	switch {
	case len(missing) == 1:
		return fmt.Errorf("column %s of the %s layout is missing", missing[0], l.name())
	case len(missing) > 8:
		return fmt.Errorf("columns %s and %d more of the %s layout are missing", strings.Join(missing[:8], ", "), len(missing)-8, l.name())
	case len(missing) > 1:
		return fmt.Errorf("columns %s of the %s layout are missing", strings.Join(missing, ", "), l.name())
	}
	return nil
}
