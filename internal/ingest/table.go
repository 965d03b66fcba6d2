package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table is a source file read row by row, whatever its format. The caller selects the
// columns it wants by name, then reads their cells row by row. A nil cell is missing or
// null; cells are valid until the next call to next.
type table interface {
	// header returns the column names, when the format has them before the first row (csv,
	// parquet); nil when columns are named row by row (json, ndjson).
	header() []string
	// selectColumns sets the columns cells returns, in that order. Names are exact
	// column names (resolve them with findColumn first).
	selectColumns(names []string)
	// next reads the next row: false at the end or on an error (see err).
	next() bool
	cells() [][]byte
	pos() position
	err() error
	// dropped counts rows a filter skipped without splitting them.
	dropped() int
}

// findColumn finds a column in a header: the exact name, else the only name equal to it
// ignoring case and surrounding spaces.
func findColumn(header []string, name string) (string, bool) {
	for _, h := range header {
		if h == name {
			return h, true
		}
	}
	found, n := "", 0
	for _, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(name)) {
			found, n = h, n+1
		}
	}
	return found, n == 1
}

// csvTable reads CSV with a header row.
type csvTable struct {
	source string
	s      *csvScanner
	names  []string
	idx    []int // selected column -> field index
	out    [][]byte
	row    int
	e      error
	// nfields is the number of fields every row must have.
	nfields int
}

// newCSVTable reads the header of a CSV stream.
func newCSVTable(source string, r io.Reader, comma byte, lim Limits) (*csvTable, error) {
	t := &csvTable{source: source, s: newCSVScanner(r, comma)}
	t.s.maxRecord, t.s.maxFields, t.s.maxCell = lim.RecordBytes, lim.FieldsPerRecord, lim.CellBytes
	if err := t.s.stripBOM(); err != nil {
		return nil, err // a fetch error, which names the source
	}
	h, _, err := t.s.next()
	if err == io.EOF {
		return nil, &SourceError{Source: source, Err: errors.New("the file is empty (no header row)")}
	}
	if err != nil {
		return nil, t.wrap(err)
	}
	seen := map[string]bool{}
	for i, f := range h {
		if !utf8.Valid(f) {
			return nil, &RowError{Source: source, Line: 1, Msg: fmt.Sprintf("header column %d %s is not valid UTF-8%s", i+1, quoted(f), encodingHint)}
		}
		if bytes.IndexByte(f, 0) >= 0 {
			return nil, &RowError{Source: source, Line: 1, Msg: fmt.Sprintf("header column %d holds a NUL byte, which text does not (is the file UTF-16, or damaged?)", i+1)}
		}
		name := strings.TrimSpace(string(f))
		if seen[name] && name != "" { // unnamed columns (a trailing comma) cannot be selected
			return nil, &SourceError{Source: source, Err: fmt.Errorf("the header names column %s twice", quoteName(name))}
		}
		seen[name] = true
		t.names = append(t.names, name)
	}
	t.nfields = len(h)
	return t, nil
}

func (t *csvTable) header() []string { return t.names }

func (t *csvTable) selectColumns(names []string) {
	t.idx = t.idx[:0]
	for _, n := range names {
		i := -1
		for j, h := range t.names {
			if h == n {
				i = j
				break
			}
		}
		t.idx = append(t.idx, i)
	}
	t.out = make([][]byte, len(names))
}

// filter keeps only rows whose column equals want (or alt, when not empty), skipping the
// others cheaply.
func (t *csvTable) filter(column string, want, alt string) {
	var a []byte
	if alt != "" {
		a = []byte(alt)
	}
	for j, h := range t.names {
		if h == column {
			t.s.setFilter(j, []byte(want), a)
			return
		}
	}
}

func (t *csvTable) wrap(err error) error {
	var se *csvSyntaxError
	if errors.As(err, &se) {
		col := ""
		if se.Field >= 0 && se.Field < len(t.names) {
			col = t.names[se.Field]
		}
		return &RowError{Source: t.source, Row: t.s.records, Line: t.s.line, Column: col, Msg: se.Msg}
	}
	return err // a fetch error, which names the source
}

func (t *csvTable) next() bool {
	for {
		rec, skipped, err := t.s.next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.e = t.wrap(err)
			return false
		}
		t.row = t.s.records - 1
		if skipped {
			continue
		}
		if len(rec) != t.nfields {
			t.e = &RowError{Source: t.source, Row: t.row, Line: t.s.line,
				Msg: fmt.Sprintf("the row has %d fields, the header has %d", len(rec), t.nfields)}
			return false
		}
		if err := t.checkText(rec); err != nil {
			t.e = err
			return false
		}
		for i, j := range t.idx {
			if j >= 0 {
				t.out[i] = rec[j]
			} else {
				t.out[i] = nil
			}
		}
		return true
	}
}

// checkText refuses a record with a NUL byte or invalid UTF-8 in any of its fields, read or
// not: either means the file is not UTF-8 text.
func (t *csvTable) checkText(rec [][]byte) error {
	for i, f := range rec {
		msg := ""
		switch {
		case bytes.IndexByte(f, 0) >= 0:
			msg = nulMsg
		case !utf8.Valid(f):
			msg = quoted(f) + " is not valid UTF-8" + encodingHint
		default:
			continue
		}
		return &RowError{Source: t.source, Row: t.row, Line: t.s.line, Column: t.names[i], Msg: msg}
	}
	return nil
}

// nulMsg explains a NUL byte in a cell.
const nulMsg = "holds a NUL byte, which text does not (is the file UTF-16, or damaged?)"

// encodingHint follows an invalid UTF-8 error.
const encodingHint = " (if the file is Windows-1252, set encoding: windows-1252 on the source)"

func (t *csvTable) cells() [][]byte { return t.out }
func (t *csvTable) pos() position   { return position{row: t.row, line: t.s.line} }
func (t *csvTable) err() error      { return t.e }
func (t *csvTable) dropped() int    { return t.s.skippedCount }

// lineTracker remembers the bytes a JSON decoder has read but not yet passed, so that the
// line of a decoder offset can be counted without holding the file.
type lineTracker struct {
	r       io.Reader
	pending []byte
	base    int64
	line    int
	// max caps the bytes pending: one object and the decoder's read-ahead (0: no cap).
	max int
}

// trackerChunk is the most one Read takes, so that the decoder's read-ahead stays small.
const trackerChunk = 64 << 10

// objectTooLarge is a JSON object past the limit of one row.
type objectTooLarge struct{ max int }

func (e *objectTooLarge) Error() string {
	return fmt.Sprintf("the object is larger than %d bytes (the limit of one row)", e.max)
}

func (l *lineTracker) Read(p []byte) (int, error) {
	if l.max > 0 && len(l.pending) > l.max+trackerChunk {
		return 0, &objectTooLarge{max: l.max}
	}
	if len(p) > trackerChunk {
		p = p[:trackerChunk]
	}
	n, err := l.r.Read(p)
	l.pending = append(l.pending, p[:n]...)
	return n, err
}

// lineAt returns the line of input offset off; offsets must not decrease.
func (l *lineTracker) lineAt(off int64) int {
	k := int(off - l.base)
	if k < 0 || k > len(l.pending) {
		return 0
	}
	l.line += bytes.Count(l.pending[:k], []byte{'\n'})
	l.pending = append(l.pending[:0], l.pending[k:]...)
	l.base = off
	return l.line
}
