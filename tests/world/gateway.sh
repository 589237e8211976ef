#!/usr/bin/env bash
# tests/world/gateway.sh — sluice-gateway in the world's gateway namespace.
#
#   gateway.sh start|stop|kill [--prefix P] [--state DIR] [--build DIR] [-- ARGS...]
#
# start  runs sluice-gateway in ${P}gw with the site token $STATE/gw.token, the
#        portal's CA, its key in $STATE/gateway/ and its log in
#        $STATE/logs/gateway.log (appended), then waits (10 s at most) until it
#        has its tunnel from the portal. ARGS go to sluice-gateway.
# stop   SIGTERM, and waits until it has exited (it removes its table and device)
# kill   SIGKILL, and waits until it is gone (a crash: it removes nothing)
# The pid is in $STATE/run/gateway.pid. `world.sh down` kills it with the rest.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
PREFIX=sl-
STATE=$REPO_ROOT/.demo
BUILD=${SLUICE_BUILD:-$REPO_ROOT/build}
CMD=
ARGS=()

die() { printf 'gateway.sh: %s\n' "$*" >&2; exit 1; }

while (($#)); do
	case $1 in
	--prefix) PREFIX=$2; shift 2 ;;
	--state) STATE=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	start | stop | kill) CMD=$1; shift ;;
	--) shift; ARGS=("$@"); break ;;
	*) die "unknown argument: $1" ;;
	esac
done
[[ -n $CMD ]] || die "usage: gateway.sh start|stop|kill [--prefix P] [--state DIR] [--build DIR] [-- ARGS]"

BIN=$BUILD/src/gateway/sluice-gateway
PIDF=$STATE/run/gateway.pid
LOG=$STATE/logs/gateway.log

alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# wait_gone PID SECONDS
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

case $CMD in
start)
	[[ -x $BIN ]] || die "no $BIN: build first (make build)"
	[[ -s $STATE/gw.token ]] || die "no $STATE/gw.token: bring the world up first"
	mkdir -p "$STATE/run" "$STATE/logs"
	before=$(grep -c 'tunnel .* up' "$LOG" 2>/dev/null || true)
	# setsid: it outlives this script and a Ctrl-C meant for it
	ip netns exec "${PREFIX}gw" setsid "$BIN" --portal https://198.51.100.30:8443 \
		--token-file "$STATE/gw.token" --ca "$STATE/ca.pem" \
		--endpoint 198.51.100.20:51820 --state "$STATE/gateway" --name gw \
		"${ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
	pid=$!
	echo "$pid" >"$PIDF"
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || die "sluice-gateway exited: $(tail -n 5 "$LOG")"
		now=$(grep -c 'tunnel .* up' "$LOG" 2>/dev/null || true)
		((now > before)) && exit 0
		sleep 0.1
	done
	die "sluice-gateway got no tunnel from the portal within 10 s: $(tail -n 5 "$LOG")"
	;;
stop | kill)
	[[ -s $PIDF ]] || exit 0
	pid=$(cat "$PIDF")
	alive "$pid" || { rm -f "$PIDF"; exit 0; }
	kill "-$([[ $CMD == stop ]] && echo TERM || echo KILL)" "$pid"
	wait_gone "$pid" 10 || die "sluice-gateway ($pid) did not exit"
	rm -f "$PIDF"
	;;
esac
