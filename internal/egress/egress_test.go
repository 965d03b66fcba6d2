package egress_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/egress"
)

// get fetches url through a client dialling under p.
func get(t *testing.T, p egress.Policy, url string) (string, error) {
	t.Helper()
	tr, err := p.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "internal page") }))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":"):]

	cases := []struct {
		name   string
		policy egress.Policy
		url    string
		refuse bool
	}{
		{"allow all (local CLI)", egress.AllowAll(), srv.URL, false},
		{"default in a cluster, by address", egress.Restricted(nil, nil), srv.URL, true},
		{"default in a cluster, by a name that resolves to loopback", egress.Restricted(nil, nil), "http://localhost" + port, true},
		{"allowed by CIDR", egress.Restricted([]string{"127.0.0.0/30"}, nil), srv.URL, false},
		{"CIDR that does not hold the address", egress.Restricted([]string{"127.0.0.2/32"}, nil), srv.URL, true},
		{"allowed by host", egress.Restricted(nil, []string{"LOCALHOST"}), "http://localhost" + port, false},
		{"host rule does not allow the bare address", egress.Restricted(nil, []string{"localhost"}), srv.URL, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := get(t, tc.policy, tc.url)
			if tc.refuse {
				if !errors.Is(err, egress.ErrRefused) {
					t.Fatalf("GET %s = %q, %v; want refused by the egress policy", tc.url, body, err)
				}
				if !strings.Contains(err.Error(), "loopback address") || strings.Contains(err.Error(), "internal page") {
					t.Errorf("error %q should name the kind of address and never the content", err)
				}
				return
			}
			if err != nil || body != "internal page" {
				t.Fatalf("GET %s = %q, %v; want the page", tc.url, body, err)
			}
		})
	}
}

// A refused address gives the same error whether a server listens on the port or not.
func TestRefusalDoesNotTellOpenFromClosedPorts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	addr := srv.Listener.Addr().String()
	port := addr[strings.LastIndex(addr, ":"):]
	_, open := get(t, egress.Restricted(nil, nil), "http://127.0.0.1"+port)
	srv.Close()
	_, closed := get(t, egress.Restricted(nil, nil), "http://127.0.0.1"+port)
	if open == nil || closed == nil || open.Error() != closed.Error() {
		t.Fatalf("open port: %v\nclosed port: %v\nwant the same refusal", open, closed)
	}
}

func TestClassify(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.2": "loopback", "::1": "loopback", "169.254.169.254": "link-local", "fe80::1": "link-local",
		"10.96.0.1": "private", "172.16.0.1": "private", "192.168.1.1": "private", "fd00::1": "private",
		"100.64.0.1": "shared (carrier-grade NAT)", "0.0.0.0": "unspecified", "::": "unspecified",
		"::ffff:127.0.0.1": "loopback", "::ffff:169.254.169.254": "link-local", "64:ff9b::a9fe:a9fe": "NAT64 of a link-local address",
		"239.1.2.3": "multicast", "255.255.255.255": "reserved", "8.8.8.8": "", "2606:4700::1111": "", "64:ff9b::808:808": "",
	} {
		if got := egress.Classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, p := range []egress.Policy{
		egress.Restricted([]string{"10.0.0.0/33"}, nil),
		egress.Restricted([]string{"not a cidr"}, nil),
		egress.Restricted(nil, []string{"http://host"}),
		egress.Restricted(nil, []string{"a\x1b[2Jb"}),
		egress.Restricted(nil, []string{""}),
	} {
		err := p.Validate()
		if err == nil {
			t.Errorf("%+v: no error", p)
			continue
		}
		if strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("error %q carries a raw control character", err)
		}
	}
	if err := egress.Restricted([]string{"10.0.0.0/8", "fd00::/8"}, []string{"minio.storage.svc", "*.corp.example.org"}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWildcardHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	dial, err := egress.Restricted(nil, []string{"*.localhost"}).Dialer(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Listener.Addr().String()
	port := addr[strings.LastIndex(addr, ":"):]
	if _, err := dial(t.Context(), "tcp", "localhost"+port); !errors.Is(err, egress.ErrRefused) {
		t.Errorf("*.localhost allowed localhost itself: %v", err)
	}
}
