#!/usr/bin/env bash
# DNS: the stub resolver (sluice-stubd) against unbound and dnsmasq, in one run.
#
# One namespace, sb-dns: lo up, and a veth pair v0/v1 (both ends inside) holding
#   198.18.0.53  dnsmasq, the host's upstream: address=/fwd.test/198.18.1.1
#   198.18.0.54  dnsmasq, the resource DNS server (the gateway's resolver):
#                host-record for r0001..rNNNN.corp.test, --local-ttl=3600
#   198.18.0.55  unbound, one thread, local-data for the same names
#   198.18.0.56  dnsmasq, address= for the same names, --local-ttl=3600
# and on lo the stub's sentinel 100.100.111.1 (sluice-stubd: resolv.conf names
# 198.18.0.53; resource "*.corp.test", resolved through 198.18.0.54).
#
# Phases, dnsperf over UDP for the same time each, with the same names (type A):
#   stub       cached resource names through the sentinel (the cache is warmed
#              first with one pass over the names)
#   unbound    the same names from local-data
#   dnsmasq    the same names from address=
#   forwarded  fNNNN.fwd.test through the sentinel, forwarded to 198.18.0.53
#   direct     the same names asked of 198.18.0.53 directly
# Every server (the stub, unbound and the three dnsmasqs) runs pinned to one CPU
# (--server-cpu, default 1) and dnsperf to another (--client-cpu, default 0): in
# the forwarding phase the stub and its upstream share that CPU, as they would
# share a host.
#
# sluice-stubd rewrites the namespace's resolv.conf and keeps a backup next to
# it: it runs in a mount namespace of its own where /etc/netns/sb-dns is bound
# over /etc, so neither ever touches the host's /etc. Other commands enter the
# network namespace only (nsenter --net), not the /etc/netns binds.
#
# Usage: bench/dns.sh [--seconds N] [--rounds R] [--phases LIST] [--clients C] [--names N]
#                     [--server-cpu N] [--client-cpu N]
#   --seconds N    dnsperf time per phase (default 10)
#   --rounds R     repeat the phases R times, interleaved, and report medians
#   --phases LIST  some of "stub unbound dnsmasq forwarded direct" (default all)
set -euo pipefail

SECS=10
ROUNDS=1
CLIENTS=4
NAMES=1000
SERVER_CPU=1
CLIENT_CPU=0
PHASES="stub unbound dnsmasq forwarded direct"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--names) NAMES=$2; shift 2 ;;
	--phases) PHASES=$2; shift 2 ;;
	--server-cpu) SERVER_CPU=$2; shift 2 ;;
	--client-cpu) CLIENT_CPU=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--rounds R] [--phases LIST] [--clients C]" \
		"[--names N] [--server-cpu N] [--client-cpu N]" >&2; exit 2 ;;
	esac
done
if [ "$(nproc)" -lt 2 ]; then
	SERVER_CPU=0 CLIENT_CPU=0
	echo "bench: one CPU only: servers and dnsperf share it" >&2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
STUBD=$BUILD/tests/tools/sluice-stubd
NS=sb-dns
NSETC=/etc/netns/$NS
SENTINEL=100.100.111.1
UP=198.18.0.53 RESDNS=198.18.0.54 UNBOUND=198.18.0.55 DNSMASQ=198.18.0.56
TMP=$(mktemp -d)
STUB_PID=

for tool in dnsperf unbound dnsmasq dig nsenter unshare taskset; do
	command -v $tool >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
[ -x "$STUBD" ] || { echo "bench: $STUBD not built" >&2; exit 1; }

teardown() {
	# The stub first, by its pid: SIGTERM makes it put resolv.conf back.
	if [ -n "$STUB_PID" ] && kill -TERM "$STUB_PID" 2>/dev/null; then
		for _ in $(seq 30); do kill -0 "$STUB_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	STUB_PID=
	pids=$(ip netns pids $NS 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null || true
	sleep 0.2
	pids=$(ip netns pids $NS 2>/dev/null || true)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
	ip netns del $NS 2>/dev/null || true
	rm -rf "$NSETC"
}
cleanup() {
	teardown
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n() { nsenter --net=/run/netns/$NS "$@"; }
srv() { n taskset -c "$SERVER_CPU" "$@"; }

# ---- data: the same NAMES names for every server ----
: >"$TMP/res.conf" && : >"$TMP/dnsmasq.conf" && : >"$TMP/q-res" && : >"$TMP/q-fwd"
{
	cat <<EOF
server:
	num-threads: 1
	interface: $UNBOUND
	port: 53
	do-ip6: no
	access-control: 0.0.0.0/0 allow
	chroot: ""
	username: ""
	directory: "$TMP"
	pidfile: "$TMP/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 0
	module-config: "iterator"
	local-zone: "corp.test." static
EOF
	for i in $(seq 1 "$NAMES"); do
		printf -v name 'r%04d.corp.test' "$i"
		ip="198.19.$((i / 256)).$((i % 256))"
		echo "host-record=$name,$ip" >>"$TMP/res.conf"
		echo "address=/$name/$ip" >>"$TMP/dnsmasq.conf"
		echo "$name A" >>"$TMP/q-res"
		printf 'f%04d.fwd.test A\n' "$i" >>"$TMP/q-fwd"
		printf '\tlocal-data: "%s. 3600 IN A %s"\n' "$name" "$ip"
	done
	printf 'remote-control:\n\tcontrol-enable: no\n'
} >"$TMP/unbound.conf"
echo "address=/fwd.test/198.18.1.1" >"$TMP/up.conf"
echo '*.corp.test' >"$TMP/resources"


# ---- the namespace and the servers ----
teardown
ip netns add $NS
ip -n $NS link set lo up
ip -n $NS link add v0 type veth peer name v1
ip -n $NS addr add $UP/24 dev v0
for a in $RESDNS $UNBOUND $DNSMASQ; do ip -n $NS addr add $a/24 dev v0; done
ip -n $NS link set v0 up
ip -n $NS link set v1 up

start_dnsmasq() { # name addr conf-file
	srv dnsmasq -k --conf-file="$3" --no-resolv --no-hosts --no-poll --bind-interfaces \
		--listen-address="$2" --port=53 --local-ttl=3600 --pid-file="$TMP/$1.pid" \
		--log-facility="$TMP/$1.log" >>"$TMP/$1.log" 2>&1 &
}
start_dnsmasq up $UP "$TMP/up.conf"
start_dnsmasq res $RESDNS "$TMP/res.conf"
start_dnsmasq dnsmasq $DNSMASQ "$TMP/dnsmasq.conf"
srv unbound -d -c "$TMP/unbound.conf" >"$TMP/unbound.log" 2>&1 &

answers() { # server name: the first A record, or nothing
	n dig +short +time=1 +tries=1 @"$1" "$2" A 2>/dev/null | head -1
}
wait_answer() { # server name label
	for _ in $(seq 100); do
		[ -n "$(answers "$1" "$2")" ] && return 0
		sleep 0.1
	done
	echo "bench: $3 ($1) does not answer $2; its log:" >&2
	cat "$TMP/$3.log" >&2 2>/dev/null || true
	exit 1
}
wait_answer $UP f0001.fwd.test up
wait_answer $RESDNS r0001.corp.test res
wait_answer $UNBOUND r0001.corp.test unbound
wait_answer $DNSMASQ r0001.corp.test dnsmasq

# The stub, in a mount namespace where /etc is the namespace's own /etc/netns/sb-dns.
mkdir -p "$NSETC"
echo "nameserver $UP" >"$NSETC/resolv.conf"
srv unshare -m --propagation private sh -c 'mount --bind "$0" /etc && exec "$@"' "$NSETC" \
	"$STUBD" --resources "$TMP/resources" --resource-dns $RESDNS --log-level warn \
	>"$TMP/stub.log" 2>&1 &
STUB_PID=$!
wait_answer $SENTINEL f0001.fwd.test stub
grep -q "^nameserver $SENTINEL" "$NSETC/resolv.conf" ||
	{ echo "bench: the stub did not point resolv.conf at $SENTINEL" >&2; exit 1; }
case "$(answers $SENTINEL r0001.corp.test)" in
100.*) ;;
*) echo "bench: the stub does not answer r0001.corp.test with a proxy IP" >&2; exit 1 ;;
esac

# ---- measuring ----
perf() { # label server queryfile [extra dnsperf args] -> appends a line to results
	local label=$1 server=$2 qf=$3 out
	shift 3
	out=$(n taskset -c "$CLIENT_CPU" dnsperf -s "$server" -d "$qf" -c "$CLIENTS" "$@" 2>&1) || {
		echo "bench: dnsperf against $label failed:" >&2
		echo "$out" >&2
		exit 1
	}
	awk -v label="$label" '
		/Queries sent:/ { sent = $3 }
		/Queries lost:/ { lost = $3 }
		/Response codes:/ { sub(/^[ \t]*Response codes:[ \t]*/, ""); gsub(/ /, "_"); rc = $0 }
		/Queries per second:/ { qps = $4 }
		/Average Latency/ { lat = $4 }
		END { printf "%s %s %s %s %s %s\n", label, qps, lat, sent, lost, rc }' <<<"$out"
}

# Warm up: one pass over the names through each server. For the stub this
# fills its cache (each name goes to the resource DNS server once), one query
# at a time: sluice-stubd's stand-in gateway files queries in flight by ID mod
# 4096, and two that collide are both lost. The pass after it must be answered
# whole.
perf warm $SENTINEL "$TMP/q-res" -n 1 -q 1 >/dev/null
for s in $SENTINEL $UNBOUND $DNSMASQ $UP; do
	f="$TMP/q-res"; [ $s = $UP ] && f="$TMP/q-fwd"
	set -- $(perf warm $s "$f" -n 1)
	if [ "$4" != "$NAMES" ] || [ "$5" != 0 ] || [ "$6" != "NOERROR_${NAMES}_(100.00%)" ]; then
		echo "bench: warm-up pass against $s: sent $4, lost $5, rcodes $6" >&2
		exit 1
	fi
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "dns: $NAMES names, $SECS s per phase, $ROUNDS round(s), dnsperf -c $CLIENTS -q 100 on CPU" \
	"$CLIENT_CPU, every server on CPU $SERVER_CPU; load before: $load"
: >"$TMP/results"
for r in $(seq "$ROUNDS"); do
	for ph in $PHASES; do
		case $ph in
		stub) perf stub $SENTINEL "$TMP/q-res" -l "$SECS" ;;
		unbound) perf unbound $UNBOUND "$TMP/q-res" -l "$SECS" ;;
		dnsmasq) perf dnsmasq $DNSMASQ "$TMP/q-res" -l "$SECS" ;;
		forwarded) perf forwarded $SENTINEL "$TMP/q-fwd" -l "$SECS" ;;
		direct) perf direct $UP "$TMP/q-fwd" -l "$SECS" ;;
		*) echo "bench: unknown phase $ph" >&2; exit 2 ;;
		esac >>"$TMP/results"
	done
done
python3 - "$TMP/results" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, qps, lat, sent, lost, rc = line.split()
    rows.setdefault(label, []).append((float(qps), float(lat) * 1e3, int(sent), int(lost), rc))
desc = {
    "stub": "sluice-stubd, cached resource names",
    "unbound": "unbound 1 thread, local-data",
    "dnsmasq": "dnsmasq, address=",
    "forwarded": "sluice-stubd forwarding to dnsmasq",
    "direct": "that dnsmasq asked directly",
}
med = {}
print(f"{'phase':<10} {'server':<38} {'q/s':>9} {'avg ms':>8} {'lost':>7}")
for label in ["stub", "unbound", "dnsmasq", "forwarded", "direct"]:
    rs = rows.get(label, [])
    if not rs:
        continue
    q = statistics.median(r[0] for r in rs)
    l = statistics.median(r[1] for r in rs)
    lost = sum(r[3] for r in rs) / max(1, sum(r[2] for r in rs))
    med[label] = q
    each = "" if len(rs) == 1 else "  (" + " ".join(f"{r[0]:.0f}" for r in rs) + ")"
    print(f"{label:<10} {desc[label]:<38} {q:>9.0f} {l:>8.3f} {lost:>6.2%}{each}")
    bad = {r[4] for r in rs if not r[4].startswith("NOERROR") or "," in r[4]}
    if bad:
        print(f"  warning: {label}: response codes {' '.join(sorted(bad))}")
print(f"load after: {sys.argv[2]}")
if "stub" in med and "unbound" in med and "dnsmasq" in med:
    print(f"ratio stub / unbound: {med['stub'] / med['unbound']:.2f}x  "
          f"stub / dnsmasq: {med['stub'] / med['dnsmasq']:.2f}x  (target: stub / unbound >= 1.50x)")
if "forwarded" in med and "direct" in med:
    f = med["forwarded"] / med["direct"]
    print(f"ratio forwarded / direct: {f:.2f}x  (forwarding costs {1 - f:.1%} of the upstream's "
          f"direct q/s; target <= 15%)")
PY
