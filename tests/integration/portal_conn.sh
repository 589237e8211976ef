#!/usr/bin/env bash
# The portal's connection limits under attack (docs/security.md, "Connections"):
# the real `sluice-portal serve` on 127.0.0.1, a python3 attacker
# (portal_conn_attack.py) with many TLS sockets from 127.0.0.1, the legitimate
# requests from other loopback addresses (curl --interface 127.0.0.2) so that the
# per-source cap leaves them alone.
#   - held CONNECTs are answered 501 and closed, well within the head deadline; a
#     request meanwhile answers in under 100 ms;
#   - a head sent a byte every 2 s is closed at the head deadline;
#   - unauthenticated bodies get 401 before a body byte, and cost little memory;
#   - an authenticated body slower than the minimum rate is cut off;
#   - the per-source and total caps refuse, and only whom they should;
#   - EMFILE (a low ulimit -n): the portal does not spin, and serves once the
#     flood ends.
# Needs no root and no namespace.
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
PORTAL=$BUILD/src/portal/sluice-portal
ATTACK=$SRC/tests/integration/portal_conn_attack.py
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
[ -x "$PORTAL" ] || { diag "no $PORTAL: build first"; exit 1; }
for tool in curl python3; do
	command -v $tool >/dev/null || { diag "$tool is needed"; exit 77; }
done
# shellcheck source=lib/portal.sh
source "$SRC/tests/integration/lib/portal.sh"
# the attacker holds a few thousand sockets
ulimit -n "$(ulimit -Hn)" 2>/dev/null
(($(ulimit -n) >= 4500)) || { diag "ulimit -n is $(ulimit -n): 4500 needed"; exit 77; }

APID=
HOLD=2000         # held CONNECTs
HOLD_HEAD_MS=10000 # the default head deadline: held CONNECTs must be gone by it
HEAD_MS=2500      # the slow head's (the default is 10 s; lws's own, for a head
                  # in progress, is 5 s: this one has to come first)
SWEEP_MARGIN=2000 # the sweep runs every 500 ms; the rest is this machine's load

portal_cleanup_more() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
}
start() { portal_start "$@"; }
stop() { portal_stop_check; }

# get SRC: an authenticated GET from address SRC: prints "STATUS SECONDS"
get() {
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --interface "$1" \
		--cacert "$DATA/ca.pem" --resolve "portal.test:$PORT:127.0.0.1" \
		--connect-timeout 3 --max-time 5 -H "Authorization: Bearer $TOKEN" \
		"https://portal.test:$PORT/api/v1/sites"
}
get_ok() { [[ $(get "$1") == 200\ * ]]; }

attack() { "$PY" "$ATTACK" --port "$PORT" "$@"; }

# attack_bg OUT ARGS...: the attacker in the background until release; waits
# for its ready line
attack_bg() {
	local out=$1
	shift
	rm -f "$TMP/ready" "$TMP/release"
	"$PY" "$ATTACK" --port "$PORT" --ready "$TMP/ready" --release "$TMP/release" "$@" \
		>"$out" 2>&1 &
	APID=$!
	wait_for 120 "the attacker is in place ($*)" test -s "$TMP/ready"
}
release() {
	touch "$TMP/release"
	wait "$APID" 2>/dev/null
	APID=
}

# field NAME LINE: the value of NAME=... in LINE
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# since_us_ge T0 US: at least US microseconds have passed since T0 (EPOCHREALTIME digits)
since_us_ge() { ((${EPOCHREALTIME//[!0-9]/} - $1 >= $2)); }

# cpu_ticks PID: user + system time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

TOKEN=$(portal_init)
[ -n "$TOKEN" ] || world_bail "init failed: $(cat "$TMP/init.log")"

# ---- held CONNECTs -----------------------------------------------------------
start - --head-timeout "$HOLD_HEAD_MS" --max-conns-per-source 100000 || world_bail "no portal"
check "a request answers before the attack" get_ok 127.0.0.2
t0=${EPOCHREALTIME//[!0-9]/}
"$PY" "$ATTACK" --port "$PORT" --ready "$TMP/ready" --limit $((HOLD_HEAD_MS / 1000 + 60)) hold "$HOLD" \
	>"$TMP/hold.out" 2>&1 &
APID=$!
wait_for 120 "$HOLD CONNECTs are open" test -s "$TMP/ready"
diag "opening them took $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms"
times=()
for _ in 1 2 3 4 5; do
	r=$(get 127.0.0.2)
	[[ $r == 200\ * ]] || times+=(99)
	times+=("${r#* }")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
diag "requests during the attack: ${times[*]} s"
check "a request answers in under 100 ms while they are held (median of 5: $median s)" \
	awk -v m="$median" 'BEGIN { exit !(m < 0.100) }'
wait "$APID"
APID=
hold=$(cat "$TMP/hold.out")
diag "hold: $hold"
check_eq "every held CONNECT was closed" "$HOLD" field closed "$hold"
check_eq "... each answered 501 (a method the portal does not serve)" "$HOLD" field got501 "$hold"
check "all by the head deadline + $SWEEP_MARGIN ms (max $(field max "$hold") ms)" \
	test "$(field max "$hold")" -le $((HOLD_HEAD_MS + SWEEP_MARGIN))
check "a request answers after the attack" get_ok 127.0.0.2
stop

# ---- the slow head, bodies ----------------------------------------------------
start - --head-timeout "$HEAD_MS" --max-conns-per-source 100000 --body-min-rate 4096 \
	--body-grace 1000 || world_bail "no portal"
slow=$(attack --limit 30 slowhead)
diag "slow head: $slow"
life=$(field life "$slow")
check "a head sent a byte every 2 s is closed at the head deadline ($life ms)" \
	test "$life" -ge "$HEAD_MS" -a "$life" -le $((HEAD_MS + SWEEP_MARGIN))
check "the portal logged the head deadline" grep "head deadline passed" "$LOG"
stop

# ---- bodies and their rate: the default head deadline (1000 heads at once wait
# their turn for lws's 256 header buffers: a short deadline would cut the last)
start - --max-conns-per-source 100000 --body-min-rate 4096 --body-grace 1000 ||
	world_bail "no portal"
res=$(attack bodies 1000 "$PID")
diag "bodies: $res"
check_eq "1000 unauthenticated bodies: each got 401 before a body byte" 1000 \
	field got401 "$res"
check_eq "... with WWW-Authenticate: Bearer" 1000 field bearer "$res"
growth=$(field growth "$res")
if ldd "$PORTAL" | grep libasan >/dev/null; then
	# ASan's allocator keeps freed memory in quarantine and pads every block
	echo "ok - ... and the portal's RSS grew by $growth KiB # SKIP the 32 MiB bound under ASan"
	CHECKS_PASSED=$((CHECKS_PASSED + 1))
else
	check "... and the portal's RSS grew by under 32 MiB ($growth KiB)" \
		test "$growth" -lt $((32 * 1024))
fi
# 20000 bytes at 4096 B/s + 1 s: 5.9 s; the body comes at 500 B/s
res=$(attack --limit 30 slowbody "$TOKEN" 20000 500)
diag "slow body: $res"
cut=$(field cut "$res")
check "an authenticated body under the minimum rate is cut off ($cut ms)" \
	test "$cut" -ge 5800 -a "$cut" -le $((5900 + SWEEP_MARGIN)) -a "$(field sent "$res")" -lt 20000
res=$(attack --limit 30 slowbody "$TOKEN" 20000 20000)
check_match "one at the rate is answered" 'answer=HTTP/1.1 (400|201)' echo "$res"
check "the portal logged the body deadline" grep "body deadline passed" "$LOG"
stop

# ---- caps --------------------------------------------------------------------
start - --max-conns-per-source 20 --max-conns 50 --head-timeout 60000 || world_bail "no portal"
attack_bg "$TMP/a1" open 30 127.0.0.1
check_eq "the per-source cap: 20 of 30 connections from 127.0.0.1 held" \
	"held=20 refused=10" cat "$TMP/a1"
check "... while 127.0.0.2 is served" get_ok 127.0.0.2
A1=$APID
rm -f "$TMP/ready"
"$PY" "$ATTACK" --port "$PORT" --ready "$TMP/ready" --release "$TMP/release" \
	open 40 127.0.0.3 >"$TMP/a2" 2>&1 &
A2=$!
wait_for 60 "the second attacker is in place" test -s "$TMP/ready"
rm -f "$TMP/ready"
"$PY" "$ATTACK" --port "$PORT" --ready "$TMP/ready" --release "$TMP/release" \
	open 40 127.0.0.4 >"$TMP/a3" 2>&1 &
A3=$!
wait_for 60 "the third attacker is in place" test -s "$TMP/ready"
check_eq "127.0.0.3: 20 held (its own cap)" "held=20 refused=20" cat "$TMP/a2"
check_eq "127.0.0.4: 10 held (the total cap, 50)" "held=10 refused=30" cat "$TMP/a3"
check_fails "the total cap refuses 127.0.0.5 too" get_ok 127.0.0.5
check "the portal logged both caps" grep -e "unauthenticated connections from it" \
	-e "connections open (the cap)" "$LOG"
touch "$TMP/release"
wait "$A1" "$A2" "$A3"
APID=
wait_for 10 "once they are gone, 127.0.0.5 is served" get_ok 127.0.0.5
stop

# ---- EMFILE -----------------------------------------------------------------
# caps above the file limit (256): accept() itself fails
start 256 --max-conns 100000 --max-conns-per-source 100000 || world_bail "no portal"
attack_bg "$TMP/flood" tcp 600
wait_for 20 "the portal ran out of files" grep "accept failed" "$LOG"
c0=$(cpu_ticks "$PID")
t0=${EPOCHREALTIME//[!0-9]/}
wait_for 10 "... and 3 s pass" since_us_ge "$t0" 3000000
c1=$(cpu_ticks "$PID")
hz=$(getconf CLK_TCK)
check "it does not spin: CPU over 3 s stays under 0.5 s ($((c1 - c0)) ticks of 1/$hz s)" \
	test $(((c1 - c0) * 1000 / hz)) -lt 500
check "it paused accepting" grep "not accepting for" "$LOG"
release
wait_for 20 "it serves again once the flood ends" get_ok 127.0.0.2
stop

finish
