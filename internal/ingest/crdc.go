package ingest

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/districtlake/districtlake/internal/dataset"
)

// The CRDC preset reads the Civil Rights Data Collection's school files as the Department
// of Education publishes them (one row per school, nationwide): School Support.csv and
// Enrollment.csv feed staffing, Referrals and Arrests.csv feeds incidents. It keeps the
// rows whose LEAID is the plan's district (compared as text, leading zeros and all),
// turns reserve codes into nulls (counting each code per column for the run manifest) and
// the wide race/sex/disability columns of the arrests file into the long incidents form.
//
// Decisions:
//   - Justice-facility rows (JJ=Yes) are kept: the CRDC counts them among the district's
//     schools, and arrests there are part of the district's record. Their COMBOKEYs are
//     listed in the run manifest (justiceFacilitySchools) so an analysis can leave them out.
//   - Enrollment is TOT_ENR_M + TOT_ENR_F, plus TOT_ENR_X where the file has it and it is
//     not a reserve code; it is null when M or F is a reserve code. Each enrollment_*
//     breakdown is summed the same way from its SCH_ENR_<group>_<sex> cells.
//   - The incidents rows are the cells, never the TOT_ totals (which the cells add up
//     to); a TOT_ that differs from the sum of its fully known cells is reported in the
//     manifest (totalMismatches), not an error.
//   - A negative number that is not a reserve code is an error.

// crdcReserve says whether n is a CRDC reserve code.
func crdcReserve(n int64) bool {
	switch n {
	case -2, -3, -4, -5, -6, -7, -8, -9, -11, -12, -13:
		return true
	}
	return false
}

// CRDC column names the preset reads.
const (
	crdcLEAID    = "LEAID"
	crdcCombokey = "COMBOKEY"
	crdcSchName  = "SCH_NAME"
	crdcJJ       = "JJ"
	crdcSchID    = "SCHID"
)

var crdcFTE = []struct{ column, field string }{
	{"SCH_FTECOUNSELORS", "counselors_fte"},
	{"SCH_FTESERVICES_NUR", "nurses_fte"},
	{"SCH_FTESERVICES_PSY", "psychologists_fte"},
	{"SCH_FTESERVICES_SOC", "social_workers_fte"},
	{"SCH_FTESECURITY_LEO", "sworn_officers_fte"},
	{"SCH_FTESECURITY_GUA", "security_guards_fte"},
}

var (
	crdcDiscCell  = regexp.MustCompile(`^SCH_DISCW(O?)DIS_(REF|ARR)_(IDEA_)?(HI|AM|AS|HP|BL|WH|TR|LEP|EL|504)_(M|F|X)$`)
	crdcDiscTotal = regexp.MustCompile(`^TOT_DISCW(O?)DIS_(REF|ARR)_(IDEA_)?(M|F|X)$`)
)

var crdcSex = map[string]string{"M": "male", "F": "female", "X": "nonbinary"}

var crdcCategory = map[string]string{"REF": dataset.CategoryLawEnforcementReferral, "ARR": dataset.CategoryArrest}

// crdcSum is a canonical count summed from CRDC cells: null when a required cell is null.
type crdcSum struct {
	col      int   // schema column
	cells    []int // selected cells
	optional []bool
}

// crdcCell is one incidents row per school, from one cell.
type crdcCell struct {
	cell                                int
	category, group, race, sex, disable []byte
	englishLearner                      bool
	// total is the index in totals of the TOT_ this cell adds to (-1: none).
	total int
}

type crdcTotal struct {
	cell   int
	column string
}

type crdcMapper struct {
	ctx    *rowContext
	spec   *spec
	t      *csvTable
	layout crdcLayout
	names  []string // selected columns
	upper  map[string]string

	cLEA, cCombo, cName, cJJ, cSchID int
	// leaShort is the district's LEAID without its leading zero, as the damaged 2015-16
	// file writes it ("" when the LEAID has no leading zero).
	leaShort string
	combo    []byte // a rebuilt COMBOKEY

	fte    []struct{ cell, col int }
	sums   []crdcSum
	cells  []crdcCell
	totals []crdcTotal

	reserve [][len(reserveIndex)]int64
	seen    map[uint64]position
	st      sourceStats

	// countCells are the selected cells the staffing sums read; counts their values in
	// the current row, by selected cell.
	countCells []int
	counts     []value
	// ic are the incidents columns a cell fills: category, student_group,
	// race_ethnicity, sex, disability, english_learner, count.
	ic []int

	// per row
	sumOf []int64
	known []bool
}

// reserveIndex lists the reserve codes in manifest order.
var reserveIndex = [...]int64{-2, -3, -4, -5, -6, -7, -8, -9, -11, -12, -13}

func newCRDCMapper(ctx *rowContext, s *spec, t *csvTable, columns map[string]string) (*crdcMapper, error) {
	if len(columns) > 0 {
		return nil, &SourceError{Source: ctx.source, Err: fmt.Errorf("the crdc format knows its columns: remove the column map")}
	}
	m := &crdcMapper{ctx: ctx, spec: s, t: t, upper: map[string]string{}, seen: map[uint64]position{}}
	for _, h := range t.header() {
		m.upper[strings.ToUpper(h)] = h
	}
	var missing []string
	for _, c := range []string{crdcLEAID, crdcCombokey, crdcSchName} {
		if _, ok := m.upper[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, &SourceError{Source: ctx.source, Err: fmt.Errorf("is not a CRDC school file: missing required column%s %s",
			plural(len(missing)), strings.Join(missing, ", "))}
	}
	m.cLEA, m.cCombo, m.cName = m.sel(crdcLEAID), m.sel(crdcCombokey), m.sel(crdcSchName)
	m.cJJ, m.cSchID = -1, -1
	if _, ok := m.upper[crdcJJ]; ok {
		m.cJJ = m.sel(crdcJJ)
	}
	if _, ok := m.upper[crdcSchID]; ok {
		m.cSchID = m.sel(crdcSchID)
	}
	if strings.HasPrefix(ctx.lea, "0") {
		m.leaShort = ctx.lea[1:]
	}
	var uppers []string
	for _, h := range t.header() {
		uppers = append(uppers, strings.ToUpper(h))
	}
	l, err := recogniseCRDC(uppers, s.name, string(ctx.schoolYear))
	if err != nil {
		return nil, &SourceError{Source: ctx.source, Err: err}
	}
	m.layout = l
	m.st.CRDCFile = l.name()
	if s.name == dataset.Staffing {
		m.planStaffing()
	} else {
		for _, c := range []string{"category", "student_group", "race_ethnicity", "sex", "disability", "english_learner", "count"} {
			m.ic = append(m.ic, s.col(c))
		}
		m.planIncidents()
	}
	for _, h := range t.header() {
		if !slices.Contains(m.names, h) {
			m.st.Unmapped = append(m.st.Unmapped, h)
		}
	}
	t.selectColumns(m.names)
	t.filter(m.upper[crdcLEAID], ctx.lea, m.leaShort)
	m.reserve = make([][len(reserveIndex)]int64, len(m.names))
	m.counts = make([]value, len(m.names))
	for _, s := range m.sums {
		for _, c := range s.cells {
			if !slices.Contains(m.countCells, c) {
				m.countCells = append(m.countCells, c)
			}
		}
	}
	m.sumOf = make([]int64, len(m.totals))
	m.known = make([]bool, len(m.totals))
	return m, nil
}

// sel selects a column (by upper-case name) and returns its cell index.
func (m *crdcMapper) sel(upper string) int {
	name := m.upper[upper]
	if i := slices.Index(m.names, name); i >= 0 {
		return i
	}
	m.names = append(m.names, name)
	return len(m.names) - 1
}

func (m *crdcMapper) planStaffing() {
	l := m.layout
	if slices.Contains(l.parts, partSupport) {
		for _, f := range crdcFTE {
			m.fte = append(m.fte, struct{ cell, col int }{m.sel(f.column), m.spec.col(f.field)})
		}
	}
	if slices.Contains(l.parts, partEnrollment) {
		sexes := []string{"M", "F"}
		if l.nonbinary {
			sexes = append(sexes, "X")
		}
		sum := func(field, prefix string, sexes []string) {
			s := crdcSum{col: m.spec.col(field)}
			for _, sex := range sexes {
				s.cells = append(s.cells, m.sel(prefix+sex))
				// Enrollment is M + F, plus X when it is known.
				s.optional = append(s.optional, sex == "X" && len(sexes) > 1)
			}
			m.sums = append(m.sums, s)
		}
		sum("enrollment", "TOT_ENR_", sexes)
		for _, r := range dataset.RaceEthnicities {
			sum("enrollment_"+r.Name, "SCH_ENR_"+r.Code+"_", sexes)
		}
		sum("enrollment_male", "TOT_ENR_", []string{"M"})
		sum("enrollment_female", "TOT_ENR_", []string{"F"})
		if l.nonbinary {
			sum("enrollment_nonbinary", "TOT_ENR_", []string{"X"})
		}
		sum("enrollment_idea", "SCH_ENR_IDEA_", sexes)
		sum("enrollment_section_504", "SCH_ENR_504_", sexes)
		sum("enrollment_english_learner", "SCH_ENR_"+l.el+"_", sexes)
		slices.SortFunc(m.sums, func(a, b crdcSum) int { return a.col - b.col })
	}
}

func (m *crdcMapper) planIncidents() {
	needed := map[string]bool{}
	for _, c := range m.layout.needed() {
		needed[c] = true
	}
	// Keep the published column order: the header's.
	var uppers []string
	for _, h := range m.t.header() {
		if u := strings.ToUpper(h); needed[u] {
			uppers = append(uppers, u)
		}
	}
	totalIdx := map[string]int{}
	for _, u := range uppers {
		if g := crdcDiscTotal.FindStringSubmatch(u); g != nil {
			totalIdx[g[1]+g[2]+g[4]] = len(m.totals)
			m.totals = append(m.totals, crdcTotal{cell: m.sel(u), column: m.upper[u]})
		}
	}
	for _, u := range uppers {
		g := crdcDiscCell.FindStringSubmatch(u)
		if g == nil {
			continue
		}
		without, cat, grp, sex := g[1] == "O", g[2], g[4], crdcSex[g[5]]
		c := crdcCell{cell: m.sel(u), category: []byte(crdcCategory[cat]), sex: []byte(sex), total: -1}
		dis := dataset.DisabilityIDEA
		if without {
			dis = dataset.DisabilityNone
		}
		switch grp {
		case "LEP", "EL":
			c.englishLearner = true
			c.group = []byte("english_learner_" + sex + "_" + dis)
		case "504":
			dis = dataset.DisabilitySection504
			c.group = []byte("section_504_" + sex)
		default:
			for _, r := range dataset.RaceEthnicities {
				if r.Code == grp {
					c.race = []byte(r.Name)
				}
			}
			c.group = []byte(string(c.race) + "_" + sex + "_" + dis)
			if i, ok := totalIdx[g[1]+cat+g[5]]; ok {
				c.total = i
			}
		}
		c.disable = []byte(dis)
		m.cells = append(m.cells, c)
	}
}

func (m *crdcMapper) stats() *sourceStats { return &m.st }

func (m *crdcMapper) fills() []bool {
	s := m.spec
	out := make([]bool, s.schema.NumFields())
	out[s.col("nces_school_id")], out[s.col("school_name")] = true, true
	for _, f := range m.fte {
		out[f.col] = true
	}
	for _, f := range m.sums {
		out[f.col] = true
	}
	if s.name == dataset.Incidents {
		for _, c := range []string{"category", "student_group", "race_ethnicity", "sex", "disability", "english_learner", "count"} {
			out[s.col(c)] = true
		}
	}
	return out
}

func (m *crdcMapper) fail(at position, cell int, msg string) error {
	return &RowError{Source: m.ctx.source, Row: at.row, Line: at.line, Column: m.names[cell], Field: m.field(cell), Msg: msg}
}

// field names the dataset columns a selected cell feeds.
func (m *crdcMapper) field(cell int) string {
	name := func(c int) string { return m.spec.schema.Field(c).Name }
	switch cell {
	case m.cLEA:
		return "nces_lea_id"
	case m.cCombo, m.cSchID:
		return "nces_school_id"
	case m.cName:
		return "school_name"
	}
	for _, f := range m.fte {
		if f.cell == cell {
			return name(f.col)
		}
	}
	var fields []string
	for _, s := range m.sums {
		if slices.Contains(s.cells, cell) {
			fields = append(fields, name(s.col))
		}
	}
	for _, c := range m.cells {
		if c.cell == cell {
			fields = append(fields, fmt.Sprintf("count of %s, %s", c.category, c.group))
		}
	}
	return strings.Join(fields, ", ")
}

// column names the file's column a schema column is read from ("" when several or none).
func (m *crdcMapper) column(c int) string {
	for _, f := range m.fte {
		if f.col == c {
			return m.names[f.cell]
		}
	}
	return ""
}

// number reads a numeric CRDC cell: blank and reserve codes are null (reserve codes are
// counted); other negatives are errors.
func (m *crdcMapper) number(cell int, c []byte, whole bool) (value, string) {
	c = trim(c)
	if len(c) == 0 {
		return value{}, ""
	}
	if c[0] == '-' {
		f, ok := parseFloat(c)
		if ok && f == float64(int64(f)) && crdcReserve(int64(f)) {
			idx := slices.Index(reserveIndex[:], int64(f))
			m.reserve[cell][idx]++
			return value{}, ""
		}
		if !ok {
			return value{}, badNumber(c, "a number")
		}
		return value{}, fmt.Sprintf("%s is negative and not a CRDC reserve code", quoted(c))
	}
	if whole {
		n, msg := parseCount(c, nil)
		return value{ok: msg == "", i: n}, msg
	}
	f, msg := parseFTE(c)
	return value{ok: msg == "", f: f}, msg
}

func (m *crdcMapper) run(emit emitter) error {
	row := make([]value, m.spec.schema.NumFields())
	m.ctx.fill(m.spec, row)
	colID, colName := m.spec.col("nces_school_id"), m.spec.col("school_name")
	for m.t.next() {
		at := m.t.pos()
		cells := m.t.cells()
		switch lea := string(trim(cells[m.cLEA])); {
		case lea == m.ctx.lea:
		case m.leaShort != "" && lea == m.leaShort:
			m.repaired(repairLEAID)
		default:
			m.st.Dropped++ // a row the scanner could not skip early (LEAID quoted or last)
			continue
		}
		combo, err := m.schoolID(trim(cells[m.cCombo]), cells)
		if err != "" {
			return m.fail(at, m.cCombo, err)
		}
		id, _ := strconv.ParseUint(string(combo), 10, 64)
		if prev, dup := m.seen[id]; dup {
			return m.fail(at, m.cCombo, fmt.Sprintf("school %s is also on %s", combo, prev))
		}
		m.seen[id] = at
		name := trim(cells[m.cName])
		if v, msg := coerce(ruleText, name, "", nil); msg != "" {
			return m.fail(at, m.cName, msg)
		} else {
			row[colName] = value{ok: len(name) > 0, s: v.s}
		}
		row[colID] = value{ok: true, s: combo}
		if m.cJJ >= 0 {
			switch strings.ToLower(string(trim(cells[m.cJJ]))) {
			case "yes":
				m.st.JusticeFacilities = append(m.st.JusticeFacilities, string(combo))
			case "no", "":
			default:
				return m.fail(at, m.cJJ, fmt.Sprintf("%s is not Yes or No", quoted(cells[m.cJJ])))
			}
		}
		m.st.Kept++
		var rerr error
		if m.spec.name == dataset.Staffing {
			rerr = m.staffingRow(row, cells, at, emit)
		} else {
			rerr = m.incidentRows(row, cells, at, combo, emit)
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := m.t.err(); err != nil {
		return err
	}
	m.st.Dropped += int64(m.t.dropped())
	m.st.Rows = m.st.Kept + m.st.Dropped
	m.st.ReserveCodes = m.reserveCounts()
	return nil
}

func (m *crdcMapper) staffingRow(row []value, cells [][]byte, at position, emit emitter) error {
	for _, f := range m.fte {
		v, msg := m.number(f.cell, cells[f.cell], false)
		if msg != "" {
			return m.fail(at, f.cell, msg)
		}
		row[f.col] = v
	}
	// Parse each count cell once (a cell such as TOT_ENR_M feeds two sums, and its
	// reserve code must be counted once).
	for _, c := range m.countCells {
		v, msg := m.number(c, cells[c], true)
		if msg != "" {
			return m.fail(at, c, msg)
		}
		m.counts[c] = v
	}
	for _, s := range m.sums {
		sum := value{ok: true}
		for k, c := range s.cells {
			switch v := m.counts[c]; {
			case v.ok:
				sum.i += v.i
			case !s.optional[k]:
				sum.ok = false
			}
		}
		if !sum.ok {
			sum.i = 0
		}
		row[s.col] = sum
	}
	if msg, name := implausibleFTE(m.spec, row); msg != "" {
		for _, f := range m.fte {
			if m.spec.schema.Field(f.col).Name == name {
				return m.fail(at, f.cell, msg)
			}
		}
	}
	m.st.Emitted++
	return emit(row, at)
}

func (m *crdcMapper) incidentRows(row []value, cells [][]byte, at position, combo []byte, emit emitter) error {
	cCat, cGroup, cRace, cSex, cDis, cEL, cCount := m.ic[0], m.ic[1], m.ic[2], m.ic[3], m.ic[4], m.ic[5], m.ic[6]
	for i := range m.totals {
		m.sumOf[i], m.known[i] = 0, true
	}
	for _, c := range m.cells {
		v, msg := m.number(c.cell, cells[c.cell], true)
		if msg != "" {
			return m.fail(at, c.cell, msg)
		}
		if c.total >= 0 {
			m.sumOf[c.total] += v.i
			m.known[c.total] = m.known[c.total] && v.ok
		}
		row[cCat] = value{ok: true, s: c.category}
		row[cGroup] = value{ok: true, s: c.group}
		row[cRace] = value{ok: c.race != nil, s: c.race}
		row[cSex] = value{ok: true, s: c.sex}
		row[cDis] = value{ok: true, s: c.disable}
		row[cEL] = value{ok: c.englishLearner, i: 1}
		row[cCount] = v
		m.st.Emitted++
		if err := emit(row, at); err != nil {
			return err
		}
	}
	for i, t := range m.totals {
		v, msg := m.number(t.cell, cells[t.cell], true)
		if msg != "" {
			return m.fail(at, t.cell, msg)
		}
		if v.ok && m.known[i] && v.i != m.sumOf[i] && len(m.st.TotalMismatches) < 100 {
			m.st.TotalMismatches = append(m.st.TotalMismatches,
				fmt.Sprintf("school %s %s: total %d, cells add up to %d", combo, t.column, v.i, m.sumOf[i]))
		}
	}
	return nil
}

// reserveCounts returns the reserve codes seen, per column and code.
func (m *crdcMapper) reserveCounts() map[string]map[int]int64 {
	out := map[string]map[int]int64{}
	for cell, counts := range m.reserve {
		for k, n := range counts {
			if n == 0 {
				continue
			}
			if out[m.names[cell]] == nil {
				out[m.names[cell]] = map[int]int64{}
			}
			out[m.names[cell]][int(reserveIndex[k])] = n
		}
	}
	return out
}

// Kinds of repair, as the manifest counts them.
const (
	repairLEAID    = "leaidPadded"
	repairCombokey = "combokeyRebuilt"
)

func (m *crdcMapper) repaired(kind string) {
	if m.st.Repairs == nil {
		m.st.Repairs = map[string]int64{}
	}
	m.st.Repairs[kind]++
}

// schoolID returns a row's 12-digit COMBOKEY. One in Excel's scientific notation
// (1.00005E+10) or of the wrong length (a lost leading zero) is rebuilt from the district's
// 7-digit LEAID and the row's 5-digit SCHID, when what is left of it agrees with them.
func (m *crdcMapper) schoolID(combo []byte, cells [][]byte) ([]byte, string) {
	lea := m.ctx.lea
	if allDigits(combo, 12) {
		if string(combo[:7]) != lea {
			return nil, fmt.Sprintf("%s is not a 12-digit NCES school id of district %s", quoted(combo), lea)
		}
		return combo, ""
	}
	bad := fmt.Sprintf("%s is not a 12-digit NCES school id of district %s", quoted(combo), lea)
	if m.cSchID < 0 {
		return nil, bad + " (and the file has no SCHID column to rebuild it from)"
	}
	sch := trim(cells[m.cSchID])
	if len(sch) == 0 || len(sch) > 5 || !allDigits(sch, len(sch)) {
		return nil, bad + fmt.Sprintf(" (and SCHID %s is not a 5-digit school id to rebuild it from)", quoted(sch))
	}
	m.combo = append(append(m.combo[:0], lea...), strings.Repeat("0", 5-len(sch))...)
	m.combo = append(m.combo, sch...)
	if !damagedKey(combo, m.combo) {
		return nil, bad + fmt.Sprintf(" (nor the LEAID and SCHID %s of the row, damaged)", m.combo)
	}
	m.repaired(repairCombokey)
	return m.combo, ""
}

// damagedKey says whether combo is want with its leading zeros lost, or want in
// scientific notation rounded to the digits it shows.
func damagedKey(combo, want []byte) bool {
	if len(combo) > 0 && len(combo) < 12 && allDigits(combo, len(combo)) {
		return strings.Repeat("0", 12-len(combo))+string(combo) == string(want)
	}
	mant, exp, ok := strings.Cut(strings.ToUpper(string(combo)), "E")
	if !ok {
		return false
	}
	f, err1 := strconv.ParseFloat(string(combo), 64)
	e, err2 := strconv.Atoi(strings.TrimPrefix(exp, "+"))
	w, err3 := strconv.ParseFloat(string(want), 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return false
	}
	decimals := 0
	if _, frac, ok := strings.Cut(mant, "."); ok {
		decimals = len(frac)
	}
	return math.Abs(f-w) <= 0.5*math.Pow(10, float64(e-decimals))
}
