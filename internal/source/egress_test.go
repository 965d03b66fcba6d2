package source

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

// internalPage is a server on a loopback address standing for a page inside the cluster;
// hits counts the requests that reached it.
func internalPage(t *testing.T, addr string, hits *atomic.Int64) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("secret-internal-content\n1,2\n"))
	}))
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func openWith(src plan.Source, p egress.Policy) error {
	s, err := OpenWith(context.Background(), src, noEnv, Options{Egress: p})
	if err == nil {
		_ = s.Close()
	}
	return err
}

// In a cluster (the restricted default) an http source on a loopback address is refused
// before any connection is made, unless the admin allows it by CIDR or host; a local run
// (allow all) fetches it.
func TestHTTPEgressPolicy(t *testing.T) {
	var hits atomic.Int64
	srv := internalPage(t, "127.0.0.1", &hits)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	cases := []struct {
		name   string
		url    string
		policy egress.Policy
		refuse bool
	}{
		{"local run", srv.URL, egress.AllowAll(), false},
		{"cluster default", srv.URL, egress.Restricted(nil, nil), true},
		{"cluster default, a name for loopback", "http://localhost" + port, egress.Restricted(nil, nil), true},
		{"allowed CIDR", srv.URL, egress.Restricted([]string{"127.0.0.1/32"}, nil), false},
		{"allowed host", "http://localhost" + port, egress.Restricted(nil, []string{"localhost"}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			err := openWith(httpSource("support", tc.url), tc.policy)
			if !tc.refuse {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, egress.ErrRefused) {
				t.Fatalf("error = %v, want refused by the egress policy", err)
			}
			if !strings.HasPrefix(err.Error(), "source support: GET ") || !strings.Contains(err.Error(), "a loopback address") {
				t.Errorf("error %q should name the source and the kind of address", err)
			}
			if hits.Load() != before {
				t.Errorf("the refused server was reached")
			}
		})
	}
}

// A redirect from an allowed server to a refused address is refused: the check is on each
// connection, not on the plan's URL.
func TestHTTPEgressRedirectRefused(t *testing.T) {
	var hits atomic.Int64
	inside := internalPage(t, "127.0.0.2", &hits)
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/latest/meta-data", http.StatusFound)
	}))
	defer outside.Close()
	err := openWith(httpSource("support", outside.URL+"/x.csv"), egress.Restricted([]string{"127.0.0.1/32"}, nil))
	if !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.2") {
		t.Fatalf("error = %v, want the redirect target refused", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the redirect reached the refused server")
	}
	// A ZIP member is read through the same client.
	src := httpSource("support", outside.URL+"/x.zip")
	src.HTTP.Member = "x.csv"
	if err := openWith(src, egress.Restricted([]string{"127.0.0.1/32"}, nil)); !errors.Is(err, egress.ErrRefused) {
		t.Fatalf("member fetch: %v, want refused", err)
	}
}

// A server's reason phrase is its content: the error says the standard text of the code.
func TestHTTPErrorQuotesNoResponseContent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = c.Write([]byte("HTTP/1.1 500 root:x:0:0:secret-line\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}()
		}
	}()
	err = openWith(httpSource("support", "http://"+l.Addr().String()+"/x.csv"), egress.AllowAll())
	if err == nil || strings.Contains(err.Error(), "secret-line") || !strings.HasSuffix(err.Error(), ": 500 Internal Server Error") {
		t.Fatalf("error = %v, want the standard status text only", err)
	}
}

// An s3 source's client dials through the policy too.
func TestS3EgressPolicy(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "crdc-files")
	l, env := m.Lake("crdc-files", "")
	store, err := lake.New(context.Background(), l, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), "x.csv", []byte(csvBody)); err != nil {
		t.Fatal(err)
	}
	src := plan.Source{Name: "crdc-support", S3: &plan.S3{Lake: l, Bucket: "crdc-files", Key: "x.csv"}}
	open := func(p egress.Policy) error {
		s, err := OpenWith(context.Background(), src, env, Options{Egress: p})
		if err == nil {
			_ = s.Close()
		}
		return err
	}
	if err := open(egress.Restricted(nil, nil)); !errors.Is(err, egress.ErrRefused) || strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("cluster default: %v, want refused by the egress policy", err)
	}
	if err := open(egress.Restricted([]string{"127.0.0.0/8"}, nil)); err != nil {
		t.Fatalf("allowed CIDR: %v", err)
	}
	src.S3.Member = "a.csv"
	if err := open(egress.Restricted(nil, nil)); !errors.Is(err, egress.ErrRefused) {
		t.Fatalf("member, cluster default: %v, want refused", err)
	}
}
