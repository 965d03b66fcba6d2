package ingest

import (
	"fmt"
	"strings"
)

// RowError is bad input at one place of one source: it names the source, the data row
// (1-based, not counting the header), the line of the file it starts on (0 when the format
// has no lines), the source's column and the dataset column it feeds.
type RowError struct {
	Source string
	Row    int
	Line   int
	Column string
	// Field is the dataset column the cell feeds, when it is not Column itself.
	Field string
	Msg   string
}

func (e *RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "source %q", e.Source)
	if e.Row > 0 {
		fmt.Fprintf(&b, " row %d", e.Row)
		if e.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", e.Line)
		}
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %q", e.Column)
		if e.Field != "" && e.Field != e.Column {
			fmt.Fprintf(&b, " (%s)", e.Field)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// SourceError is a source that failed as a whole (could not be fetched, has no rows, lacks
// a column).
type SourceError struct {
	Source string
	Err    error
}

func (e *SourceError) Error() string { return fmt.Sprintf("source %q: %v", e.Source, e.Err) }
func (e *SourceError) Unwrap() error { return e.Err }

// position is where a row is in its source.
type position struct {
	row, line int
}

func (p position) String() string {
	if p.line > 0 {
		return fmt.Sprintf("row %d (line %d)", p.row, p.line)
	}
	return fmt.Sprintf("row %d", p.row)
}
