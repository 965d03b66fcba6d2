// Package egress is the policy on the addresses a fetch may connect to. The cluster admin
// sets it on the manager (flags, chart values), which passes it to the ingest Jobs in
// their plan and applies it to its own Lake checks; the local CLI allows everything unless
// told otherwise. A restricted policy refuses loopback, link-local (cloud metadata),
// private, shared (carrier-grade NAT), reserved and multicast addresses, where cluster
// services and internal pages live, unless an address is allowed by CIDR or its host by
// name.
//
// The policy is enforced when dialling, on the address the connection is about to be made
// to, after DNS: a redirect to an internal address, or a name that resolves (or
// re-resolves, as in DNS rebinding) to one, is refused like a URL that names it. The
// refusal comes before any packet is sent, so its error is the same whether a port is
// open or closed.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Policy says which addresses a fetch may connect to. The zero Policy allows everything.
type Policy struct {
	// DenyPrivate refuses the addresses that are not public (loopback, link-local, private,
	// shared, reserved, multicast, unspecified) unless AllowCIDRs or AllowHosts allow them.
	DenyPrivate bool `json:"denyPrivate,omitempty"`
	// AllowCIDRs are address ranges allowed even when DenyPrivate, such as "10.0.5.0/24"
	// or "192.168.1.7/32".
	AllowCIDRs []string `json:"allowCIDRs,omitempty"`
	// AllowHosts are host names allowed whatever they resolve to: an exact name
	// ("minio.storage.svc.cluster.local") or "*." and a domain, which allows the names
	// under it ("*.corp.example.org").
	AllowHosts []string `json:"allowHosts,omitempty"`
}

// AllowAll is the policy of a run on the user's own machine: every address.
func AllowAll() Policy { return Policy{} }

// Restricted is the default policy in a cluster: public addresses only, plus the
// given CIDRs and hosts.
func Restricted(cidrs, hosts []string) Policy {
	return Policy{DenyPrivate: true, AllowCIDRs: cidrs, AllowHosts: hosts}
}

// Validate checks every CIDR and host name of the policy.
func (p Policy) Validate() error {
	_, err := p.compile()
	return err
}

// String describes the policy for logs.
func (p Policy) String() string {
	if !p.DenyPrivate {
		return "allow all"
	}
	return fmt.Sprintf("public addresses only, plus CIDRs [%s] and hosts [%s]",
		strings.Join(p.AllowCIDRs, " "), strings.Join(p.AllowHosts, " "))
}

// compiled is a Policy with its CIDRs parsed.
type compiled struct {
	deny  bool
	cidrs []netip.Prefix
	hosts []string
}

func (p Policy) compile() (*compiled, error) {
	c := &compiled{deny: p.DenyPrivate}
	for _, s := range p.AllowCIDRs {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("egress: allowed CIDR %s is not an address range such as 10.0.0.0/8: %w", quote(s), err)
		}
		c.cidrs = append(c.cidrs, pfx.Masked())
	}
	for _, h := range p.AllowHosts {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		name := strings.TrimPrefix(h, "*.")
		if name == "" || strings.ContainsAny(name, "*/:@ ") || hasControl(name) {
			return nil, fmt.Errorf("egress: allowed host %s is not a host name (an exact name or *.domain)", quote(h))
		}
		c.hosts = append(c.hosts, h)
	}
	return c, nil
}

// hostAllowed tells whether a host name is on the allowed list.
func (c *compiled) hostAllowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range c.hosts {
		if domain, wild := strings.CutPrefix(h, "*."); wild {
			if strings.HasSuffix(host, "."+domain) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}

// check returns nil when the policy allows connecting to ip, else a *RefusedError.
func (c *compiled) check(host string, ip netip.Addr) error {
	ip = ip.Unmap()
	if !c.deny {
		return nil
	}
	for _, pfx := range c.cidrs {
		if pfx.Contains(ip) {
			return nil
		}
	}
	if kind := Classify(ip); kind != "" {
		return &RefusedError{Host: host, Addr: ip, Kind: kind}
	}
	return nil
}

// Ranges a restricted policy refuses besides those netip.Addr classifies.
var (
	sharedRange    = netip.MustParsePrefix("100.64.0.0/10")  // carrier-grade NAT, some clusters' pods
	benchmarkRange = netip.MustParsePrefix("198.18.0.0/15")  // network benchmarks
	thisNetwork    = netip.MustParsePrefix("0.0.0.0/8")      // "this network"
	reservedRange  = netip.MustParsePrefix("240.0.0.0/4")    // reserved, broadcast
	ietfRange      = netip.MustParsePrefix("192.0.0.0/24")   // IETF protocol assignments
	nat64Range     = netip.MustParsePrefix("64:ff9b::/96")   // NAT64: an IPv4 address inside
	nat64Local     = netip.MustParsePrefix("64:ff9b:1::/48") // local-use NAT64
)

// Classify names the kind of non-public address ip is ("loopback", "link-local",
// "private", ...), or returns "" for a public address.
func Classify(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsUnspecified(), thisNetwork.Contains(ip):
		return "unspecified"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case sharedRange.Contains(ip):
		return "shared (carrier-grade NAT)"
	case benchmarkRange.Contains(ip), reservedRange.Contains(ip), ietfRange.Contains(ip):
		return "reserved"
	case nat64Range.Contains(ip), nat64Local.Contains(ip):
		b := ip.As16()
		if inner := Classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); inner != "" {
			return "NAT64 of a " + inner + " address"
		}
	}
	return ""
}

// RefusedError is the error of a connection the policy refused. It names the host, the
// address and its kind, never a port's state (no connection was tried).
type RefusedError struct {
	Host string
	Addr netip.Addr
	Kind string
}

func (e *RefusedError) Error() string {
	what := e.Addr.String()
	if e.Host != "" && e.Host != what {
		what = fmt.Sprintf("%s (address %s)", quote(e.Host), what)
	}
	return fmt.Sprintf("the egress policy refused to connect to %s: a %s address; the cluster admin may allow it by CIDR or host (--egress-allow-cidrs, --egress-allow-hosts)", what, e.Kind)
}

// ErrRefused is what errors.Is matches a *RefusedError against.
var ErrRefused = errors.New("refused by the egress policy")

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// DialFunc is the signature of http.Transport's DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dialer returns a DialContext that connects through d (a default dialer when nil) only
// to the addresses the policy allows: an allowed host name is dialled as is; any other
// is resolved and each address checked just before its connection is made.
func (p Policy) Dialer(d *net.Dialer) (DialFunc, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	}
	if !c.deny {
		return d.DialContext, nil
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("egress: address %s: %w", quote(addr), err)
		}
		if c.hostAllowed(host) {
			return d.DialContext(ctx, network, addr)
		}
		checked := *d
		checked.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("egress: address %s: %w", quote(address), err)
			}
			return c.check(host, ap.Addr())
		}
		return checked.DialContext(ctx, network, addr)
	}, nil
}

// Transport returns base (a clone of http.DefaultTransport when nil) dialling through
// the policy. A restricted policy also turns off proxies from the environment
// (HTTP_PROXY, HTTPS_PROXY), which would connect on the fetch's behalf past the check.
func (p Policy) Transport(base *http.Transport) (*http.Transport, error) {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	dial, err := p.Dialer(nil)
	if err != nil {
		return nil, err
	}
	if p.DenyPrivate {
		base.Proxy = nil
		base.DialContext = dial
	}
	return base, nil
}

// quote quotes untrusted text short and escaped for an error message.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
