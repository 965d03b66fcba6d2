package cli

import (
	"github.com/spf13/pflag"

	"github.com/districtlake/districtlake/internal/egress"
)

// egressFlags are the egress policy's flags, the same on the manager (where private
// addresses are refused by default) and on a local run (where everything is allowed).
type egressFlags struct {
	allowPrivate bool
	cidrs        []string
	hosts        []string
}

// bind adds the flags; allowPrivate is --egress-allow-private's default.
func (e *egressFlags) bind(fs *pflag.FlagSet, allowPrivate bool, who string) {
	fs.BoolVar(&e.allowPrivate, "egress-allow-private", allowPrivate,
		"let "+who+" connect to loopback, link-local, private, shared and reserved addresses (cluster services, cloud metadata); false allows only public addresses and those of --egress-allow-cidrs and --egress-allow-hosts")
	fs.StringSliceVar(&e.cidrs, "egress-allow-cidrs", nil,
		"address ranges "+who+" may connect to even when private addresses are refused, such as 10.20.0.0/16 (comma-separated or repeated)")
	fs.StringSliceVar(&e.hosts, "egress-allow-hosts", nil,
		"host names "+who+" may connect to whatever they resolve to, exact or *.domain, such as minio.storage.svc.cluster.local (comma-separated or repeated)")
}

// policy is the policy the flags give; Validate reports a bad CIDR or host.
func (e *egressFlags) policy() egress.Policy {
	if e.allowPrivate {
		return egress.Policy{AllowCIDRs: e.cidrs, AllowHosts: e.hosts}
	}
	return egress.Restricted(e.cidrs, e.hosts)
}
