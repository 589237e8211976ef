#!/usr/bin/env bash
# Control-plane abuse (docs/security.md "The control plane"): a real portal
# (`sluice-portal init`, `serve` on 127.0.0.1, a free port), a client token from
# `sluice admin`, and two devices flooding access_request for an unknown
# resource as fast as the portal answers (tests/tools/sluice-session flood) while
# an admin times GET /api/v1/sites with curl. The admin's median must stay under
# 20 ms; the devices get rate_limited denials; the flows table grows by what the
# rate limit lets through, not by thousands of rows a second. Then retention:
# old flows and audit rows written with sqlite3 while the portal is stopped are
# deleted after a restart (default 90 days), kept with a retention of 0, and
# deleted at the next tick when the setting is lowered live.
#
# SLUICE_FLOOD_PORTAL=path runs the flood part against another sluice-portal (a
# build without these limits, to measure the figures before them); the checks
# after the flood then fail.
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
PORTAL=${SLUICE_FLOOD_PORTAL:-$BUILD/src/portal/sluice-portal}
SESSION=$BUILD/tests/tools/sluice-session
ADMIN=$BUILD/src/cli/sluice
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
for prog in "$PORTAL" "$SESSION" "$ADMIN"; do
	[ -x "$prog" ] || { diag "no $prog: build first"; exit 1; }
done
for tool in curl python3 sqlite3; do
	command -v $tool >/dev/null || { diag "$tool is needed"; exit 77; }
done
# shellcheck source=lib/portal.sh
source "$SRC/tests/integration/lib/portal.sh"
FLOODERS=()
SECONDS_FLOOD=90   # a bound: the floods are stopped once the GETs are done
GETS=40
RATE=10 BURST=100  # the defaults (src/store/schema.c)

portal_cleanup_more() {
	for p in "${FLOODERS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
start() { portal_start; }
stop() { portal_stop; }

session() {
	"$SESSION" --portal "https://127.0.0.1:$PORT" --ca "$DATA/ca.pem" \
		--token-file "$TMP/client.token" "$@"
}

# get_ms FRESH_FILE FILE: an admin's two GET /api/v1/sites on one connection
# (curl's own, new): the first one's total time in ms (TLS handshake included:
# on this shared machine mostly the CPU both ends spend on it) to FRESH_FILE,
# the second's (the request alone: what the portal's loop adds) to FILE
get_ms() {
	local url=https://$NAME:$PORT/api/v1/sites
	curl -sS --cacert "$DATA/ca.pem" --resolve "$NAME:$PORT:127.0.0.1" --max-time 10 \
		-H "Authorization: Bearer $TOKEN" -o /dev/null -o /dev/null \
		-w '%{http_code} %{time_total}\n' "$url" "$url" >"$TMP/get.out" || return 1
	awk -v f="$1" -v r="$2" '$1 != 200 { exit 1 }
		{ printf "%.2f\n", $2 * 1000 >>(NR == 1 ? f : r) }
		END { if (NR != 2) exit 1 }' "$TMP/get.out"
}

# times N NAME: N samples into $TMP/NAME.fresh and $TMP/NAME.ms
times() {
	: >"$TMP/$2.fresh"
	: >"$TMP/$2.ms"
	for _ in $(seq "$1"); do
		get_ms "$TMP/$2.fresh" "$TMP/$2.ms" || return 1
	done
}

# median FILE / p90 FILE
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
p90() { sort -n "$1" | awk '{ v[NR] = $1 } END { i = int(NR * 0.9 + 0.5); print v[i < 1 ? 1 : i] }'; }

# rows SQL: a count from the database (WAL: readable while the portal writes)
rows() { sqlite3 "$DATA/portal.db" "$1"; }

# ---- a portal, a user with a client token, three device keys
TOKEN=$(portal_init) ||
	world_bail "init: $(cat "$TMP/init.log")"
start || world_bail "the portal did not start"
USER_ID=$(admin -q users create --name mallory) || world_bail "users create"
(
	umask 077
	admin -q tokens create --kind client --name flood --user "$USER_ID" >"$TMP/client.token"
	for k in a b c; do head -c 32 /dev/urandom | base64 >"$TMP/dev.$k.key"; done
)
[ -s "$TMP/client.token" ] || world_bail "no client token"

# ---- a device asking for tens of resources at start is not limited
session --key-file "$TMP/dev.c.key" --name starter request $(seq 424201 424260) >"$TMP/start.out"
check_eq "a device's 60 requests at start are all answered" 60 \
	grep -c access_denied "$TMP/start.out"
check_eq "... none rate_limited (the default burst is $BURST)" 0 \
	grep -c rate_limited "$TMP/start.out"

# ---- the flood
times 20 quiet || world_bail "admin GETs fail"
diag "admin GET, no flood: median $(median "$TMP/quiet.ms") ms, p90 $(p90 "$TMP/quiet.ms") ms" \
	"(with a new connection: median $(median "$TMP/quiet.fresh") ms)"
flows0=$(rows "SELECT count(*) FROM flows")
for k in a b; do
	# the program itself in the background (not a function's subshell): $! is its pid
	"$SESSION" --portal "https://127.0.0.1:$PORT" --ca "$DATA/ca.pem" \
		--token-file "$TMP/client.token" --key-file "$TMP/dev.$k.key" --name "flood-$k" \
		--seconds "$SECONDS_FLOOD" flood 424242 >"$TMP/flood.$k.out" 2>"$TMP/flood.$k.err" &
	FLOODERS+=($!)
done
t_start=$EPOCHREALTIME
# the floods are on once both devices have their denials coming back
flooding() { [ "$(rows "SELECT count(DISTINCT client_id) FROM flows WHERE reason = 'unknown_resource' AND client_id IN (SELECT id FROM clients WHERE name LIKE 'flood-%')")" = 2 ]; }
wait_for 10 "both devices are flooding" flooding
times "$GETS" flood
check "$GETS admin GETs answered 200 during the flood" test "$(wc -l <"$TMP/flood.ms")" = "$GETS"
t_gets=$EPOCHREALTIME
med=$(median "$TMP/flood.ms")
diag "admin GET, two devices flooding: median $med ms, p90 $(p90 "$TMP/flood.ms") ms" \
	"(with a new connection: median $(median "$TMP/flood.fresh") ms;" \
	"$(awk -v a="$t_start" -v b="$t_gets" 'BEGIN { printf "%.1f", b - a }') s into the flood)"
still=0
for p in "${FLOODERS[@]}"; do pid_alive "$p" && still=$((still + 1)); done
check_eq "... measured while both floods went on" 2 echo $still
check "the median admin GET under flood is under 20 ms" awk -v m="$med" 'BEGIN { exit !(m < 20) }'
for p in "${FLOODERS[@]}"; do kill -TERM "$p"; done
for p in "${FLOODERS[@]}"; do wait "$p"; done
FLOODERS=()
t_end=$EPOCHREALTIME
for k in a b; do diag "device $k: $(cat "$TMP/flood.$k.out")"; done
field() { "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())[sys.argv[2]])' "$@"; }
sent=$(($(field "$TMP/flood.a.out" sent) + $(field "$TMP/flood.b.out" sent)))
limited=$(($(field "$TMP/flood.a.out" rate_limited) + $(field "$TMP/flood.b.out" rate_limited)))
check "the flood sessions ended normally" test -s "$TMP/flood.a.out" -a -s "$TMP/flood.b.out"
check "rate_limited denials came back ($limited of $sent)" test "$limited" -gt 0
added=$(($(rows "SELECT count(*) FROM flows") - flows0))
secs=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%d", b - a + 1.999 }')
bound=$((2 * (BURST + RATE * secs)))
diag "flows rows written: $added in ~$secs s (the limit allows $bound), for $sent requests"
check "the flows table grew by at most the rate limit's allowance" test "$added" -le "$bound"
check "... which is a small part of the requests" test $((added * 10)) -lt "$sent"
check "the portal logged the rate limiting" grep 'denied as rate_limited' "$LOG"
check "... rate-limited itself (not a line per request)" \
	test "$(grep -c 'rate_limited' "$LOG")" -le $((10 * (secs / 5 + 2)))

# ---- the settings
check "settings set: the limits and the retention" admin settings set --access-request-rate 5 \
	--access-request-burst 50 --flow-retention-days 30 --audit-retention-days 365
check_match "settings get shows them" 'access_request_burst +50' admin settings get
check_fails "a burst of 0 is refused" admin settings set --access-request-burst 0
check_fails "a negative retention is refused" admin settings set --flow-retention-days -1
check_fails "a retention over 100 years is refused" admin settings set --audit-retention-days 36501

# ---- retention
DAY=86400
# old_rows TABLE N AGE_DAYS: N rows of TABLE that old, with sqlite3
old_rows() {
	local t=$(($(date +%s) - $3 * DAY))
	if [ "$1" = flows ]; then
		rows "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
			INSERT INTO flows (time, event, reason) SELECT $t, 'denied', 'old$3' FROM n;"
	else
		rows "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
			INSERT INTO audit (time, action, entity) SELECT $t, 'create', 'old$3' FROM n;"
	fi
}
count_old() { rows "SELECT count(*) FROM $1 WHERE ${2:-reason} = 'old$3'"; }
stop || diag "the portal's exit: $?"
rows "DELETE FROM settings"               # back to the defaults: 90 days each
old_rows flows 2500 100                   # more than two batches
old_rows flows 5 10
old_rows audit 3 100
old_rows audit 3 10
start || world_bail "the portal did not restart"
gone() { [ "$(count_old "$1" "$2" "$3")" = 0 ]; }
wait_for 10 "after a restart, flows 100 days old are deleted (default 90 days)" gone flows reason 100
wait_for 10 "... and audit rows 100 days old" gone audit entity 100
check_eq "... flows 10 days old are kept" 5 count_old flows reason 10
check_eq "... audit rows 10 days old are kept" 3 count_old audit entity 10

stop || diag "the portal's exit: $?"
rows "INSERT INTO settings (key, value) VALUES ('flow_retention_days', '0'), ('audit_retention_days', '150')"
old_rows flows 1200 100
old_rows audit 3 200
old_rows audit 2 100
start || world_bail "the portal did not restart"
# the pass that deletes the 200-day audit rows has passed over the flows too
wait_for 10 "retention 150 days: audit rows 200 days old are deleted" gone audit entity 200
check_eq "... audit rows 100 days old are kept" 2 count_old audit entity 100
check_eq "retention 0: flows 100 days old are all kept" 1200 count_old flows reason 100
check "flow_retention_days set to 30 live" admin settings set --flow-retention-days 30
wait_for 10 "... and the old flows go, in batches" gone flows reason 100
check_eq "... not the 10-day-old ones" 5 count_old flows reason 10
check "the portal logged no internal error" bash -c "! grep -h 'internal\\|handler failed' '$TMP'/portal.*.log"
stop
check_eq "SIGTERM: exit 0" 0 echo $?
finish
