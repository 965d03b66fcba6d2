// Package redact hides the secrets a URL can carry before it is written anywhere a user
// other than its author can read (errors, logs, run manifests, summaries, statuses): the
// user information (user:password@) and the value of every query parameter (an API token
// often travels as ?token=...). Parameter names stay, so a reader still sees which
// parameters were sent.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces every redacted value.
const Mask = "xxxxx"

// URL returns raw with its user information replaced by Mask and every query value
// replaced by Mask; the fragment, which is never sent, is dropped. It works on text that
// does not parse as a URL too.
func URL(raw string) string {
	rest := raw
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	query := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	rest = userInfo(rest)
	if query == "" && !strings.Contains(raw[len(rest):], "?") {
		return rest
	}
	return rest + "?" + queryValues(query)
}

// userInfo replaces the user information of scheme://user:pass@host/path.
func userInfo(s string) string {
	scheme := strings.Index(s, "://")
	if scheme < 0 {
		return s
	}
	authority := s[scheme+3:]
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return s
	}
	return s[:scheme+3] + Mask + s[scheme+3+at:]
}

// queryValues keeps each parameter's name and masks its value.
func queryValues(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if name, value, ok := strings.Cut(p, "="); ok && value != "" {
			parts[i] = name + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// urlPattern finds URLs in free text: a scheme, then everything up to a space, a quote or
// a closing bracket.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>()\[\]{}]+`)

// Text redacts every URL found in s (such as an error message that quotes one).
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, URL)
}

// Error wraps err so that its message has every URL redacted (see Text); errors.Is and
// errors.As still see err. Nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if _, done := err.(*redacted); done {
		return err
	}
	return &redacted{err: err}
}

type redacted struct{ err error }

func (e *redacted) Error() string { return Text(e.err.Error()) }
func (e *redacted) Unwrap() error { return e.err }
