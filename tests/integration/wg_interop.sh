#!/usr/bin/env bash
# sluice-wg against Debian's wireguard-go, both as initiator, in two namespaces.
#
#   [sl-test-wga] eth0 198.18.1.1 ──veth── eth0 198.18.1.2 [sl-test-wgb]
#       slwga0 198.18.100.1 2001:db8:100::1 ═══ slwgb0 198.18.100.2 2001:db8:100::2
#
# Cases: ping (IPv4 and IPv6 inside), iperf3 TCP both ways and UDP, with and
# without a pre-shared key, each side initiating; roaming of either side; a forced
# rekey (sluice-wg's timers divided for the test); a peer removed mid-stream and
# added back. `wg show` is checked against what crossed the tunnel.
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
SLUICE_WG=$BUILD/src/wg/sluice-wg
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root
[ -x "$SLUICE_WG" ] || { diag "no $SLUICE_WG: build first"; exit 1; }

A=sl-test-wga B=sl-test-wgb
IFA=slwga0 IFB=slwgb0
TMP=$(mktemp -d)
umask 077
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

a() { ip netns exec $A "$@"; }
b() { ip netns exec $B "$@"; }

stop_daemons() {
	for ns in $A $B; do
		local pids
		pids=$(ip netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	for _ in $(seq 50); do
		[ -z "$(ip netns pids $A 2>/dev/null)$(ip netns pids $B 2>/dev/null)" ] && break
		sleep 0.1
	done
	for ns in $A $B; do
		local pids
		pids=$(ip netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	rm -f /var/run/wireguard/$IFA.sock /var/run/wireguard/$IFB.sock
}

cleanup() {
	stop_daemons
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

topology() {
	cleanup 2>/dev/null
	TMP=$(mktemp -d)
	ip netns add $A && ip netns add $B || return 1
	ip -n $A link set lo up
	ip -n $B link set lo up
	ip -n $A link add eth0 type veth peer name eth0 netns $B
	ip -n $A addr add 198.18.1.1/24 dev eth0
	ip -n $B addr add 198.18.1.2/24 dev eth0
	ip -n $A link set eth0 up
	ip -n $B link set eth0 up
	wg genkey >"$TMP/ka"; wg pubkey <"$TMP/ka" >"$TMP/pa"
	wg genkey >"$TMP/kb"; wg pubkey <"$TMP/kb" >"$TMP/pb"
	wg genpsk >"$TMP/psk"
}

# start NS IFNAME IMPL [env...]
start() {
	local ns=$1 ifn=$2 impl=$3
	shift 3
	case $impl in
	sluice) ip netns exec "$ns" env "$@" "$SLUICE_WG" "$ifn" >>"$TMP/$ifn.log" 2>&1 & ;;
	wggo) ip netns exec "$ns" env "$@" wireguard-go -f "$ifn" >>"$TMP/$ifn.log" 2>&1 & ;;
	esac
	wait_for 5 "$impl starts on $ifn" test -S /var/run/wireguard/$ifn.sock && return 0
	cat "$TMP/$ifn.log" >&2
	return 1
}

# pair IMPL_A IMPL_B PSK(yes|no) [env for A...]: A knows B's endpoint; B does not.
pair() {
	local ia=$1 ib=$2 psk=$3
	shift 3
	stop_daemons
	start $A $IFA "$ia" "$@" || return 1
	start $B $IFB "$ib" || return 1
	local pskargs=()
	[ "$psk" = yes ] && pskargs=(preshared-key "$TMP/psk")
	a wg set $IFA private-key "$TMP/ka" listen-port 51820 peer "$(cat "$TMP/pb")" "${pskargs[@]}" \
		endpoint 198.18.1.2:51820 allowed-ips 198.18.100.2/32,2001:db8:100::2/128 || return 1
	b wg set $IFB private-key "$TMP/kb" listen-port 51820 peer "$(cat "$TMP/pa")" "${pskargs[@]}" \
		allowed-ips 198.18.100.1/32,2001:db8:100::1/128 || return 1
	a ip addr add 198.18.100.1/24 dev $IFA
	a ip addr add 2001:db8:100::1/64 dev $IFA nodad
	b ip addr add 198.18.100.2/24 dev $IFB
	b ip addr add 2001:db8:100::2/64 dev $IFB nodad
	a ip link set $IFA mtu 1420 up
	b ip link set $IFB mtu 1420 up
}

iperf_ok() { # NS_SERVER NS_CLIENT ADDR ARGS...
	local srv=$1 cli=$2 addr=$3
	shift 3
	ip netns exec "$srv" iperf3 -s -1 -B "$addr" -D --pidfile "$TMP/iperf.pid" >/dev/null 2>&1
	wait_for 5 "iperf3 listens on $addr" listening "$srv" 5201 || return 1
	local out
	out=$(ip netns exec "$cli" timeout 20 iperf3 -c "$addr" -t 2 -J "$@" 2>&1)
	local rc=$?
	kill "$(cat "$TMP/iperf.pid" 2>/dev/null)" 2>/dev/null
	[ $rc -eq 0 ] || { echo "$out" | tail -5; return 1; }
	python3 -c '
import json, sys
d = json.loads(sys.argv[1]); e = d["end"]
s = e.get("sum_received") or e.get("sum")
bps = s["bits_per_second"]
print("%.0f Mbit/s" % (bps / 1e6))
sys.exit(0 if bps > 1e6 else 1)' "$out"
}

# listening NS PORT: a TCP socket listens on PORT in NS
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep . >/dev/null; }
# rx_grew NS IFNAME BASE BYTES: the interface's peer has received BYTES more than BASE
rx_of() { ip netns exec "$1" wg show "$2" transfer | awk '{ s += $2 } END { print s + 0 }'; }
rx_grew() { test "$(rx_of "$1" "$2")" -ge $(($3 + $4)); }

# wg_show_sane IFNAME: one peer, a handshake, bytes both ways
wg_show_sane() {
	local ns=$1 ifn=$2 line
	line=$(ip netns exec "$ns" wg show "$ifn" dump | sed -n 2p)
	echo "$line"
	# pub psk endpoint allowed latest-handshake rx tx keepalive
	awk '{ exit !($5 > 0 && $6 > 0 && $7 > 0 && $3 != "(none)") }' <<<"$line"
}

basic_cases() { # label IMPL_A IMPL_B PSK
	local label=$1
	pair "$2" "$3" "$4" || { check "$label: pair up" false; return; }
	check "$label: ping IPv4 (A initiates)" a ping -c 3 -i 0.2 -W 2 198.18.100.2
	check "$label: ping IPv6 inside" a ping -6 -c 3 -i 0.2 -W 2 2001:db8:100::2
	check "$label: ping back from B" b ping -c 2 -i 0.2 -W 2 198.18.100.1
	check "$label: TCP A→B" iperf_ok $B $A 198.18.100.2
	check "$label: TCP B→A (reverse)" iperf_ok $B $A 198.18.100.2 -R
	check "$label: TCP over IPv6 A→B" iperf_ok $B $A 2001:db8:100::2
	check "$label: UDP A→B" iperf_ok $B $A 198.18.100.2 -u -b 50M
	check "$label: UDP B→A" iperf_ok $B $A 198.18.100.2 -u -b 50M -R
	check "$label: full-MTU ping (padding)" a ping -c 2 -M do -s 1392 -W 2 198.18.100.2
	check "$label: wg show A" wg_show_sane $A $IFA
	check "$label: wg show B" wg_show_sane $B $IFB
}

topology || world_bail "topology"
for psk in no yes; do
	basic_cases "sluice→wggo psk=$psk" sluice wggo $psk
	basic_cases "wggo→sluice psk=$psk" wggo sluice $psk
done

# wg show reports what sluice-wg carried: 1000 pings of 1000 bytes each way is
# more than 1 MB in both counters, and the handshake is recent.
pair sluice wggo no
a ping -c 1000 -i 0.001 -s 1000 -q -W 1 198.18.100.2 >/dev/null
counters_ok() {
	local now hs rx tx
	read -r _ _ _ _ hs rx tx _ < <(a wg show $IFA dump | sed -n 2p)
	now=$(date +%s)
	echo "handshake $((now - hs)) s ago, rx $rx, tx $tx"
	[ $((now - hs)) -lt 30 ] && [ "$rx" -gt 1000000 ] && [ "$tx" -gt 1000000 ]
}
check "wg show: handshake time and transfer counters" counters_ok
check_match "wg show: allowed IPs" "198.18.100.2/32 2001:db8:100::2/128" a wg show $IFA allowed-ips
check_match "wg showconf round-trips the endpoint" "Endpoint = 198.18.1.2:51820" a wg showconf $IFA

# Roaming: A's address changes mid-transfer, as when a NAT in front of it rebinds:
# A's packets now come from 198.18.1.3 (rewritten statelessly on A's way out and
# back on the way in), and the other side must follow the last authenticated
# packet. (wireguard-go 0.0.20220316 pins its source address, so removing the
# address itself would only show that wireguard-go stops sending.)
roam() { # label IMPL_A IMPL_B
	local label=$1
	pair "$2" "$3" no
	a ping -c 2 -W 2 198.18.100.2 >/dev/null
	local rx0
	rx0=$(rx_of $A $IFA)
	a ping -i 0.1 -c 60 -W 1 198.18.100.2 >"$TMP/roam.ping" 2>&1 &
	local pinger=$!
	# mid-transfer: once a few answers are in (580 bytes at A: an answer is more than 116)
	wait_for 5 "$label: the pings flow before the move" rx_grew $A $IFA "$rx0" 580
	a ip addr add 198.18.1.3/24 dev eth0
	a nft -f - <<-EOF
	table ip roam {
		chain out { type filter hook postrouting priority 300; ip saddr 198.18.1.1 udp sport 51820 ip saddr set 198.18.1.3; }
		chain in { type filter hook prerouting priority -300; ip daddr 198.18.1.3 udp dport 51820 ip daddr set 198.18.1.1; }
	}
	EOF
	wait $pinger
	check_match "$label: B follows A to its new address" "198.18.1.3:51820" b wg show $IFB endpoints
	check "$label: traffic went on after the move" \
		awk '/received/ { split($0, f, ", "); sub(/ received/, "", f[2]); exit !(f[2] >= 55) }' "$TMP/roam.ping"
	a nft delete table ip roam
	a ip addr del 198.18.1.3/24 dev eth0
}
roam "roaming sluice (wggo follows)" sluice wggo
roam "roaming wggo (sluice follows)" wggo sluice

# Forced rekey: sluice-wg's timers divided by 24 (rekey after 5 s), traffic on.
pair sluice wggo no SLUICE_WG_TEST_TIME_DIVISOR=24
a ping -c 1 -W 2 198.18.100.2 >/dev/null
hs1=$(a wg show $IFA latest-handshakes | awk '{print $2}')
check "rekey: traffic flows across rekeys" a ping -c 60 -i 0.2 -W 1 -q 198.18.100.2
hs2=$(a wg show $IFA latest-handshakes | awk '{print $2}')
check "rekey: a new handshake happened ($hs1 → $hs2)" test "$hs2" -gt "$hs1"
check_match "rekey: wireguard-go saw it too" "latest handshake" b wg show $IFB

# A peer removed mid-stream: traffic stops, the daemon lives, re-adding restores it.
pair sluice wggo no
a ping -c 2 -W 2 198.18.100.2 >/dev/null
rx0=$(rx_of $A $IFA)
a ping -i 0.1 -c 40 -W 1 198.18.100.2 >"$TMP/rm.ping" 2>&1 &
pinger=$!
wait_for 5 "remove: the pings flow before the removal" rx_grew $A $IFA "$rx0" 580
a wg set $IFA peer "$(cat "$TMP/pb")" remove
wait $pinger
check "remove: the peer is gone from wg show" test -z "$(a wg show $IFA peers)"
check_fails "remove: no traffic without the peer" a ping -c 2 -W 1 198.18.100.2
check "remove: sluice-wg still answers wg" a wg show $IFA
a wg set $IFA peer "$(cat "$TMP/pb")" endpoint 198.18.1.2:51820 \
	allowed-ips 198.18.100.2/32,2001:db8:100::2/128
check "remove: traffic resumes after re-adding" a ping -c 3 -i 0.3 -W 2 198.18.100.2

# A malformed UAPI set is refused whole and changes nothing.
before=$(a wg show $IFA dump)
reply=$(printf 'set=1\nlisten_port=12345\npublic_key=zz\n\n' | a socat - UNIX-CONNECT:/var/run/wireguard/$IFA.sock)
check_match "uapi: a bad set gets errno" "errno=-?22" echo "$reply"
check_eq "uapi: and changes nothing" "$before" a wg show $IFA dump

# SIGTERM: socket and device go away.
a pkill -TERM -f "sluice-wg $IFA"
wait_for 5 "sigterm: socket removed" test ! -e /var/run/wireguard/$IFA.sock
wait_for 5 "sigterm: device removed" eval "! ip netns exec $A ip link show $IFA"

finish
