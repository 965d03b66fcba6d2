package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

const csvBody = "LEAID,SCHID,SCH_NAME\r\n5508520,00001,\"Lincoln, Elementary\"\r\n"

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func noEnv(string) (string, bool) { return "", false }

// readAll opens a source and reads it to the end.
func readAll(t *testing.T, src plan.Source, env lake.Env) (*Stream, string, error) {
	t.Helper()
	s, err := Open(context.Background(), src, env)
	if err != nil {
		return nil, "", err
	}
	defer s.Close()
	b, err := io.ReadAll(s)
	return s, string(b), err
}

func httpSource(name, url string) plan.Source {
	return plan.Source{Name: name, Dataset: "staffing", Format: "csv", HTTP: &plan.HTTP{URL: url}}
}

func TestHTTPOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc123"`)
		_, _ = io.WriteString(w, csvBody)
	}))
	defer srv.Close()
	src := httpSource("crdc-support", srv.URL+"/School%20Support.csv")
	src.SHA256 = strings.ToUpper(sum(csvBody)) // case does not matter
	s, got, err := readAll(t, src, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got != csvBody {
		t.Fatalf("body = %q", got)
	}
	if s.Bytes() != int64(len(csvBody)) || s.Size() != int64(len(csvBody)) {
		t.Fatalf("Bytes %d Size %d, want %d", s.Bytes(), s.Size(), len(csvBody))
	}
	if s.SHA256() != sum(csvBody) || s.ETag() != "abc123" {
		t.Fatalf("SHA256 %s ETag %s", s.SHA256(), s.ETag())
	}
	if s.Location() != srv.URL+"/School%20Support.csv" {
		t.Fatalf("Location %s", s.Location())
	}
}

func TestHTTPErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/missing.csv", http.NotFound)
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 100))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	refused := closedPort(t)
	cases := []struct {
		name    string
		src     plan.Source
		wantErr string
	}{
		{"404", httpSource("crdc-support", srv.URL+"/missing.csv"),
			"source crdc-support: GET " + srv.URL + "/missing.csv: 404 Not Found"},
		{"500", httpSource("s", srv.URL+"/fail"),
			"source s: GET " + srv.URL + "/fail: 500 Internal Server Error"},
		{"redirect loop", httpSource("s", srv.URL+"/loop"),
			"source s: GET " + srv.URL + "/loop: stopped after 5 redirects"},
		{"timeout", withTimeout(httpSource("s", srv.URL+"/hang"), 1),
			"source s: GET " + srv.URL + "/hang: timed out after 1s"},
		{"connection refused", httpSource("s", "http://"+refused+"/x.csv"),
			"source s: GET http://" + refused + "/x.csv: connection refused"},
		{"content-length over the limit", withMax(httpSource("s", srv.URL+"/big"), 10),
			"source s: " + srv.URL + "/big is 100 bytes, over the limit of 10 bytes (maxBytes)"},
		{"not a URL", httpSource("s", "ftp://example.com/x"),
			`source s: "ftp://example.com/x" is not an http(s) URL`},
		{"password hidden", httpSource("s", "ftp://user:hunter2@example.com/x"),
			`source s: "ftp://xxxxx@example.com/x" is not an http(s) URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(context.Background(), tc.src, noEnv)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v\nwant    %s", err, tc.wantErr)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %s", time.Since(start))
			}
		})
	}
}

func withTimeout(s plan.Source, sec int64) plan.Source { s.TimeoutSeconds = sec; return s }
func withMax(s plan.Source, n int64) plan.Source       { s.MaxBytes = n; return s }

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestHTTPStreamingLimits(t *testing.T) {
	mux := http.NewServeMux()
	// Chunked, so the size is not announced and the limit is hit while reading.
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 10; i++ {
			_, _ = io.WriteString(w, strings.Repeat("y", 10))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "LEAID\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	t.Run("oversize while streaming", func(t *testing.T) {
		s, got, err := readAll(t, withMax(httpSource("s", srv.URL+"/stream"), 25), noEnv)
		want := "source s: " + srv.URL + "/stream is larger than the limit of 25 bytes (maxBytes)"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
		if len(got) != 25 || s.Size() != -1 {
			t.Fatalf("read %d bytes before the error (want 25), size %d", len(got), s.Size())
		}
	})
	t.Run("exactly the limit", func(t *testing.T) {
		_, got, err := readAll(t, withMax(httpSource("s", srv.URL+"/stream"), 100), noEnv)
		if err != nil || len(got) != 100 {
			t.Fatalf("read %d bytes, error %v", len(got), err)
		}
	})
	t.Run("timeout while reading", func(t *testing.T) {
		_, got, err := readAll(t, withTimeout(httpSource("s", srv.URL+"/stall"), 1), noEnv)
		want := "source s: reading " + srv.URL + "/stall after 6 bytes: timed out after 1s"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
		if got != "LEAID\n" {
			t.Fatalf("read %q", got)
		}
	})
}

func TestHTTPHeadersFromEnv(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen["other"] = r.Header.Get("Authorization")
		mu.Unlock()
		_, _ = io.WriteString(w, "moved")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		switch r.URL.Path {
		case "/elsewhere":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/data", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	const secret = "Bearer s3cr3t-token"
	env := lake.MapEnv(map[string]string{"DISTRICTLAKE_SRC_S_HEADER_0": secret})
	src := func(path string) plan.Source {
		s := httpSource("s", srv.URL+path)
		s.HTTP.Headers = []plan.Header{{Name: "Authorization", ValueEnv: "DISTRICTLAKE_SRC_S_HEADER_0"}}
		return s
	}
	if _, got, err := readAll(t, src("/here"), env); err != nil || got != "ok" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, got, err := readAll(t, src("/elsewhere"), env); err != nil || got != "moved" {
		t.Fatalf("got %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["/here"] != secret || seen["/data"] != secret {
		t.Fatalf("the header did not reach the plan's host: %v", seen)
	}
	if seen["other"] != "" {
		t.Fatalf("the header followed a redirect to another host: %q", seen["other"])
	}

	_, err := Open(context.Background(), src("/here"), noEnv)
	want := "source s: header Authorization: environment variable DISTRICTLAKE_SRC_S_HEADER_0 is not set"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func TestSHA256Mismatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, csvBody)
	}))
	defer srv.Close()
	wrong := sum("something else")
	for _, src := range []plan.Source{
		httpSource("s", srv.URL+"/f.csv"),
		{Name: "s", Inline: ptr(csvBody)},
	} {
		src.SHA256 = "sha256:" + wrong
		s, got, err := readAll(t, src, noEnv)
		if s == nil {
			t.Fatalf("open: %v", err)
		}
		want := fmt.Sprintf("source s: the sha256 of %s is %s, not the expected %s", s.Location(), sum(csvBody), wrong)
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
		if got != csvBody {
			t.Fatalf("read %q", got)
		}
		// The error stays: a reader retrying after it never sees io.EOF.
		if _, err2 := s.Read(make([]byte, 10)); err2 == nil || err2.Error() != want {
			t.Fatalf("second read: %v", err2)
		}
	}
}

func ptr(s string) *string { return &s }

func TestFileAndInline(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "contracts.csv")
	if err := os.WriteFile(p, []byte(csvBody), 0o644); err != nil {
		t.Fatal(err)
	}
	s, got, err := readAll(t, plan.Source{Name: "contracts", File: &plan.File{Path: p}, SHA256: sum(csvBody)}, nil)
	if err != nil || got != csvBody || s.Size() != int64(len(csvBody)) || s.Location() != p || s.ETag() != "" {
		t.Fatalf("file: %q %v size %d location %s", got, err, s.Size(), s.Location())
	}
	s, got, err = readAll(t, plan.Source{Name: "inline", Inline: ptr(csvBody)}, nil)
	if err != nil || got != csvBody || s.SHA256() != sum(csvBody) || s.Location() != "inline" {
		t.Fatalf("inline: %q %v", got, err)
	}
	s, got, err = readAll(t, plan.Source{Name: "empty", Inline: ptr("")}, nil)
	if err != nil || got != "" || s.Size() != 0 || s.SHA256() != sum("") {
		t.Fatalf("empty inline: %q %v", got, err)
	}

	cases := []struct {
		src  plan.Source
		want string
	}{
		{plan.Source{Name: "c", File: &plan.File{Path: filepath.Join(dir, "nope.csv")}},
			"source c: " + filepath.Join(dir, "nope.csv") + " does not exist"},
		{plan.Source{Name: "c", File: &plan.File{Path: dir}}, "source c: " + dir + " is a folder, not a file"},
		{plan.Source{Name: "c", File: &plan.File{Path: p}, MaxBytes: 5},
			fmt.Sprintf("source c: %s is %d bytes, over the limit of 5 bytes (maxBytes)", p, len(csvBody))},
		{plan.Source{Name: "c", Inline: ptr("123456"), MaxBytes: 5}, "source c: inline is 6 bytes, over the limit of 5 bytes (maxBytes)"},
		{plan.Source{Name: "c"}, "source c: no http, s3, file, landed or inline given"},
	}
	for _, tc := range cases {
		_, err := Open(context.Background(), tc.src, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("error = %v\nwant    %s", err, tc.want)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err := Open(ctx, httpSource("s", srv.URL+"/x"), noEnv)
	if err == nil || !errors.Is(err, context.Canceled) && !strings.HasSuffix(err.Error(), ": canceled") {
		t.Fatalf("error = %v", err)
	}
}
