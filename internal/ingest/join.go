package ingest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// maxJoinRows bounds a joined dataset held in memory: a district has at most a few
// thousand schools (the largest under 700), so this is only a guard against a plan that
// joins national files without a district filter.
const maxJoinRows = 2_000_000

// origin is where a joined value came from.
type origin struct {
	source string
	at     position
}

func (o origin) String() string { return fmt.Sprintf("source %q %s", o.source, o.at) }

// joinedRow is one row of a joined dataset: the values of every source with its key.
type joinedRow struct {
	vals    []value
	from    []origin
	sources []string
}

// joinSet merges the rows of several sources of one dataset on the row key (the school
// for staffing; school, category and student group for incidents; agency and start date
// for contracts). A value one source leaves null is taken from another; two sources with
// different non-null values for the same field are an error, except school_name, where
// the first source's spelling is kept.
type joinSet struct {
	spec *spec
	rows map[string]*joinedRow
	key  []byte
	// fixed are the plan's columns, the same in every source but source itself.
	fixed []bool
	// columns name, per source, the source column of a schema column.
	columns map[string]func(int) string
}

func newJoinSet(s *spec) *joinSet {
	j := &joinSet{spec: s, rows: map[string]*joinedRow{}, fixed: make([]bool, s.schema.NumFields()), columns: map[string]func(int) string{}}
	for _, c := range []int{s.colState, s.colLEA, s.colDistrict, s.colYear, s.colSource, s.colRunID, s.colIngested} {
		j.fixed[c] = true
	}
	return j
}

func (j *joinSet) add(source string, row []value, at position) error {
	j.key = rowKey(j.key[:0], j.spec, row)
	jr, ok := j.rows[string(j.key)]
	if !ok {
		if len(j.rows) >= maxJoinRows {
			return &SourceError{Source: source, Err: fmt.Errorf("more than %d rows to join: a joined dataset must be one district's", maxJoinRows)}
		}
		jr = &joinedRow{vals: copyRow(nil, row), from: make([]origin, len(row)), sources: []string{source}}
		for c := range row {
			jr.from[c] = origin{source, at}
		}
		j.rows[string(j.key)] = jr
		return nil
	}
	for c, v := range row {
		if j.fixed[c] || !v.ok {
			continue
		}
		have := jr.vals[c]
		switch {
		case !have.ok:
			jr.vals[c] = v
			if v.s != nil {
				jr.vals[c].s = bytes.Clone(v.s)
			}
			jr.from[c] = origin{source, at}
		case !have.same(v) && j.spec.schema.Field(c).Name != "school_name":
			f := j.spec.schema.Field(c).Name
			return &RowError{Source: source, Row: at.row, Line: at.line, Column: j.column(source, c), Field: f,
				Msg: fmt.Sprintf("%s has %s %s, but %s has %s", describeKey(j.spec, row), f, v, jr.from[c], have)}
		}
	}
	if !slices.Contains(jr.sources, source) {
		jr.sources = append(jr.sources, source)
	}
	return nil
}

// finish checks the joined rows and hands them to sink sorted by key.
func (j *joinSet) finish(sink func([]value) error) error {
	keys := make([]string, 0, len(j.rows))
	for k := range j.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		jr := j.rows[k]
		if msg, name := implausibleFTE(j.spec, jr.vals); msg != "" {
			c, e := j.spec.col(name), j.spec.col("enrollment")
			o := jr.from[c]
			return &RowError{Source: o.source, Row: o.at.row, Line: o.at.line, Column: j.column(o.source, c), Field: name,
				Msg: fmt.Sprintf("%s (enrollment from %s)", msg, jr.from[e])}
		}
		jr.vals[j.spec.colSource] = value{ok: true, s: []byte(strings.Join(jr.sources, ","))}
		if err := sink(jr.vals); err != nil {
			return err
		}
	}
	return nil
}

// column names the column of a source that schema column c came from (its dataset name
// when the source does not say).
func (j *joinSet) column(source string, c int) string {
	if f := j.columns[source]; f != nil {
		if name := f(c); name != "" {
			return name
		}
	}
	return j.spec.schema.Field(c).Name
}
