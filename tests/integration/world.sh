#!/usr/bin/env bash
# integration.world: the demo world (tests/world/world.sh) is what DESIGN.md says,
# before any sluice part runs: names, addresses, the allowlist, the LAN out of the
# client's reach, and nothing left behind by `down`.
#
# ctest runs it with SLUICE_SRC and SLUICE_BUILD; by hand: sudo bash tests/integration/world.sh
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root

PREFIX=sl-test-
tmp=
if [[ -n ${SLUICE_BUILD:-} ]]; then
	STATE=$SLUICE_BUILD/world-test
else
	tmp=$(mktemp -d /tmp/sluice-world-test.XXXXXX)
	STATE=$tmp/state
fi
# shellcheck disable=SC2016 # expanded when the trap runs
world_trap '[[ -z $tmp ]] || rm -rf "$tmp"'
t0=$(date +%s.%N)

# ---- nothing of the world may land in the root namespace
our_links='^(br0|client|portal|gw|saas|lan0)$'
root_links() { ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -E "$our_links" | sort; }
root_routes() { ip -4 route show table all | grep -E '(198\.51\.100|203\.0\.113)\.' || true; }
root_nft() { nft list tables 2>/dev/null | grep -w sluice_world || true; }
links_before=$(root_links)
routes_before=$(root_routes)
nft_before=$(root_nft)

# stable identity of a process: pid and start time (pids get reused)
proc_id() {
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	read -ra f <<<"${s##*) }"      # f[0] is field 3 (state), f[19] field 22 (start time)
	echo "$1:${f[19]}"
}
still_running() { # PID:START...: prints those still alive with the same start time
	local p
	for p in "$@"; do
		pid_alive "${p%%:*}" && [[ $(proc_id "${p%%:*}") == "$p" ]] && echo "$p"
	done
	return 0
}
record_pids() { local p; for p in $(world_pids); do proc_id "$p"; done; }

world_up "$PREFIX" "$STATE" || world_bail "world.sh up failed"
mapfile -t first_pids < <(record_pids)
world_up "$PREFIX" "$STATE" || world_bail "world.sh up (again, on a running world) failed"
check_eq "up on a running world first stops its processes" "" still_running "${first_pids[@]}"
check "status reports the world up" world_status
mapfile -t pids < <(record_pids)
check "the world runs its daemons (${#pids[@]} processes)" test "${#pids[@]}" -ge 8

# ---- root namespace untouched
check_eq "no interface of the world in the root namespace" "$links_before" root_links
check_eq "no route to the world's nets in the root namespace" "$routes_before" root_routes
check_eq "no nft table of the world in the root namespace" "$nft_before" root_nft

# ---- the internet
for a in 198.51.100.20 198.51.100.30 198.51.100.40 198.51.100.41 198.51.100.53; do
	check "client pings $a" in_ns client ping -c1 -W1 -q "$a"
done
check_match "client's resolver is 198.51.100.53" '^nameserver 198\.51\.100\.53$' in_ns client cat /etc/resolv.conf

# ---- the public resolver
check_eq "public resolver: github.saas.test is 198.51.100.40" 198.51.100.40 dns_short client 198.51.100.53 github.saas.test
check_eq "public resolver: gist.github.saas.test is 198.51.100.40" 198.51.100.40 dns_short client 198.51.100.53 gist.github.saas.test
check_eq "public resolver: x.slack.saas.test is 198.51.100.41" 198.51.100.41 dns_short client 198.51.100.53 x.slack.saas.test
check_eq "public resolver: slack.saas.test is 198.51.100.41" 198.51.100.41 dns_short client 198.51.100.53 slack.saas.test
check_eq "public resolver: nas.home.int is NXDOMAIN" NXDOMAIN dns_status client 198.51.100.53 nas.home.int
check_eq "public resolver: gitlab.company.com is NXDOMAIN" NXDOMAIN dns_status client 198.51.100.53 gitlab.company.com
check_eq "public resolver: nope.saas.test is NXDOMAIN" NXDOMAIN dns_status client 198.51.100.53 nope.saas.test
check_eq "public resolver: x.slack.saas.test AAAA is NODATA (NOERROR, no answer)" "NOERROR 0" dns_summary client 198.51.100.53 x.slack.saas.test AAAA
check_eq "public resolver: github.saas.test AAAA is NODATA" "NOERROR 0" dns_summary client 198.51.100.53 github.saas.test AAAA

# ---- the LAN is out of the client's reach
check_fails "client has no route to 203.0.113.0/24" in_ns client ip route get 203.0.113.50
check_fails "client cannot ping 203.0.113.50" in_ns client ping -c1 -W1 -q 203.0.113.50
check_fails "client cannot curl 203.0.113.50" in_ns client curl -sS --connect-timeout 1 --max-time 2 -o /dev/null http://203.0.113.50/
in_ns client ip route add 203.0.113.0/24 via 198.51.100.20
check_fails "even with a route via the gateway, the client cannot ping 203.0.113.50" in_ns client ping -c1 -W1 -q 203.0.113.50
check_fails "... nor curl 203.0.113.50" in_ns client curl -sS --connect-timeout 1 --max-time 2 -o /dev/null http://203.0.113.50/
in_ns client ip route del 203.0.113.0/24 via 198.51.100.20

# ---- the SaaS sites, as seen from the client (by name, through its resolv.conf)
check_eq "client: http://github.saas.test is refused by the allowlist (403)" 403 http_code client http://github.saas.test/
check_eq "client: http://gist.github.saas.test is served (200)" 200 http_code client http://gist.github.saas.test/
check_match "client: gist's page" '^gist\.github\.saas\.test .*hello 198\.51\.100\.10$' http_body client http://gist.github.saas.test/
check_eq "client: http://x.slack.saas.test is served (200)" 200 http_code client http://x.slack.saas.test/
check_match "client: x.slack's page" '^x\.slack\.saas\.test ' http_body client http://x.slack.saas.test/

# ---- the gateway and the LAN
check_eq "gw: LAN DNS has nas.home.int at 203.0.113.50" 203.0.113.50 dns_short gw 203.0.113.53 nas.home.int
check_eq "gw: LAN DNS has gitlab.company.com at 203.0.113.60" 203.0.113.60 dns_short gw 203.0.113.53 gitlab.company.com
check_eq "gw: LAN DNS has server.home.int at 203.0.113.70" 203.0.113.70 dns_short gw 203.0.113.53 server.home.int
check_eq "gw: LAN DNS forwards saas.test (github.saas.test is 198.51.100.40)" 198.51.100.40 dns_short gw 203.0.113.53 github.saas.test
check_eq "gw: LAN DNS: nope.home.int is NXDOMAIN" NXDOMAIN dns_status gw 203.0.113.53 nope.home.int
check_match "gw: its own resolver is the LAN DNS" '^203\.0\.113\.50 +nas\.home\.int$' in_ns gw getent hosts nas.home.int
check_match "gw: http://203.0.113.50 is nas.home.int" 'nas\.home\.int' http_body gw http://203.0.113.50/
check_match "gw: http://gitlab.company.com is 203.0.113.60" '^gitlab\.company\.com \(203\.0\.113\.60\)' http_body gw http://gitlab.company.com/
check_match "gw: http://server.home.int is 203.0.113.70" '^server\.home\.int \(203\.0\.113\.70\)' http_body gw http://server.home.int/
check_eq "gw: github.saas.test serves the gateway's address (200)" 200 http_code gw http://github.saas.test/ --resolve github.saas.test:80:198.51.100.40
check_match "lan: reaches github.saas.test through the gateway's NAT" 'hello 198\.51\.100\.20$' http_body lan http://github.saas.test/
check "gw: iperf3 to 203.0.113.200 for 1 s" in_ns gw iperf3 -c 203.0.113.200 -t 1
check_eq "gw: UDP echo on 203.0.113.200:7" hi in_ns gw sh -c 'echo hi | socat -t1 - UDP:203.0.113.200:7'

# ---- down leaves nothing
down_output() { "$WORLD_SH" --prefix "$PREFIX" --state "$STATE" down 2>&1; echo "rc=$?"; }
check_eq "world.sh down succeeds quietly" "rc=0" down_output
check_eq "no $PREFIX namespace left" "" sh -c "ip netns list | grep '^$PREFIX' || true"
check_eq "no /etc/netns/$PREFIX* left" "" sh -c "ls -d /etc/netns/$PREFIX* 2>/dev/null || true"
check_eq "no process of the world left" "" still_running "${pids[@]}"
check_fails "the state dir is gone" test -e "$STATE"
check_eq "down on nothing succeeds silently" "rc=0" down_output
check_fails "status reports the world down" world_status

awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "# took %.1f s\n", b - a }'
finish
