#!/usr/bin/env bash
# Stops the cluster hack/cluster/up.sh started and leaves the machine as up.sh found it:
# stops only the processes up.sh recorded (and the container shims its containerd started),
# unmounts everything under the state folder, deletes cni0 and its veths, removes the kubepods
# cgroups and the host folders that did not exist before, restores iptables, ip6tables and the
# sysctls from the snapshot, then compares the machine with the snapshot and fails on any
# difference. Safe to run twice, and after a failed up.sh.
#
#   hack/cluster/down.sh     # DISTRICTLAKE_CLUSTER_KEEP_LOGS=1 keeps $STATE/logs in $STATE.logs
set -Eeuo pipefail
# shellcheck source=lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
START=$SECONDS

if [[ ! -d $STATE ]]; then
	log "nothing to stop: $STATE does not exist"
	exit 0
fi

# stop NAME...: SIGTERM the recorded processes together, SIGKILL any still running after 10 s.
stop() {
	local name pid i spids=() names=()
	for name in "$@"; do
		[[ -f $PIDS/$name.pid ]] || continue
		if pid_alive "$name"; then
			pid=$(<"$PIDS/$name.pid")
			kill -TERM "$pid" 2>/dev/null || true
			spids+=("$pid")
			names+=("$name")
		fi
	done
	for ((i = 0; i < ${#spids[@]}; i++)); do
		pid=${spids[i]}
		for _ in $(seq 1 50); do
			[[ -d /proc/$pid ]] || break
			sleep 0.2
		done
		if [[ -d /proc/$pid ]]; then
			log "${names[i]} (pid $pid) did not stop in 10s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
		log "stopped ${names[i]} (pid $pid)"
	done
	for name in "$@"; do rm -f "$PIDS/$name.pid"; done
}

# remove_containers stops every container the cluster's containerd runs, through containerd,
# so that their shims exit.
remove_containers() {
	pid_alive containerd || return 0
	local id
	for id in $(ctr_ tasks ls -q 2>/dev/null); do
		ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
	done
	for id in $(ctr_ tasks ls -q 2>/dev/null); do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			ctr_ tasks delete "$id" >/dev/null 2>&1 && break
			sleep 0.2
		done
	done
	for id in $(ctr_ containers ls -q 2>/dev/null); do
		ctr_ containers delete "$id" >/dev/null 2>&1 || true
	done
}

# stop_shims kills container shims our containerd started that are still alive: their PIDs
# are in shim.pid files under our containerd's state folder.
stop_shims() {
	local f pid
	while IFS= read -r f; do
		pid=$(<"$f")
		if [[ -d /proc/$pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "$CONTAINERD_SOCK" >/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			log "killed container shim (pid $pid)"
		fi
	done < <(find "$STATE/containerd/state" -name shim.pid 2>/dev/null)
}

unmount_all() {
	local m
	# Deepest first; a mount may appear twice (bind mounts onto themselves).
	for _ in 1 2 3; do
		mapfile -t mounts < <(awk -v s="$STATE" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r -u)
		[[ ${#mounts[@]} -eq 0 ]] && break
		for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	done
	# Network namespaces containerd made for pods (names not in the snapshot).
	if [[ -d /run/netns ]]; then
		for m in /run/netns/*; do
			[[ -e $m ]] || continue
			grep -qx "$(basename "$m")" "$SNAP/netns" 2>/dev/null && continue
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
			rm -f "$m"
		done
	fi
}

remove_links() {
	local l
	if ip link show "$BRIDGE" >/dev/null 2>&1; then
		for l in $(ip -o link show master "$BRIDGE" | awk -F': ' '{print $2}' | sed 's/@.*//'); do
			ip link del "$l" 2>/dev/null || true
		done
		ip link del "$BRIDGE"
		log "deleted $BRIDGE and its veths"
	fi
}

# remove_cgroups removes the kubepods cgroups the kubelet made in every hierarchy (those not
# in the snapshot), deepest first; rmdir only removes empty ones.
remove_cgroups() {
	[[ -f $SNAP/cgroups ]] || return 0
	local d
	while IFS= read -r d; do
		grep -qxF "$d" "$SNAP/cgroups" && continue
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name 'kubepods*' 2>/dev/null | sort)
}

# restore_tables FAMILY(iptables|ip6tables) NFT_FAMILY(ip|ip6)
restore_tables() {
	local cmd=$1 fam=$2 t
	[[ -f $SNAP/$cmd.rules ]] || return 0
	for t in $("$cmd-save" 2>/dev/null | sed -n 's/^\*//p'); do
		grep -qx "$t" "$SNAP/$cmd.tables" && continue
		"$cmd" -t "$t" -F
		"$cmd" -t "$t" -X
		# nf_tables keeps an empty table: delete it so the machine has what it had.
		if [[ $(iptables_backend) == nf_tables ]] && command -v nft >/dev/null; then
			nft delete table "$fam" "$t" 2>/dev/null || true
		fi
	done
	if [[ -s $SNAP/$cmd.rules ]]; then
		"$cmd-restore" <"$SNAP/$cmd.rules"
	fi
}

restore_sysctls() {
	[[ -f $SNAP/sysctls ]] || return 0
	local line k v
	while IFS= read -r line; do
		k=${line%%=*}
		v=${line#*=}
		[[ $(sysctl -n "$k" 2>/dev/null) == "$v" ]] && continue
		sysctl -qw "$k=$v" || log "could not restore $k=$v"
	done <"$SNAP/sysctls"
}

remove_host_dirs() {
	[[ -f $SNAP/host-dirs-absent ]] || return 0
	local d
	while IFS= read -r d; do
		[[ -e $d || -L $d ]] || continue
		if mountpoint -q "$d"; then umount "$d" 2>/dev/null || umount -l "$d"; fi
		rm -rf "$d"
		log "removed $d (made by the cluster)"
	done <"$SNAP/host-dirs-absent"
}

stop kube-proxy kube-scheduler kube-controller-manager kubelet
remove_containers
stop containerd
stop_shims
stop kube-apiserver
stop etcd
unmount_all
remove_links
remove_cgroups
restore_tables iptables ip
restore_tables ip6tables ip6
restore_sysctls
remove_host_dirs

status=0
if [[ -f $SNAP/machine.before ]]; then
	machine_state >"$SNAP/machine.after"
	if ! diff -u "$SNAP/machine.before" "$SNAP/machine.after" >"$SNAP/machine.diff"; then
		log "the machine differs from before up.sh:"
		cat "$SNAP/machine.diff" >&2
		status=1
	fi
fi

if [[ ${DISTRICTLAKE_CLUSTER_KEEP_LOGS:-} == 1 && -d $LOGS ]]; then
	rm -rf "$STATE.logs"
	cp -r "$LOGS" "$STATE.logs"
	[[ -f $SNAP/machine.diff ]] && cp "$SNAP/machine.diff" "$STATE.logs/"
	log "kept the logs in $STATE.logs"
fi
if [[ $status -eq 0 ]]; then
	# Nothing may still be mounted below $STATE before it is removed.
	if awk -v s="$STATE" 'index($5, s) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
		die "mounts remain under $STATE; not removing it"
	fi
	rm -rf "$STATE"
	log "stopped in $((SECONDS - START))s; the machine is as up.sh found it"
else
	log "stopped in $((SECONDS - START))s, but the machine differs (see above); $STATE kept for inspection"
fi
exit "$status"
