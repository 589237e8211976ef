# shellcheck shell=bash
# bench/lib.sh — what the benchmarks share; sourced after the script sets NS_C,
# NS_G, NS_L (its namespaces), and, for admin, SLUICE, PORTAL and WORLD.

# run in the client's, the gateway's, the LAN's namespace
c() { ip netns exec "$NS_C" "$@"; }
g() { ip netns exec "$NS_G" "$@"; }
l() { ip netns exec "$NS_L" "$@"; }
# sluice admin against the world's portal, ids only
admin() {
	c "$SLUICE" admin --portal "$PORTAL" --ca "$WORLD/ca.pem" \
		--token-file "$WORLD/admin.token" --timeout 5 -q "$@"
}
# wait_until SECONDS CMD...: poll CMD until it succeeds, or fail
wait_until() {
	local n=$(( $1 * 10 )) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# the numbers on stdin: their median, their 90th percentile
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
p90() { sort -g | awk '{ a[NR] = $1 } END { if (NR) { i = int(NR * 0.9); if (i < NR * 0.9) i++; print a[i] } }'; }
# How busy the machine is without us (a benchmark of someone else's skews ours):
# the share of all CPUs not idle over 2 s, before anything starts.
cpu_busy_pct() {
	local a b
	read -r -a a < <(head -n 1 /proc/stat)
	sleep 2
	read -r -a b < <(head -n 1 /proc/stat)
	local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
	for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
	echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
# stop_clean PID NAME LOG: SIGTERM, and the process must exit 0 with no
# sanitizer report in its log (die is the script's)
stop_clean() {
	local rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	if [ "$rc" != 0 ] || grep -qE "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$3"; then
		cat "$3" >&2
		die "$2 exited with status $rc"
	fi
}
