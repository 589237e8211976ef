#!/usr/bin/env bash
# Handshake flood: sluice-wg under a flood of initiations that pass mac1 answers
# with cookie replies, and a legitimate peer (wireguard-go) still completes its
# handshake and carries traffic.
#
#   [sl-test-fla] sluice-wg slfla0 198.18.1.1:51820
#        │ veth
#   [sl-test-flb] wireguard-go slflb0 198.18.1.2   +  wg-flood from 198.18.1.3
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root

A=sl-test-fla B=sl-test-flb
IFA=slfla0 IFB=slflb0
TMP=$(mktemp -d)
umask 077
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

cleanup() {
	for ns in $A $B; do
		pids=$(ip netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	sleep 0.3
	for ns in $A $B; do
		pids=$(ip netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	rm -f /var/run/wireguard/$IFA.sock /var/run/wireguard/$IFB.sock
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

a() { ip netns exec $A "$@"; }
b() { ip netns exec $B "$@"; }

ip netns add $A && ip netns add $B || world_bail "namespaces"
ip -n $A link set lo up
ip -n $B link set lo up
ip -n $A link add eth0 type veth peer name eth0 netns $B
ip -n $A addr add 198.18.1.1/24 dev eth0
ip -n $B addr add 198.18.1.2/24 dev eth0
ip -n $B addr add 198.18.1.3/24 dev eth0
ip -n $A link set eth0 up
ip -n $B link set eth0 up
wg genkey >"$TMP/ka"; wg pubkey <"$TMP/ka" >"$TMP/pa"
wg genkey >"$TMP/kb"; wg pubkey <"$TMP/kb" >"$TMP/pb"

a "$BUILD/src/wg/sluice-wg" --log-level debug $IFA >"$TMP/sluice.log" 2>&1 &
b wireguard-go $IFB >/dev/null 2>&1
wait_for 5 "both daemons are up (their UAPI sockets)" \
	test -S /var/run/wireguard/$IFA.sock -a -S /var/run/wireguard/$IFB.sock ||
	world_bail "the daemons did not start"
a wg set $IFA private-key "$TMP/ka" listen-port 51820 peer "$(cat "$TMP/pb")" \
	allowed-ips 198.18.100.2/32
b wg set $IFB private-key "$TMP/kb" peer "$(cat "$TMP/pa")" endpoint 198.18.1.1:51820 \
	allowed-ips 198.18.100.1/32
a ip addr add 198.18.100.1/24 dev $IFA
b ip addr add 198.18.100.2/24 dev $IFB
a ip link set $IFA up
b ip link set $IFB up

# The flood comes from .3, so it has a source of its own, as an attacker would.
b ip route add 198.18.1.1/32 dev eth0 src 198.18.1.3
b "$BUILD/tests/tools/wg-flood" --target 198.18.1.1:51820 --pubkey "$(cat "$TMP/pa")" \
	--seconds 45 >"$TMP/flood.out" 2>&1 &
flood=$!
# The flood is on before the legitimate peer starts: sluice-wg has received
# thousands of initiations.
rx_a() { a cat /sys/class/net/eth0/statistics/rx_packets; }
rx0=$(rx_a)
wait_for 5 "the flood is on" eval 'test "$(rx_a)" -ge $((rx0 + 2000))'
# The legitimate peer's first initiation meets a loaded responder: it gets a
# cookie, retries after REKEY_TIMEOUT (5 s) with mac2, and gets through.
b ip route add 198.18.100.0/24 dev $IFB 2>/dev/null
start=$(date +%s)
# The flood outlasts this wait: on a loaded machine the handshake has taken
# from 5 s to 27 s (the initiator's retries come every 5 s plus jitter).
wait_for 40 "the legitimate peer completes its handshake" b ping -c 1 -W 1 198.18.100.1
diag "the handshake took $(($(date +%s) - start)) s"
flooding=0
kill -0 $flood 2>/dev/null && flooding=1
check "... while the flood is still on" test $flooding = 1
check "traffic flows during the flood" b ping -c 5 -i 0.2 -W 2 198.18.100.1
wait $flood
diag "$(cat "$TMP/flood.out")"
check "the flood was answered with cookie replies" \
	awk '{ exit !($2 > 10000 && $6 > 0) }' "$TMP/flood.out"
check "sluice-wg survived the flood" a wg show $IFA
check_match "wg show sees the handshake" "latest handshake" a wg show $IFA
finish
