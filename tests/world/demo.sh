#!/usr/bin/env bash
# tests/world/demo.sh — what the demo world shows today; `make demo` runs it after
# `world.sh up`. Every line is a real command run in the world and its real
# answer; one that differs from what the world should answer is marked and makes
# the exit status 1. It says plainly what is not there yet.
#
#   demo.sh [--state DIR]     (default <repo>/.demo; the prefix is the one `up` recorded)
set -uo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
STATE=$REPO_ROOT/.demo
BUILD=${SLUICE_BUILD:-$REPO_ROOT/build}
case ${1:-} in
--state) STATE=${2:?--state needs a value} ;;
--state=*) STATE=${1#*=} ;;
"") ;;
*) echo "usage: $0 [--state DIR]" >&2; exit 2 ;;
esac
PREFIX=$(sed -n 's/^prefix=//p' "$STATE/.sluice-world" 2>/dev/null)
[[ -n $PREFIX && -e /run/netns/${PREFIX}client ]] || {
	echo "demo.sh: no world up in $STATE (make demo)" >&2
	exit 1
}
PORTAL=https://198.51.100.30:8443
RC=0

# rel PATH: as typed from the current directory
rel() { local p=$1; [[ $p == "$PWD"/* ]] && p=${p#"$PWD"/}; printf '%s' "$p"; }

# show NS REGEX SHOWN FUNC ARGS...: prints "$ ip netns exec NS SHOWN", runs FUNC
# (which runs its command in $IN) and prints its output; marks it when the
# output does not match REGEX
IN=()
show() {
	local ns=$PREFIX$1 re=$2 shown=$3 out
	shift 3
	IN=(ip netns exec "$ns")
	out=$("$@" 2>&1)
	printf '  $ ip netns exec %s %s\n' "$ns" "$shown"
	printf '%s\n' "$out" | sed 's/^/      /'
	if ! grep -qE -- "$re" <<<"$out"; then
		printf '      ^ UNEXPECTED: the world should answer /%s/\n' "$re"
		RC=1
	fi
}
# The probes, run through show(): each runs its command in the namespace $IN.
# shellcheck disable=SC2317 # called indirectly
# dns NAME: the status and the addresses, as one line
dns() {
	"${IN[@]}" dig +noall +comments +answer +time=1 +tries=2 "$1" |
		awk '/status:/ { sub(/.*status: /, ""); sub(/,.*/, ""); s = $0 }
		     /^[^;]/ && $4 == "A" { a = a " " $5 }
		     END { print s a }'
}
# shellcheck disable=SC2317
http() { "${IN[@]}" curl -sS --connect-timeout 2 --max-time 4 "$1" 2>&1; }
# admin ARGS...: sluice admin against the demo's portal
# shellcheck disable=SC2317
admin() {
	"${IN[@]}" env -u SLUICE_TOKEN SLUICE_PORTAL="$PORTAL" SLUICE_CA="$STATE/ca.pem" \
		SLUICE_TOKEN_FILE="$STATE/admin.token" "$BUILD/src/cli/sluice" admin "$@"
}

echo "== what the demo shows now"
echo "alice's device, ${PREFIX}client (198.51.100.10), without sluice: its own resolver, no route to the LAN"
show client '^NXDOMAIN$' "dig nas.home.int" dns nas.home.int
show client 'not on the IP allowlist' "curl http://github.saas.test/" http http://github.saas.test/
show client '^gist\.github\.saas\.test .*hello 198\.51\.100\.10$' "curl http://gist.github.saas.test/" \
	http http://gist.github.saas.test/
show client "Couldn't connect|unreachable|No route" "curl http://203.0.113.50/" http http://203.0.113.50/
echo "the gateway, ${PREFIX}gw (198.51.100.20): what sluice-gateway will forward to, from its own address"
show gw '^nas\.home\.int .*hello (203\.0\.113\.1|2001:db8:113::1)$' "curl http://nas.home.int/" http http://nas.home.int/
show gw '^github\.saas\.test .*hello 198\.51\.100\.20$' "curl http://github.saas.test/" http http://github.saas.test/
echo "the portal, ${PREFIX}portal ($PORTAL), holding the policy sluice admin built:"
echo "  (SLUICE_PORTAL=$PORTAL SLUICE_CA=$(rel "$STATE/ca.pem") SLUICE_TOKEN_FILE=$(rel "$STATE/admin.token"))"
CLI=$(rel "$BUILD/src/cli/sluice")
show client '^1 +alice ' "$CLI admin groups members 1" admin groups members 1
show client '^1 +1 +gw +yes ' "$CLI admin gateways list" admin gateways list
# shellcheck disable=SC2317
run() { "${IN[@]}" "$@"; }
echo "the gateway, sluice-gateway in ${PREFIX}gw: enrolled with the site token, its tunnel from the portal"
show gw 'listening port: 51820' "wg show sluice-gw" run wg show sluice-gw
show gw 'inet 100\.64\.0\.1/11' "ip -4 addr show sluice-gw" run ip -4 addr show sluice-gw
show gw 'table inet sluice_gw' "nft list tables" run nft list tables

cat <<EOF
not there yet (a later issue), so alice's own queries above do not go through sluice:
  - sluice-client on ${PREFIX}client: nas.home.int resolving to a proxy IP from 100.96.0.0/11,
    its page served through the gateway's tunnel; it will use $(rel "$STATE/alice.token").
    The gateway side of that is up and tested (tests/integration/gateway.sh, with
    wireguard-go, dig and curl standing in for the client); its log is
    $(rel "$STATE/logs/gateway.log").
  make demo-down tears it all down.
EOF
exit "$RC"
