package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// errTooManyRedirects ends a fetch that keeps being redirected.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

func openHTTP(ctx context.Context, s *Stream, h *plan.HTTP, env lake.Env) error {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("source %s: %q is not an http(s) URL", s.name, redactURL(h.URL))
	}
	s.location = u.Redacted()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return fmt.Errorf("source %s: GET %s: %w", s.name, s.location, err)
	}
	names := make([]string, 0, len(h.Headers))
	for _, hd := range h.Headers {
		v, ok := env(hd.ValueEnv)
		if !ok {
			return fmt.Errorf("source %s: header %s: environment variable %s is not set", s.name, hd.Name, hd.ValueEnv)
		}
		req.Header.Set(hd.Name, v)
		names = append(names, hd.Name)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return errTooManyRedirects
			}
			// The plan's headers (tokens) go only to the host the plan names.
			if next.URL.Host != u.Host {
				for _, n := range names {
					next.Header.Del(n)
				}
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		transport.CloseIdleConnections()
		return fmt.Errorf("source %s: GET %s: %w", s.name, s.location, httpError(ctx, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_ = resp.Body.Close()
		transport.CloseIdleConnections()
		return fmt.Errorf("source %s: GET %s: %s", s.name, s.location, resp.Status)
	}
	s.r = resp.Body
	s.closer = func() error {
		defer transport.CloseIdleConnections()
		return resp.Body.Close()
	}
	s.size = resp.ContentLength
	s.etag = strings.Trim(resp.Header.Get("ETag"), `"`)
	return nil
}

// httpError says why a request failed: the fetch's timeout, the redirect limit, or a
// network error in words.
func httpError(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return explainRead(cause)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, errTooManyRedirects) {
		return errTooManyRedirects
	}
	return lake.Explain(err)
}

// redactURL hides a password in a URL that may not parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "xxxxx" + raw[i:]
		}
	}
	return raw
}
