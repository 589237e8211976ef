#!/usr/bin/env bash
# tests/world/demo.sh — what the demo world shows; `make demo` runs it after
# `world.sh up` and the daemons' start. Every line is a real command run in the
# world and its real answer; one that differs from what the world should answer
# is marked and makes the exit status 1.
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

# shellcheck disable=SC2317
run() { "${IN[@]}" "$@"; }
CLI=$(rel "$BUILD/src/cli/sluice")
# shellcheck disable=SC2317
status() { "${IN[@]}" "$BUILD/src/cli/sluice" status --socket "$STATE/run/$1.sock"; }

echo "== sluice at work"
echo "alice's device, ${PREFIX}client (198.51.100.10), sluice-client running: its resolv.conf names the sentinel"
show client '^nameserver 100\.100\.111\.1$' "grep nameserver /etc/resolv.conf" run grep nameserver /etc/resolv.conf
show client '^NOERROR 100\.(9[6-9]|1[01][0-9]|12[0-7])\.' "dig nas.home.int" dns nas.home.int
show client '^nas\.home\.int .*hello (203\.0\.113\.1|2001:db8:113::1)$' "curl http://nas.home.int/" http http://nas.home.int/
show client '^github\.saas\.test .*hello 198\.51\.100\.20$' "curl http://github.saas.test/" \
	http http://github.saas.test/
show client '^gist\.github\.saas\.test .*hello 198\.51\.100\.10$' "curl http://gist.github.saas.test/" \
	http http://gist.github.saas.test/
show client '^NXDOMAIN$' "dig server.home.int" dns server.home.int
show client 'granted' "$CLI status" status client
echo "bob's device, ${PREFIX}client2 (198.51.100.11): bob is in no group, so sluice forwards his queries untouched"
show client2 '^NXDOMAIN$' "dig nas.home.int" dns nas.home.int
echo "the gateways, sluice-gateway in ${PREFIX}gw and ${PREFIX}gw2, online at the portal:"
echo "  (SLUICE_PORTAL=$PORTAL SLUICE_CA=$(rel "$STATE/ca.pem") SLUICE_TOKEN_FILE=$(rel "$STATE/admin.token"))"
show client '^1 +1 +gw +yes ' "$CLI admin gateways list" admin gateways list
show gw 'peer: ' "wg show sluice-gw" run wg show sluice-gw

cat <<EOF
try more (as root, from the repository):
  ip netns exec ${PREFIX}client dig a.slack.saas.test           # a wildcard resource
  ip netns exec ${PREFIX}client ping -c 3 203.0.113.200         # the CIDR resource
  ip netns exec ${PREFIX}client iperf3 -c 203.0.113.200
  ip netns exec ${PREFIX}client $CLI status --json
  add bob to engineering, and his queries resolve within a second:
  ip netns exec ${PREFIX}client env SLUICE_PORTAL=$PORTAL SLUICE_CA=$(rel "$STATE/ca.pem") \\
      SLUICE_TOKEN_FILE=$(rel "$STATE/admin.token") $CLI admin groups add-member 1 2
  logs: $(rel "$STATE/logs/")   make demo-down tears it all down.
EOF
exit "$RC"
