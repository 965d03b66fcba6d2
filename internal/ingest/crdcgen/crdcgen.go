// Package crdcgen writes synthetic Civil Rights Data Collection school files in the layout the
// Department of Education published for a collection (2015-16: one wide School Data file;
// 2017-18, 2020-21, 2021-22: School Support.csv, Enrollment.csv, Referrals and Arrests.csv):
// the real header of that year (layouts/, copied from the published record layouts), the
// year's reserve codes, justice-facility (JJ=Yes) rows, leading-zero LEAIDs, quoted school
// names with commas, CRLF line endings and a UTF-8 BOM, and on request the documented damage
// of the 2015-16 file (LEAIDs without their leading zero, COMBOKEYs in scientific notation,
// Windows-1252 text). The numbers are made up. It makes test fixtures and benchmark inputs;
// the same options and seed give the same schools in every kind of file, so the files join
// on COMBOKEY.
//
// Layouts: the 2015-16 header is exact; 2017-18's are the 2015-16 modules (names exact);
// 2020-21 School Support and the 2021-22 files are reconstructed from the documentation
// (2021-22 Enrollment is the subset of its 233 columns that is known by name); 2020-21
// Enrollment and Referrals and Arrests, for which no header was at hand, are written as
// 2017-18's.
package crdcgen

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kind is which CRDC school file to write.
type Kind string

// Kinds of file. In 2015-16 every kind is the one wide School Data file.
const (
	Support    Kind = "support"
	Enrollment Kind = "enrollment"
	Arrests    Kind = "arrests"
)

// Years are the collections whose layouts crdcgen writes.
var Years = []string{"2015-16", "2017-18", "2020-21", "2021-22"}

//go:embed layouts/*.csv
var layouts embed.FS

// ReserveCodes are the CRDC's reserve codes ("not applicable", "suppressed", ...).
var ReserveCodes = []int{-2, -3, -4, -5, -6, -7, -8, -9, -11, -12, -13}

// reserveCodes are the codes the user's manual of a year lists.
func reserveCodes(year string) []int {
	switch year {
	case "2015-16":
		return []int{-2, -5, -6, -7, -8, -9}
	case "2017-18":
		return []int{-3, -5, -6, -8, -9, -11}
	case "2020-21":
		return []int{-3, -4, -5, -6, -8, -9, -11, -13}
	}
	return []int{-3, -4, -5, -6, -9, -12, -13}
}

// Header returns the published header of a year's file.
func Header(year string, k Kind) ([]string, error) {
	name := year + "-" + string(k) + ".csv"
	switch {
	case year == "2015-16":
		name = "2015-16-school-data.csv"
	case year == "2020-21" && k != Support:
		name = "2017-18-" + string(k) + ".csv"
	}
	b, err := layouts.ReadFile("layouts/" + name)
	if err != nil {
		return nil, fmt.Errorf("no %s layout of %s", k, year)
	}
	return strings.Split(strings.TrimSpace(string(b)), ","), nil
}

// Races are the CRDC race/ethnicity codes in the order of the published columns.
var Races = []string{"HI", "AM", "AS", "HP", "BL", "WH", "TR"}

// Options say what to write.
type Options struct {
	Kind Kind
	// Year is the collection whose layout to write (see Years).
	Year string
	// Schools is the number of school rows in the file.
	Schools int
	// Districts is the number of districts the schools belong to (at least 1).
	Districts int
	// LEAID is the 7-digit id of the district tests keep; it gets its share of schools.
	LEAID string
	// DistrictName names that district.
	DistrictName string
	Seed         uint64
	// BOM writes a UTF-8 byte order mark first; CRLF ends lines with \r\n.
	BOM  bool
	CRLF bool
	// Damage writes the documented damage of the published 2015-16 file: LEAIDs that
	// lost their leading zero (and COMBOKEYs with them), and one COMBOKEY in five in
	// Excel's scientific notation (1.00005E+10).
	Damage bool
	// Windows1252 writes the school names with accents in Windows-1252, not UTF-8.
	Windows1252 bool
	// ReserveRate is the share of count and FTE cells holding a reserve code.
	ReserveRate float64
	// JJRate is the share of schools that are justice facilities (JJ=Yes).
	JJRate float64
}

// Defaults are the options of a published-like file.
func Defaults() Options {
	return Options{
		Kind: Support, Year: "2020-21", Schools: 100, Districts: 1, LEAID: "5508520",
		DistrictName: "Madison Metropolitan School District", Seed: 1,
		BOM: true, CRLF: true, ReserveRate: 0.03, JJRate: 0.01,
	}
}

// Stats describe a written file.
type Stats struct {
	Rows int
	// DistrictRows is the number of rows of the LEAID district.
	DistrictRows int
	Bytes        int64
}

// school is one generated school, the same in every kind of file.
type school struct {
	state, stateName, leaid, leaName string
	schid, name                      string
	jj                               bool
	enrollment                       int
}

// Generate writes one file.
func Generate(w io.Writer, o Options) (Stats, error) {
	if err := o.check(); err != nil {
		return Stats{}, err
	}
	h, err := Header(o.Year, o.Kind)
	if err != nil {
		return Stats{}, err
	}
	g := &gen{o: o, cw: &countWriter{w: w}, header: h, codes: reserveCodes(o.Year)}
	g.classify()
	g.bw = bufio.NewWriterSize(g.cw, 1<<20)
	schools := o.schools()
	if o.BOM {
		g.bw.WriteString("\uFEFF")
	}
	g.writeHeader()
	st := Stats{}
	vals := rand.New(rand.NewPCG(o.Seed, uint64(len(o.Kind))*7919+17))
	for i := range schools {
		g.writeRow(&schools[i], vals)
		st.Rows++
		if schools[i].leaid == o.LEAID {
			st.DistrictRows++
		}
	}
	if err := g.bw.Flush(); err != nil {
		return st, fmt.Errorf("writing CRDC file: %w", err)
	}
	st.Bytes = g.cw.n
	return st, nil
}

func (o Options) check() error {
	switch o.Kind {
	case Support, Enrollment, Arrests:
	default:
		return fmt.Errorf("kind %q is not support, enrollment or arrests", o.Kind)
	}
	if !slices.Contains(Years, o.Year) {
		return fmt.Errorf("year %q is not one of %s", o.Year, strings.Join(Years, ", "))
	}
	if o.Schools < 1 || o.Districts < 1 || o.Districts > o.Schools {
		return fmt.Errorf("need 1 <= districts (%d) <= schools (%d)", o.Districts, o.Schools)
	}
	if len(o.LEAID) != 7 || strings.Trim(o.LEAID, "0123456789") != "" {
		return fmt.Errorf("leaid %q is not 7 digits", o.LEAID)
	}
	if (o.Schools+o.Districts-1)/o.Districts > 100000 {
		return fmt.Errorf("at most 100000 schools per district (SCHID has 5 digits)")
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type gen struct {
	o      Options
	cw     *countWriter
	bw     *bufio.Writer
	buf    []byte
	header []string
	codes  []int
	// cols says how each column after the 8 id columns is filled.
	cols []column
	// per row
	enr    map[string]int
	totals map[string]int
}

// column is how one column is filled.
type column struct {
	fill fill
	// key finds the value in the row's enrollment or the total a cell adds to.
	key string
	max int
}

type fill uint8

const (
	fillOther      fill = iota // a column the preset does not read: -9
	fillFTE                    // an FTE figure up to max hundredths
	fillTeachers               // teacher FTE, by enrollment
	fillCount                  // a head count up to max
	fillEnrollment             // a cell of the row's enrollment
	fillDiscipline             // a small count, added to the total key
	fillTotal                  // the sum of the cells of key
)

var (
	enrCell  = regexp.MustCompile(`^(SCH|TOT)_ENR_(?:([A-Z0-9]+)_)?(M|F|X)$`)
	discCell = regexp.MustCompile(`^SCH_DISCW(O?)DIS_(REF|ARR)_(IDEA_)?([A-Z0-9]+)_(M|F|X)$`)
	discTot  = regexp.MustCompile(`^TOT_DISCW(O?)DIS_(REF|ARR)_(IDEA_)?(M|F|X)$`)
	fteMax   = map[string]int{"SCH_FTECOUNSELORS": 400, "SCH_FTESERVICES_NUR": 200, "SCH_FTESERVICES_PSY": 200,
		"SCH_FTESERVICES_SOC": 200, "SCH_FTESECURITY_LEO": 300, "SCH_FTESECURITY_GUA": 400}
)

// classify decides how each column is filled.
func (g *gen) classify() {
	isRace := func(code string) bool { return slices.Contains(Races, code) }
	for _, c := range g.header[8:] {
		col := column{}
		switch m := enrCell.FindStringSubmatch(c); {
		case fteMax[c] > 0:
			col = column{fill: fillFTE, max: fteMax[c]}
		case strings.HasPrefix(c, "SCH_FTETEACH_"):
			col = column{fill: fillTeachers}
		case strings.HasPrefix(c, "SCH_TEACHERS_") || strings.HasPrefix(c, "TOT_TEACHERS_"):
			col = column{fill: fillCount, max: 80}
		case m != nil:
			col = column{fill: fillEnrollment, key: m[1] + "_" + m[2] + "_" + m[3]}
		default:
			if d := discCell.FindStringSubmatch(c); d != nil {
				col = column{fill: fillDiscipline}
				if isRace(d[4]) {
					col.key = d[1] + d[2] + d[3] + d[5]
				}
			} else if d := discTot.FindStringSubmatch(c); d != nil {
				col = column{fill: fillTotal, key: d[1] + d[2] + d[3] + d[4]}
			}
		}
		g.cols = append(g.cols, col)
	}
}

// States by FIPS code (the first two digits of an LEAID).
var states = []struct{ fips, code, name string }{
	{"01", "AL", "Alabama"}, {"02", "AK", "Alaska"}, {"04", "AZ", "Arizona"}, {"05", "AR", "Arkansas"},
	{"06", "CA", "California"}, {"08", "CO", "Colorado"}, {"09", "CT", "Connecticut"},
	{"10", "DE", "Delaware"}, {"12", "FL", "Florida"}, {"13", "GA", "Georgia"}, {"17", "IL", "Illinois"},
	{"18", "IN", "Indiana"}, {"19", "IA", "Iowa"}, {"26", "MI", "Michigan"}, {"27", "MN", "Minnesota"},
	{"36", "NY", "New York"}, {"39", "OH", "Ohio"}, {"48", "TX", "Texas"}, {"53", "WA", "Washington"},
	{"55", "WI", "Wisconsin"},
}

func stateOf(leaid string) (code, name string) {
	for _, s := range states {
		if s.fips == leaid[:2] {
			return s.code, s.name
		}
	}
	return "ZZ", "Unknown"
}

var (
	nameStems = []string{"Lincoln", "Washington", "Jefferson", "Roosevelt", "Franklin", "Madison",
		"Lakeview", "Riverside", "Hillcrest", "Oak Grove", "Cedar Ridge", "Maple", "Sunset", "Prairie"}
	nameKinds = []string{"Elementary School", "Middle School", "High School", "Academy",
		"Charter School", "Elementary", "Intermediate School"}
)

// schools lays out the districts and their schools, sorted by LEAID as published.
func (o Options) schools() []school {
	r := rand.New(rand.NewPCG(o.Seed, 1))
	leaids := map[string]bool{o.LEAID: true}
	ids := []string{o.LEAID}
	for len(ids) < o.Districts {
		s := states[r.IntN(len(states))]
		id := fmt.Sprintf("%s%05d", s.fips, r.IntN(100000))
		if !leaids[id] {
			leaids[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	per, extra := o.Schools/o.Districts, o.Schools%o.Districts
	out := make([]school, 0, o.Schools)
	for d, id := range ids {
		n := per
		if d < extra {
			n++
		}
		code, sname := stateOf(id)
		lea := fmt.Sprintf("District %s", id)
		if id == o.LEAID && o.DistrictName != "" {
			lea = o.DistrictName
		} else if r.IntN(10) == 0 {
			lea = fmt.Sprintf("%s, %s Unified", nameStems[r.IntN(len(nameStems))], code)
		}
		first := 1 // SCHIDs start at 00001, or 00000 when a district has 100000 schools
		if n > 99999 {
			first = 0
		}
		for k := range n {
			s := school{state: code, stateName: sname, leaid: id, leaName: lea,
				schid: fmt.Sprintf("%05d", k+first)}
			s.name = nameStems[r.IntN(len(nameStems))] + " " + nameKinds[r.IntN(len(nameKinds))]
			switch k % 12 { // every district has names that need quoting
			case 1:
				s.name += ", North Campus"
			case 2:
				s.name = `The "` + nameStems[r.IntN(len(nameStems))] + `" Academy`
			case 3:
				s.name = "Cañon " + s.name
			}
			s.jj = r.Float64() < o.JJRate
			s.enrollment = 50 + r.IntN(1950)
			out = append(out, s)
		}
	}
	return out
}

func (g *gen) eol() {
	if g.o.CRLF {
		g.bw.WriteString("\r\n")
	} else {
		g.bw.WriteByte('\n')
	}
}

func (g *gen) writeHeader() {
	g.bw.WriteString(strings.Join(g.header, ","))
	g.eol()
}

// text appends a CSV field, quoting it when needed.
func text(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func (g *gen) writeRow(s *school, r *rand.Rand) {
	b := g.buf[:0]
	leaid, combo := s.leaid, s.leaid+s.schid
	if g.o.Damage && leaid[0] == '0' {
		leaid, combo = leaid[1:], combo[1:]
	}
	if g.o.Damage && r.IntN(5) == 0 {
		n, _ := strconv.ParseFloat(combo, 64) // the ids are digits
		combo = fmt.Sprintf("%.5E", n)
	}
	name := s.name
	if g.o.Windows1252 {
		name = strings.ReplaceAll(strings.ReplaceAll(name, "ñ", "\xf1"), "é", "\xe9")
	}
	for i, v := range []string{s.state, s.stateName, leaid, s.leaName, s.schid, name, combo} {
		if i > 0 {
			b = append(b, ',')
		}
		b = text(b, v)
	}
	if s.jj {
		b = append(b, ",Yes"...)
	} else {
		b = append(b, ",No"...)
	}
	g.rowValues(s, r)
	for _, c := range g.cols {
		switch c.fill {
		case fillOther:
			b = append(b, ",-9"...)
		case fillFTE:
			b = g.fte(b, r, c.max)
		case fillTeachers:
			b = g.fte(b, r, s.enrollment*100/16)
		case fillCount:
			b = g.count(b, r, r.IntN(c.max))
		case fillEnrollment:
			b = g.count(b, r, g.enr[c.key])
		case fillDiscipline:
			v := 0
			if r.IntN(4) == 0 {
				v = r.IntN(6)
			}
			b = g.count(b, r, v)
			if c.key != "" {
				g.totals[c.key] += v
			}
		case fillTotal:
			b = g.count(b, r, g.totals[c.key])
		}
	}
	g.buf = b
	g.bw.Write(b)
	g.eol()
}

// rowValues draws a school's enrollment by race and sex (adding up to its enrollment) and
// by group, and clears the discipline totals.
func (g *gen) rowValues(s *school, r *rand.Rand) {
	if g.enr == nil {
		g.enr, g.totals = map[string]int{}, map[string]int{}
	}
	clear(g.enr)
	clear(g.totals)
	nonbinary := g.o.Year == "2021-22"
	races := split(r, s.enrollment, len(Races), nil)
	for i, n := range races {
		m := n / 2
		f, x := n-m, 0
		if nonbinary && f > 3 && r.IntN(20) == 0 {
			f, x = f-1, 1
		}
		for k, sex := range []string{"M", "F", "X"} {
			v := []int{m, f, x}[k]
			g.enr["SCH_"+Races[i]+"_"+sex] = v
			g.enr["TOT__"+sex] += v
		}
	}
	for _, grp := range []string{"LEP", "EL", "504", "IDEA"} {
		parts := split(r, s.enrollment/8, 3, nil)
		for i, sex := range []string{"M", "F", "X"} {
			v := parts[i]
			if sex == "X" && !nonbinary {
				v = 0
			}
			g.enr["SCH_"+grp+"_"+sex] = v
		}
	}
}

// reserve appends a reserve code of the year instead of a value with probability ReserveRate.
func (g *gen) reserve(b []byte, r *rand.Rand) ([]byte, bool) {
	if r.Float64() >= g.o.ReserveRate {
		return b, false
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.codes[r.IntN(len(g.codes))]), 10)
	return b, true
}

// fte appends an FTE cell: hundredths, sometimes a whole number, sometimes a reserve code.
func (g *gen) fte(b []byte, r *rand.Rand, maxHundredths int) []byte {
	if b, ok := g.reserve(b, r); ok {
		return b
	}
	b = append(b, ',')
	v := r.IntN(maxHundredths + 1)
	if r.IntN(3) == 0 {
		v -= v % 100
	}
	b = strconv.AppendInt(b, int64(v/100), 10)
	if v%100 != 0 {
		b = append(b, '.')
		if v%100 < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, int64(v%100), 10)
	}
	return b
}

func (g *gen) count(b []byte, r *rand.Rand, v int) []byte {
	if b, ok := g.reserve(b, r); ok {
		return b
	}
	b = append(b, ',')
	return strconv.AppendInt(b, int64(v), 10)
}

// split divides total into n random parts.
func split(r *rand.Rand, total, n int, out []int) []int {
	out = out[:0]
	left := total
	for i := range n {
		if i == n-1 {
			out = append(out, left)
			break
		}
		v := 0
		if left > 0 {
			v = r.IntN(left/2 + 1)
		}
		out = append(out, v)
		left -= v
	}
	return out
}

// District is one district of a generated file.
type District struct {
	LEAID, Name, State string
	// Schools is how many rows of the file are the district's.
	Schools int
}

// Districts lists the districts a file made with o holds, in the file's order (by LEAID),
// so that a benchmark can declare one DistrictSource for each.
func Districts(o Options) ([]District, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	var out []District
	for _, s := range o.schools() {
		if n := len(out); n > 0 && out[n-1].LEAID == s.leaid {
			out[n-1].Schools++
			continue
		}
		out = append(out, District{LEAID: s.leaid, Name: s.leaName, State: s.state, Schools: 1})
	}
	return out, nil
}
