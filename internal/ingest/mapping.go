package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/districtlake/districtlake/internal/dataset"
)

// binding is a canonical field read from one source column.
type binding struct {
	f      field
	column string // the source's column name
	mapped bool   // named in the plan's column map
}

// emitter receives canonical rows. A row's strings may borrow the reader's buffers: an
// emitter that keeps a row copies it.
type emitter func(r []value, at position) error

// rowMapper turns the rows of a table into canonical rows.
type rowMapper interface {
	// run reads every row of the table and emits its canonical rows.
	run(emit emitter) error
	// stats describe what was read.
	stats() *sourceStats
	// fills says which schema columns the mapper may set (besides the plan's).
	fills() []bool
	// column names the source column schema column c is read from ("" when none).
	column(c int) string
}

// sourceStats describe one source's rows, for the manifest and the summary.
type sourceStats struct {
	// Rows is data rows read (all districts); Dropped those of other districts; Kept the
	// district's rows; Emitted canonical rows produced.
	Rows, Dropped, Kept, Emitted int64
	// ReserveCodes counts CRDC reserve codes per source column and code.
	ReserveCodes map[string]map[int]int64
	// JusticeFacilities lists the COMBOKEYs of JJ=Yes schools kept (CRDC).
	JusticeFacilities []string
	// TotalMismatches lists CRDC rows whose TOT_ column differs from the sum of its cells.
	TotalMismatches []string
	// CRDCFile is the CRDC layout the header was recognised as ("2020-21 School Support").
	CRDCFile string
	// Unmapped are the file's columns the CRDC preset did not read, in header order.
	Unmapped []string
	// Repairs counts the CRDC repairs of documented damage, by kind.
	Repairs map[string]int64
}

// context of a source: the plan's constants that every row gets.
type rowContext struct {
	source     string
	lea        string
	leaBytes   []byte
	state      []byte
	district   []byte
	schoolYear []byte // nil when the source has none (contracts)
	runID      []byte
	ingested   int64 // microseconds since the epoch
	// tempDir and keysInMemory set up the duplicate-key check (see keySet).
	tempDir      string
	keysInMemory int
}

// fill sets the plan's columns of a row.
func (c *rowContext) fill(s *spec, r []value) {
	r[s.colState] = value{ok: true, s: c.state}
	r[s.colLEA] = value{ok: true, s: c.leaBytes}
	r[s.colDistrict] = value{ok: true, s: c.district}
	r[s.colYear] = value{ok: c.schoolYear != nil, s: c.schoolYear}
	r[s.colSource] = value{ok: true, s: []byte(c.source)}
	r[s.colRunID] = value{ok: true, s: c.runID}
	r[s.colIngested] = value{ok: true, i: c.ingested}
}

// constants returns the plan's columns of a dataset with their values.
func (c *rowContext) constants(s *spec) map[int]value {
	row := make([]value, s.schema.NumFields())
	c.fill(s, row)
	out := map[int]value{}
	for _, i := range []int{s.colState, s.colLEA, s.colDistrict, s.colYear, s.colSource, s.colRunID, s.colIngested} {
		out[i] = row[i]
	}
	return out
}

// genericMapper maps csv, json, ndjson and parquet sources through the column map.
type genericMapper struct {
	ctx   *rowContext
	spec  *spec
	t     table
	binds []binding
	lea   int // binding index of nces_lea_id, or -1
	st    sourceStats
	keys  *keySet
	key   []byte
	tmp   []byte
	// cols are the contracts columns the row rules compare: start_date, end_date,
	// annual_cost, district_share, agency_share.
	cols []int
}

// bindColumns resolves the column map against a table: every field in the map must name a
// column; other fields are read from a column of their own name when there is one.
// Columns a dataset requires must be found (for json, they are checked on every row).
func bindColumns(source string, s *spec, columns map[string]string, header []string) ([]binding, error) {
	var unknown []string
	for k := range columns {
		if _, ok := s.field(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, &SourceError{Source: source, Err: fmt.Errorf("columns: %s not a field of the %s dataset (fields: %s)",
			quoteList(unknown, "is", "are"), s.name, s.fieldNames())}
	}
	var binds []binding
	var missing []string
	for _, f := range s.fields {
		col, mapped := columns[f.name]
		if !mapped {
			col = f.name
		}
		if header != nil {
			found, ok := findColumn(header, col)
			if !ok {
				if mapped {
					missing = append(missing, fmt.Sprintf("%s (for %s)", quoteName(col), f.name))
				} else if slices.Contains(s.requiredColumns, f.name) {
					missing = append(missing, quoteName(col))
				}
				continue
			}
			col = found
		}
		binds = append(binds, binding{f: f, column: col, mapped: mapped})
	}
	if len(missing) > 0 {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("missing required column%s %s (the header has: %s)",
			plural(len(missing)), strings.Join(missing, ", "), headerNames(header))}
	}
	return binds, nil
}

// Limits on the header names a message quotes: the header is the fetched file's first
// line, so a message shows only a few names, short and escaped, never the whole line.
const (
	maxQuotedNames   = 12
	maxQuotedNameLen = 40
)

// headerNames lists a header's first names for a message, each quoted short.
func headerNames(header []string) string {
	names := make([]string, 0, min(len(header), maxQuotedNames)+1)
	for i, h := range header {
		if i == maxQuotedNames {
			names = append(names, fmt.Sprintf("and %d more", len(header)-i))
			break
		}
		names = append(names, quoteName(h))
	}
	return strings.Join(names, ", ")
}

// quoteName quotes a name from a fetched file (a header's column) for a message: escaped
// and at most maxQuotedNameLen bytes.
func quoteName(n string) string {
	if len(n) > maxQuotedNameLen {
		return strconv.Quote(strings.ToValidUTF8(n[:maxQuotedNameLen], "")) + "…"
	}
	return strconv.Quote(n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteList(names []string, one, many string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0] + " " + one
	}
	return strings.Join(q, ", ") + " " + many
}

func newGenericMapper(ctx *rowContext, s *spec, t table, columns map[string]string) (*genericMapper, error) {
	binds, err := bindColumns(ctx.source, s, columns, t.header())
	if err != nil {
		return nil, err
	}
	m := &genericMapper{ctx: ctx, spec: s, t: t, binds: binds, lea: -1, keys: newKeySet(ctx.keysInMemory, ctx.tempDir)}
	if s.name == dataset.Contracts {
		for _, c := range []string{"start_date", "end_date", "annual_cost", "district_share", "agency_share"} {
			m.cols = append(m.cols, s.col(c))
		}
	}
	names := make([]string, len(binds))
	for i, b := range binds {
		names[i] = b.column
		if b.f.rule == ruleLEAID {
			m.lea = i
		}
	}
	t.selectColumns(names)
	if ct, ok := t.(*csvTable); ok && m.lea >= 0 {
		ct.filter(binds[m.lea].column, ctx.lea, "")
	}
	return m, nil
}

func (m *genericMapper) stats() *sourceStats { return &m.st }

func (m *genericMapper) fills() []bool {
	out := make([]bool, m.spec.schema.NumFields())
	for _, b := range m.binds {
		if b.f.col >= 0 {
			out[b.f.col] = true
		}
	}
	return out
}

func (m *genericMapper) fail(at position, column, msg string) error {
	e := &RowError{Source: m.ctx.source, Row: at.row, Line: at.line, Column: column, Msg: msg}
	for _, b := range m.binds {
		if b.column == column {
			e.Field = b.f.name
		}
	}
	return e
}

func (m *genericMapper) column(c int) string {
	for _, b := range m.binds {
		if b.f.col == c {
			return b.column
		}
	}
	return ""
}

func (m *genericMapper) run(emit emitter) error {
	defer m.keys.close()
	row := make([]value, m.spec.schema.NumFields())
	m.ctx.fill(m.spec, row)
	for m.t.next() {
		at := m.t.pos()
		cells := m.t.cells()
		if m.lea >= 0 {
			// A row without an LEA id is kept (its school id is still checked).
			if c := trim(cells[m.lea]); len(c) > 0 && string(c) != m.ctx.lea {
				if !allDigits(c, 7) {
					return m.fail(at, m.binds[m.lea].column, fmt.Sprintf("%s is not a 7-digit NCES LEA id", quoted(c)))
				}
				m.st.Dropped++
				continue
			}
		}
		for i, b := range m.binds {
			if b.f.col < 0 {
				continue
			}
			v, msg := m.coerce(b.f, cells[i])
			if msg != "" {
				return m.fail(at, b.column, msg)
			}
			row[b.f.col] = v
		}
		if err := m.check(row, at); err != nil {
			return err
		}
		m.st.Kept++
		m.st.Emitted++
		if err := emit(row, at); err != nil {
			return err
		}
	}
	m.st.Dropped += int64(m.t.dropped())
	m.st.Rows = m.st.Kept + m.st.Dropped
	if err := m.t.err(); err != nil {
		return err
	}
	return m.finishKeys()
}

// finishKeys looks for a key repeated across the row keys the duplicate check moved out
// of memory.
func (m *genericMapper) finishKeys() error {
	defer m.keys.close()
	later, first, dup, err := m.keys.finish()
	if err != nil {
		return &SourceError{Source: m.ctx.source, Err: err}
	}
	if !dup {
		return nil
	}
	s := m.spec
	names := make([]string, len(s.keyCols))
	for i, c := range s.keyCols {
		names[i] = s.schema.Field(c).Name
	}
	return m.fail(later, m.columnOf(s.keyCols[0]), fmt.Sprintf("the row's %s is also on %s", strings.Join(names, ", "), first))
}

// coerce turns one cell into a value by its field's rule; msg explains a bad cell.
func (m *genericMapper) coerce(f field, cell []byte) (value, string) {
	c := trim(cell)
	if len(c) == 0 {
		if f.required {
			return value{}, "a value is required"
		}
		return value{}, ""
	}
	return coerce(f.rule, c, m.ctx.lea, &m.tmp)
}

// coerce applies a rule to a non-empty cell.
func coerce(r rule, c []byte, lea string, tmp *[]byte) (value, string) {
	switch r {
	case ruleText:
		if !utf8.Valid(c) {
			return value{}, fmt.Sprintf("%s is not valid UTF-8", quoted(c))
		}
		return value{ok: true, s: c}, ""
	case ruleSchoolID:
		if !allDigits(c, 12) {
			return value{}, badNumber(c, "a 12-digit NCES school id")
		}
		if string(c[:7]) != lea {
			return value{}, fmt.Sprintf("%s is not a school of district %s (an NCES school id starts with its district's LEA id)", quoted(c), lea)
		}
		return value{ok: true, s: c}, ""
	case ruleCount:
		n, msg := parseCount(c, *tmp)
		return value{ok: msg == "", i: n}, msg
	case ruleFTE:
		f, msg := parseFTE(c)
		return value{ok: msg == "", f: f}, msg
	case ruleMoney:
		n, msg := parseMoney(c, *tmp)
		return value{ok: msg == "", i: n}, msg
	case ruleDate:
		n, msg := parseDate(c)
		return value{ok: msg == "", i: n}, msg
	case ruleStatus:
		s, msg := label(c, statusNames, "a contract status (active, expired, terminated or suspended)")
		return value{ok: msg == "", s: s}, msg
	case ruleBool:
		b, ok := boolNames[key(c)]
		if !ok {
			return value{}, badNumber(c, "true or false")
		}
		v := value{ok: true}
		if b {
			v.i = 1
		}
		return v, ""
	case ruleSex:
		s, msg := label(c, sexNames, "a sex (male, female or nonbinary)")
		return value{ok: msg == "", s: s}, msg
	case ruleRace:
		s, msg := label(c, raceNames, "a race/ethnicity (hispanic, american_indian_alaska_native, asian, native_hawaiian_pacific_islander, black, white, two_or_more_races)")
		return value{ok: msg == "", s: s}, msg
	case ruleDisability:
		s, msg := label(c, disabilityNames, "a disability status (without_disability, idea or section_504)")
		return value{ok: msg == "", s: s}, msg
	case ruleCategory:
		if !utf8.Valid(c) {
			return value{}, fmt.Sprintf("%s is not valid UTF-8", quoted(c))
		}
		k := key(c)
		if v, ok := categoryNames[k]; ok {
			k = v
		}
		if k == "" {
			return value{}, fmt.Sprintf("%s is not a category", quoted(c))
		}
		return value{ok: true, s: []byte(k)}, ""
	case ruleLabel:
		if !utf8.Valid(c) {
			return value{}, fmt.Sprintf("%s is not valid UTF-8", quoted(c))
		}
		k := key(c)
		if k == "" {
			return value{}, fmt.Sprintf("%s is not a label", quoted(c))
		}
		return value{ok: true, s: []byte(k)}, ""
	}
	return value{}, "has no rule"
}

// check applies the row rules of the dataset and detects a repeated key.
func (m *genericMapper) check(row []value, at position) error {
	s := m.spec
	switch s.name {
	case dataset.Staffing:
		if msg, name := implausibleFTE(s, row); msg != "" {
			return m.fail(at, m.columnOf(s.col(name)), msg)
		}
	case dataset.Contracts:
		st, en, cost := m.cols[0], m.cols[1], m.cols[2]
		if row[st].ok && row[en].ok && row[en].i < row[st].i {
			return m.fail(at, m.columnOf(en), "the contract ends before it starts")
		}
		for _, c := range m.cols[3:] {
			if row[c].ok && row[cost].ok && row[c].i > row[cost].i {
				return m.fail(at, m.columnOf(c), fmt.Sprintf("%s is more than the annual cost", s.schema.Field(c).Name))
			}
		}
	}
	m.key = rowKey(m.key[:0], s, row)
	prev, dup, err := m.keys.add(m.key, at)
	if err != nil {
		return &SourceError{Source: m.ctx.source, Err: err}
	}
	if dup {
		return m.fail(at, m.columnOf(s.keyCols[0]), fmt.Sprintf("%s is also on %s", describeKey(s, row), prev))
	}
	return nil
}

// columnOf names the source column of schema column c (its canonical name when unmapped).
func (m *genericMapper) columnOf(c int) string {
	for _, b := range m.binds {
		if b.f.col == c {
			return b.column
		}
	}
	return m.spec.schema.Field(c).Name
}

// implausibleFTE says which FTE of a staffing row is more than the school's enrollment
// (when the enrollment is known and not zero).
func implausibleFTE(s *spec, row []value) (msg, fieldName string) {
	if s.colEnrollment < 0 {
		return "", ""
	}
	enr := row[s.colEnrollment]
	if !enr.ok || enr.i == 0 {
		return "", ""
	}
	for _, c := range s.fteCols {
		if v := row[c]; v.ok && v.f > float64(enr.i) {
			name := s.schema.Field(c).Name
			return fmt.Sprintf("%s %g is more than the school's enrollment of %d students", name, v.f, enr.i), name
		}
	}
	return "", ""
}

// rowKey appends the key of a row.
func rowKey(b []byte, s *spec, row []value) []byte {
	for _, c := range s.keyCols {
		v := row[c]
		if !v.ok {
			b = append(b, 0xff)
		} else if v.s != nil {
			b = append(b, v.s...)
		} else {
			b = fmt.Appendf(b, "%d", v.i)
		}
		b = append(b, 0)
	}
	return b
}

// describeKey names a row by its key, as a user would: school 550852000001.
func describeKey(s *spec, row []value) string {
	var parts []string
	for _, c := range s.keyCols {
		name, v := s.schema.Field(c).Name, row[c]
		switch {
		case !v.ok && name == "nces_school_id":
			parts = append(parts, "the district total (no school id)")
		case !v.ok:
			parts = append(parts, name+" (empty)")
		case name == "nces_school_id":
			parts = append(parts, "school "+string(v.s))
		case name == "start_date":
			parts = append(parts, "starting "+epoch.AddDate(0, 0, int(v.i)).Format("2006-01-02"))
		default:
			parts = append(parts, fmt.Sprintf("%s %q", name, v.s))
		}
	}
	return strings.Join(parts, ", ")
}

var errNoRows = errors.New("has no data rows")
