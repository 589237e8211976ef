#!/usr/bin/env bash
# integration.gateway: sluice-gateway in the demo world, against the real portal,
# with a test device of stock parts in the client's namespace: wireguard-go
# configured with wg(8) for the tunnel, dig with the offer option for DNS,
# curl, ping and iperf3 for traffic, and tests/tools/sluice-session for the
# portal's grants.
#
# ctest runs it with SLUICE_SRC and SLUICE_BUILD; by hand: sudo bash tests/integration/gateway.sh
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
# shellcheck source=tests/world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root

PREFIX=sl-test-
tmp=$(mktemp -d /tmp/sluice-gateway-test.XXXXXX)
STATE=$tmp/state
# shellcheck disable=SC2016 # expanded when the trap runs
world_trap 'rm -rf "$tmp"'
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

PORTAL=https://198.51.100.30:8443
GW_TUN4=100.64.0.1
# The UAPI socket's directory (/var/run/wireguard) is the host's, not the
# namespace's: a name of the test's own, so a running demo's gateway never clashes.
GWIF=sltest-gw
SESSION=$BUILD/tests/tools/sluice-session
GWSH=$SRC/tests/world/gateway.sh

world_up "$PREFIX" "$STATE" || world_bail "world.sh up failed"

admin() {
	in_ns client "$BUILD/src/cli/sluice" admin --portal "$PORTAL" --ca "$STATE/ca.pem" \
		--token-file "$STATE/admin.token" --timeout 5 "$@"
}
gw() { "$GWSH" --prefix "$PREFIX" --state "$STATE" --build "$BUILD" "$@" -- --ifname "$GWIF"; }
gwlog() { cat "$STATE/logs/gateway.log"; }

# ---- the gateway comes up and enrolls
check "sluice-gateway starts and gets its tunnel from the portal" gw start
check_match "the portal shows the gateway online" '^1 +1 +gw +yes ' \
	admin gateways list
check_eq "its key file is 0600" 600 stat -c %a "$STATE/gateway/private.key"
check "its TUN holds the tunnel address" in_ns gw ip -o addr show dev "$GWIF" to "$GW_TUN4"
check_match "its nftables table is installed" 'table inet sluice_gw' in_ns gw nft list tables
check_match "wg show works on its read-only UAPI socket" 'listening port: 51820' \
	in_ns gw wg show "$GWIF"

# ---- the test device: a key, the portal's grants, wireguard-go
umask 077
wg genkey >"$tmp/alice.key"
umask 022
session() {
	in_ns client "$SESSION" --portal "$PORTAL" --ca "$STATE/ca.pem" \
		--token-file "$STATE/alice.token" --key-file "$tmp/alice.key" "$@"
}
check "the device registers" session init
mapfile -t tun < <(session init | jq -r '.tunnel.ipv4, .tunnel.ipv6')
CL4=${tun[0]:-} CL6=${tun[1]:-}
ids=$(admin -q resources list | tr '\n' ' ')
# shellcheck disable=SC2086 # one argument per id
session request $ids >"$tmp/grants.json"
check_eq "every resource of the demo is granted through the gateway" \
	"5" jq -s '[.[] | select(.type == "access_granted")] | length' "$tmp/grants.json"
check_eq "one PSK for the device and the gateway" 1 \
	jq -s '[.[].psk] | unique | length' "$tmp/grants.json"
GWKEY=$(jq -r -s '.[0].gateway.public_key' "$tmp/grants.json")
jq -r -s '.[0].psk' "$tmp/grants.json" >"$tmp/psk"
check_eq "the grant names the gateway's key" "$(in_ns gw wg show "$GWIF" public-key)" \
	echo "$GWKEY"

device_up() {
	in_ns client wireguard-go wg0 >/dev/null 2>&1 || return 1
	in_ns client wg set wg0 private-key "$tmp/alice.key" peer "$GWKEY" \
		preshared-key "$tmp/psk" endpoint 198.51.100.20:51820 persistent-keepalive 5 \
		allowed-ips 100.64.0.0/11,100.96.0.0/11,203.0.113.128/25,fd00:2021:1111::/48 &&
		in_ns client ip addr add "$CL4/32" dev wg0 &&
		in_ns client ip addr add "$CL4_OTHER/32" dev wg0 &&
		in_ns client ip -6 addr add "$CL6/128" dev wg0 nodad &&
		in_ns client ip link set wg0 up &&
		in_ns client ip route add 100.64.0.0/11 dev wg0 src "$CL4" &&
		in_ns client ip route add 100.96.0.0/11 dev wg0 src "$CL4" &&
		in_ns client ip route add 203.0.113.128/25 dev wg0 src "$CL4" &&
		in_ns client ip -6 route add fd00:2021:1111::/48 dev wg0 src "$CL6"
}
CL4_OTHER=100.64.0.250 # another client's address, which this peer may not use
check "wireguard-go comes up with the grant" device_up
# a capture of everything the device receives through the tunnel, from here on
in_ns client python3 - "$tmp/capture" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
s.bind(("wg0", 0))
with open(sys.argv[1], "wb", buffering=0) as out:
    while True:
        data, addr = s.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING:
            out.write(len(data).to_bytes(4, "big") + data)
EOF
CAP_PID=$!
wait_for 20 "the tunnel carries a ping to the gateway" in_ns client ping -c 1 -W 1 "$GW_TUN4"

# ---- DNS through the gateway
# offer HEX4...: the offer option's data (version 1, n4, n6 = 0, addresses)
offer() {
	local a out
	out=$(printf '01%02x00' $#)
	for a in "$@"; do out+=$(printf '%02x' ${a//./ }); done
	echo "$out"
}
gdig() { in_ns client dig +time=2 +tries=2 @"$GW_TUN4" -p 53535 "$@"; }
OFFER1=$(offer 100.96.0.11 100.96.0.12 100.96.0.13)
check_eq "nas.home.int answers the first offered proxy IP" 100.96.0.11 \
	gdig +short nas.home.int +ednsopt=65001:"$OFFER1"
check_eq "the same name again keeps its proxy IP" 100.96.0.11 \
	gdig +short nas.home.int +ednsopt=65001:"$(offer 100.96.0.21)"
gstatus() { gdig "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
check_eq "a name outside the grants is REFUSED" REFUSED gstatus server.home.int
check_eq "a malformed offer is FORMERR" FORMERR gstatus nas.home.int +ednsopt=65001:010200640000
check_eq "over TCP too" 100.96.0.11 gdig +tcp +short nas.home.int +ednsopt=65001:"$OFFER1"
for t in TXT MX SRV; do
	want=$(in_ns gw dig +short @203.0.113.53 nas.home.int "$t")
	check_eq "$t of a resource name comes back as the private DNS answered it" "$want" \
		gdig +short nas.home.int "$t"
done
check_eq "the real address is in no DNS answer" 0 \
	bash -c "ip netns exec ${PREFIX}client dig @$GW_TUN4 -p 53535 nas.home.int ANY +ednsopt=65001:$OFFER1 | grep -c 203.0.113.50"

# ---- traffic: a DNS resource through DNAT, two names on one real address, the CIDR resource
check_match "the page of nas.home.int comes through the proxy IP" 'nas.home.int' \
	http_body client http://nas.home.int/ --resolve nas.home.int:80:100.96.0.11
check_match "the LAN sees the gateway's address (masquerade)" 'hello 203.0.113.1' \
	http_body client http://nas.home.int/ --resolve nas.home.int:80:100.96.0.11
A=$(gdig +short a.slack.saas.test +ednsopt=65001:"$(offer 100.96.0.31)")
B=$(gdig +short b.slack.saas.test +ednsopt=65001:"$(offer 100.96.0.32)")
check_eq "two names sharing one real address get two proxy IPs" "100.96.0.31 100.96.0.32" \
	echo "$A $B"
both() {
	http_body client http://a.slack.saas.test/ --resolve "a.slack.saas.test:80:$A" >"$tmp/a" &
	local pa=$!
	http_body client http://b.slack.saas.test/ --resolve "b.slack.saas.test:80:$B" >"$tmp/b" || return 1
	wait "$pa" && grep -q a.slack.saas.test "$tmp/a" && grep -q b.slack.saas.test "$tmp/b"
}
check "both names are used at once, each reaching its own virtual host" both
G=$(gdig +short github.saas.test +ednsopt=65001:"$(offer 100.96.0.41)")
check_eq "github.saas.test serves the gateway's allowlisted address" 200 \
	http_code client http://github.saas.test/ --resolve "github.saas.test:80:$G"
check "ping reaches the CIDR resource" in_ns client ping -c 2 -W 2 203.0.113.200
check_match "iperf3 TCP to the CIDR resource" 'receiver' \
	in_ns client iperf3 -c 203.0.113.200 -t 1 -f m
check_match "iperf3 UDP to the CIDR resource" '0/[0-9]+ \(0%\)|receiver' \
	in_ns client iperf3 -c 203.0.113.200 -u -b 20M -t 1 -f m

# ---- what is refused
# ping_filtered DEST...: ICMP administratively prohibited came back ("Packet filtered")
ping_filtered() {
	local out
	out=$(in_ns client ping -c 2 -W 2 "$@" 2>&1)
	grep -q 'Packet filtered' <<<"$out" || { echo "$out"; return 1; }
}
check "an unbound proxy IP: ICMP administratively prohibited comes back" \
	ping_filtered 100.96.0.99
check "another client's source: the gateway drops it (cryptokey routing)" \
	bash -c "! ip netns exec ${PREFIX}client ping -c 2 -W 1 -I $CL4_OTHER 203.0.113.200"
GL=2 # the demo's resources and policies: 1 NAS, 2 GitLab, 3 Slack, 4 GitHub, 5 LAN servers
check_match "resource $GL is GitLab" 'gitlab.company.com' admin resources get "$GL"
check "GitLab's filter becomes tcp:443 only" admin resources update "$GL" --filter tcp:443
GIT=$(gdig +short gitlab.company.com +ednsopt=65001:"$(offer 100.96.0.51)")
check_eq "gitlab.company.com binds" 100.96.0.51 echo "$GIT"
# curl's 7: the connection failed at once, on the ICMP error (a drop would time out: 28)
curl_refused() { in_ns client curl -s -o /dev/null --max-time 2 "http://$1/"; (($? == 7)); }
wait_for 5 "a filtered port (tcp:80) gets ICMP administratively prohibited" curl_refused "$GIT"
check "and ICMP to it is filtered too" ping_filtered "$GIT"

# ---- nothing of the LAN reaches the device but the CIDR resource's own addresses
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID" 2>/dev/null
check "the capture saw the tunnel's traffic" test -s "$tmp/capture"
lan_leak() {
	python3 - "$tmp/capture" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
bad = [bytes([203, 0, 113, n]) for n in (1, 50, 53, 60, 70)] + [bytes([198, 51, 100, 41])]
i = n = 0
while i + 4 <= len(data):
    ln = int.from_bytes(data[i:i + 4], "big"); pkt = data[i + 4:i + 4 + ln]; i += 4 + ln; n += 1
    for b in bad:
        if b in pkt:
            print("packet %d holds %s" % (n, ".".join(map(str, b)))); sys.exit(1)
print("%d packets, none with a LAN address" % n)
EOF
}
check "no LAN address (real addresses, the LAN's DNS, the gateway's LAN side) in any packet" lan_leak

# ---- the flow log
flow_lines() { grep -q 'flow {"client_id":' "$STATE/logs/gateway.log"; }
flow_rows() { admin flows list --event traffic | grep 'tcp/80' >/dev/null; }
wait_for 15 "the gateway logs flows as JSON lines" flow_lines
wait_for 15 "the portal records them (sluice admin flows)" flow_rows

# ---- revocation stops a running transfer within 1 s
# rx_bytes: what the device has received through the tunnel
rx_bytes() { in_ns client wg show wg0 transfer | awk '{print $2}'; }
iperf_running() { (($(rx_bytes) > $1 + 2000000)); }
in_ns client iperf3 -c 203.0.113.200 -R -t 20 >"$tmp/iperf-revoke" 2>&1 &
IP1=$!
r0=$(rx_bytes)
wait_for 10 "iperf3 (reverse) is running through the tunnel" iperf_running "$r0"
LAN=5
check_match "policy $LAN grants the LAN servers" 'LAN servers|resource.*5|5 ' admin policies get "$LAN"
t0=$EPOCHREALTIME
admin policies delete "$LAN" >/dev/null
# the device's counter stops growing (a keepalive or an ICMP error is < 200 bytes)
stopped_at=
prev=$(rx_bytes)
while :; do
	sleep 0.05
	cur=$(rx_bytes)
	now=$EPOCHREALTIME
	if ((cur - prev < 300)); then stopped_at=${stopped_at:-$now}; else stopped_at=; fi
	prev=$cur
	[[ -n $stopped_at ]] && awk -v a="$now" -v b="$stopped_at" 'BEGIN { exit !(a - b > 0.5) }' && break
	awk -v a="$now" -v b="$t0" 'BEGIN { exit !(a - b > 5) }' && break
done
kill "$IP1" 2>/dev/null
took=$(awk -v a="${stopped_at:-$now}" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
diag "the transfer stopped $took s after the policy's deletion"
check "revocation stopped the running transfer within 1 s ($took s)" \
	awk -v t="$took" 'BEGIN { exit !(t <= 1.0) }'
check "the CIDR resource is refused after revocation" ping_filtered 203.0.113.200
# the LAN policy back, and the grant again
check "the policy comes back" admin policies create --group 1 --resource 5
session request 5 >"$tmp/grant2.json"
check_eq "granted again, with the pair's PSK" "$(cat "$tmp/psk")" jq -r .psk "$tmp/grant2.json"
wait_for 5 "the CIDR resource is reachable again" in_ns client ping -c 1 -W 1 203.0.113.200

# ---- a portal restart interrupts no flow
in_ns client iperf3 -c 203.0.113.200 -R -t 6 -i 1 -f k >"$tmp/iperf-portal" 2>&1 &
IP2=$!
r0=$(rx_bytes)
wait_for 10 "iperf3 runs before the portal restarts" iperf_running "$r0"
# portal_stop SIGNAL, portal_start: the world's portal, on its data
portal_stop() {
	local ppid
	ppid=$(cat "$STATE/run/portal.pid")
	kill "-$1" "$ppid"
	for ((i = 0; i < 100; i++)); do pid_alive "$ppid" || break; sleep 0.1; done
}
portal_start() {
	# not through in_ns: $! must be the portal's pid, not a subshell's
	ip netns exec "${PREFIX}portal" setsid "$BUILD/src/portal/sluice-portal" serve \
		--data "$STATE/portal" --listen 198.51.100.30 --port 8443 \
		</dev/null >>"$STATE/logs/portal.log" 2>&1 &
	echo $! >"$STATE/run/portal.pid"
}
portal_stop TERM
portal_start
wait "$IP2"
check_eq "iperf3 ran to its end across the restart, every second carrying data" "" \
	awk '/sec/ && !/sender|receiver/ && $7 + 0 == 0 { print }' "$tmp/iperf-portal"
# the first init, before any grant, had none
inits() { grep -q 'portal: init with [1-9]' "$STATE/logs/gateway.log"; }
wait_for 15 "the gateway is back in session with the portal's stored authorizations" inits

# ---- a gateway crash: kill -9, restart, nothing left over, proxy IPs back
check "kill -9 the gateway" gw kill
check_fails "its TUN is gone with it" in_ns gw ip link show "$GWIF"
check_eq "and the routes into it" "" bash -c "ip netns exec ${PREFIX}gw ip route | grep 100.64.0.0 || true"
check "the gateway starts again" gw start
check_eq "one table, the new one" 1 bash -c "ip netns exec ${PREFIX}gw nft list tables | grep -c sluice_gw"
check_eq "the same key" "$GWKEY" in_ns gw wg show "$GWIF" public-key
wait_for 30 "the device's tunnel is back (a new handshake)" \
	in_ns client ping -c 1 -W 1 "$GW_TUN4"
check_eq "the device gets its proxy IP back for the same offer" 100.96.0.11 \
	gdig +short nas.home.int +ednsopt=65001:"$OFFER1"
check_match "and the page through it" 'nas.home.int' \
	http_body client http://nas.home.int/ --resolve nas.home.int:80:100.96.0.11

# ---- expiry by the gateway's own clock, with no portal to send a revoke
POLICY=$(admin -q policies list | tail -n 1)
check "the LAN servers' policy is replaced by one that expires in 8 s" \
	admin policies update "$POLICY" --expires "$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)"
session request 5 >"$tmp/grant3.json"
EXP=$(jq -r .expires_at "$tmp/grant3.json")
check_match "the grant ends with the policy" '^[0-9]+$' echo "$EXP"
check "the CIDR resource is reachable until then" in_ns client ping -c 1 -W 1 203.0.113.200
portal_stop KILL # no revoke can come now
until_expired() { (($(date +%s) > EXP)); }
wait_for 15 "the authorization's expiry passes" until_expired
wait_for 3 "the gateway refuses the CIDR resource by its own clock" ping_filtered 203.0.113.200
check_match "and says so" "authorizations expired" gwlog
portal_start

# ---- a clean stop removes everything
check "SIGTERM stops the gateway" gw stop
check_eq "no table left" 0 bash -c "ip netns exec ${PREFIX}gw nft list tables | grep -c sluice_gw"
check_fails "no TUN left" in_ns gw ip link show "$GWIF"
check_match "it said so" 'stopped' gwlog
# under the sanitizer build the daemon's own reports land in its log
check_eq "no sanitizer report in the gateway's log" 0 \
	bash -c "grep -cE 'runtime error|Sanitizer' '$STATE/logs/gateway.log'"

[[ -n ${SLUICE_KEEP_LOG:-} ]] && cp "$STATE/logs/gateway.log" "$SLUICE_KEEP_LOG"
finish
