# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source it
# tests/world/daemon.sh — what client.sh and gateway.sh share: their arguments,
# and stop/kill waiting. Sourced after `set -euo pipefail`, with SCRIPT (the
# script's name for messages), NAME (its default --name) and USAGE set:
#
#   daemon_parse "$@"      sets PREFIX STATE BUILD NAME CMD ARGS (or dies with USAGE)
#   daemon_stop BIN PIDF   stop|kill: SIGTERM or SIGKILL, waits (10 s) until gone
#   alive PID, wait_gone PID SECONDS, die MSG

REPO_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
PREFIX=sl-
STATE=$REPO_ROOT/.demo
BUILD=${SLUICE_BUILD:-$REPO_ROOT/build}
CMD=
ARGS=()

die() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

daemon_parse() {
	while (($#)); do
		case $1 in
		--prefix) PREFIX=$2; shift 2 ;;
		--state) STATE=$2; shift 2 ;;
		--build) BUILD=$2; shift 2 ;;
		--name) NAME=$2; shift 2 ;;
		start | stop | kill) CMD=$1; shift ;;
		--) shift; ARGS=("$@"); break ;;
		*) die "unknown argument: $1" ;;
		esac
	done
	[[ -n $CMD ]] || die "$USAGE"
}

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

# daemon_stop BIN PIDF: CMD stop (SIGTERM) or kill (SIGKILL) the pid in PIDF,
# then wait until it is gone; BIN (sluice-client) and NAME name it in messages.
daemon_stop() {
	local pid
	[[ -s $2 ]] || exit 0
	pid=$(cat "$2")
	alive "$pid" || { rm -f "$2"; exit 0; }
	kill "-$([[ $CMD == stop ]] && echo TERM || echo KILL)" "$pid"
	wait_gone "$pid" 10 || die "$1 ($NAME, $pid) did not exit"
	rm -f "$2"
}
