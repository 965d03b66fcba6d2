package compare

import (
	"strings"

	"github.com/districtlake/districtlake/internal/dataset"
)

// Indexes of the staffing FTE columns an accumulator sums: the four roles (indexed by
// dataset.Role), then sworn officers and security guards.
const (
	fteSworn  = dataset.NumRoles
	fteGuards = dataset.NumRoles + 1
	nFTE      = dataset.NumRoles + 2
)

// Student groups in output order: the race/ethnicity values of dataset.RaceEthnicities,
// then IDEA, then English learners.
var groupNames = func() []string {
	var g []string
	for _, r := range dataset.RaceEthnicities {
		g = append(g, r.Name)
	}
	return append(g, dataset.GroupIDEA, dataset.GroupEnglishLearner)
}()

// Group indexes: nRace is len(dataset.RaceEthnicities) (a test checks it).
const (
	nRace     = 7
	groupIDEA = nRace
	groupEL   = nRace + 1
	nGroups   = nRace + 2
)

const (
	catArrest   = 0
	catReferral = 1
)

// optI and optF are nullable values read from a row.
type optI struct {
	v  int64
	ok bool
}
type optF struct {
	v  float64
	ok bool
}

// sumI is a sum over the schools that reported a figure, and how many did.
type sumI struct {
	v int64
	n int32
}

func (s *sumI) add(o optI) {
	if o.ok {
		s.v += o.v
		s.n++
	}
}

// value is the sum, or nil when no school reported.
func (s sumI) value() *int64 {
	if s.n == 0 {
		return nil
	}
	return ptr(s.v)
}

type sumF struct {
	v float64
	n int32
}

func (s *sumF) add(o optF) {
	if o.ok {
		s.v += o.v
		s.n++
	}
}

func (s sumF) value() *float64 {
	if s.n == 0 {
		return nil
	}
	return ptr(RoundFTE(s.v))
}

// pairSum sums a part and its total over the schools that know both.
type pairSum struct {
	part, total int64
	n           int32
}

func (p *pairSum) add(part, total int64) {
	p.part += part
	p.total += total
	p.n++
}

func (p pairSum) values() (part, total *int64) {
	if p.n == 0 {
		return nil, nil
	}
	return ptr(p.part), ptr(p.total)
}

// staffRow is one staffing row's figures.
type staffRow struct {
	school     string // "" for a district total; may point into a record batch's buffer
	enrollment optI
	fte        [nFTE]optF
	groups     [nGroups]optI
}

// staffing sums one district's staffing rows. School rows and district-total rows (no
// nces_school_id) are summed apart: the totals count only when there is no school row.
type staffing struct {
	schools, totals staffSums
}

type staffSums struct {
	rows       int32
	enrollment sumI
	fte        [nFTE]sumF
	// matched sums each role over the rows that know both its FTE and the enrollment.
	matched           [4]matchedSum
	policeNoCounselor sumI
	groups            [nGroups]pairSum
	groupPresent      [nGroups]bool
	// bySchool is each school's enrollment, for the rates whose counts come from the
	// incidents file (keyed by nces_school_id, "" for a district total).
	bySchool map[string]*schoolEnrollment
}

// matchedSum is a figure and the enrollment of the same schools: only the schools that
// know both count.
type matchedSum struct {
	value      float64
	enrollment int64
	n          int32
}

func (m *matchedSum) add(value float64, enrollment int64) {
	m.value += value
	m.enrollment += enrollment
	m.n++
}

// enrollmentValue is the students of the matched schools, nil when none matched.
func (m matchedSum) enrollmentValue() *int64 {
	if m.n == 0 {
		return nil
	}
	return ptr(m.enrollment)
}

// fteValue is the matched schools' FTE, nil when none matched.
func (m matchedSum) fteValue() *float64 {
	if m.n == 0 {
		return nil
	}
	return ptr(RoundFTE(m.value))
}

// schoolEnrollment is one school's enrollment and enrollment by group; a figure is known
// when every row of the school knows it (a school has one row unless the file repeats it).
type schoolEnrollment struct {
	total        int64
	totalUnknown bool
	groups       [nGroups]int64
	groupUnknown [nGroups]bool
}

func (e *schoolEnrollment) add(r *staffRow) {
	if r.enrollment.ok {
		e.total += r.enrollment.v
	} else {
		e.totalUnknown = true
	}
	for g, v := range r.groups {
		if v.ok {
			e.groups[g] += v.v
		} else {
			e.groupUnknown[g] = true
		}
	}
}

// enrollmentOf is a school's enrollment and its group g's enrollment (g < 0: the total
// only); ok is false unless both are known.
func (s *staffSums) enrollmentOf(school string, g int) (total, group int64, ok bool) {
	e := s.bySchool[school]
	if e == nil || e.totalUnknown || (g >= 0 && e.groupUnknown[g]) {
		return 0, 0, false
	}
	if g >= 0 {
		group = e.groups[g]
	}
	return e.total, group, true
}

func (s *staffing) add(r *staffRow, districtTotal bool) {
	if districtTotal {
		s.totals.add(r)
		return
	}
	s.schools.add(r)
}

func (s *staffSums) add(r *staffRow) {
	s.rows++
	s.enrollment.add(r.enrollment)
	for i := range r.fte {
		s.fte[i].add(r.fte[i])
	}
	for i := range s.matched {
		if f := r.fte[i]; f.ok && r.enrollment.ok {
			s.matched[i].add(f.v, r.enrollment.v)
		}
	}
	if s.bySchool == nil {
		s.bySchool = map[string]*schoolEnrollment{}
	}
	e := s.bySchool[r.school]
	if e == nil {
		e = &schoolEnrollment{}
		s.bySchool[strings.Clone(r.school)] = e
	}
	e.add(r)
	if c, p := r.fte[dataset.Counselor], r.fte[fteSworn]; c.ok && p.ok {
		hit := int64(0)
		if p.v > 0 && c.v == 0 {
			hit = 1
		}
		s.policeNoCounselor.add(optI{hit, true})
	}
	for g, v := range r.groups {
		if !v.ok {
			continue
		}
		s.groupPresent[g] = true
		if r.enrollment.ok {
			s.groups[g].add(v.v, r.enrollment.v)
		}
	}
}

// result is the sums that count: the schools' when there are any, else the totals'.
func (s *staffing) result() *staffSums {
	if s.schools.rows > 0 {
		return &s.schools
	}
	return &s.totals
}

// incidentRow is one incidents row's figures.
type incidentRow struct {
	school   string
	category int // catArrest, catReferral; -1 for others
	race     int // index in RaceEthnicities; -1 when race_ethnicity is null
	idea     bool
	el       bool // english_learner = true
	count    optI
}

// schoolCat is one school's counts of one category.
type schoolCat struct {
	rows, null   bool // any partition row; any of them null
	total        int64
	groups       [nGroups]int64
	elRows       bool
	elNull       bool
	ideaRowsSeen bool
}

type schoolIncidents [2]schoolCat

// incidents sums one district's incidents by school first, then over schools.
type incidents struct {
	schools map[string]*schoolIncidents
	order   []string
}

func newIncidents() *incidents { return &incidents{schools: map[string]*schoolIncidents{}} }

func (in *incidents) add(r *incidentRow) {
	if r.category < 0 {
		return
	}
	s := in.schools[r.school]
	if s == nil {
		s = &schoolIncidents{}
		id := strings.Clone(r.school) // r.school may point into a record batch's buffer
		in.schools[id] = s
		in.order = append(in.order, id)
	}
	c := &s[r.category]
	switch {
	case r.race >= 0:
		c.rows = true
		if r.idea {
			c.ideaRowsSeen = true
		}
		if !r.count.ok {
			c.null = true
			return
		}
		c.total += r.count.v
		c.groups[r.race] += r.count.v
		if r.idea {
			c.groups[groupIDEA] += r.count.v
		}
	case r.el:
		c.elRows = true
		if !r.count.ok {
			c.elNull = true
			return
		}
		c.groups[groupEL] += r.count.v
	}
}

// categorySums is one category summed over a district's schools.
type categorySums struct {
	// total covers the schools whose cells of the category are all known; rate covers
	// those of them whose enrollment is known too (the count and the students of a rate).
	total sumI
	rate  matchedSum
	// groups[g] and groupEnrollment[g] cover the schools whose cells of the category and
	// of group g are all known and whose enrollment and group g's enrollment are known:
	// the group's count and the total, the group's students and all students.
	groups          [nGroups]pairSum
	groupEnrollment [nGroups]pairSum
	present         [nGroups]bool
}

// sums sums each category over the schools, matching each school to its enrollment in st.
func (in *incidents) sums(st *staffSums) [2]categorySums {
	var out [2]categorySums
	if in == nil {
		return out
	}
	for _, id := range in.order {
		s := in.schools[id]
		for ci := range s {
			c, o := &s[ci], &out[ci]
			if c.elRows {
				o.present[groupEL] = true
			}
			if c.ideaRowsSeen {
				o.present[groupIDEA] = true
			}
			if !c.rows || c.null {
				continue
			}
			o.total.add(optI{c.total, true})
			if enr, _, ok := st.enrollmentOf(id, -1); ok {
				o.rate.add(float64(c.total), enr)
			}
			for g := range nGroups {
				if g == groupEL && (!c.elRows || c.elNull) {
					continue
				}
				enr, genr, ok := st.enrollmentOf(id, g)
				if !ok {
					continue
				}
				o.groups[g].add(c.groups[g], c.total)
				o.groupEnrollment[g].add(genr, enr)
			}
		}
	}
	return out
}

// RoleFigures are one support role's figures for a district.
type RoleFigures struct {
	FTE              *float64
	SchoolsReporting int32
	// EnrollmentReporting is the students of the schools that report both this role's FTE
	// and their enrollment: StudentsPer and GapFTE cover those schools only.
	EnrollmentReporting *int64
	StudentsPer         *float64
	Recommended         int32
	Meets               *bool
	GapFTE              *float64
	// Rank is set across the state by rankDistricts.
	Rank int32
}

// District is one row of the comparison dataset (see dataset.ComparisonSchema for what each
// figure means). Money is in cents.
type District struct {
	State, SchoolYear, NCESID, Name string

	Enrollment                 *int64
	SchoolsReporting           int32
	SchoolsReportingEnrollment int32
	Roles                      dataset.PerRole[RoleFigures]
	SupportGapFTETotal         *float64
	DistrictsInState           int32

	SwornOfficersFTE               *float64
	SchoolsReportingSwornOfficers  int32
	SecurityGuardsFTE              *float64
	SchoolsReportingSecurityGuards int32
	SchoolsWithPoliceNoCounselor   *int64

	Arrests                   *int64
	SchoolsReportingArrests   int32
	Referrals                 *int64
	SchoolsReportingReferrals int32
	// EnrollmentReportingArrests (Referrals) is the students of the schools whose arrest
	// (referral) cells and enrollment are known: the rates cover those schools only.
	EnrollmentReportingArrests   *int64
	EnrollmentReportingReferrals *int64
	ArrestsPer1000               *float64
	ReferralsPer1000             *float64

	// ContractInForce says whether one of the district's contracts was in force during the
	// school year (nil without a contracts file). The contract columns describe that
	// contract; without one, only ContractStatus and ContractAgencyName are set, from the
	// district's current contract.
	ContractInForce         *bool
	ContractStatus          *string
	ContractAgencyName      *string
	ContractOfficers        *int32
	ContractAnnualCost      *int64
	DistrictCost            *int64
	ContractCostPerStudent  *float64
	FTEEquivalentOfContract dataset.PerRole[*float64]
}

// Group is one row of the comparison_groups dataset.
type Group struct {
	State, SchoolYear, NCESID, DistrictName string
	StudentGroup, GroupType                 string

	GroupEnrollment, CoveredEnrollment *int64
	SchoolsReportingEnrollment         int32
	GroupArrests, CoveredArrests       *int64
	SchoolsReportingArrests            int32
	// GroupEnrollmentArrests and EnrollmentArrests are the group's and all students of the
	// schools the arrest counts cover (and the same for referrals).
	GroupEnrollmentArrests, EnrollmentArrests     *int64
	GroupReferrals, CoveredReferrals              *int64
	SchoolsReportingReferrals                     int32
	GroupEnrollmentReferrals, EnrollmentReferrals *int64

	EnrollmentShare, ArrestShare, ReferralShare *float64
	ArrestRelativeRate, ReferralRelativeRate    *float64
}

// districtInput is what was read for one district and year.
type districtInput struct {
	ncesID, name string
	staffing     *staffing // nil without a staffing file
	incidents    *incidents
	contracts    []Contract
	// hasContracts is whether the district has a contracts file (maybe of no rows).
	hasContracts bool
}

// buildDistrict computes a district's row and group rows (ranks and districts_in_state are
// left for rankDistricts).
func buildDistrict(state, year string, in *districtInput, std dataset.Standards, costs dataset.Costs) (District, []Group) {
	d := District{State: state, SchoolYear: year, NCESID: in.ncesID, Name: in.name}
	st := &staffSums{}
	if in.staffing != nil {
		st = in.staffing.result()
	}
	d.SchoolsReporting = st.rows
	d.Enrollment = st.enrollment.value()
	d.SchoolsReportingEnrollment = st.enrollment.n
	for _, role := range dataset.Roles() {
		r := d.Roles.Ref(role)
		r.FTE = st.fte[role].value()
		r.SchoolsReporting = st.fte[role].n
		r.Recommended = std.Get(role)
		r.EnrollmentReporting = st.matched[role].enrollmentValue()
		matchedFTE := st.matched[role].fteValue()
		r.StudentsPer = StudentsPer(r.EnrollmentReporting, matchedFTE)
		r.Meets = Meets(r.StudentsPer, matchedFTE, r.Recommended)
		r.GapFTE = Gap(r.EnrollmentReporting, matchedFTE, r.Recommended)
	}
	gaps := dataset.MapRoles(d.Roles, func(_ dataset.Role, r RoleFigures) *float64 { return r.GapFTE })
	d.SupportGapFTETotal = SumAll(gaps.Values()...)
	d.SwornOfficersFTE = st.fte[fteSworn].value()
	d.SchoolsReportingSwornOfficers = st.fte[fteSworn].n
	d.SecurityGuardsFTE = st.fte[fteGuards].value()
	d.SchoolsReportingSecurityGuards = st.fte[fteGuards].n
	d.SchoolsWithPoliceNoCounselor = st.policeNoCounselor.value()

	cats := in.incidents.sums(st)
	d.Arrests = cats[catArrest].total.value()
	d.SchoolsReportingArrests = cats[catArrest].total.n
	d.Referrals = cats[catReferral].total.value()
	d.SchoolsReportingReferrals = cats[catReferral].total.n
	d.EnrollmentReportingArrests = cats[catArrest].rate.enrollmentValue()
	d.EnrollmentReportingReferrals = cats[catReferral].rate.enrollmentValue()
	d.ArrestsPer1000 = rate(cats[catArrest].rate)
	d.ReferralsPer1000 = rate(cats[catReferral].rate)
	setContract(&d, in, year, costs)
	return d, buildGroups(&d, st, &cats)
}

// buildGroups computes a district's group rows: every race/ethnicity, and IDEA and English
// learners when the district's files have them.
func buildGroups(d *District, st *staffSums, cats *[2]categorySums) []Group {
	var out []Group
	for g, name := range groupNames {
		present := st.groupPresent[g] || cats[catArrest].present[g] || cats[catReferral].present[g]
		if g >= nRace && !present {
			continue
		}
		row := Group{
			State: d.State, SchoolYear: d.SchoolYear, NCESID: d.NCESID, DistrictName: d.Name,
			StudentGroup: name, GroupType: groupType(g),
		}
		row.GroupEnrollment, row.CoveredEnrollment = st.groups[g].values()
		row.SchoolsReportingEnrollment = st.groups[g].n
		arr, ref := &cats[catArrest], &cats[catReferral]
		row.GroupArrests, row.CoveredArrests = arr.groups[g].values()
		row.SchoolsReportingArrests = arr.groups[g].n
		row.GroupEnrollmentArrests, row.EnrollmentArrests = arr.groupEnrollment[g].values()
		row.GroupReferrals, row.CoveredReferrals = ref.groups[g].values()
		row.SchoolsReportingReferrals = ref.groups[g].n
		row.GroupEnrollmentReferrals, row.EnrollmentReferrals = ref.groupEnrollment[g].values()
		row.EnrollmentShare = Share(row.GroupEnrollment, row.CoveredEnrollment)
		row.ArrestShare = Share(row.GroupArrests, row.CoveredArrests)
		row.ReferralShare = Share(row.GroupReferrals, row.CoveredReferrals)
		row.ArrestRelativeRate = RelativeRate(row.ArrestShare, Share(row.GroupEnrollmentArrests, row.EnrollmentArrests))
		row.ReferralRelativeRate = RelativeRate(row.ReferralShare, Share(row.GroupEnrollmentReferrals, row.EnrollmentReferrals))
		out = append(out, row)
	}
	return out
}

// rate is a matched count per 1,000 of the same schools' students.
func rate(m matchedSum) *float64 {
	if m.n == 0 {
		return nil
	}
	return Per1000(ptr(int64(m.value)), ptr(m.enrollment))
}

// setContract sets the contract columns: those of the contract in force during the school
// year; without one, the status and agency of the district's current contract, costs and
// officers unknown.
func setContract(d *District, in *districtInput, year string, costs dataset.Costs) {
	if !in.hasContracts {
		return
	}
	c := ContractInForce(in.contracts, year)
	d.ContractInForce = ptr(c != nil)
	if c == nil {
		if cur := CurrentContract(in.contracts); cur != nil {
			d.ContractStatus = cur.Status
			d.ContractAgencyName = ptr(cur.AgencyName)
		}
		return
	}
	d.ContractStatus = c.Status
	d.ContractAgencyName = ptr(c.AgencyName)
	d.ContractOfficers = c.Officers
	d.ContractAnnualCost = c.AnnualCost
	d.DistrictCost = DistrictCost(c.AnnualCost, c.DistrictShare)
	d.ContractCostPerStudent = PerStudent(d.DistrictCost, d.Enrollment)
	d.FTEEquivalentOfContract = dataset.MapRoles(costs, func(_ dataset.Role, cost *int64) *float64 {
		return FTEEquivalent(d.DistrictCost, cost)
	})
}

func groupType(g int) string {
	switch {
	case g < nRace:
		return dataset.GroupTypeRaceEthnicity
	case g == groupIDEA:
		return dataset.GroupTypeDisability
	}
	return dataset.GroupTypeEnglishLearner
}

// rankDistricts sets each role's rank and districts_in_state across one state and year.
func rankDistricts(ds []District) {
	for i := range ds {
		ds[i].DistrictsInState = int32(len(ds))
	}
	vals := make([]*float64, len(ds))
	for _, role := range dataset.Roles() {
		for i := range ds {
			vals[i] = ds[i].Roles.Get(role).StudentsPer
		}
		for i, rank := range Rank(vals) {
			ds[i].Roles.Ref(role).Rank = rank
		}
	}
}
