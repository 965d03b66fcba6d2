# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file
# Shared settings and helpers of hack/cluster/up.sh, down.sh and egress-check.sh: a real
# single-node Kubernetes on this machine without Docker (see ../../../shared/notes/local-cluster.md
# for the facts behind each setting). Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${DISTRICTLAKE_CLUSTER_STATE:-/tmp/districtlake-cluster}
K8S_BIN=${DISTRICTLAKE_K8S_BIN:-$ROOT/bin/k8s}
K8S_VERSION=v1.37.2

NODE=districtlake-node
# The bridge pods live on and the node's address: servers pods must reach listen on it.
BRIDGE=cni0
POD_CIDR=10.88.0.0/16
NODE_IP=10.88.0.1
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
APISERVER_PORT=6443
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380
# The comment that marks the egress guard: pods may reach pods and this machine, nothing else.
GUARD_COMMENT=districtlake-egress-guard

CONTAINERD_SOCK=$STATE/containerd/containerd.sock
KUBECONFIG_ADMIN=$STATE/admin.kubeconfig
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
SNAP=$STATE/snapshot

# Kernel settings the cluster's parts may change (the CNI bridge, kubelet, kube-proxy):
# saved before start and written back by down.sh.
SYSCTLS=(
	net.ipv4.ip_forward
	net.ipv4.conf.all.forwarding
	net.ipv4.conf.all.route_localnet
	net.ipv6.conf.all.forwarding
	net.bridge.bridge-nf-call-iptables
	net.bridge.bridge-nf-call-ip6tables
	net.netfilter.nf_conntrack_max
	net.netfilter.nf_conntrack_tcp_timeout_established
	net.netfilter.nf_conntrack_tcp_timeout_close_wait
	net.netfilter.nf_conntrack_tcp_be_liberal
	net.netfilter.nf_conntrack_udp_timeout
	net.netfilter.nf_conntrack_udp_timeout_stream
	vm.overcommit_memory
	vm.panic_on_oom
	kernel.panic
	kernel.panic_on_oops
	kernel.keys.root_maxkeys
	kernel.keys.root_maxbytes
)

# Host folders containerd, CNI and the kubelet create on first use outside $STATE; down.sh
# removes the ones that did not exist before up.sh.
HOST_DIRS=(
	/run/containerd
	/run/netns
	/var/run/netns
	/var/lib/cni
	/var/log/containers
	/var/log/pods
	/var/lib/kubelet
	/etc/kubernetes
	/opt/containerd
	/etc/cni
	/opt/cni
)

# Debian packages the cluster needs.
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack socat iproute2 openssl nftables)

log() { printf '%s cluster: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

require_root() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (it starts a kubelet, containerd and changes iptables)"
}

# kctl runs the cluster's kubectl as the admin.
kctl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# ctr_ runs containerd's ctr against the cluster's containerd, in the CRI namespace.
ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# iptables_backend prints nf_tables or legacy.
iptables_backend() {
	if iptables --version 2>/dev/null | grep nf_tables >/dev/null; then echo nf_tables; else echo legacy; fi
}

# machine_state prints what down.sh must leave as up.sh found it, normalised for diffing:
# mounts, network links, iptables and ip6tables rules (without counters), sysctls, cgroups
# and host folders. down.sh compares it before and after.
machine_state() {
	set +o pipefail
	echo "## mounts"
	awk '{print $5}' /proc/self/mountinfo | grep -v '^/proc/' | sort
	echo "## links"
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	echo "## addresses"
	ip -o addr show | awk '{print $2, $4}' | sort
	echo "## routes"
	ip route show table all 2>/dev/null | grep -v '^local\|^broadcast\|^multicast\|fe80::\|^ff00::' | sort
	echo "## iptables"
	iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' | sort
	echo "## ip6tables"
	ip6tables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' | sort
	echo "## sysctls"
	local s
	for s in "${SYSCTLS[@]}"; do
		printf '%s=%s\n' "$s" "$(sysctl -n "$s" 2>/dev/null || echo absent)"
	done
	echo "## cgroups"
	find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d \( -name 'kubepods*' -o -name 'k8s.io' -o -path '*/kubepods*/*' \) 2>/dev/null | sort
	echo "## host folders"
	for s in "${HOST_DIRS[@]}"; do
		[[ -e $s ]] && echo "$s"
	done
	echo "## network namespaces"
	find /run/netns -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | sort
	set -o pipefail
}

# pid_alive tells whether the recorded process NAME runs (and is still the one we started:
# its command line names the cluster's state folder or binary).
pid_alive() {
	local f=$PIDS/$1.pid pid
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ -d /proc/$pid ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "$STATE" >/dev/null
}
