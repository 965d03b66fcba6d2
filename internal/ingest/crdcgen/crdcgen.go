// Package crdcgen writes synthetic Civil Rights Data Collection school files in the layout the
// Department of Education publishes (School Support.csv, Enrollment.csv, Referrals and
// Arrests.csv): the real header names, reserve codes, justice-facility (JJ=Yes) rows,
// leading-zero LEAIDs, quoted school names with commas, CRLF line endings and a UTF-8 BOM.
// It makes test fixtures and benchmark inputs; the same options and seed give the same
// schools in every kind of file, so the files join on COMBOKEY.
package crdcgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Kind is which CRDC school file to write.
type Kind string

// Kinds of file.
const (
	Support    Kind = "support"
	Enrollment Kind = "enrollment"
	Arrests    Kind = "arrests"
)

// ReserveCodes are the CRDC's reserve codes ("not applicable", "suppressed", ...).
var ReserveCodes = []int{-2, -3, -4, -5, -6, -7, -8, -9, -11, -12, -13}

// Races are the CRDC race/ethnicity codes in the order of the published columns.
var Races = []string{"HI", "AM", "AS", "HP", "BL", "WH", "TR"}

// Options say what to write.
type Options struct {
	Kind Kind
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
	// NonBinary writes the _X (nonbinary) columns of the 2021-22 collection.
	NonBinary bool
	// ReserveRate is the share of count and FTE cells holding a reserve code.
	ReserveRate float64
	// JJRate is the share of schools that are justice facilities (JJ=Yes).
	JJRate float64
}

// Defaults are the options of a published-like file.
func Defaults() Options {
	return Options{
		Kind: Support, Schools: 100, Districts: 1, LEAID: "5508520",
		DistrictName: "Madison Metropolitan School District", Seed: 1,
		BOM: true, CRLF: true, NonBinary: true, ReserveRate: 0.03, JJRate: 0.01,
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
	g := &gen{o: o, cw: &countWriter{w: w}}
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
	o   Options
	cw  *countWriter
	bw  *bufio.Writer
	buf []byte
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
			}
			s.jj = r.Float64() < o.JJRate
			s.enrollment = 50 + r.IntN(1950)
			out = append(out, s)
		}
	}
	return out
}

// header returns the column names of the file.
func (g *gen) header() []string {
	h := []string{"LEA_STATE", "LEA_STATE_NAME", "LEAID", "LEA_NAME", "SCHID", "SCH_NAME", "COMBOKEY", "JJ"}
	sexes := g.sexes()
	switch g.o.Kind {
	case Support:
		h = append(h, "SCH_FTETEACH_TOT", "SCH_FTETEACH_CERT", "SCH_FTETEACH_NOTCERT",
			"SCH_FTETEACH_FY", "SCH_FTETEACH_SY", "SCH_FTETEACH_ABSENT",
			"SCH_FTECOUNSELORS", "SCH_FTESERVICES_NUR", "SCH_FTESERVICES_PSY", "SCH_FTESERVICES_SOC",
			"SCH_FTESECURITY_LEO", "SCH_FTESECURITY_GUA", "SCH_FTESECURITY_IND",
			"SCH_FTE_AIDES", "SCH_FTE_LIBRARIANS")
	case Enrollment:
		for _, r := range Races {
			for _, s := range sexes {
				h = append(h, "SCH_ENR_"+r+"_"+s)
			}
		}
		for _, s := range sexes {
			h = append(h, "TOT_ENR_"+s)
		}
		for _, grp := range []string{"LEP", "504", "IDEA"} {
			for _, s := range sexes {
				h = append(h, "SCH_ENR_"+grp+"_"+s)
			}
		}
		for _, s := range sexes {
			h = append(h, "SCH_LEPPROGENR_"+s)
		}
	case Arrests:
		for _, cat := range []string{"REF", "ARR"} {
			for _, grp := range append(slices.Clone(Races), "LEP", "504") {
				for _, s := range sexes {
					h = append(h, "SCH_DISCWODIS_"+cat+"_"+grp+"_"+s)
				}
			}
			for _, s := range sexes {
				h = append(h, "TOT_DISCWODIS_"+cat+"_"+s)
			}
			for _, grp := range append(slices.Clone(Races), "LEP") {
				for _, s := range sexes {
					h = append(h, "SCH_DISCWDIS_"+cat+"_IDEA_"+grp+"_"+s)
				}
			}
			for _, s := range sexes {
				h = append(h, "TOT_DISCWDIS_"+cat+"_IDEA_"+s)
			}
		}
	}
	return h
}

func (g *gen) sexes() []string {
	if g.o.NonBinary {
		return []string{"M", "F", "X"}
	}
	return []string{"M", "F"}
}

func (g *gen) eol() {
	if g.o.CRLF {
		g.bw.WriteString("\r\n")
	} else {
		g.bw.WriteByte('\n')
	}
}

func (g *gen) writeHeader() {
	g.bw.WriteString(strings.Join(g.header(), ","))
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
	b = text(b, s.state)
	b = append(b, ',')
	b = text(b, s.stateName)
	b = append(b, ',')
	b = append(b, s.leaid...)
	b = append(b, ',')
	b = text(b, s.leaName)
	b = append(b, ',')
	b = append(b, s.schid...)
	b = append(b, ',')
	b = text(b, s.name)
	b = append(b, ',')
	b = append(b, s.leaid...)
	b = append(b, s.schid...)
	if s.jj {
		b = append(b, ",Yes"...)
	} else {
		b = append(b, ",No"...)
	}
	switch g.o.Kind {
	case Support:
		b = g.supportCells(b, s, r)
	case Enrollment:
		b = g.enrollmentCells(b, s, r)
	case Arrests:
		b = g.arrestCells(b, r)
	}
	g.buf = b
	g.bw.Write(b)
	g.eol()
}

// reserve appends a reserve code instead of a value with probability ReserveRate.
func (g *gen) reserve(b []byte, r *rand.Rand) ([]byte, bool) {
	if r.Float64() >= g.o.ReserveRate {
		return b, false
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(ReserveCodes[r.IntN(len(ReserveCodes))]), 10)
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

func (g *gen) supportCells(b []byte, s *school, r *rand.Rand) []byte {
	teachers := s.enrollment * 100 / 16
	for range 6 {
		b = g.fte(b, r, teachers)
	}
	for _, max := range []int{400, 200, 200, 200, 300, 400, 200, 800, 100} {
		b = g.fte(b, r, max)
	}
	return b
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

func (g *gen) enrollmentCells(b []byte, s *school, r *rand.Rand) []byte {
	nsex := len(g.sexes())
	var parts, sex []int
	races := split(r, s.enrollment, len(Races), nil)
	totals := make([]int, nsex)
	for _, n := range races {
		sex = sex[:0]
		m := n / 2
		sex = append(sex, m, n-m)
		if nsex == 3 {
			x := 0
			if n-m > 3 && r.IntN(20) == 0 {
				x = 1
			}
			sex[1] -= x
			sex = append(sex, x)
		}
		for i, v := range sex {
			b = g.count(b, r, v)
			totals[i] += v
		}
	}
	for _, t := range totals {
		b = g.count(b, r, t)
	}
	for range 4 { // LEP, 504, IDEA, LEP program
		parts = split(r, s.enrollment/8, nsex, parts)
		for _, v := range parts {
			b = g.count(b, r, v)
		}
	}
	return b
}

func (g *gen) arrestCells(b []byte, r *rand.Rand) []byte {
	nsex := len(g.sexes())
	small := func() int {
		if r.IntN(4) != 0 {
			return 0
		}
		return r.IntN(6)
	}
	for range 2 { // REF, ARR
		totals := make([]int, nsex)
		for grp := range len(Races) + 2 { // races, then LEP and 504 (not in the total)
			for i := range nsex {
				v := small()
				b = g.count(b, r, v)
				if grp < len(Races) {
					totals[i] += v
				}
			}
		}
		for _, t := range totals {
			b = g.count(b, r, t)
		}
		for i := range totals {
			totals[i] = 0
		}
		for grp := range len(Races) + 1 { // races, then LEP
			for i := range nsex {
				v := small()
				b = g.count(b, r, v)
				if grp < len(Races) {
					totals[i] += v
				}
			}
		}
		for _, t := range totals {
			b = g.count(b, r, t)
		}
	}
	return b
}
