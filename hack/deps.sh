#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing: Chromium (the report
# test renders the HTML report headless), and containerd, runc, the CNI plugins, iptables,
# conntrack, socat and openssl (the end-to-end suite's single-node cluster). Go modules and
# the test servers come from the Go module proxy through the other hack/ scripts.
set -euo pipefail
packages=(chromium fonts-liberation containerd runc containernetworking-plugins iptables nftables conntrack socat openssl iproute2 time curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: Debian packages present" >&2
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}" >&2
