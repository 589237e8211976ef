#!/usr/bin/env bash
# Tunnel throughput: sluice-wg against wireguard-go, and plain routing, in one run.
#
#   [sb-c] c0 198.18.1.1 ── g0 198.18.1.2 [sb-g] g1 198.18.2.1 ── r0 198.18.2.2 [sb-r]
#   tunnel  wgc 198.18.100.1  ═══ UDP 51820 ═══  wgg 198.18.100.2    iperf3 -s
#
# The client routes 198.18.2.0/24 into its tunnel; the gateway decrypts and routes on
# to the resource, which routes 198.18.100.0/24 back via the gateway. Each phase runs
# iperf3 TCP (1 and 4 streams), UDP in 1400-byte IP packets, and ping through the same path.
#
# Usage: bench/tunnel.sh [--seconds N] [--impl "sluice-wg wireguard-go plain"]
set -euo pipefail

SECONDS_PER=10
IMPLS="plain wireguard-go sluice-wg"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECONDS_PER=$2; shift 2 ;;
	--impl) IMPLS=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--impl LIST]" >&2; exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
SLUICE_WG=$BUILD/src/wg/sluice-wg
P=sb-
NS_C=${P}c NS_G=${P}g NS_R=${P}r
TMP=$(mktemp -d)
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

cleanup() {
	for ns in $NS_C $NS_G $NS_R; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -n "$pids" ] && kill $pids 2>/dev/null || true
	done
	sleep 0.3
	for ns in $NS_C $NS_G $NS_R; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -f /var/run/wireguard/sbwgc.sock /var/run/wireguard/sbwgg.sock
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

r() { ip netns exec $NS_R "$@"; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

topology() {
	cleanup 2>/dev/null || true
	TMP=$(mktemp -d)
	for ns in $NS_C $NS_G $NS_R; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n $NS_C link add c0 type veth peer name g0 netns $NS_G
	ip -n $NS_G link add g1 type veth peer name r0 netns $NS_R
	ip -n $NS_C addr add 198.18.1.1/24 dev c0
	ip -n $NS_G addr add 198.18.1.2/24 dev g0
	ip -n $NS_G addr add 198.18.2.1/24 dev g1
	ip -n $NS_R addr add 198.18.2.2/24 dev r0
	for l in "$NS_C c0" "$NS_G g0" "$NS_G g1" "$NS_R r0"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	g sysctl -qw net.ipv4.ip_forward=1
	ip -n $NS_R route add 198.18.100.0/24 via 198.18.2.1
	r iperf3 -s -D -B 198.18.2.2 --pidfile "$TMP/iperf3.pid" >/dev/null
}

start_wg() { # impl ns ifname
	local impl=$1 ns=$2 ifn=$3
	case $impl in
	wireguard-go) ip netns exec "$ns" wireguard-go "$ifn" ;;
	sluice-wg) ip netns exec "$ns" "$SLUICE_WG" "$ifn" >"$TMP/$ifn.log" 2>&1 & ;;
	esac
	for _ in $(seq 50); do
		[ -S /var/run/wireguard/$ifn.sock ] && return 0
		sleep 0.1
	done
	echo "bench: $impl did not start on $ifn" >&2
	return 1
}

tunnel() { # impl
	local impl=$1
	wg genkey >"$TMP/kc"; wg pubkey <"$TMP/kc" >"$TMP/pc"
	wg genkey >"$TMP/kg"; wg pubkey <"$TMP/kg" >"$TMP/pg"
	start_wg "$impl" $NS_C sbwgc
	start_wg "$impl" $NS_G sbwgg
	c wg set sbwgc private-key "$TMP/kc" peer "$(cat "$TMP/pg")" \
		endpoint 198.18.1.2:51820 allowed-ips 198.18.2.0/24,198.18.100.2/32
	g wg set sbwgg private-key "$TMP/kg" listen-port 51820 peer "$(cat "$TMP/pc")" \
		allowed-ips 198.18.100.1/32
	c ip addr add 198.18.100.1/24 dev sbwgc
	g ip addr add 198.18.100.2/24 dev sbwgg
	c ip link set sbwgc mtu 1420 up
	g ip link set sbwgg mtu 1420 up
	c ip route add 198.18.2.0/24 dev sbwgc
}

json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

measure() { # label -> prints one line, records numbers
	local label=$1 t1 t4 udp rtt
	c ping -c 3 -W 1 198.18.2.2 >/dev/null || { echo "bench: $label: no path" >&2; return 1; }
	t1=$(c iperf3 -c 198.18.2.2 -t "$SECONDS_PER" -P 1 -J | json_field "d['end']['sum_received']['bits_per_second']/1e6")
	t4=$(c iperf3 -c 198.18.2.2 -t "$SECONDS_PER" -P 4 -J | json_field "d['end']['sum_received']['bits_per_second']/1e6")
	udp=$(c iperf3 -c 198.18.2.2 -u -b 0 -l 1372 -t "$SECONDS_PER" -J |
		json_field "(d['end']['sum']['packets']-d['end']['sum']['lost_packets'])/d['end']['sum']['seconds']")
	rtt=$(c ping -c 50 -i 0.02 -q 198.18.2.2 | awk -F/ '/^rtt/ {print $5}')
	printf '%-14s %10.0f %10.0f %12.0f %9s\n' "$label" "$t1" "$t4" "$udp" "$rtt"
	eval "T1_${label//-/_}=$t1; T4_${label//-/_}=$t4; UDP_${label//-/_}=$udp"
}

printf '%-14s %10s %10s %12s %9s\n' path "tcp1 Mb/s" "tcp4 Mb/s" "udp1400 p/s" "rtt ms"
for impl in $IMPLS; do
	topology
	case $impl in
	plain) c ip route add 198.18.2.0/24 via 198.18.1.2; ip -n $NS_R route replace 198.18.1.0/24 via 198.18.2.1 ;;
	*) tunnel "$impl" ;;
	esac
	measure "$impl"
done
if [ -n "${T1_sluice_wg:-}" ] && [ -n "${T1_wireguard_go:-}" ]; then
	python3 - "$T1_sluice_wg" "$T1_wireguard_go" "$T4_sluice_wg" "$T4_wireguard_go" \
		"$UDP_sluice_wg" "$UDP_wireguard_go" <<'PY'
import sys
a = [float(x) for x in sys.argv[1:]]
print(f"ratio sluice-wg / wireguard-go: tcp1 {a[0]/a[1]:.2f}x  tcp4 {a[2]/a[3]:.2f}x  udp {a[4]/a[5]:.2f}x")
PY
fi
