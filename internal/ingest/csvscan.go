package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// csvScanner splits RFC 4180 CSV into records without allocating per record: the fields of
// a record are slices of its read buffer, valid until the next call to next. It gives the
// same records as encoding/csv (with LazyQuotes off and FieldsPerRecord -1: quoted fields
// may hold delimiters, quotes doubled and newlines; \r\n inside a quoted field becomes \n;
// empty lines are skipped; a bare or stray quote is an error) but is several times faster:
// encoding/csv copies every record and decodes runes, this scans bytes.
//
// With a filter set, a record whose field filterCol differs from filterWant is skipped
// after that field is read: the scanner jumps to its end without splitting the rest (it
// falls back to a full parse when the rest holds a quote, so quoted newlines are honoured).
type csvScanner struct {
	r     io.Reader
	comma byte
	// maxRecord bounds one record's bytes (the buffer grows to it); maxFields its fields
	// and maxCell one field's bytes.
	maxRecord, maxFields, maxCell int

	buf      []byte
	pos, end int
	eof      bool
	readErr  error

	filterCol  int
	filterWant []byte
	// filterAlt is a second value the filter keeps (nil: none).
	filterAlt []byte

	offs    []int // start and end of each field; a start < 0 is -1-offset into scratch
	scratch []byte
	fields  [][]byte
	skipped bool

	// line is the line the current record starts on (1-based); nextLine the line after it.
	line, nextLine int
	// records counts the records returned or skipped (not empty lines); skippedCount
	// those the filter skipped.
	records, skippedCount int
	bytes                 int64
	special               [256]bool
}

// csvSyntaxError is a malformed record.
type csvSyntaxError struct {
	Line  int
	Field int // 0-based
	Msg   string
}

func (e *csvSyntaxError) Error() string { return e.Msg }

var errNeedMore = errors.New("need more data")

const csvChunk = 1 << 20

// firstChunk is the size of the scanner's first buffer: csvChunk, or less for a reader
// that knows it is smaller (one district's rows of a landed national file are often a
// few kilobytes, and clearing a megabyte for each of 13,000 districts showed in profiles).
// Past a wrong hint the buffer grows as for a long record.
func firstChunk(r io.Reader) int {
	if h, ok := r.(interface{ SizeHint() int64 }); ok {
		if n := h.SizeHint(); n > 0 && n < csvChunk {
			return max(int(n)+1, 4<<10)
		}
	}
	return csvChunk
}

func newCSVScanner(r io.Reader, comma byte) *csvScanner {
	l := DefaultLimits()
	s := &csvScanner{r: r, comma: comma, maxRecord: l.RecordBytes, maxFields: l.FieldsPerRecord, maxCell: l.CellBytes,
		buf: make([]byte, firstChunk(r)), filterCol: -1, nextLine: 1}
	s.special[comma] = true
	s.special['\n'] = true
	s.special['\r'] = true
	s.special['"'] = true
	return s
}

// setFilter makes next skip records whose field col is neither want nor alt (nil: want only).
func (s *csvScanner) setFilter(col int, want, alt []byte) {
	s.filterCol, s.filterWant, s.filterAlt = col, want, alt
}

// stripBOM drops a UTF-8 byte order mark at the start of the input.
func (s *csvScanner) stripBOM() error {
	for s.end-s.pos < 3 && !s.eof {
		if err := s.fill(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\uFEFF")) {
		s.pos += 3
	}
	return nil
}

// fill moves unread data to the front of the buffer and reads more, growing the buffer
// when a record does not fit.
func (s *csvScanner) fill() error {
	if s.eof {
		return nil
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxRecord {
			return &csvSyntaxError{Field: -1, Msg: fmt.Sprintf("the row is longer than %d bytes (the limit of one record)", s.maxRecord)}
		}
		nb := make([]byte, min(2*len(s.buf), s.maxRecord))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	s.bytes += int64(n)
	if err == io.EOF {
		s.eof = true
		return nil
	}
	return err
}

// next reads the next record; at the end of the input it returns io.EOF. skipped reports a
// record dropped by the filter (fields is then nil).
func (s *csvScanner) next() (fields [][]byte, skipped bool, err error) {
	for {
		if s.readErr != nil {
			return nil, false, s.readErr
		}
		// Skip empty lines.
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c == '\n' {
				s.pos++
				s.nextLine++
				continue
			}
			if c == '\r' && s.pos+1 < s.end && s.buf[s.pos+1] == '\n' {
				s.pos += 2
				s.nextLine++
				continue
			}
			break
		}
		if s.pos == s.end || (s.buf[s.pos] == '\r' && s.pos+1 == s.end) {
			if s.eof {
				if s.pos < s.end { // a lone \r at the very end
					s.pos = s.end
				}
				return nil, false, io.EOF
			}
			if err := s.fill(); err != nil {
				s.readErr = err
			}
			continue
		}
		n, lines, err := s.parse(s.buf[s.pos:s.end], s.eof)
		if err == errNeedMore {
			if err := s.fill(); err != nil {
				s.line = s.nextLine
				s.readErr = err
			}
			continue
		}
		s.line = s.nextLine
		if err != nil {
			var se *csvSyntaxError
			if errors.As(err, &se) {
				se.Line = s.line + se.Line
			}
			s.readErr = err
			return nil, false, err
		}
		s.nextLine += lines
		s.records++
		if s.skipped {
			s.pos += n
			s.skippedCount++
			return nil, true, nil
		}
		s.fields = s.fields[:0]
		base := s.buf[s.pos:]
		for i := 0; i < len(s.offs); i += 2 {
			st, en := s.offs[i], s.offs[i+1]
			if st < 0 {
				s.fields = append(s.fields, s.scratch[-1-st:en])
			} else {
				s.fields = append(s.fields, base[st:en:en])
			}
		}
		s.pos += n
		return s.fields, false, nil
	}
}

// parse splits one record at the start of data. It returns the bytes the record takes
// (with its line end) and the lines it spans, or errNeedMore when data ends before the
// record does and more may come.
func (s *csvScanner) parse(data []byte, atEOF bool) (n, lines int, err error) {
	s.offs = s.offs[:0]
	s.scratch = s.scratch[:0]
	s.skipped = false
	filtering := s.filterCol >= 0
	i := 0
	for field := 0; ; field++ {
		if field >= s.maxFields {
			return 0, 0, &csvSyntaxError{Line: lines, Field: field,
				Msg: fmt.Sprintf("the row has more than %d fields (the limit of one record)", s.maxFields)}
		}
		var st, en int
		if i < len(data) && data[i] == '"' {
			// Quoted field.
			i++
			start, simple := i, true
			for {
				if i-start > s.maxCell {
					return 0, 0, s.cellTooLong(lines+bytes.Count(data[start:i], []byte{'\n'}), field)
				}
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					if len(data)-start > s.maxCell {
						return 0, 0, s.cellTooLong(lines+bytes.Count(data[start:], []byte{'\n'}), field)
					}
					if !atEOF {
						return 0, 0, errNeedMore
					}
					return 0, 0, &csvSyntaxError{Line: lines + bytes.Count(data[start:], []byte{'\n'}), Field: field,
						Msg: "a quoted field is not closed"}
				}
				i += j + 1
				if i < len(data) && data[i] == '"' {
					simple = false
					i++
					continue
				}
				if i == len(data) && !atEOF {
					return 0, 0, errNeedMore
				}
				break
			}
			content := data[start : i-1]
			if len(content) > s.maxCell {
				return 0, 0, s.cellTooLong(lines+bytes.Count(content, []byte{'\n'}), field)
			}
			nl := bytes.Count(content, []byte{'\n'})
			if simple && (nl == 0 || bytes.IndexByte(content, '\r') < 0) {
				st, en = start, i-1
			} else {
				st = -1 - len(s.scratch)
				s.scratch = unquote(s.scratch, content)
				en = len(s.scratch)
			}
			lines += nl
			s.offs = append(s.offs, st, en)
			if i == len(data) {
				return i, lines + 1, nil
			}
			switch c := data[i]; {
			case c == s.comma:
				i++
				if filtering && field == s.filterCol && !s.fieldIs(data, st, en) {
					return s.skipRest(data, i, lines, atEOF)
				}
				continue
			case c == '\n':
				return i + 1, lines + 1, nil
			case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
				return i + 2, lines + 1, nil
			case c == '\r' && i+1 == len(data):
				if !atEOF {
					return 0, 0, errNeedMore
				}
				return i + 1, lines + 1, nil
			default:
				return 0, 0, &csvSyntaxError{Line: lines, Field: field,
					Msg: fmt.Sprintf("unexpected %q after a closing quote (a quote inside a quoted field must be doubled)", c)}
			}
		}
		// Unquoted field.
		start := i
		for {
			for i < len(data) && !s.special[data[i]] {
				i++
			}
			if i-start > s.maxCell {
				return 0, 0, s.cellTooLong(lines, field)
			}
			if i == len(data) {
				if !atEOF {
					return 0, 0, errNeedMore
				}
				s.offs = append(s.offs, start, i)
				return i, lines + 1, nil
			}
			if data[i] == '\r' {
				if i+1 == len(data) && !atEOF {
					return 0, 0, errNeedMore
				}
				if i+1 < len(data) && data[i+1] != '\n' {
					i++ // a lone \r is data
					continue
				}
			}
			break
		}
		st, en = start, i
		s.offs = append(s.offs, st, en)
		switch data[i] {
		case s.comma:
			i++
			if filtering && field == s.filterCol && !s.fieldIs(data, st, en) {
				return s.skipRest(data, i, lines, atEOF)
			}
		case '\n':
			return i + 1, lines + 1, nil
		case '\r':
			if i+1 == len(data) {
				return i + 1, lines + 1, nil
			}
			return i + 2, lines + 1, nil
		case '"':
			return 0, 0, &csvSyntaxError{Line: lines, Field: field,
				Msg: "a quote in an unquoted field (quote the whole field and double the quote)"}
		}
	}
}

// cellTooLong is the error of a field past the cell limit.
func (s *csvScanner) cellTooLong(lines, field int) error {
	return &csvSyntaxError{Line: lines, Field: field,
		Msg: fmt.Sprintf("the cell is longer than %d bytes (the limit of one cell)", s.maxCell)}
}

func (s *csvScanner) fieldIs(data []byte, st, en int) bool {
	f := data[max(st, 0):max(en, 0)]
	if st < 0 {
		f = s.scratch[-1-st : en]
	}
	return bytes.Equal(f, s.filterWant) || (s.filterAlt != nil && bytes.Equal(f, s.filterAlt))
}

// skipRest finds the end of a filtered-out record from i. When the rest of the line holds a
// quote it parses the record in full instead (a quoted field may hold a newline).
func (s *csvScanner) skipRest(data []byte, i, lines int, atEOF bool) (int, int, error) {
	j := bytes.IndexByte(data[i:], '\n')
	var rest []byte
	if j < 0 {
		if !atEOF {
			return 0, 0, errNeedMore
		}
		rest = data[i:]
	} else {
		rest = data[i : i+j]
	}
	if bytes.IndexByte(rest, '"') >= 0 {
		col := s.filterCol
		s.filterCol = -1
		n, l, err := s.parse(data, atEOF)
		s.filterCol = col
		if err == nil {
			s.skipped = true
		}
		return n, l, err
	}
	s.skipped = true
	if j < 0 {
		return len(data), lines + 1, nil
	}
	return i + j + 1, lines + 1, nil
}

// unquote appends a quoted field's content with doubled quotes undone and \r\n made \n.
func unquote(dst, content []byte) []byte {
	for i := 0; i < len(content); i++ {
		c := content[i]
		if c == '"' {
			i++ // the second of a doubled quote
		} else if c == '\r' && i+1 < len(content) && content[i+1] == '\n' {
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
