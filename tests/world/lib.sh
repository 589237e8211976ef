# shellcheck shell=bash
# tests/world/lib.sh — helpers for tests that run in the demo world.
# Source it from bash (it sets no shell options of its own):
#
#   source "$SLUICE_SRC/tests/world/lib.sh"
#   world_require_root
#   world_trap                          # world_down on exit, Ctrl-C or kill
#   world_up sl-test- "$state_dir" || world_bail "the world did not come up"
#   world_gateway gw start              # tests/world/gateway.sh (gw, gw2)
#   world_client client start           # tests/world/client.sh (client, client2)
#   check "the client resolves gist" in_ns client getent hosts gist.github.saas.test
#   check_eq "github's address" 198.51.100.40 in_ns client dig +short @198.51.100.53 github.saas.test
#   finish                              # "N passed, N failed"; non-zero on a failure
#
# Output is TAP-like: "ok - desc" / "not ok - desc", anything else starts with "#".

WORLD_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/world.sh
WORLD_PREFIX=${WORLD_PREFIX:-}
WORLD_STATE=${WORLD_STATE:-}
WORLD_NAMES=(net client client2 portal gw gw2 saas lan)
CHECKS_PASSED=0
CHECKS_FAILED=0

# diag TEXT...: a TAP comment line per line of TEXT
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

world_require_root() {
	if ((EUID != 0)); then
		diag "this test builds network namespaces: run it as root"
		exit 77
	fi
}

# world_up PREFIX STATE: build the world (tearing down one with that prefix)
world_up() {
	WORLD_PREFIX=$1
	WORLD_STATE=$2
	"$WORLD_SH" --prefix "$WORLD_PREFIX" --state "$WORLD_STATE" up 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

# world_down: tear down the world of the last world_up; silent when none
world_down() {
	[[ -n $WORLD_PREFIX ]] || return 0
	"$WORLD_SH" --prefix "$WORLD_PREFIX" --state "$WORLD_STATE" down 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

# world_trap [CMD]: always tear the world down (then run CMD, e.g. to remove a
# temporary dir), on exit, Ctrl-C, SIGTERM or SIGHUP
world_trap() {
	# shellcheck disable=SC2064 # CMD is meant to be fixed now
	trap "world_down; ${1:-:}" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

world_status() { "$WORLD_SH" --prefix "$WORLD_PREFIX" --state "$WORLD_STATE" status; }

# world_gateway NAME start|stop|kill [ARGS...]: tests/world/gateway.sh for the
# gateway NAME (gw, gw2) of the world, ARGS to sluice-gateway; the build is
# $SLUICE_BUILD, else <repo>/build
world_gateway() {
	local name=$1 cmd=$2
	shift 2
	"${WORLD_SH%/*}/gateway.sh" --prefix "$WORLD_PREFIX" --state "$WORLD_STATE" \
		--build "${SLUICE_BUILD:-${WORLD_SH%/tests/world/*}/build}" --name "$name" "$cmd" -- "$@"
}
# world_client NAME start|stop|kill [ARGS...]: tests/world/client.sh for the
# device NAME (client, client2), ARGS to sluice-client
world_client() {
	local name=$1 cmd=$2
	shift 2
	"${WORLD_SH%/*}/client.sh" --prefix "$WORLD_PREFIX" --state "$WORLD_STATE" \
		--build "${SLUICE_BUILD:-${WORLD_SH%/tests/world/*}/build}" --name "$name" "$cmd" -- "$@"
}

# world_ns NAME: the full namespace name
world_ns() { printf '%s%s' "$WORLD_PREFIX" "$1"; }

# in_ns NAME CMD...: run CMD in the world's namespace NAME (client, gw, lan...)
in_ns() {
	[[ -n $WORLD_PREFIX ]] || { echo "in_ns: no world (call world_up first)" >&2; return 2; }
	local name=$1
	shift
	ip netns exec "$WORLD_PREFIX$name" "$@"
}

# world_pids: every process in any of the world's namespaces, one per line
world_pids() {
	local n
	for n in "${WORLD_NAMES[@]}"; do
		[[ -e /run/netns/$WORLD_PREFIX$n ]] && ip netns pids "$WORLD_PREFIX$n"
	done
	return 0
}

# pid_alive PID: the process exists and is not a zombie
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# ---- probes with short timeouts, for use inside checks

# dns_status NS SERVER NAME [TYPE]: prints NOERROR, NXDOMAIN, REFUSED...
dns_status() {
	in_ns "$1" dig +time=1 +tries=2 "@$2" "$3" "${4:-A}" |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
# dns_summary NS SERVER NAME [TYPE]: status and answer count, e.g. "NOERROR 0" (NODATA)
dns_summary() {
	in_ns "$1" dig +time=1 +tries=2 "@$2" "$3" "${4:-A}" |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p; s/.*ANSWER: \([0-9]*\).*/\1/p' | paste -sd' '
}
# dns_short NS SERVER NAME [TYPE]: the answer's data, one per line
dns_short() { in_ns "$1" dig +short +time=1 +tries=2 "@$2" "$3" "${4:-A}"; }
# http_code NS URL [CURL ARGS...]: prints the status code (000 if no answer)
http_code() {
	local ns=$1 url=$2
	shift 2
	in_ns "$ns" curl -s -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 4 "$@" "$url"
}
# http_body NS URL [CURL ARGS...]: the body of a 2xx answer, else fails
http_body() {
	local ns=$1 url=$2
	shift 2
	in_ns "$ns" curl -sSf --connect-timeout 2 --max-time 4 "$@" "$url"
}

# ---- checks

_check_report() { # OK DESC OUTPUT
	if (($1)); then
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
		printf 'ok - %s\n' "$2"
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		printf 'not ok - %s\n' "$2"
		[[ -z $3 ]] || diag "$3"
	fi
}

# check DESC CMD...: passes when CMD succeeds
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then _check_report 1 "$desc" ""; else
		_check_report 0 "$desc" "$(printf '$ %s\n%s\n(exit %d)' "$*" "$out" "$rc")"
	fi
}

# check_fails DESC CMD...: passes when CMD fails
check_fails() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if ((rc != 0)); then _check_report 1 "$desc" ""; else
		_check_report 0 "$desc" "$(printf '$ %s\n%s\n(succeeded, should have failed)' "$*" "$out")"
	fi
}

# check_eq DESC EXPECTED CMD...: passes when CMD's stdout is EXPECTED (whatever its exit status)
check_eq() {
	local desc=$1 want=$2 got err ef rc=0
	shift 2
	ef=$(mktemp)
	got=$("$@" 2>"$ef") || rc=$?
	err=$(cat "$ef")
	rm -f "$ef"
	if [[ $got == "$want" ]]; then _check_report 1 "$desc" ""; else
		_check_report 0 "$desc" "$(printf '$ %s\nwant: %s\ngot:  %s\n%s(exit %d)' \
			"$*" "$want" "$got" "${err:+stderr: $err$'\n'}" "$rc")"
	fi
}

# check_match DESC REGEX CMD...: passes when CMD succeeds and its stdout matches REGEX (grep -E)
check_match() {
	local desc=$1 re=$2 got rc=0
	shift 2
	got=$("$@" 2>&1) || rc=$?
	if ((rc == 0)) && grep -qE -- "$re" <<<"$got"; then _check_report 1 "$desc" ""; else
		_check_report 0 "$desc" "$(printf '$ %s\nwant match: %s\ngot: %s\n(exit %d)' "$*" "$re" "$got" "$rc")"
	fi
}

# wait_for SECONDS DESC CMD...: a check with a deadline, for whatever takes
# time (a daemon starting, packets flowing, a timer firing): runs CMD every 0.1 s
# until it succeeds ("ok - DESC"); at the deadline it fails loudly, "not ok -
# DESC (not within SECONDS s)" with CMD's last output, and returns 1. Tests wait
# with this, never with a fixed sleep.
wait_for() {
	local secs=$1 desc=$2 out rc now end
	shift 2
	now=${EPOCHREALTIME//[!0-9]/}
	end=$((now + $(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000000 }')))
	while :; do
		rc=0
		out=$("$@" 2>&1) || rc=$?
		if ((rc == 0)); then
			_check_report 1 "$desc" ""
			return 0
		fi
		now=${EPOCHREALTIME//[!0-9]/}
		if ((now >= end)); then
			_check_report 0 "$desc (not within $secs s)" \
				"$(printf '$ %s\n%s\n(exit %d)' "$*" "$out" "$rc")"
			return 1
		fi
		sleep 0.1
	done
}

# world_bail MESSAGE: stop the test here (the trap still tears down)
world_bail() {
	printf 'Bail out! %s\n' "$*"
	CHECKS_FAILED=$((CHECKS_FAILED + 1))
	finish
	exit 1
}

# finish: the plan and the count line; returns non-zero on any failure (or no check)
finish() {
	printf '1..%d\n' $((CHECKS_PASSED + CHECKS_FAILED))
	printf '%d passed, %d failed\n' "$CHECKS_PASSED" "$CHECKS_FAILED"
	((CHECKS_FAILED == 0 && CHECKS_PASSED > 0))
}
