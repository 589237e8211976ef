#!/usr/bin/env bash
# integration.world: the demo world (tests/world/world.sh) is what docs/ARCHITECTURE.md says:
# names, addresses, the allowlist, the LAN out of the devices' reach, both gateways on
# the LAN, its IPv6 and its DNS (AAAA, NODATA, round robin); the portal
# answering at https://198.51.100.30:8443 with the demo's policy that `up` built
# with `sluice admin`, and tokens that its sessions accept; nothing left behind
# by `down`.
#
# ctest runs it with SLUICE_SRC and SLUICE_BUILD; by hand: sudo bash tests/integration/world.sh
# SLUICE_WORLD_PREFIX chooses the namespaces' prefix (default sl-test-).
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root

PREFIX=${SLUICE_WORLD_PREFIX:-sl-test-}
tmp=$(mktemp -d /tmp/sluice-world-test.XXXXXX)
if [[ -n ${SLUICE_BUILD:-} ]]; then
	STATE=$SLUICE_BUILD/world-test
else
	STATE=$tmp/state
fi
# shellcheck disable=SC2016 # expanded when the trap runs
world_trap 'rm -rf "$tmp"'
t0=$(date +%s.%N)

# ---- nothing of the world may land in the root namespace
our_links='^(br0|client|client2|portal|gw|gw2|saas|lan0|hosts)$'
root_links() { ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -E "$our_links" | sort; }
root_routes() {
	{ ip route show table all; ip -6 route show table all; } 2>/dev/null |
		grep -E '(198\.51\.100|203\.0\.113)\.|2001:db8:113:' || true
}
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

# ---- the portal, and the demo's policy that `up` built with sluice admin
PORTAL=https://198.51.100.30:8443
PY=$(command -v /usr/bin/python3 || command -v python3)
# bearer FILE: the header for curl -H @- (a token never goes on a command line)
bearer() { local t; read -r t <"$1" && printf 'Authorization: Bearer %s\n' "$t"; }
# portal_code NS TOKEN_FILE|- PATH [CURL ARGS...]: the status of GET PATH (000: none)
portal_code() {
	local ns=$1 tf=$2 path=$3
	shift 3
	{ [[ $tf == - ]] || bearer "$tf"; } |
		in_ns "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 4 -H @- "$@" "$PORTAL$path"
}
# fetch NAME PATH: GET /api/v1/PATH as the admin, from the client, into $tmp/d/NAME.json
fetch() {
	bearer "$STATE/admin.token" | in_ns client curl -sS --fail --max-time 4 \
		--cacert "$STATE/ca.pem" -H @- -o "$tmp/d/$1.json" "$PORTAL/api/v1/$2"
}
# q EXPR: EXPR in Python over d, the lists fetched (d["users"] is a list of users);
# name(kind, id) is the name of that row
q() {
	"$PY" - "$1" "$tmp/d" <<'PYEOF'
import json, os, sys
d = {}
for f in os.listdir(sys.argv[2]):
    v = json.load(open(os.path.join(sys.argv[2], f)))
    d[f[:-5]] = v["items"] if isinstance(v, dict) and "items" in v else v
def name(kind, i):
    return next(x["name"] for x in d[kind] if x["id"] == i)
print(eval(sys.argv[1]))
PYEOF
}
# ws_init NS KIND TOKEN_FILE [HEADERS...]: opens a session on /KIND/ws with a fresh
# key (curl speaks the upgrade; the portal's first frame is its answer), prints the
# status, then the first message's JSON on the next line
ws_init() {
	local ns=$1 kind=$2 tf=$3 key out=$tmp/ws.out code
	shift 3
	# a canonical public key: the last byte's top bit clear (docs/security.md)
	key=$({ head -c 31 /dev/urandom; printf '\052'; } | base64)
	echo "$key" >"$tmp/ws.key"
	code=$(bearer "$tf" | in_ns "$ns" curl -s --http1.1 -o "$out" -w '%{http_code}' \
		--max-time 1 --cacert "$STATE/ca.pem" -H @- -H 'Connection: Upgrade' \
		-H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
		-H "Sec-WebSocket-Key: $(head -c 16 /dev/urandom | base64)" \
		-H "X-Sluice-Public-Key: $key" "$@" "$PORTAL/$kind/ws")
	echo "$code"
	# past the frame header (2 or 4 bytes, unmasked) to the JSON text
	LC_ALL=C sed -n '1{s/^[^{]*//;p;q}' "$out"
}
ws_code() { ws_init "$@" | head -n 1; }
ws_resources() { ws_init "$@" | "$PY" -c '
import json, sys
code = sys.stdin.readline().strip()
m = json.loads(sys.stdin.readline())
print(code, m["type"], " ".join(r["address"] for r in m["resources"]))'; }

modes() { stat -c %a "$@" | paste -sd' '; }
check_eq "portal: admin, gw, gw2, alice and bob's tokens are 0600; its data dir 0700" \
	"600 600 600 600 600 700" modes "$STATE/admin.token" "$STATE/gw.token" "$STATE/gw2.token" \
	"$STATE/alice.token" "$STATE/bob.token" "$STATE/portal"
for f in admin gw gw2 alice bob; do
	check_match "portal: $f.token holds a token" '^sl_[A-Za-z0-9_-]{43}$' cat "$STATE/$f.token"
done
check "portal: ca.pem is the CA of its data dir" cmp "$STATE/ca.pem" "$STATE/portal/ca.pem"
check_eq "portal: answers on 198.51.100.30:8443, verified with ca.pem, to the admin token" 200 \
	portal_code client "$STATE/admin.token" /api/v1/sites --cacert "$STATE/ca.pem"
check_eq "portal: refuses a request without a token (401)" 401 \
	portal_code client - /api/v1/sites --cacert "$STATE/ca.pem"
check_eq "portal: refuses alice's client token on the admin API (403)" 403 \
	portal_code client "$STATE/alice.token" /api/v1/sites --cacert "$STATE/ca.pem"
check_eq "portal: its certificate does not verify without ca.pem" 000 \
	portal_code client "$STATE/admin.token" /api/v1/sites
for n in gw gw2 client2; do
	check_eq "portal: answers from $n's namespace too" 200 \
		portal_code "$n" "$STATE/admin.token" /api/v1/sites --cacert "$STATE/ca.pem"
done
check_match "status: the portal answers" "portal $PORTAL answers" world_status

mkdir -p "$tmp/d"
fetched=1
for e in sites gateways resources users groups policies tokens; do
	fetch "$e" "$e?limit=500" || fetched=0
done
fetch audit 'audit?limit=500' || fetched=0
check "portal: the admin token lists every table" test "$fetched" = 1
check_eq "policy: one site, home" home q '" ".join(s["name"] for s in d["sites"])'
check_eq "policy: two gateways, gw and gw2 of site home, not enrolled yet" "gw home None|gw2 home None" \
	q '"|".join(sorted("%s %s %s" % (g["name"], name("sites", g["site_id"]), g["public_key"]) for g in d["gateways"]))'
check_eq "policy: the five resources of the demo, with their types" \
	"cidr 203.0.113.128/25|dns *.slack.saas.test|dns github.saas.test|dns gitlab.company.com|dns nas.home.int" \
	q '"|".join(sorted("%s %s" % (r["type"], r["address"]) for r in d["resources"]))'
check_eq "policy: every resource is of site home and lets all traffic through" "home []" \
	q '" ".join(sorted(set("%s %s" % (name("sites", r["site_id"]), r["filters"]) for r in d["resources"])))'
check_eq "policy: users alice and bob" "alice bob" q '" ".join(sorted(u["name"] for u in d["users"]))'
check_eq "policy: one group, engineering" engineering q '" ".join(g["name"] for g in d["groups"])'
for g in $(q '" ".join(str(g["id"]) for g in d["groups"])'); do fetch "members-$g" "groups/$g/members"; done
check_eq "policy: alice is in engineering, bob in no group" "alice:engineering bob:" q '" ".join(
	u["name"] + ":" + ",".join(g["name"] for g in d["groups"]
	                           if any(m["id"] == u["id"] for m in d["members-%d" % g["id"]]))
	for u in sorted(d["users"], key=lambda u: u["name"]))'
check_eq "policy: five policies, one a resource, each granting engineering, no conditions" \
	"engineering 5 5 0" q '"%s %d %d %d" % (",".join(sorted(set(name("groups", p["group_id"]) for p in d["policies"]))),
	len(d["policies"]), len(set(p["resource_id"] for p in d["policies"])),
	sum(1 for p in d["policies"] if p["conditions"] != {} or p["expires_at"] is not None))'
check_eq "policy: tokens: the init's admin token, two site tokens for home, client tokens for alice and bob" \
	"admin - -|client alice -|client bob -|site - home|site - home" \
	q '"|".join(sorted("%s %s %s" % (t["kind"], t["user_id"] and name("users", t["user_id"]) or "-",
	t["site_id"] and name("sites", t["site_id"]) or "-") for t in d["tokens"]))'
# every row came through the API with the init's admin token, from an empty portal
check_eq "policy: built from nothing through the API with the admin token (the audit log)" \
	"create gateways 2|create group_members 1|create groups 1|create policies 5|create resources 5|create sites 1|create tokens 4|create users 2" \
	q '"|".join("%s %s %d" % (k[0], k[1], n) for k, n in sorted(__import__("collections").Counter(
	(a["action"], a["entity"]) for a in d["audit"] if a["token_id"] == 1).items()))'
check_eq "policy: the audit log has nothing else but the init's token" "1 tokens" \
	q '" ".join("%d %s" % (len(x), x[0]["entity"]) for x in [[a for a in d["audit"] if a["token_id"] != 1]])'

# the tokens work where the daemons will use them
check_eq "session: alice's token opens a client session, whose init holds the five resources" \
	"101 init nas.home.int gitlab.company.com *.slack.saas.test github.saas.test 203.0.113.128/25" \
	ws_resources client client "$STATE/alice.token"
check_eq "session: gw.token enrolls a gateway from 198.51.100.20 (101)" 101 ws_code gw gateway \
	"$STATE/gw.token" -H 'X-Sluice-Name: gw' -H 'X-Sluice-Endpoint: 198.51.100.20:51820'
fetch gateways gateways
check_eq "session: ... and claims the row gw of site home with its key" "gw home $(cat "$tmp/ws.key") 198.51.100.20:51820" \
	q '" ".join("%s %s %s %s" % (g["name"], name("sites", g["site_id"]), g["public_key"], g["endpoint"]) for g in d["gateways"] if g["name"] == "gw")'
check_eq "session: gw2.token enrolls a gateway from 198.51.100.21 (101)" 101 ws_code gw2 gateway \
	"$STATE/gw2.token" -H 'X-Sluice-Name: gw2' -H 'X-Sluice-Endpoint: 198.51.100.21:51820'
fetch gateways gateways
check_eq "session: ... and claims the row gw2 of site home with its key" "gw2 home $(cat "$tmp/ws.key") 198.51.100.21:51820" \
	q '" ".join("%s %s %s %s" % (g["name"], name("sites", g["site_id"]), g["public_key"], g["endpoint"]) for g in d["gateways"] if g["name"] == "gw2")'
check_match "session: bob's token opens a client session from client2, whose init holds no resource" \
	'^101 init *$' ws_resources client2 client "$STATE/bob.token"

# ---- sluice-session (tests/tools): the client the gateway's tests will ask for
# grants with. No gateway is online (the enrollment above has ended), so the
# portal answers alice's request "offline"; bob, in no group, "no_policy".
BUILD=${SLUICE_BUILD:-$SRC/build}
for k in alice bob; do head -c 32 /dev/urandom | base64 >"$tmp/$k.key"; done
# session WHO TOKEN_FILE ARGS...: with WHO's device key; prints its stdout, then "rc=N"
session() {
	local who=$1 tf=$2 rc=0
	shift 2
	in_ns client "$BUILD/tests/tools/sluice-session" --portal "$PORTAL" --ca "$STATE/ca.pem" \
		--token-file "$tf" --key-file "$tmp/$who.key" --timeout 5 "$@" || rc=$?
	echo "rc=$rc"
}
fetch resources resources
nas=$(q 'next(r["id"] for r in d["resources"] if r["address"] == "nas.home.int")')
check_match "sluice-session: init prints alice's tunnel addresses (exit 0)" \
	'^\{"type":"init","tunnel":\{"ipv4":"100\.[0-9.]+","ipv6":"fd00:2021:1111:[0-9a-f:]+"\}\}
rc=0$' session alice "$STATE/alice.token" init
check_eq "sluice-session: alice's request for nas.home.int is denied offline (exit 1)" \
	"{\"type\":\"access_denied\",\"req\":1,\"resource_id\":$nas,\"reason\":\"offline\"}
rc=1" session alice "$STATE/alice.token" request "$nas"
check_eq "sluice-session: bob's request for nas.home.int is denied no_policy (exit 1)" \
	"{\"type\":\"access_denied\",\"req\":1,\"resource_id\":$nas,\"reason\":\"no_policy\"}
rc=1" session bob "$STATE/bob.token" request "$nas"
check_eq "sluice-session: a token the portal refuses is a connection error (exit 2)" "rc=2" \
	session alice "$tmp/alice.key" init

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

# ---- bob's device, client2: on the internet, the LAN out of its reach as well
for a in 198.51.100.10 198.51.100.20 198.51.100.21 198.51.100.30 198.51.100.53; do
	check "client2 pings $a" in_ns client2 ping -c1 -W1 -q "$a"
done
check_match "client2's resolver is 198.51.100.53" '^nameserver 198\.51\.100\.53$' in_ns client2 cat /etc/resolv.conf
check_match "client2: gist's page names 198.51.100.11" '^gist\.github\.saas\.test .*hello 198\.51\.100\.11$' \
	http_body client2 http://gist.github.saas.test/
check_fails "client2 has no route to 203.0.113.0/24" in_ns client2 ip route get 203.0.113.50
check_fails "client2 cannot ping 203.0.113.50" in_ns client2 ping -c1 -W1 -q 203.0.113.50
for g in 198.51.100.20 198.51.100.21; do
	in_ns client2 ip route add 203.0.113.0/24 via "$g"
	check_fails "even with a route via $g, client2 cannot ping 203.0.113.50" in_ns client2 ping -c1 -W1 -q 203.0.113.50
	check_fails "... nor curl 203.0.113.60" in_ns client2 curl -sS --connect-timeout 1 --max-time 2 -o /dev/null http://203.0.113.60/
	in_ns client2 ip route del 203.0.113.0/24 via "$g"
done
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
check_match "gw: its own resolver is the LAN DNS" '^203\.0\.113\.50 +STREAM nas\.home\.int$' in_ns gw getent ahostsv4 nas.home.int
check_match "... IPv6 too" '^2001:db8:113::50 +nas\.home\.int$' in_ns gw getent hosts nas.home.int
check_match "gw: http://203.0.113.50 is nas.home.int" 'nas\.home\.int' http_body gw http://203.0.113.50/
check_match "gw: http://gitlab.company.com is 203.0.113.60" '^gitlab\.company\.com \(203\.0\.113\.60\)' http_body gw http://gitlab.company.com/
check_match "gw: http://server.home.int is 203.0.113.70" '^server\.home\.int \(203\.0\.113\.70\)' http_body gw http://server.home.int/
check_eq "gw: github.saas.test serves the gateway's address (200)" 200 http_code gw http://github.saas.test/ --resolve github.saas.test:80:198.51.100.40
check_match "lan: reaches github.saas.test through the gateway's NAT" 'hello 198\.51\.100\.20$' http_body lan http://github.saas.test/
check "gw: iperf3 to 203.0.113.200 for 1 s" in_ns gw iperf3 -c 203.0.113.200 -t 1
check_eq "gw: UDP echo on 203.0.113.200:7" hi in_ns gw sh -c 'echo hi | socat -t1 - UDP:203.0.113.200:7'
check_eq "gw: http://gitlab.company.com:443 is plain HTTP on 203.0.113.60:443" \
	"gitlab.company.com (203.0.113.60:443): hello 203.0.113.1" http_body gw http://gitlab.company.com:443/

# ---- the second gateway: the same LAN, the same rules
check_eq "gw2: on the LAN as 203.0.113.2 and 2001:db8:113::2" "203.0.113.2/24 2001:db8:113::2/64" \
	sh -c "ip -n $(world_ns gw2) -o addr show dev lan0 scope global | awk '{print \$4}' | paste -sd' '"
check_eq "gw2: forwarding on (IPv4 and IPv6)" "1 1" \
	sh -c "ip netns exec $(world_ns gw2) sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | paste -sd' '"
check_match "gw2: its nft rules drop new connections from the internet to the LAN" \
	'iifname "eth0" oifname "lan0" counter packets [0-9]+ bytes [0-9]+ drop' in_ns gw2 nft list table inet sluice_world
for a in 203.0.113.1 203.0.113.50 203.0.113.200; do
	check "gw2 pings $a" in_ns gw2 ping -c1 -W1 -q "$a"
done
check_match "gw2: its own resolver is the LAN DNS" '^203\.0\.113\.60 +gitlab\.company\.com$' in_ns gw2 getent hosts gitlab.company.com
check_eq "gw2: http://gitlab.company.com sees it as 203.0.113.2" "gitlab.company.com (203.0.113.60): hello 203.0.113.2" \
	http_body gw2 http://gitlab.company.com/
check_eq "gw2: http://nas.home.int (A and AAAA) is served over IPv6 from 2001:db8:113::2" \
	"nas.home.int (2001:db8:113::50): hello 2001:db8:113::2" http_body gw2 http://nas.home.int/
check_eq "gw2: UDP echo on 203.0.113.200:7" hi in_ns gw2 sh -c 'echo hi | socat -t1 - UDP:203.0.113.200:7'
in_ns client ip route add 203.0.113.0/24 via 198.51.100.21
check_fails "a route via gw2 does not take the client into the LAN" in_ns client ping -c1 -W1 -q 203.0.113.50
in_ns client ip route del 203.0.113.0/24 via 198.51.100.21

# ---- the LAN's IPv6, 2001:db8:113::/64
check_match "lan: its IPv6 default route is via gw (2001:db8:113::1)" '^default via 2001:db8:113::1 dev eth0' \
	in_ns lan ip -6 route show default
check "lan pings gw at 2001:db8:113::1" in_ns lan ping -6 -c1 -W1 -q 2001:db8:113::1
check "lan pings gw2 at 2001:db8:113::2" in_ns lan ping -6 -c1 -W1 -q 2001:db8:113::2
for h in 50 60 70; do
	check "gw pings 2001:db8:113::$h" in_ns gw ping -6 -c1 -W1 -q "2001:db8:113::$h"
done
check_eq "gw: nas over IPv6" "nas.home.int (2001:db8:113::50): hello 2001:db8:113::1" \
	http_body gw 'http://[2001:db8:113::50]/'
check_eq "gw: gitlab over IPv6" "gitlab.company.com (2001:db8:113::60): hello 2001:db8:113::1" \
	http_body gw 'http://[2001:db8:113::60]/'
check_eq "gw: server.home.int over IPv6" "server.home.int (2001:db8:113::70): hello 2001:db8:113::1" \
	http_body gw 'http://[2001:db8:113::70]/'
check_eq "gw2: nas over IPv6, from 2001:db8:113::2" "nas.home.int (2001:db8:113::50): hello 2001:db8:113::2" \
	http_body gw2 'http://[2001:db8:113::50]/'
check_eq "gw: http://v6only.home.int (AAAA only) is served over IPv6" \
	"nas.home.int (2001:db8:113::50): hello 2001:db8:113::1" http_body gw http://v6only.home.int/

# ---- the LAN's DNS: AAAA, NODATA for the types a name does not have, round robin
check_eq "LAN DNS: nas.home.int AAAA is 2001:db8:113::50" 2001:db8:113::50 dns_short gw 203.0.113.53 nas.home.int AAAA
check_eq "LAN DNS: v6only.home.int AAAA is 2001:db8:113::50" 2001:db8:113::50 dns_short gw 203.0.113.53 v6only.home.int AAAA
check_eq "LAN DNS: v6only.home.int A is NODATA" "NOERROR 0" dns_summary gw 203.0.113.53 v6only.home.int A
check_eq "LAN DNS: v6only.home.int TXT is NODATA" "NOERROR 0" dns_summary gw 203.0.113.53 v6only.home.int TXT
check_eq "LAN DNS: gitlab.company.com AAAA is NODATA" "NOERROR 0" dns_summary gw 203.0.113.53 gitlab.company.com AAAA
check_eq "LAN DNS: server.home.int AAAA is NODATA" "NOERROR 0" dns_summary gw 203.0.113.53 server.home.int AAAA
check_eq "LAN DNS: rr.home.int AAAA is NODATA" "NOERROR 0" dns_summary gw 203.0.113.53 rr.home.int AAAA
check_eq "LAN DNS: nope.home.int AAAA is NXDOMAIN" NXDOMAIN dns_status gw 203.0.113.53 nope.home.int AAAA
check_eq "LAN DNS: rr.home.int has three A records" "NOERROR 3" dns_summary gw 203.0.113.53 rr.home.int A
rr() { dns_short gw 203.0.113.53 rr.home.int | sort | paste -sd' '; }
check_eq "LAN DNS: rr.home.int is 203.0.113.50, .60 and .70" "203.0.113.50 203.0.113.60 203.0.113.70" rr
check_eq "LAN DNS: ... from gw2 too" "NOERROR 3" dns_summary gw2 203.0.113.53 rr.home.int A
# the NODATA answers came from the LAN DNS itself: it forwarded no question of its zones
check_eq "LAN DNS: no question of home.int or company.com was forwarded" 0 \
	sh -c "grep -cE 'forwarded [^ ]*(home\\.int|company\\.com) ' '$STATE/logs/dnsmasq-lan.log' || true"

# ---- status shows the new parts
# status_of NAME: the lines status prints for that namespace
status_of() { world_status | awk -v h="$(world_ns "$1"):" '$0 == h { on = 1; next } /^[^ ]/ { on = 0 } on'; }
check_match "status: client2 and its address" '^  eth0 198\.51\.100\.11/24$' status_of client2
check_match "status: client2's resolver" '^  resolv.conf: 198\.51\.100\.53$' status_of client2
check_match "status: gw2 on the LAN with its IPv6 address" '^  lan0 203\.0\.113\.2/24 2001:db8:113::2/64$' status_of gw2
check_match "status: the LAN's bridge and its ports" '^  br0 ports: (gw|gw2|hosts) (gw|gw2|hosts) (gw|gw2|hosts) $' status_of lan
check_match "status: the LAN's IPv6 default route" '^  route: default via 2001:db8:113::1$' status_of lan
check_match "status: no sluice-client on client2" '^  sluice-client: not running$' status_of client2

# ---- tests/world/gateway.sh (world_gateway) runs both gateways at once (when sluice-gateway is built)
if [[ -x $BUILD/src/gateway/sluice-gateway ]]; then
	# the rows gw and gw2 hold the keys of the enrollments above: new rows, as
	# `up` made them, for the gateways' own keys
	admin_q() {
		in_ns client "$BUILD/src/cli/sluice" admin --portal "$PORTAL" --ca "$STATE/ca.pem" \
			--token-file "$STATE/admin.token" --timeout 5 -q "$@"
	}
	remake() {
		local ids id site
		mapfile -t ids < <(admin_q gateways list) && ((${#ids[@]} == 2)) || return 1
		site=$(admin_q sites list) || return 1
		for id in "${ids[@]}"; do admin_q gateways delete "$id" >/dev/null || return 1; done
		admin_q gateways create --site "$site" --name gw >/dev/null &&
			admin_q gateways create --site "$site" --name gw2 >/dev/null
	}
	check "the rows gw and gw2 are made again" remake
	check "gateway.sh --name gw starts sluice-gateway in gw" world_gateway gw start --ifname slworld-gw
	check "gateway.sh --name gw2 starts sluice-gateway in gw2, at the same time" world_gateway gw2 start --ifname slworld-gw2
	gateways() {
		in_ns client "$BUILD/src/cli/sluice" admin --portal "$PORTAL" --ca "$STATE/ca.pem" \
			--token-file "$STATE/admin.token" --timeout 5 gateways list
	}
	check_match "the portal shows gw online" '^[0-9]+ +[0-9]+ +gw +yes ' gateways
	check_match "the portal shows gw2 online" '^[0-9]+ +[0-9]+ +gw2 +yes ' gateways
	check "gw2's TUN is in gw2" in_ns gw2 ip link show slworld-gw2
	check_eq "gw2's state, log and pid file are its own" "gateway2/private.key logs/gateway2.log run/gateway2.pid" \
		sh -c "cd '$STATE' && ls gateway2/private.key logs/gateway2.log run/gateway2.pid | paste -sd' '"
	check "gateway.sh --name gw2 stop" world_gateway gw2 stop
	check_fails "gw2's TUN is gone" in_ns gw2 ip link show slworld-gw2
	check "gw's sluice-gateway still runs" test -d "/proc/$(cat "$STATE/run/gateway.pid")"
	check "gateway.sh --name gw kill" world_gateway gw kill
	# a killed daemon leaves its UAPI socket file in the host's /var/run/wireguard
	rm -f /var/run/wireguard/slworld-gw.sock
	check_fails "gateway.sh --name gw3 is refused" world_gateway gw3 start
else
	diag "no $BUILD/src/gateway/sluice-gateway: gateway.sh not run"
fi
check_fails "client.sh --name client3 is refused" world_client client3 start

# ---- down leaves nothing
# daemons started after up (sluice-client, sluice-gateway...), and a device's
# resolv.conf left with a crashed client's nameservers
for n in client client2 gw2; do
	in_ns "$n" setsid sleep 600 </dev/null >/dev/null 2>&1 &
	pids+=("$(proc_id $!)")
done
printf 'nameserver 100.100.111.1\n' >"/etc/netns/$(world_ns client2)/resolv.conf"
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
