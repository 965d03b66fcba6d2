package source

import (
	"net/http"
	"net/url"
	"testing"
)

// A redirect that changes the scheme (https to http on the same host and port: the token
// would cross the network in clear), the host or the port drops the plan's headers.
func TestRedirectDropsHeadersWhenTheOriginChanges(t *testing.T) {
	origin, _ := url.Parse("https://data.example.gov/crdc/x.csv")
	policy := redirectPolicy(origin, []string{"Authorization", "X-Api-Key"})
	for target, keep := range map[string]bool{
		"https://data.example.gov/other.csv":      true,
		"https://DATA.example.gov:443/other.csv":  true,
		"http://data.example.gov/other.csv":       false,
		"http://data.example.gov:443/other.csv":   false,
		"https://data.example.gov:8443/other.csv": false,
		"https://evil.example/other.csv":          false,
		"https://data.example.gov.evil/x":         false,
	} {
		u, _ := url.Parse(target)
		next := &http.Request{URL: u, Header: http.Header{"Authorization": {"Bearer t"}, "X-Api-Key": {"k"}, "Accept": {"*/*"}}}
		if err := policy(next, []*http.Request{{}}); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		got := next.Header.Get("Authorization") != "" || next.Header.Get("X-Api-Key") != ""
		if got != keep {
			t.Errorf("redirect to %s: headers kept = %t, want %t", target, got, keep)
		}
		if next.Header.Get("Accept") == "" {
			t.Errorf("redirect to %s dropped a header the plan did not set", target)
		}
	}
	if err := policy(&http.Request{URL: origin, Header: http.Header{}}, make([]*http.Request, MaxRedirects+1)); err != errTooManyRedirects {
		t.Errorf("after %d redirects: %v, want the redirect limit", MaxRedirects+1, err)
	}
}
