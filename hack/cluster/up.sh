#!/usr/bin/env bash
# Starts a real single-node Kubernetes on this machine without Docker: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd (Debian's, with runc and the CNI plugins),
# kubelet and kube-proxy, all under $DISTRICTLAKE_CLUSTER_STATE (default
# /tmp/districtlake-cluster). Writes $STATE/admin.kubeconfig and waits until the node is Ready.
#
#   hack/cluster/up.sh            # then: kubectl --kubeconfig /tmp/districtlake-cluster/admin.kubeconfig get nodes
#   hack/cluster/down.sh          # stops it and leaves the machine as it was
#
# Pods live on the bridge cni0 (10.88.0.0/16); this machine is 10.88.0.1 there, so a server
# on the host that pods must reach listens on 10.88.0.1. Before any pod can start, an egress
# guard (iptables FORWARD, first rule) rejects every pod packet that would leave the bridge:
# pods reach other pods and this machine, never the network. up.sh proves the guard with
# egress-check.sh before it starts the kubelet.
#
# Only what up.sh starts is stopped by down.sh (by recorded PID); everything it changes on the
# host (iptables, sysctls, interfaces, mounts, cgroups, host folders) is snapshotted first and
# restored by down.sh, which then checks the machine matches the snapshot.
set -Eeuo pipefail
# shellcheck source=lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
START=$SECONDS

if [[ -d $STATE ]]; then
	if [[ -f $KUBECONFIG_ADMIN ]] && pid_alive kubelet && kctl get node "$NODE" >/dev/null 2>&1; then
		log "already up ($STATE); kubeconfig $KUBECONFIG_ADMIN"
		exit 0
	fi
	die "$STATE exists but the cluster is not healthy: run hack/cluster/down.sh first"
fi
if ip link show "$BRIDGE" >/dev/null 2>&1; then
	die "the interface $BRIDGE exists already (another cluster?); refusing to share it"
fi
for net in "$POD_CIDR" "$SERVICE_CIDR"; do
	if ip -4 route show match "${net%/*}" | grep -v '^default' >/dev/null; then
		die "this machine already routes $net ($(ip -4 route show match "${net%/*}" | grep -v '^default' | head -1)); the cluster needs it"
	fi
done

# A failure once the snapshot is taken tears down what was started (and only then: an
# earlier refusal must not touch a cluster that is already running).
STARTED=0
UP_OK=0
on_exit() {
	local rc=$?
	[[ $STARTED -eq 1 && $UP_OK -eq 0 ]] || return 0
	[[ $rc -ne 0 ]] || rc=1
	log "failed (exit $rc); logs in $LOGS; tearing down"
	for f in "$LOGS"/*.log; do
		[[ -f $f ]] || continue
		echo "---- last lines of $f" >&2
		tail -n 15 "$f" >&2
	done
	DISTRICTLAKE_CLUSTER_KEEP_LOGS=1 "$ROOT/hack/cluster/down.sh" || true
	exit "$rc"
}
trap on_exit EXIT

# ---- packages and binaries -------------------------------------------------------------
install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return
	log "installing Debian packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_binaries() {
	local want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl) c missing=()
	for c in "${want[@]}"; do [[ -x $K8S_BIN/$c ]] || missing+=("$c"); done
	if [[ ${#missing[@]} -gt 0 ]]; then
		log "building ${missing[*]} (hack/k8s-binaries.sh; minutes when cold)"
		"$ROOT/hack/k8s-binaries.sh" "${missing[@]}"
	fi
}

# The pod sandbox image: a tiny static pause binary, since nothing can be pulled here.
build_pause_image() {
	local out=$ROOT/bin/cluster
	mkdir -p "$out"
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/pause" ./hack/image/pause)
	(cd "$ROOT" && SOURCE_DATE_EPOCH=0 go run ./hack/image -binary "$out/pause" -tag localhost/pause:v1 -ca-bundle "" \
		-title pause -o "$out/pause-image.tar" 2>/dev/null)
}

# ---- snapshot and egress guard -----------------------------------------------------------
snapshot() {
	mkdir -p "$SNAP"
	iptables-save >"$SNAP/iptables.rules" 2>/dev/null || true
	ip6tables-save >"$SNAP/ip6tables.rules" 2>/dev/null || true
	iptables-save 2>/dev/null | sed -n 's/^\*//p' >"$SNAP/iptables.tables" || true
	ip6tables-save 2>/dev/null | sed -n 's/^\*//p' >"$SNAP/ip6tables.tables" || true
	local s d
	: >"$SNAP/sysctls"
	for s in "${SYSCTLS[@]}"; do
		if v=$(sysctl -n "$s" 2>/dev/null); then printf '%s=%s\n' "$s" "$v" >>"$SNAP/sysctls"; fi
	done
	: >"$SNAP/host-dirs-absent"
	for d in "${HOST_DIRS[@]}"; do [[ -e $d ]] || echo "$d" >>"$SNAP/host-dirs-absent"; done
	find /run/netns -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | sort >"$SNAP/netns" || true
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d 2>/dev/null | sort >"$SNAP/cgroups"
	machine_state >"$SNAP/machine.before"
}

install_guard() {
	iptables -I FORWARD 1 -s "$POD_CIDR" ! -o "$BRIDGE" -m comment --comment "$GUARD_COMMENT" -j REJECT
	ip6tables -I FORWARD 1 -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment "$GUARD_COMMENT" -j REJECT
}

# guard_first puts the guard back on top of FORWARD after kube-proxy inserted its own jumps
# there (a second copy first, then the old one goes: there is no moment without a guard).
guard_first() {
	local first
	first=$(iptables -S FORWARD | sed -n 2p)
	if [[ $first != *"$GUARD_COMMENT"* ]]; then
		iptables -I FORWARD 1 -s "$POD_CIDR" ! -o "$BRIDGE" -m comment --comment "$GUARD_COMMENT" -j REJECT
		local n
		n=$(iptables -L FORWARD --line-numbers -n | awk -v c="$GUARD_COMMENT" '$0 ~ c {print $1}' | sed -n 2p)
		[[ -n $n ]] && iptables -D FORWARD "$n"
	fi
	first=$(iptables -S FORWARD | sed -n 2p)
	[[ $first == *"$GUARD_COMMENT"* ]] || die "the egress guard is not the first FORWARD rule: $first"
	[[ $(iptables -S FORWARD | grep -c -- "$GUARD_COMMENT") -eq 1 ]] || die "the egress guard is in FORWARD more than once"
}

# ---- network -----------------------------------------------------------------------------
setup_network() {
	ip link add "$BRIDGE" type bridge
	ip addr add "$NODE_IP/16" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	sysctl -qw net.ipv4.ip_forward=1
	mkdir -p "$STATE/cni/net.d" "$STATE/cni/networks"
	cat >"$STATE/cni/net.d/10-districtlake.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "districtlake",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$STATE/cni/networks"
      }
    }
  ]
}
EOF
}

# ---- certificates ------------------------------------------------------------------------
# cert NAME CN ORG EXTENDED_USAGE [SANS]: an ECDSA P-256 key and a certificate signed by the CA.
cert() {
	local name=$1 cn=$2 org=$3 usage=$4 sans=${5:-}
	local subj="/CN=$cn"
	[[ -n $org ]] && subj="/O=$org/CN=$cn"
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$PKI/$name.key" \
		-out "$PKI/$name.csr" -subj "$subj" 2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$usage"
		[[ -n $sans ]] && echo "subjectAltName=$sans"
	} >"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
		-out "$PKI/$name.crt" -days 30 -extfile "$PKI/$name.ext" 2>/dev/null
	rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

make_pki() {
	mkdir -p "$PKI"
	chmod 700 "$PKI"
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$PKI/ca.key" \
		-out "$PKI/ca.crt" -days 30 -subj "/CN=districtlake-cluster-ca" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
	cert apiserver kube-apiserver "" serverAuth \
		"DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:$SERVICE_IP,IP:$NODE_IP,IP:127.0.0.1"
	cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters clientAuth
	cert admin districtlake-admin system:masters clientAuth
	cert controller-manager system:kube-controller-manager "" clientAuth
	cert scheduler system:kube-scheduler "" clientAuth
	cert kube-proxy system:kube-proxy "" clientAuth
	cert kubelet "system:node:$NODE" system:nodes clientAuth
	cert kubelet-serving "system:node:$NODE" system:nodes serverAuth "DNS:$NODE,IP:$NODE_IP"
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/sa.key" 2>/dev/null
	openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

# kubeconfig NAME CERT: a kubeconfig for the client certificate CERT.
kubeconfig() {
	cat >"$STATE/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: districtlake
  cluster:
    certificate-authority: $PKI/ca.crt
    server: https://$NODE_IP:$APISERVER_PORT
users:
- name: $1
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: districtlake
  context: {cluster: districtlake, user: $1}
current-context: districtlake
EOF
	chmod 600 "$STATE/$1.kubeconfig"
}

# ---- processes ---------------------------------------------------------------------------
# start NAME CMD...: runs CMD in its own session, logs to $LOGS/NAME.log, records its PID.
start() {
	local name=$1
	shift
	setsid "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
	echo $! >"$PIDS/$name.pid"
	log "started $name (pid $!)"
}

# wait_for WHAT SECONDS CMD...: retries CMD until it succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	log "timed out after ${secs}s waiting for $what"
	return 1
}

start_etcd() {
	start etcd "$K8S_BIN/etcd" --name districtlake --data-dir "$STATE/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "districtlake=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
		--unsafe-no-fsync --quota-backend-bytes 2147483648
}

start_apiserver() {
	start kube-apiserver "$K8S_BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--bind-address "$NODE_IP" --secure-port "$APISERVER_PORT" --advertise-address "$NODE_IP" \
		--service-cluster-ip-range "$SERVICE_CIDR" \
		--cert-dir "$STATE/apiserver" \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
		--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--allow-privileged=false --profiling=false --event-ttl 2h
}

start_controllers() {
	kubeconfig controller-manager controller-manager
	kubeconfig scheduler scheduler
	start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
		--kubeconfig "$STATE/controller-manager.kubeconfig" \
		--authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
		--authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 --secure-port 10257 --cert-dir "$STATE/controller-manager" \
		--use-service-account-credentials --root-ca-file "$PKI/ca.crt" \
		--service-account-private-key-file "$PKI/sa.key" \
		--cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
		--leader-elect=false --profiling=false
	start kube-scheduler "$K8S_BIN/kube-scheduler" \
		--kubeconfig "$STATE/scheduler.kubeconfig" \
		--authentication-kubeconfig "$STATE/scheduler.kubeconfig" \
		--authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
		--bind-address 127.0.0.1 --secure-port 10259 --cert-dir "$STATE/scheduler" \
		--leader-elect=false --profiling=false
}

start_containerd() {
	mkdir -p "$STATE/containerd"
	cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
oom_score = 0

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:v1"
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$STATE/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
	start containerd containerd --config "$STATE/containerd/config.toml"
	wait_for containerd 30 ctr_ version
	ctr_ images import "$ROOT/bin/cluster/pause-image.tar" >/dev/null
	local images
	images=$(ctr_ images ls -q)
	grep -qx localhost/pause:v1 <<<"$images" || die "the pause image did not import (images: $images)"
}

start_kube_proxy() {
	kubeconfig kube-proxy kube-proxy
	cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $STATE/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: $NODE
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
oomScoreAdj: 0
iptables:
  localhostNodePorts: false
  masqueradeAll: false
  syncPeriod: 30s
# Leave the machine's conntrack settings alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
  udpTimeout: 0s
  udpStreamTimeout: 0s
EOF
	start kube-proxy "$K8S_BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
	# kube-proxy inserts its four jumps into FORWARD one by one once it has synced.
	local chain
	for chain in KUBE-PROXY-FIREWALL KUBE-FORWARD KUBE-SERVICES KUBE-EXTERNAL-SERVICES; do
		wait_for "kube-proxy's jump to $chain" 60 sh -c "iptables -S FORWARD | grep -q -- '-j $chain\$'"
	done
}

start_kubelet() {
	kubeconfig kubelet kubelet
	mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
	: >"$STATE/resolv.conf"
	cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
failSwapOn: false
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
podLogsDir: $STATE/pod-logs
resolvConf: $STATE/resolv.conf
# Images here are imported, never pulled: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2%
  imagefs.available: 2%
maxPods: 40
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
EOF
	start kubelet "$K8S_BIN/kubelet" --config "$STATE/kubelet.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
		--hostname-override "$NODE" --node-ip "$NODE_IP" --root-dir "$STATE/kubelet"
}

# ---- main --------------------------------------------------------------------------------
install_packages
build_binaries
build_pause_image
STARTED=1
mkdir -p "$LOGS" "$PIDS"
chmod 755 "$STATE"
snapshot
install_guard
log "egress guard installed: pods may reach $BRIDGE and this machine only"
setup_network
t0=$SECONDS
make_pki
log "certificates made in $((SECONDS - t0))s"
kubeconfig admin admin

start_etcd
wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
start_apiserver
wait_for kube-apiserver 60 kctl get --raw /readyz
start_controllers
start_containerd
start_kubelet
wait_for "node $NODE" 60 kctl get node "$NODE"
# kube-proxy starts once the Node has its address (it exits when the Node's addresses change).
start_kube_proxy
guard_first
"$ROOT/hack/cluster/egress-check.sh" | sed 's/^/    /' >&2
kctl wait --for=condition=Ready "node/$NODE" --timeout=60s >/dev/null
# The default ServiceAccount exists before anyone creates a pod in the default namespace.
wait_for "the default ServiceAccount" 30 kctl get serviceaccount default -n default
guard_first
UP_OK=1
log "node $NODE Ready in $((SECONDS - START))s; export KUBECONFIG=$KUBECONFIG_ADMIN"
