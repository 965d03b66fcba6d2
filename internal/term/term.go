// Package term makes text from untrusted places (district names, file and folder names,
// error messages quoting a server's reply) safe to print on a terminal: control
// characters, which could move the cursor, rewrite the screen or set the window title,
// are written as Go-style escapes (\x1b, \r, \u0085) instead of raw.
package term

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every control character escaped, line breaks included, so the
// result is one line. Invalid UTF-8 bytes are escaped as \xNN too.
func Escape(s string) string {
	return escape(s, false)
}

// Text returns s with every control character escaped except newlines and tabs, for
// messages that may span lines (such as joined errors).
func Text(s string) string {
	return escape(s, true)
}

func escape(s string, keepLines bool) string {
	if safe(s, keepLines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case needsEscape(r):
			writeEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func safe(s string, keepLines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || (needsEscape(r) && !(keepLines && (r == '\n' || r == '\t'))) {
			return false
		}
	}
	return true
}

// needsEscape reports control characters (C0, DEL, C1), line and paragraph separators,
// and the bidirectional overrides that can make text read differently from its bytes.
func needsEscape(r rune) bool {
	if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
		return true
	}
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func writeEscape(b *strings.Builder, r rune) {
	switch r {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		if r < 0x80 {
			fmt.Fprintf(b, `\x%02x`, r)
		} else {
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
}
