package redact

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://data.example.gov/crdc/School%20Support.csv":    "https://data.example.gov/crdc/School%20Support.csv",
		"https://data.example.gov/x.csv?token=s3cret&year=2021": "https://data.example.gov/x.csv?token=xxxxx&year=xxxxx",
		"https://user:pa55@data.example.gov/x.csv":              "https://xxxxx@data.example.gov/x.csv",
		"https://tok3n@data.example.gov:8443/a@b?x=1#frag":      "https://xxxxx@data.example.gov:8443/a@b?x=xxxxx",
		"https://h/x?flag&k=":                                   "https://h/x?flag&k=",
		"http://h/x?":                                           "http://h/x?",
		"not a url ?token=abc":                                  "not a url ?token=xxxxx",
		"s3://bucket/key":                                       "s3://bucket/key",
		"https://h/x?sig=a%20b;c=d":                             "https://h/x?sig=xxxxx",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestText(t *testing.T) {
	in := `source a: GET "https://u:p@h.example/x.csv?token=s3cret": 404 Not Found (see https://h.example/help?ref=abc)`
	want := `source a: GET "https://xxxxx@h.example/x.csv?token=xxxxx": 404 Not Found (see https://h.example/help?ref=xxxxx)`
	if got := Text(in); got != want {
		t.Errorf("Text:\n got %s\nwant %s", got, want)
	}
	if got := Text("no url here"); got != "no url here" {
		t.Errorf("Text changed plain text: %q", got)
	}
}

func TestError(t *testing.T) {
	inner := &url.Error{Op: "Get", URL: "https://h/x?token=s3cret", Err: errors.New("refused")}
	err := Error(fmt.Errorf("source a: %w", inner))
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "token=xxxxx") {
		t.Errorf("Error() = %q, want the token redacted", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Error("errors.As does not see the wrapped error")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}
