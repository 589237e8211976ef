# shellcheck shell=bash
# The shared part of the tests that drive a real `sluice-portal serve` on
# 127.0.0.1 (a free port): its data directory, start and stop, requests with
# curl, fields of a JSON answer. Sourced after tests/world/lib.sh, with PORTAL
# set. Sets PY, TMP (removed at exit), DATA, NAME, PID, PORT and LOG (the log of
# the last start). A script with more to tear down defines portal_cleanup_more,
# which runs first.

# the distribution's interpreter starts faster than a version manager's shim
PY=$(command -v /usr/bin/python3 || command -v python3)
TMP=$(mktemp -d)
DATA=$TMP/data
NAME=portal.test
PID=
PORT=
LOG=
STARTS=0

portal_cleanup() {
	if declare -F portal_cleanup_more >/dev/null; then
		portal_cleanup_more
	fi
	if [ -n "$PID" ]; then
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap portal_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# portal_init: `sluice-portal init` of DATA for NAME and 127.0.0.1; prints the
# admin token
portal_init() {
	"$PORTAL" init --data "$DATA" --name "$NAME" --address 127.0.0.1 2>"$TMP/init.log"
}

# portal_start [NOFILE|-] [SERVE OPTIONS...]: serve in the background (with
# ulimit -n NOFILE unless it is "-" or absent); waits for its "listening ...
# port N" line
portal_start() {
	local nofile=${1:--}
	[ $# -gt 0 ] && shift
	STARTS=$((STARTS + 1))
	LOG=$TMP/portal.$STARTS.log
	(
		[ "$nofile" = - ] || ulimit -n "$nofile"
		exec "$PORTAL" serve --data "$DATA" --listen 127.0.0.1 --port 0 "$@"
	) 2>"$LOG" &
	PID=$!
	for _ in $(seq 200); do
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1 port \([0-9]*\).*/\1/p' "$LOG")
		[ -n "$PORT" ] && return 0
		pid_alive "$PID" || break
		sleep 0.05
	done
	diag "the portal did not start:"
	diag "$(cat "$LOG")"
	return 1
}

# portal_stop [SIGNAL]: stops the portal (TERM: it must exit on its own) and
# returns its exit status
portal_stop() {
	local rc=0
	kill -"${1:-TERM}" "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null || rc=$?
	PID=
	return $rc
}

# portal_stop_check: TERM, and a check that the portal exits 0 (under the
# sanitizers: with no report either)
portal_stop_check() {
	local rc=0
	portal_stop || rc=$?
	if ((rc == 0)); then
		_check_report 1 "the portal stops cleanly" ""
	else
		_check_report 0 "the portal stops cleanly" "exit $rc: $(tail -20 "$LOG")"
	fi
}

# req_as TOKEN METHOD PATH [BODY]: an API request (with no Authorization for an
# empty TOKEN); prints the status, the body goes to $TMP/body
req_as() {
	local tok=$1 m=$2 p=$3 args=()
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	curl -sS --cacert "$DATA/ca.pem" --resolve "$NAME:$PORT:127.0.0.1" --max-time 10 \
		-o "$TMP/body" -w '%{http_code}' -X "$m" "${args[@]}" "https://$NAME:$PORT/api/v1$p"
}

# rs_as TOKEN METHOD PATH [BODY]: "STATUS" and, for an error, its code and field
rs_as() {
	local st
	st=$(req_as "$@")
	if [ "${st:0:1}" = 4 ] || [ "${st:0:1}" = 5 ]; then
		printf '%s %s\n' "$st" "$("$PY" -c '
import json, sys; e = json.load(open(sys.argv[1]))["error"]; print(e["code"], e.get("field", "-"))' \
			"$TMP/body")"
	else
		echo "$st"
	fi
}

# jf PATH: a value of the last body: "error.code", "items.0.id", "#items" (a
# length); null as "null", booleans as "true"/"false"
jf() {
	"$PY" -c '
import json, sys
path = sys.argv[1]
v = json.load(open(sys.argv[2]))
count = path.startswith("#")
for k in filter(None, path.lstrip("#").split(".")):
    v = v[int(k)] if isinstance(v, list) else v[k]
v = len(v) if count else v
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1" "$TMP/body"
}

# admin ARGS...: `sluice admin` against the portal with the admin token TOKEN
admin() {
	SLUICE_PORTAL="https://127.0.0.1:$PORT" SLUICE_CA="$DATA/ca.pem" SLUICE_TOKEN="$TOKEN" \
		"$ADMIN" admin --timeout 10 "$@"
}
