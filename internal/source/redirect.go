package source

import (
	"net/http"
	"net/url"
	"strings"
)

// redirectPolicy follows at most MaxRedirects redirects and sends the plan's headers (which
// carry tokens) only to the origin the plan names: a redirect that changes the scheme (such
// as https to http, which would send them in clear), the host or the port drops them.
// Go's client copies the first request's headers onto every redirect, so a later hop back
// to the origin gets them again.
func redirectPolicy(origin *url.URL, headers []string) func(*http.Request, []*http.Request) error {
	return func(next *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return errTooManyRedirects
		}
		if !sameOrigin(origin, next.URL) {
			for _, n := range headers {
				next.Header.Del(n)
			}
		}
		return nil
	}
}

// sameOrigin compares scheme, host (case-insensitively) and port, a missing port being the
// scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
