package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/redact"
)

// errTooManyRedirects ends a fetch that keeps being redirected.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

// httpGetter makes the requests of one http source: the plan's headers (tokens) go only
// to the plan's host.
type httpGetter struct {
	s         *Stream
	url       string
	header    http.Header
	client    *http.Client
	transport *http.Transport
	// validator is the If-Range value of ranged requests: the ETag when strong, else the
	// Last-Modified date, else empty; size is the file's length when known.
	validator string
	size      int64
}

func newHTTPGetter(s *Stream, h *plan.HTTP, env lake.Env, opts Options) (*httpGetter, error) {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("source %s: %q is not an http(s) URL", s.name, redact.URL(h.URL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("source %s: %s holds user information (user:password@); send credentials in a header from a Secret", s.name, redact.URL(h.URL))
	}
	// Query values (tokens) and user information never reach a message, log or manifest.
	s.location = redact.URL(h.URL)
	g := &httpGetter{s: s, url: h.URL, header: http.Header{}, size: -1}
	names := make([]string, 0, len(h.Headers))
	for _, hd := range h.Headers {
		v, ok := env(hd.ValueEnv)
		if !ok {
			return nil, fmt.Errorf("source %s: header %s: environment variable %s is not set", s.name, hd.Name, hd.ValueEnv)
		}
		g.header.Set(hd.Name, v)
		names = append(names, hd.Name)
	}
	// Every connection, the redirects' included, dials only what the egress policy allows.
	tr, err := opts.Egress.Transport(nil)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.name, err)
	}
	g.transport = tr
	g.client = &http.Client{
		Transport: g.transport,
		// The plan's headers (tokens) go only to the origin the plan names.
		CheckRedirect: redirectPolicy(u, names),
	}
	return g, nil
}

// get sends a GET with the plan's headers and extra ones (a Range). Its errors do not
// name the source.
func (g *httpGetter) get(ctx context.Context, extra map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", g.s.location, err)
	}
	req.Header = g.header.Clone()
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", g.s.location, httpError(ctx, err))
	}
	return resp, nil
}

func (g *httpGetter) close() error {
	g.transport.CloseIdleConnections()
	return nil
}

func openHTTP(ctx context.Context, s *Stream, h *plan.HTTP, env lake.Env, opts Options) error {
	g, err := newHTTPGetter(s, h, env, opts)
	if err != nil {
		return err
	}
	resp, err := g.get(ctx, conditionalHeaders(opts, nil))
	if err != nil {
		_ = g.close()
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	g.record(resp)
	if resp.StatusCode == http.StatusNotModified {
		_ = resp.Body.Close()
		_ = g.close()
		return fmt.Errorf("source %s: %s: %w", s.name, s.location, ErrNotModified)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_ = resp.Body.Close()
		_ = g.close()
		return fmt.Errorf("source %s: GET %s: %s", s.name, s.location, status(resp))
	}
	s.r = resp.Body
	s.closer = func() error {
		defer g.close()
		return resp.Body.Close()
	}
	s.size = resp.ContentLength
	return nil
}

// record keeps the response's validators in the Stream.
func (g *httpGetter) record(resp *http.Response) {
	g.s.etag = strings.Trim(resp.Header.Get("ETag"), `"`)
	g.s.lastModified = resp.Header.Get("Last-Modified")
}

// conditionalHeaders adds the If-None-Match and If-Modified-Since of a conditional fetch.
func conditionalHeaders(opts Options, h map[string]string) map[string]string {
	if !opts.conditional() {
		return h
	}
	if h == nil {
		h = map[string]string{}
	}
	if opts.IfNoneMatch != "" {
		h["If-None-Match"] = quoteETag(opts.IfNoneMatch)
	}
	if opts.IfModifiedSince != "" {
		h["If-Modified-Since"] = opts.IfModifiedSince
	}
	return h
}

// quoteETag turns an ETag as the Stream gives it (quotes removed) back into its header
// form.
func quoteETag(e string) string {
	if rest, weak := strings.CutPrefix(e, "W/"); weak {
		return `W/"` + strings.Trim(rest, `"`) + `"`
	}
	return `"` + strings.Trim(e, `"`) + `"`
}

// openHTTPMember reads one member of a ZIP archive over http. Its first request asks for
// the archive's tail: a server that answers with that range is read in ranges (the
// directory, then the member's bytes); one that sends the whole archive instead has it
// spooled to a scratch file, so it is downloaded once either way.
func openHTTPMember(ctx context.Context, s *Stream, h *plan.HTTP, env lake.Env, opts Options) error {
	g, err := newHTTPGetter(s, h, env, opts)
	if err != nil {
		return err
	}
	s.closer = g.close
	if err := g.openMember(ctx, opts); err != nil {
		_ = s.Close()
		return err
	}
	return nil
}

func (g *httpGetter) openMember(ctx context.Context, opts Options) error {
	s := g.s
	resp, err := g.get(ctx, conditionalHeaders(opts, map[string]string{"Range": fmt.Sprintf("bytes=-%d", tailBytes)}))
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	g.record(resp)
	switch resp.StatusCode {
	case http.StatusNotModified:
		return fmt.Errorf("source %s: %s: %w", s.name, s.location, ErrNotModified)
	case http.StatusPartialContent:
	case http.StatusOK:
		s.spooled = true
		return spoolMember(s, resp.Body, resp.ContentLength, opts)
	case http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("source %s: %s is empty, so it has no member %q", s.name, s.location, s.member)
	default:
		return fmt.Errorf("source %s: GET %s: %s", s.name, s.location, status(resp))
	}
	if strings.HasSuffix(resp.Header.Get("Content-Range"), "/0") {
		return fmt.Errorf("source %s: %s is empty, so it has no member %q", s.name, s.location, s.member)
	}
	first, last, total, err := contentRange(resp.Header.Get("Content-Range"))
	if err == nil && (total < 0 || last != total-1 || last-first+1 > tailBytes) {
		err = fmt.Errorf("Content-Range %q is not the last %d bytes asked for", resp.Header.Get("Content-Range"), tailBytes)
	}
	if err != nil {
		return fmt.Errorf("source %s: GET %s: %w", s.name, s.location, err)
	}
	g.size = total
	switch etag := resp.Header.Get("ETag"); {
	case etag != "" && !strings.HasPrefix(etag, "W/"):
		g.validator = etag
	case resp.Header.Get("Last-Modified") != "":
		g.validator = resp.Header.Get("Last-Modified")
	}
	tail := make([]byte, last-first+1)
	if _, err := io.ReadFull(&counter{r: resp.Body, n: &s.fetched}, tail); err != nil {
		return fmt.Errorf("source %s: reading the end of %s: %w", s.name, s.location, cutShort(httpError(ctx, err)))
	}
	ra := newRangeReaderAt(ctx, g.fetchRange, total, &s.fetched)
	ra.setTail(tail, first)
	prev := s.closer
	s.closer = func() error { _ = ra.Close(); return prev() }
	return openRangedMember(s, ra, tail)
}

// fetchRange asks for bytes [off, off+n) on the condition (If-Range) that the file is
// the one the first request saw; a server that sends the whole file instead, or another
// length, means the file changed while it was read.
func (g *httpGetter) fetchRange(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	extra := map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, off+n-1)}
	if g.validator != "" {
		extra["If-Range"] = g.validator
	}
	resp, err := g.get(ctx, extra)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusPartialContent {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil, fmt.Errorf("the archive changed while it was read: the server sent the whole file instead of bytes %d-%d; run again", off, off+n-1)
		}
		return nil, fmt.Errorf("GET %s (bytes %d-%d): %s", g.s.location, off, off+n-1, status(resp))
	}
	first, _, total, err := contentRange(resp.Header.Get("Content-Range"))
	if err == nil && first != off {
		err = fmt.Errorf("the server sent bytes from %d, not %d", first, off)
	}
	if err != nil {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("GET %s (bytes %d-%d): %w", g.s.location, off, off+n-1, err)
	}
	if total >= 0 && total != g.size {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("the archive changed while it was read: it is now %d bytes, not %d; run again", total, g.size)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, n), resp.Body}, nil
}

// status is a response's status code and its standard text: never the server's own
// reason phrase, which is the response's content.
func status(resp *http.Response) string {
	if t := http.StatusText(resp.StatusCode); t != "" {
		return fmt.Sprintf("%d %s", resp.StatusCode, t)
	}
	return fmt.Sprintf("status %d", resp.StatusCode)
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
