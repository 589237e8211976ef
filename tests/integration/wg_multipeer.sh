#!/usr/bin/env bash
# sluice-wg with several peers: cryptokey routing in both directions, and the
# timers a person can see from outside (persistent keepalive).
#
#              [sl-test-mph] sluice-wg slmph0 198.18.100.1   (the hub)
#                eth1 198.18.1.1          eth2 198.18.2.1
#                   │ veth                    │ veth
#   [sl-test-mp1] wireguard-go slmp10     [sl-test-mp2] sluice-wg slmp20
#     198.18.1.2, tunnel 198.18.100.11      198.18.2.2, tunnel 198.18.100.12
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
SLUICE_WG=$BUILD/src/wg/sluice-wg
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root

H=sl-test-mph P1=sl-test-mp1 P2=sl-test-mp2
TMP=$(mktemp -d)
umask 077
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

cleanup() {
	for ns in $H $P1 $P2; do
		pids=$(ip netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	sleep 0.3
	for ns in $H $P1 $P2; do
		pids=$(ip netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	rm -f /var/run/wireguard/slmph0.sock /var/run/wireguard/slmp10.sock \
		/var/run/wireguard/slmp20.sock
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

h() { ip netns exec $H "$@"; }
p1() { ip netns exec $P1 "$@"; }
p2() { ip netns exec $P2 "$@"; }

wait_sock() { wait_for 5 "$1's UAPI socket is up" test -S "/var/run/wireguard/$1.sock"; }

for ns in $H $P1 $P2; do
	ip netns add $ns || world_bail "namespace $ns"
	ip -n $ns link set lo up
done
ip -n $H link add eth1 type veth peer name eth0 netns $P1
ip -n $H link add eth2 type veth peer name eth0 netns $P2
ip -n $H addr add 198.18.1.1/24 dev eth1
ip -n $H addr add 198.18.2.1/24 dev eth2
ip -n $P1 addr add 198.18.1.2/24 dev eth0
ip -n $P2 addr add 198.18.2.2/24 dev eth0
for l in "$H eth1" "$H eth2" "$P1 eth0" "$P2 eth0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
for n in h p1 p2; do
	wg genkey >"$TMP/k$n"
	wg pubkey <"$TMP/k$n" >"$TMP/p$n"
done

h "$SLUICE_WG" slmph0 >"$TMP/h.log" 2>&1 &
p1 wireguard-go slmp10 >/dev/null 2>&1
p2 "$SLUICE_WG" slmp20 >"$TMP/p2.log" 2>&1 &
wait_sock slmph0 && wait_sock slmp10 && wait_sock slmp20 || world_bail "daemons did not start"

h wg set slmph0 private-key "$TMP/kh" listen-port 51820 \
	peer "$(cat "$TMP/pp1")" allowed-ips 198.18.100.11/32 \
	peer "$(cat "$TMP/pp2")" allowed-ips 198.18.100.12/32,198.18.200.0/24
p1 wg set slmp10 private-key "$TMP/kp1" peer "$(cat "$TMP/ph")" endpoint 198.18.1.1:51820 \
	allowed-ips 198.18.100.0/24
p2 wg set slmp20 private-key "$TMP/kp2" peer "$(cat "$TMP/ph")" endpoint 198.18.2.1:51820 \
	allowed-ips 198.18.100.0/24
h ip addr add 198.18.100.1/24 dev slmph0
p1 ip addr add 198.18.100.11/24 dev slmp10
p2 ip addr add 198.18.100.12/24 dev slmp20
p2 ip addr add 198.18.200.1/24 dev slmp20
for x in "h slmph0" "p1 slmp10" "p2 slmp20"; do
	set -- $x
	$1 ip link set "$2" up
done
h ip route add 198.18.200.0/24 dev slmph0
h ip route add 198.18.150.0/24 dev slmph0 # into the TUN, but no peer owns it

check "peer 1 (wireguard-go) reaches the hub" p1 ping -c 2 -i 0.2 -W 2 198.18.100.1
check "peer 2 (sluice-wg) reaches the hub" p2 ping -c 2 -i 0.2 -W 2 198.18.100.1
check "the hub reaches peer 1 by its tunnel address" h ping -c 2 -i 0.2 -W 2 198.18.100.11
check "the hub reaches peer 2's routed prefix" h ping -c 2 -i 0.2 -W 2 198.18.200.1
check_eq "wg show lists both peers" 2 bash -c "ip netns exec $H wg show slmph0 peers | wc -l"

# Cryptokey routing on receive: peer 1 claims peer 2's address as its source.
# Its own side lets it out (its allowed IPs cover the /24), the hub must drop it.
p1 ip addr add 198.18.100.12/32 dev slmp10
rx_before=$(h wg show slmph0 transfer | awk -v k="$(cat "$TMP/pp1")" '$1 == k {print $2}')
check_fails "the hub drops a packet whose source belongs to another peer" \
	p1 ping -c 3 -i 0.2 -W 1 -I 198.18.100.12 198.18.100.1
rx_after=$(h wg show slmph0 transfer | awk -v k="$(cat "$TMP/pp1")" '$1 == k {print $2}')
check "... after authenticating it (rx grew: $rx_before → $rx_after)" test "$rx_after" -gt "$rx_before"
p1 ip addr del 198.18.100.12/32 dev slmp10
check "peer 1 still works with its own source" p1 ping -c 2 -i 0.2 -W 2 198.18.100.1

# Cryptokey routing on send: an address no peer owns goes nowhere.
tx_before=$(h wg show slmph0 transfer | awk '{s += $3} END {print s}')
check_fails "no peer owns 198.18.150.1: no answer" h ping -c 2 -i 0.2 -W 1 198.18.150.1
tx_after=$(h wg show slmph0 transfer | awk '{s += $3} END {print s}')
check_eq "... and nothing was sent to any peer" "$tx_before" echo "$tx_after"

# Persistent keepalive: sluice-wg (peer 2) sends keepalives through silence.
# Each is 32 bytes at the hub; the first may leave at once, the next ones one a
# second: three more take about 3 s, and at least 2.
rx_p2() { h wg show slmph0 transfer | awk -v k="$(cat "$TMP/pp2")" '$1 == k {print $2}'; }
rx_from() { test "$(rx_p2)" -ge $(($1 + $2)); } # BASE BYTES: the hub got BYTES more
rx0=$(rx_p2)
p2 wg set slmp20 peer "$(cat "$TMP/ph")" persistent-keepalive 1
wait_for 3 "persistent keepalive: a first keepalive" rx_from "$rx0" 32
rx1=$(rx_p2)
t1=${EPOCHREALTIME//[!0-9]/}
wait_for 6 "persistent keepalive: 3 more keepalives through silence" rx_from "$rx1" 96
ms=$(((${EPOCHREALTIME//[!0-9]/} - t1) / 1000))
check "... one a second, not at once (took $ms ms)" test "$ms" -ge 2000
check_match "wg show reports the interval" "every 1 second" p2 wg show slmp20

# Both peers at once: TCP through the hub's two sessions in parallel.
h iperf3 -s -D -B 198.18.100.1 -p 5201 --pidfile "$TMP/iperf1.pid" >/dev/null
h iperf3 -s -D -B 198.18.100.1 -p 5202 --pidfile "$TMP/iperf2.pid" >/dev/null
listening() { h ss -Hltn "sport = :$1" | grep . >/dev/null; }
wait_for 5 "iperf3 listens on the hub (5201, 5202)" eval 'listening 5201 && listening 5202'
both() {
	p1 iperf3 -c 198.18.100.1 -p 5201 -t 2 >/dev/null &
	local a=$!
	p2 iperf3 -c 198.18.100.1 -p 5202 -t 2 >/dev/null
	local b=$?
	wait $a && test $b = 0
}
check "TCP from both peers at once" both
finish
