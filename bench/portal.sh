#!/usr/bin/env bash
# Portal sessions: N concurrent client sessions (portal-load, written with
# src/ctl/session.h) to the portal's session half (portal-testd: store + policy
# engine + hub + TLS server, on 127.0.0.1), both on this machine.
#
# Measures
#   memory per session   (portal's VmRSS with N sessions - VmRSS before) / N
#   connect              time until all N sessions have their init
#   change -> all N      one admin change (a resource and a policy granting it,
#                        written through the store inside the portal on SIGUSR1)
#                        until the last session has its resource_upsert; the
#                        median and worst of --changes changes, made
#                        --settle seconds after the last session came up (the
#                        default, 20 s, is past the 15 s heartbeat interval: every
#                        session then pings and is pinged while changes go out)
# The database lives in a temporary directory (under /dev/shm when it exists:
# every connecting device is a durable write, and the disk is not what is measured).
#
# Usage: bench/portal.sh [--sessions N] [--changes C] [--batch B] [--settle S]
#                        [--workers W] [--seconds S]
#   --sessions N   client sessions (default 5000)
#   --changes C    changes to time (default 10, at most 60)
#   --settle S     seconds between the last init and the first change (default 20)
#   --workers W    load tool processes sharing the sessions (default 1)
#   --seconds S    smoke runs: --sessions 200 --changes 2 --settle 1 --workers 2
set -euo pipefail

N=5000
CHANGES=10
BATCH=200
SETTLE=20
WORKERS=1
SMOKE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--sessions) N=$2; shift 2 ;;
	--changes) CHANGES=$2; shift 2 ;;
	--batch) BATCH=$2; shift 2 ;;
	--settle) SETTLE=$2; shift 2 ;;
	--workers) WORKERS=$2; shift 2 ;;
	--seconds) SMOKE=1; shift 2 ;;
	*) echo "usage: $0 [--sessions N] [--changes C] [--batch B] [--settle S]" \
		"[--workers W] [--seconds S]" >&2
	   exit 2 ;;
	esac
done
if [ "$SMOKE" = 1 ]; then
	N=200
	CHANGES=2
	SETTLE=1
	WORKERS=2 # so that the merging path keeps working
fi

BUILD=${SLUICE_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
TESTD=$BUILD/tests/tools/portal-testd
LOAD=$BUILD/tests/tools/portal-load
for b in "$TESTD" "$LOAD"; do
	[ -x "$b" ] || { echo "portal.sh: $b missing (build first)" >&2; exit 1; }
done

base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
DIR=$(mktemp -d "$base/sluice-portal-bench.XXXXXX")
TESTD_PID=
LOAD_PID=
cleanup() {
	[ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null
	[ -n "$TESTD_PID" ] && kill "$TESTD_PID" 2>/dev/null && wait "$TESTD_PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

# wait_line FILE REGEX SECONDS: the first line of FILE matching REGEX
wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		if grep -m1 -E "$2" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "portal.sh: timed out waiting for '$2' in $1" >&2
	cat "$1" >&2 || true
	return 1
}

# wait_nth FILE REGEX N SECONDS: the N-th line of FILE matching REGEX
wait_nth() {
	local i l
	for ((i = 0; i < $4 * 20; i++)); do
		l=$(grep -E "$2" "$1" 2>/dev/null | sed -n "$3p" || true)
		if [ -n "$l" ]; then
			echo "$l"
			return 0
		fi
		sleep 0.05
	done
	echo "portal.sh: timed out waiting for '$2' in $1" >&2
	return 1
}

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# a process and its children (the load tool's workers)
rss_tree_kb() {
	local t p
	t=$(rss_kb "$1")
	for p in $(pgrep -P "$1" || true); do t=$((t + $(rss_kb "$p"))); done
	echo "$t"
}

BUSY=$(cpu_busy_pct)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
"$TESTD" --dir "$DIR" >"$DIR/testd.out" 2>"$DIR/testd.err" &
TESTD_PID=$!
read -r _ PORT _ TOKEN _ CA < <(wait_line "$DIR/testd.out" '^port ' 20)
sleep 0.5
RSS0=$(rss_kb "$TESTD_PID")

WORKER_ARGS=()
[ "$WORKERS" = 1 ] || WORKER_ARGS=(--workers "$WORKERS")
"$LOAD" --port "$PORT" --ca "$CA" --token "$TOKEN" --sessions "$N" --batch "$BATCH" \
	"${WORKER_ARGS[@]}" >"$DIR/load.out" 2>"$DIR/load.err" &
LOAD_PID=$!
read -r _ READY INIT_MS < <(wait_line "$DIR/load.out" '^ready ' 600)
if [ "$READY" != "$N" ]; then
	echo "portal.sh: only $READY of $N sessions came up" >&2
	cat "$DIR/load.err" >&2
	exit 1
fi
sleep "$SETTLE"
RSS1=$(rss_kb "$TESTD_PID")
LOAD_RSS=$(rss_tree_kb "$LOAD_PID")

times=()
for ((c = 1; c <= CHANGES; c++)); do
	kill -USR1 "$TESTD_PID"
	read -r _ RID T0 < <(wait_nth "$DIR/testd.out" '^changed ' "$c" 10)
	read -r _ _ _ T1 < <(wait_nth "$DIR/load.out" "^arrived $RID " 1 30)
	times+=("$(( (T1 - T0) / 1000 ))")
	sleep 0.3
done

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
worst=$(echo "$sorted" | tail -n 1)
per=$(( (RSS1 - RSS0) * 1024 / N ))

echo "sessions                  $N"
echo "machine before the run    ${BUSY}% of $(nproc) CPUs busy (2 s), load average $LOADAVG"
echo "connect (all inits)       $INIT_MS ms"
echo "portal RSS                ${RSS0} KiB before, ${RSS1} KiB with $N sessions"
echo "memory per session        $per bytes ($(( per / 1024 )) KiB; target < 64 KiB)"
echo "load tool RSS             ${LOAD_RSS} KiB"
printf 'change -> all sessions    median %d.%03d ms, worst %d.%03d ms over %d changes (target < 1000 ms)\n' \
	$((median / 1000)) $((median % 1000)) $((worst / 1000)) $((worst % 1000)) "$CHANGES"
echo "settle                    $SETTLE s between the last init and the first change"
echo "load tool                 $WORKERS process(es)"
