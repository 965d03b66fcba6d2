#!/usr/bin/env bash
# Proves the cluster's egress guard: a packet from a pod address to anything off the bridge is
# rejected, never forwarded. No packet leaves the machine, even if the guard were missing: the
# "outside" is a peer in a network namespace this script makes, behind a veth.
#
#   hack/cluster/egress-check.sh                          # a pod-like network namespace on cni0 sends
#   EGRESS_PROBE_IMAGE=img hack/cluster/egress-check.sh   # and a real pod running img sends too
#
# The probe image's entrypoint is called with `udp HOST:PORT` and `tcp HOST:PORT` arguments
# (test/e2e/testdata/egressprobe). Checks, each printed as "ok ..." or "FAIL ...":
#   - the peer receives what this machine sends it (the path works),
#   - the pod namespace reaches this machine at 10.88.0.1 (pods still reach the host),
#   - the pod namespace's (and the probe pod's) UDP and TCP to the peer are rejected, the
#     guard's packet counter rises by at least as many packets, and the peer receives nothing.
# Exits 1 when any check fails.
set -Eeuo pipefail
# shellcheck source=lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root

# The peer's /24: the first documentation range that no address or route of this machine
# covers (this machine's own uplink may well be in one of them).
PEER_NET=
for net in 203.0.113 198.51.100 192.0.2; do
	if ! ip -o -4 addr show | grep " $net\." >/dev/null && ! ip -4 route show match "$net.2" | grep -v '^default' >/dev/null; then
		PEER_NET=$net
		break
	fi
done
[[ -n $PEER_NET ]] || { echo "FAIL no documentation range is free on this machine for the peer"; exit 1; }
PEER_IP=$PEER_NET.2
PEER_GW=$PEER_NET.1
POD_NS_IP=10.88.255.250
PORT=9999
TMP=$(mktemp -d "${TMPDIR:-/tmp}/districtlake-egress.XXXXXX")
PIDS_LOCAL=()
failed=0

cleanup() {
	local p
	for p in "${PIDS_LOCAL[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS_LOCAL[@]}"; do wait "$p" 2>/dev/null || true; done
	ip link del dlg-pod 2>/dev/null || true
	ip link del dlg-peer 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

check() { # check DESCRIPTION CONDITION...
	local what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi
}

guard_packets() {
	iptables -L FORWARD -v -x -n | awk -v c="$GUARD_COMMENT" '$0 ~ c {print $1; exit}'
}

# netns: a network namespace held open by a sleeping process (no /run/netns entry is made);
# its PID is left in NS_PID once the process is in its own namespace.
netns() {
	unshare --net sleep 600 </dev/null >/dev/null 2>&1 &
	NS_PID=$!
	PIDS_LOCAL+=("$NS_PID")
	local i
	for i in $(seq 1 100); do
		if [[ -e /proc/$NS_PID/ns/net && $(readlink "/proc/$NS_PID/ns/net") != $(readlink /proc/self/ns/net) ]]; then
			return 0
		fi
		sleep 0.05
	done
	echo "FAIL could not make a network namespace" >&2
	exit 1
}
in_ns() { # in_ns PID CMD...
	local pid=$1
	shift
	nsenter -t "$pid" -n "$@"
}

[[ -n $(guard_packets) ]] || { echo "FAIL the egress guard rule ($GUARD_COMMENT) is not in FORWARD"; exit 1; }
first=$(iptables -S FORWARD | sed -n 2p)
check "the egress guard is the first FORWARD rule" test "${first#*"$GUARD_COMMENT"}" != "$first"
echo "     the peer outside the bridge: $PEER_IP behind a veth (its own network namespace)"

# The "outside" peer: its own namespace behind a veth, with a UDP and a TCP listener.
netns
peer=$NS_PID
ip link add dlg-peer type veth peer name dlg-peer-ns
ip link set dlg-peer-ns netns "$peer"
sysctl -qw net.ipv6.conf.dlg-peer.disable_ipv6=1
ip addr add "$PEER_GW/24" dev dlg-peer
ip link set dlg-peer up
in_ns "$peer" ip link set lo up
in_ns "$peer" ip addr add "$PEER_IP/24" dev dlg-peer-ns
in_ns "$peer" ip link set dlg-peer-ns up
in_ns "$peer" ip route add default via "$PEER_GW"
touch "$TMP/peer-udp" "$TMP/peer-tcp" "$TMP/host-udp"
nsenter -t "$peer" -n socat -u "UDP4-RECV:$PORT,bind=$PEER_IP" "OPEN:$TMP/peer-udp,append" </dev/null >/dev/null 2>&1 &
PIDS_LOCAL+=($!)
nsenter -t "$peer" -n socat -u "TCP4-LISTEN:$PORT,bind=$PEER_IP,fork,reuseaddr" "OPEN:$TMP/peer-tcp,append" </dev/null >/dev/null 2>&1 &
PIDS_LOCAL+=($!)

# A pod-like namespace on the bridge, addressed and routed as the CNI plugin does for pods.
netns
pod=$NS_PID
ip link add dlg-pod type veth peer name dlg-pod-ns
ip link set dlg-pod-ns netns "$pod"
sysctl -qw net.ipv6.conf.dlg-pod.disable_ipv6=1
ip link set dlg-pod master "$BRIDGE" up
in_ns "$pod" ip link set lo up
in_ns "$pod" ip addr add "$POD_NS_IP/16" dev dlg-pod-ns
in_ns "$pod" ip link set dlg-pod-ns up
in_ns "$pod" ip route add default via "$NODE_IP"
sleep 0.5

# The path to the peer works from this machine (which is not a pod: not forwarded).
for _ in 1 2 3 4 5; do
	echo control | socat -u - "UDP4-SENDTO:$PEER_IP:$PORT"
	echo control | timeout 5 socat -u - "TCP4:$PEER_IP:$PORT,connect-timeout=3" 2>"$TMP/control.err" && break
	sleep 0.5
done
sleep 0.5
if ! grep -qx control "$TMP/peer-tcp"; then
	echo "     TCP to the peer from this machine: $(cat "$TMP/control.err")"
	echo "     peer sockets: $(in_ns "$peer" ss -ltnu | tr '\n' ' ')"
	echo "     peer addresses: $(in_ns "$peer" ip -br addr | tr '\n' ' ')"
	echo "     route: $(ip route get "$PEER_IP")"
	echo "     OUTPUT: $(iptables -S OUTPUT | tr '\n' ' ')"
fi
check "the peer receives UDP from this machine" grep -qx control "$TMP/peer-udp"
check "the peer receives TCP from this machine" grep -qx control "$TMP/peer-tcp"

# The pod namespace reaches this machine on the bridge.
socat -u "UDP4-RECV:$((PORT - 1)),bind=$NODE_IP" "OPEN:$TMP/host-udp,append" </dev/null >/dev/null 2>&1 &
PIDS_LOCAL+=($!)
sleep 0.2
echo from-pod | in_ns "$pod" socat -u - "UDP4-SENDTO:$NODE_IP:$((PORT - 1))"
sleep 0.3
check "the pod namespace reaches this machine at $NODE_IP" grep -qx from-pod "$TMP/host-udp"

before=$(guard_packets)
for i in 1 2 3; do
	echo "leak-$i" | in_ns "$pod" socat -u - "UDP4-SENDTO:$PEER_IP:$PORT" || true
done
tcp_out=$(echo leak-tcp | in_ns "$pod" timeout 10 socat -u - "TCP4:$PEER_IP:$PORT,connect-timeout=5" 2>&1 || true)
sent=4
if [[ -n ${EGRESS_PROBE_IMAGE:-} ]]; then
	ns=districtlake-egress-check
	kctl create namespace "$ns" --dry-run=client -o yaml | kctl apply -f - >/dev/null
	for i in $(seq 1 50); do kctl -n "$ns" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.2; done
	kctl -n "$ns" delete pod egress-probe --ignore-not-found --wait >/dev/null
	kctl -n "$ns" run egress-probe --image "$EGRESS_PROBE_IMAGE" --image-pull-policy Never --restart Never \
		-- udp "$PEER_IP:$PORT" tcp "$PEER_IP:$PORT" >/dev/null
	if kctl -n "$ns" wait pod/egress-probe --for=jsonpath='{.status.phase}'=Succeeded --timeout=90s >/dev/null; then
		echo "ok   the probe pod ran"
	else
		echo "FAIL the probe pod did not succeed: $(kctl -n "$ns" get pod egress-probe -o jsonpath='{.status}')"
		failed=1
	fi
	probe_log=$(kctl -n "$ns" logs egress-probe 2>&1 || true)
	echo "probe pod log: $probe_log" | sed 's/^/     /'
	check "the probe pod's TCP connect was refused" grep -q 'tcp .*refused' <<<"$probe_log"
	kctl delete namespace "$ns" --wait=false >/dev/null
	sent=$((sent + 4)) # three datagrams and one SYN
fi
sleep 1
after=$(guard_packets)
echo "     guard packets: $before before, $after after ($sent sent towards the peer); pod namespace TCP: ${tcp_out:-no output}"
check "the guard counted every packet sent towards the peer" test $((after - before)) -ge "$sent"
check "the pod namespace's TCP connect was refused" grep -qi refused <<<"$tcp_out"
check "the peer received no UDP from pods" test "$(grep -c leak "$TMP/peer-udp")" -eq 0
check "the peer received no TCP from pods" test "$(grep -c leak "$TMP/peer-tcp")" -eq 0

if [[ $failed -ne 0 ]]; then
	echo "egress-check: FAILED" >&2
	exit 1
fi
echo "egress-check: the guard holds" >&2
