package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// objectCells decodes one JSON object into the selected cells. Strings give their text,
// numbers their literal, booleans true/false, null a nil cell; an object or array as a
// value is an error.
type objectCells struct {
	want map[string]int
	offs []int
	buf  []byte
	out  [][]byte
	seen []bool
	// maxDepth caps the nesting inside the object; maxCell one value's bytes.
	maxDepth, maxCell int
}

func (o *objectCells) selectColumns(names []string) {
	o.want = make(map[string]int, len(names))
	for i, n := range names {
		o.want[n] = i
	}
	o.out = make([][]byte, len(names))
	o.offs = make([]int, 2*len(names))
	o.seen = make([]bool, len(names))
}

// read decodes an object whose '{' the decoder has just returned.
func (o *objectCells) read(dec *json.Decoder) (column string, err error) {
	o.buf = o.buf[:0]
	for i := range o.offs {
		o.offs[i] = -1
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		name, _ := tok.(string)
		tok, err = dec.Token()
		if err != nil {
			return name, err
		}
		i, wanted := o.want[name]
		var text []byte
		switch v := tok.(type) {
		case json.Delim:
			if wanted {
				return name, fmt.Errorf("holds a JSON %s, want a single value", map[json.Delim]string{'{': "object", '[': "array"}[v])
			}
			if err := skipNested(dec, o.maxDepth); err != nil {
				return name, err
			}
			continue
		case string:
			text = []byte(v)
		case json.Number:
			text = []byte(v)
		case bool:
			text = []byte(fmt.Sprint(v))
		case nil:
			continue
		}
		if len(text) > o.maxCell {
			return name, fmt.Errorf("the value is longer than %d bytes (the limit of one cell)", o.maxCell)
		}
		if wanted {
			o.offs[2*i] = len(o.buf)
			o.buf = append(o.buf, text...)
			o.offs[2*i+1] = len(o.buf)
			o.seen[i] = true
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return "", err
	}
	for i := range o.out {
		if o.offs[2*i] < 0 {
			o.out[i] = nil
		} else {
			o.out[i] = o.buf[o.offs[2*i]:o.offs[2*i+1]]
		}
	}
	return "", nil
}

// skipNested skips the rest of an object or array whose opening token was just read; it
// refuses nesting deeper than maxDepth (counting the row's own object).
func skipNested(dec *json.Decoder, maxDepth int) error {
	for depth := 1; depth > 0; {
		if depth+1 > maxDepth {
			return fmt.Errorf("the value nests objects and arrays more than %d levels deep (the limit of one row)", maxDepth)
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// nul finds a selected column whose text holds a NUL byte (written \u0000).
func (o *objectCells) nul() string {
	for name, i := range o.want {
		if bytes.IndexByte(o.out[i], 0) >= 0 {
			return name
		}
	}
	return ""
}

// replaced finds the selected column whose text holds U+FFFD, which encoding/json puts
// where the input had invalid UTF-8.
func (o *objectCells) replaced() string {
	for name, i := range o.want {
		if bytes.ContainsRune(o.out[i], utf8.RuneError) {
			return name
		}
	}
	return ""
}

// jsonTable reads a JSON array of objects as a stream of tokens.
type jsonTable struct {
	source string
	in     *lineTracker
	dec    *json.Decoder
	obj    objectCells
	row    int
	line   int
	e      error
	done   bool
}

func newJSONTable(source string, r io.Reader, lim Limits) (*jsonTable, error) {
	t := &jsonTable{source: source, in: &lineTracker{r: r, line: 1, max: lim.ObjectBytes}}
	t.obj.maxDepth, t.obj.maxCell = lim.JSONDepth, lim.CellBytes
	t.dec = json.NewDecoder(t.in)
	t.dec.UseNumber()
	tok, err := t.dec.Token()
	if err == io.EOF {
		return nil, &SourceError{Source: source, Err: errors.New("the file is empty")}
	}
	if err != nil {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("is not valid JSON: %w", err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &SourceError{Source: source, Err: errors.New("is not a JSON array of objects (use format ndjson for one object per line)")}
	}
	return t, nil
}

func (t *jsonTable) header() []string             { return nil }
func (t *jsonTable) selectColumns(names []string) { t.obj.selectColumns(names) }
func (t *jsonTable) cells() [][]byte              { return t.obj.out }
func (t *jsonTable) pos() position                { return position{row: t.row, line: t.line} }
func (t *jsonTable) err() error                   { return t.e }
func (t *jsonTable) dropped() int                 { return 0 }

func (t *jsonTable) fail(column, msg string) bool {
	t.e = &RowError{Source: t.source, Row: t.row, Line: t.line, Column: column, Msg: msg}
	return false
}

func (t *jsonTable) next() bool {
	if t.done || t.e != nil {
		return false
	}
	if !t.dec.More() {
		t.done = true
		if _, err := t.dec.Token(); err != nil { // ']'
			t.e = &SourceError{Source: t.source, Err: fmt.Errorf("is not valid JSON: %w", err)}
			return false
		}
		if _, err := t.dec.Token(); err != io.EOF {
			t.e = &SourceError{Source: t.source, Err: errors.New("has data after the closing ]")}
		}
		return false
	}
	t.row++
	tok, err := t.dec.Token()
	t.line = t.in.lineAt(t.dec.InputOffset() - 1) // the line of the object's '{'

	if err != nil {
		return t.fail("", fmt.Sprintf("is not valid JSON: %v", err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return t.fail("", fmt.Sprintf("is %v, not a JSON object", tok))
	}
	col, err := t.obj.read(t.dec)
	if err != nil {
		return t.fail(col, err.Error())
	}
	end := t.dec.InputOffset()
	if raw := t.in.pending[:min(int(end-t.in.base), len(t.in.pending))]; !utf8.Valid(raw) {
		return t.fail(t.obj.replaced(), "the row is not valid UTF-8"+encodingHint)
	}
	if col := t.obj.nul(); col != "" {
		return t.fail(col, nulMsg)
	}
	return true
}

// ndjsonTable reads one JSON object per line.
type ndjsonTable struct {
	source string
	sc     *bufio.Scanner
	obj    objectCells
	row    int
	line   int
	e      error
	max    int // the longest line
}

func newNDJSONTable(source string, r io.Reader, lim Limits) *ndjsonTable {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, min(64<<10, lim.ObjectBytes)), lim.ObjectBytes) // the larger of the two caps a line
	t := &ndjsonTable{source: source, sc: sc, max: lim.ObjectBytes}
	t.obj.maxDepth, t.obj.maxCell = lim.JSONDepth, lim.CellBytes
	return t
}

func (t *ndjsonTable) header() []string             { return nil }
func (t *ndjsonTable) selectColumns(names []string) { t.obj.selectColumns(names) }
func (t *ndjsonTable) cells() [][]byte              { return t.obj.out }
func (t *ndjsonTable) pos() position                { return position{row: t.row, line: t.line} }
func (t *ndjsonTable) err() error                   { return t.e }
func (t *ndjsonTable) dropped() int                 { return 0 }

func (t *ndjsonTable) fail(column, msg string) bool {
	t.e = &RowError{Source: t.source, Row: t.row, Line: t.line, Column: column, Msg: msg}
	return false
}

func (t *ndjsonTable) next() bool {
	if t.e != nil {
		return false
	}
	for t.sc.Scan() {
		t.line++
		line := bytes.TrimSpace(t.sc.Bytes())
		if t.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) == 0 {
			continue
		}
		t.row++
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		tok, err := dec.Token()
		if err != nil {
			return t.fail("", fmt.Sprintf("is not valid JSON: %v", err))
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return t.fail("", fmt.Sprintf("is %v, not a JSON object", tok))
		}
		col, err := t.obj.read(dec)
		if err != nil {
			return t.fail(col, err.Error())
		}
		if _, err := dec.Token(); err != io.EOF {
			return t.fail("", "has more than one JSON value on the line")
		}
		if !utf8.Valid(line) {
			return t.fail(t.obj.replaced(), "the row is not valid UTF-8"+encodingHint)
		}
		if col := t.obj.nul(); col != "" {
			return t.fail(col, nulMsg)
		}
		return true
	}
	if err := t.sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		t.row++
		t.line++
		return t.fail("", fmt.Sprintf("the line is longer than %d bytes (the limit of one object)", t.max))
	} else if err != nil {
		t.e = &SourceError{Source: t.source, Err: fmt.Errorf("reading line %d: %w", t.line+1, err)}
	}
	return false
}
