#!/usr/bin/env bash
# integration.client: the product end to end. The demo world with the real
# portal, two sluice-gateways (gw, gw2) and two sluice-clients (alice in
# client, bob in client2); applications are stock tools in the devices'
# namespaces: dig, curl, ping, iperf3, python sockets, going through the
# namespace's own resolv.conf as any program would.
#
# ctest runs it with SLUICE_SRC and SLUICE_BUILD; by hand: sudo bash tests/integration/client.sh
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
# shellcheck source=tests/world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root

PREFIX=${SLUICE_TEST_PREFIX:-sl-test-}
TAG=${SLUICE_TEST_IFTAG:-sltest}
tmp=$(mktemp -d /tmp/sluice-client-test.XXXXXX)
STATE=$tmp/state
# shellcheck disable=SC2016 # expanded when the trap runs
world_trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"'

PORTAL=https://198.51.100.30:8443
GWSH=$SRC/tests/world/gateway.sh
CLSH=$SRC/tests/world/client.sh
# /var/run/wireguard is the host's: names of the test's own
declare -A IFNAME=([gw]=$TAG-gw [gw2]=$TAG-gw2 [client]=$TAG-cl [client2]=$TAG-cl2)

world_up "$PREFIX" "$STATE" || world_bail "world.sh up failed"

admin() {
	in_ns client "$BUILD/src/cli/sluice" admin --portal "$PORTAL" --ca "$STATE/ca.pem" \
		--token-file "$STATE/admin.token" --timeout 5 "$@"
}
gw() { # gw NAME start|stop|kill
	"$GWSH" --prefix "$PREFIX" --state "$STATE" --build "$BUILD" --name "$1" "$2" \
		-- --ifname "${IFNAME[$1]}"
}
cl() { # cl NAME start|stop|kill
	"$CLSH" --prefix "$PREFIX" --state "$STATE" --build "$BUILD" --name "$1" "$2" \
		-- --ifname "${IFNAME[$1]}"
}
status() { # status NAME: the client's status document
	in_ns "$1" "$BUILD/src/cli/sluice" status --json --socket "$STATE/run/$1.sock"
}
in_proxy4() { # the addresses on stdin: all in 100.96.0.0/11, and at least one
	python3 -c '
import ipaddress, sys
a = [l.strip() for l in sys.stdin if l.strip()]
sys.exit(0 if a and all(ipaddress.ip_address(x) in ipaddress.ip_network("100.96.0.0/11") for x in a) else 1)'
}
resolves_proxy() { dns_short "$1" 100.100.111.1 "$2" | in_proxy4; }
# Pipes into grep read all their input (grep >/dev/null, not -q): with pipefail a
# writer cut off by an early grep exit (SIGPIPE) would turn a match into a failure.
# the first address the device's resolver gives (what applications use)
addr_of() { in_ns "$1" getent ahostsv4 "$2" | awk 'NR == 1 { print $1 }'; }
page() { in_ns "$1" curl -sSf --connect-timeout 3 --max-time 5 "http://$2/"; }

# ---- up
overlap() { # a proxy range on the device's own LAN: refused, nothing changed
	local rc=0
	"$CLSH" --prefix "$PREFIX" --state "$STATE" --build "$BUILD" --name client start \
		-- --ifname "${IFNAME[client]}" --proxy4 198.51.100.0/25 >/dev/null 2>&1 || rc=$?
	((rc != 0)) && grep -q 'overlaps the route 198.51.100.0/24' "$STATE/logs/client.log" &&
		! grep -q 100.100.111 "/etc/netns/${PREFIX}client/resolv.conf"
}
check "a range overlapping the host's routes stops the start" overlap
check "gw starts" gw gw start
check "gw2 starts" gw gw2 start
check "alice's sluice-client starts" cl client start
check "bob's sluice-client starts" cl client2 start
check_match "resolv.conf points at the sentinel" '^nameserver 100\.100\.111\.1$' \
	in_ns client cat /etc/resolv.conf
check_eq "the key file is 0600" 600 stat -c %a "$STATE/client/private.key"
check_match "sluice status shows alice connected" '"connected": *true' status client
check_match "sluice status names alice" '"name": *"alice"' status client
check_match "wg show works on the client's device" 'listening port' \
	in_ns client wg show "${IFNAME[client]}"

# ---- 1. private names
check "nas.home.int resolves to a proxy IP" resolves_proxy client nas.home.int
check_match "the nas page loads through the tunnel" \
	'^nas\.home\.int \((203\.0\.113|2001:db8:113:)[:.]50\): hello (203\.0\.113\.1|2001:db8:113::1)$' \
	page client nas.home.int
check "gitlab.company.com resolves to a proxy IP" resolves_proxy client gitlab.company.com
check_match "the gitlab page loads" '^gitlab\.company\.com ' page client gitlab.company.com
check_eq "server.home.int (no resource) goes to the public resolver: NXDOMAIN" NXDOMAIN \
	dns_status client 100.100.111.1 server.home.int
check_match "sluice status lists the nas with its proxy IP and gateway" \
	'"state": *"granted"' status client

# ---- 2. IP allowlist without collateral damage
check_match "github.saas.test goes through the gateway (the SaaS sees 198.51.100.20)" \
	'^github\.saas\.test \(198\.51\.100\.40\): hello 198\.51\.100\.20$' \
	page client github.saas.test
check_eq "gist.github.saas.test, same real address, is answered directly" 198.51.100.40 \
	dns_short client 100.100.111.1 gist.github.saas.test
check_match "and loads directly (the SaaS sees alice's own address)" \
	'hello 198\.51\.100\.10$' page client gist.github.saas.test

# ---- 3. wildcards
# three first queries at once for one resource: one access_request, one grant
slack=$(admin -q resources list | sed -n 3p)
for n in a b c; do dns_short client 100.100.111.1 "$n.slack.saas.test" >"$tmp/slack-$n" & done
wait
all_proxy() { cat "$tmp"/slack-? | in_proxy4; }
check "concurrent first queries of one resource all get proxy IPs" all_proxy
slack_grants() { admin -q flows list --resource "$slack" --event granted | wc -l; }
check_eq "and share one grant" 1 slack_grants
check "a.slack.saas.test is a resource" resolves_proxy client a.slack.saas.test
check "slack.saas.test is a resource" resolves_proxy client slack.saas.test
check_eq "a.b.slack.saas.test is not: the real address" 198.51.100.41 \
	dns_short client 100.100.111.1 a.b.slack.saas.test

# ---- 4. the CIDR resource
check "ping 203.0.113.200" in_ns client ping -c 2 -W 2 203.0.113.200
check "iperf3 TCP to 203.0.113.200" in_ns client iperf3 -c 203.0.113.200 -t 1 -J
check "iperf3 UDP to 203.0.113.200" in_ns client iperf3 -u -b 10M -c 203.0.113.200 -t 1 -J
udp_echo() {
	in_ns client python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"sluice-echo", ("203.0.113.200", 7))
assert s.recv(100) == b"sluice-echo"'
}
check "a UDP echo from 203.0.113.200" udp_echo

# ---- 5. round robin and IPv6
site=$(admin -q sites list | head -1)
eng=$(admin -q groups list | head -1)
rr=$(admin -q resources create --site "$site" --type dns --address rr.home.int --name RR)
v6=$(admin -q resources create --site "$site" --type dns --address v6only.home.int --name V6)
admin policies create --group "$eng" --resource "$rr" >/dev/null
admin policies create --group "$eng" --resource "$v6" >/dev/null
wait_for 3 "the new resources reach alice" resolves_proxy client rr.home.int
rr1=$(dns_short client 100.100.111.1 rr.home.int | paste -sd' ')
check_eq "rr.home.int: three distinct proxy IPs" 3 \
	bash -c "tr ' ' '\n' <<<'$rr1' | sort -u | wc -l"
rr_now() { dns_short client 100.100.111.1 rr.home.int | paste -sd' '; }
check_eq "the same three, in the same order, on the next query" "$rr1" rr_now
check_match "v6only.home.int gets an IPv6 proxy IP" '^fd00:2021:1111:8' \
	dns_short client 100.100.111.1 v6only.home.int AAAA
check_match "and loads over IPv6 through the tunnel" '^nas\.home\.int ' \
	in_ns client curl -6 -sSf --connect-timeout 3 --max-time 5 http://v6only.home.int/

# ---- 6. policy
check_eq "bob has no resources: nas.home.int is forwarded (NXDOMAIN)" NXDOMAIN \
	dns_status client2 100.100.111.1 nas.home.int
bob=$(admin -q users list | sed -n 2p)
alice=$(admin -q users list | sed -n 1p)
admin groups add-member "$eng" "$bob" >/dev/null
wait_for 1 "adding bob to the group gives him the nas within 1 s" \
	resolves_proxy client2 nas.home.int
check_match "and the page loads for bob" '^nas\.home\.int ' page client2 nas.home.int
in_ns client iperf3 -c 203.0.113.200 -t 20 -i 0.2 --forceflush >"$tmp/iperf.out" 2>&1 &
iperf_pid=$!
wait_for 5 "alice's iperf3 runs" grep -q 'bits/sec' "$tmp/iperf.out"
admin groups remove-member "$eng" "$alice" >/dev/null
t0=${EPOCHREALTIME/./}
no_route() { ! ip -n "${PREFIX}client" route show 203.0.113.128/25 | grep . >/dev/null; }
wait_for 1 "removing alice withdraws her route to 203.0.113.128/25 within 1 s" no_route
check_fails "her ping to 203.0.113.200 fails" in_ns client ping -c 1 -W 1 203.0.113.200
sleep_until_quiet() { # the iperf3 intervals after the removal carry nothing
	tail -n 3 "$tmp/iperf.out" | grep -E ' 0\.00 Bytes' >/dev/null
}
wait_for 2 "her running iperf3 stops moving data" sleep_until_quiet
kill "$iperf_pid" 2>/dev/null
not_hers() { ! dns_short client 100.100.111.1 nas.home.int | grep '^100\.' >/dev/null; }
check "nas.home.int is no longer hers" not_hers
(( ${EPOCHREALTIME/./} - t0 < 3000000 )) || diag "revocation took over 3 s"
admin groups add-member "$eng" "$alice" >/dev/null
wait_for 3 "alice back in the group gets the nas again" resolves_proxy client nas.home.int

# ---- 7. filters
f443=$(admin -q resources create --site "$site" --type ip --address 203.0.113.60 --name Web443 \
	--filter tcp:443)
admin policies create --group "$eng" --resource "$f443" >/dev/null
wait_for 3 "the filtered resource reaches alice" \
	in_ns client curl -sSf --connect-timeout 3 --max-time 5 http://203.0.113.60:443/
refused_fast() {
	local t0 t1 rc=0
	t0=${EPOCHREALTIME/./}
	in_ns client curl -s --connect-timeout 5 --max-time 5 http://203.0.113.60/ >/dev/null || rc=$?
	t1=${EPOCHREALTIME/./}
	((rc != 0 && t1 - t0 < 1000000))
}
check "tcp/80 to the tcp/443 resource is refused at once (ICMP prohibited)" refused_fast

# ---- denied: a site with no gateway online
routed_in() { ip -n "${PREFIX}client" route get "$1" | grep "dev ${IFNAME[client]}" >/dev/null; }
lab=$(admin -q sites create --name lab)
labnet=$(admin -q resources create --site "$lab" --type cidr --address 198.18.7.0/24 --name Lab)
labdns=$(admin -q resources create --site "$lab" --type dns --address lab.home.int --name LabDNS)
admin policies create --group "$eng" --resource "$labnet" >/dev/null
admin policies create --group "$eng" --resource "$labdns" >/dev/null
wait_for 3 "the lab's CIDR is routed into the tunnel" routed_in 198.18.7.1
refused_ping() { # the packet waits for the answer, then ICMP prohibited, well before -W
	local t0 t1 out
	t0=${EPOCHREALTIME/./}
	out=$(in_ns client ping -n -c 1 -W 3 198.18.7.1 2>&1)
	t1=${EPOCHREALTIME/./}
	grep -qiE 'filtered|prohibited' <<<"$out" && ((t1 - t0 < 1000000))
}
check "a packet to a resource the portal denies gets ICMP prohibited at once" refused_ping
refused_dns() {
	local t0 t1 st
	t0=${EPOCHREALTIME/./}
	st=$(in_ns client dig +time=3 +tries=1 @100.100.111.1 lab.home.int | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
	t1=${EPOCHREALTIME/./}
	[[ $st == REFUSED ]] && ((t1 - t0 < 1000000))
}
wait_for 3 "a name the portal denies gets REFUSED at once, not a timeout" refused_dns
check_match "sluice status says denied" '"state": *"denied"' status client
admin resources delete "$labnet" >/dev/null
admin resources delete "$labdns" >/dev/null
admin sites delete "$lab" >/dev/null

# ---- the portal and the gateways stay outside the tunnel, whatever a CIDR covers
gws=$(admin -q resources create --site "$site" --type cidr --address 198.51.100.16/28 --name Gws)
prt=$(admin -q resources create --site "$site" --type cidr --address 198.51.100.28/30 --name Prt)
admin policies create --group "$eng" --resource "$gws" >/dev/null
admin policies create --group "$eng" --resource "$prt" >/dev/null
pinned() { # the route to $1 leaves by eth0, and is one of the client's (protocol 83)
	ip -n "${PREFIX}client" route get "$1" | grep 'dev eth0' >/dev/null &&
		ip -n "${PREFIX}client" route show proto 83 | grep "^$1 " >/dev/null
}
wait_for 3 "a CIDR covering the gateways is routed into the tunnel" routed_in 198.51.100.17
check "the gateway's endpoint is pinned outside" pinned 198.51.100.20
check "and so is the portal's address" pinned 198.51.100.30
check "the tunnel still carries the nas" page client nas.home.int
check_match "the portal session still answers" '"connected": *true' status client
admin resources delete "$gws" >/dev/null
admin resources delete "$prt" >/dev/null
unpinned() { ! ip -n "${PREFIX}client" route show proto 83 | grep '^198\.51\.100\.' >/dev/null; }
wait_for 3 "with the resources gone, the pins go" unpinned

# ---- the admin's nameservers, live
admin settings set --upstream-dns 198.51.100.40 >/dev/null # no DNS server there
no_answer() { [[ $(dns_status client 100.100.111.1 server.home.int) != NXDOMAIN ]]; }
wait_for 3 "upstream_dns set by the admin replaces the host's nameserver" no_answer
check_match "sluice status shows it" '"upstream": *"198\.51\.100\.40"' status client
admin settings set --upstream-dns-default >/dev/null
nx_again() { [[ $(dns_status client 100.100.111.1 server.home.int) == NXDOMAIN ]]; }
wait_for 3 "and back to the host's own" nx_again

# ---- 8. failover
before=$(addr_of client nas.home.int)
check_match "the nas goes through gw (203.0.113.1)" 'hello (203\.0\.113\.1|2001:db8:113::1)$' \
	page client nas.home.int
# a request under way through gw when it dies: its connection is lost with gw
in_ns client python3 - "$before" "$tmp/mid" <<'EOF' &
import socket, sys, time, os
s = socket.create_connection((sys.argv[1], 80), timeout=20)
s.sendall(b"GET / HTTP/1.1\r\n")
open(sys.argv[2] + ".open", "w").close()
time.sleep(30)
EOF
mid_pid=$!
wait_for 5 "a download through gw is under way" test -e "$tmp/mid.open"
check "gw is killed" gw gw kill
retry_page() { page client nas.home.int | grep -E 'hello (203\.0\.113\.2|2001:db8:113::2)$' >/dev/null; }
wait_for 5 "a retried download succeeds through gw2 within 5 s" retry_page
kill "$mid_pid" 2>/dev/null
check_eq "with the same proxy IP" "$before" addr_of client nas.home.int
check "gw comes back" gw gw start

# ---- 9. restarts
portal_restart() { # SIGTERM, wait until it is gone, serve again from the same data
	local pid i
	pid=$(cat "$STATE/run/portal.pid") || return 1
	kill "$pid" || return 1
	for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.1; done
	! pid_alive "$pid" || return 1
	ip netns exec "${PREFIX}portal" setsid "$BUILD/src/portal/sluice-portal" serve \
		--data "$STATE/portal" --listen 198.51.100.30 --port 8443 \
		</dev/null >>"$STATE/logs/portal.log" 2>&1 &
	echo $! >"$STATE/run/portal.pid"
}
check "the portal restarts" portal_restart
check "flows go on meanwhile" page client nas.home.int
connected() { status client | grep '"connected": *true' >/dev/null; }
wait_for 10 "alice reconnects to the portal" connected
check "gw2 stops" gw gw2 stop
check "gw2 starts again" gw gw2 start
same_and_loads() { [[ $(addr_of client nas.home.int) == "$before" ]] && page client nas.home.int; }
wait_for 10 "access works again after the gateway's restart, with the same proxy IP" same_and_loads
check_match "resolv.conf still names the sentinel" '^nameserver 100\.100\.111\.1$' \
	in_ns client cat /etc/resolv.conf
# an open TCP connection across the client's kill -9 and restart
in_ns client python3 - "$before" "$tmp/conn" <<'EOF' &
import socket, sys, time, os
s = socket.create_connection((sys.argv[1], 80), timeout=20)
s.sendall(b"GET / HTTP/1.1\r\n")
open(sys.argv[2] + ".open", "w").close()
while not os.path.exists(sys.argv[2] + ".go"):
    time.sleep(0.05)
s.sendall(b"Host: nas.home.int\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
open(sys.argv[2], "wb").write(data)
EOF
conn_pid=$!
wait_for 5 "a TCP connection to the nas proxy IP is open" test -e "$tmp/conn.open"
check "alice's client is killed (-9)" cl client kill
check "and starts again" cl client start
check_match "resolv.conf points at the sentinel again" '^nameserver 100\.100\.111\.1$' \
	in_ns client cat /etc/resolv.conf
check_eq "the nas has the same proxy IP" "$before" addr_of client nas.home.int
touch "$tmp/conn.go"
wait_for 10 "the open connection survived the restart" grep -q 'hello' "$tmp/conn"
wait "$conn_pid" 2>/dev/null
check "alice's client stops" cl client stop
check_fails "resolv.conf no longer names the sentinel" \
	grep -q 100.100.111 "/etc/netns/${PREFIX}client/resolv.conf"
tunnel_routes() { ip -n "${PREFIX}client" route show | grep '100\.96\.'; }
check_fails "no route into the tunnel is left" tunnel_routes
check "bob's client stops" cl client2 stop
check "gw stops" gw gw stop
check "gw2 stops" gw gw2 stop
# under the sanitizer build the daemons' own reports land in their logs
sanitizer_reports() { cat "$STATE"/logs/{client,client2,gateway,gateway2}.log | grep -cE 'runtime error|Sanitizer'; }
check_eq "no sanitizer report in the daemons' logs" 0 sanitizer_reports
check_match "alice's client said it stopped" 'stopped' cat "$STATE/logs/client.log"

finish
