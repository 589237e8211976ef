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
# Phases, over UDP for the same time each, with the same names (type A), each run
# by every load generator of --gen: dnsperf, and tests/tools/dnsload, which
# batches with sendmmsg/recvmmsg and so spends a fraction of dnsperf's ~7 us of
# CPU a query: with two CPUs, dnsperf saturates its own before a fast server
# does, so only dnsload shows the server's limit.
#   stub       cached resource names through the sentinel (the cache is warmed
#              first with one pass over the names)
#   unbound    the same names from local-data
#   dnsmasq    the same names from address=
#   forwarded  fNNNN.fwd.test through the sentinel, forwarded to 198.18.0.53
#   direct     the same names asked of 198.18.0.53 directly
# Every server (the stub, unbound and the three dnsmasqs) runs pinned to one CPU
# (--server-cpu, default 1) and the load generator to another (--client-cpu,
# default 0), except when forwarding. Forwarding needs three parties (asker,
# stub, upstream) on two CPUs, so it is measured with both placements:
#   forwarded / direct          the stub on the load generator's CPU (as on a
#                               device: the stub shares it with the applications
#                               that ask), the upstream alone on the other
#   forwarded-own / direct-own  the stub alone on its CPU, the load generator
#                               and the upstream sharing the other: does the stub
#                               keep up with the upstream when it has a CPU of its own
# Each pair is compared only with itself.
#
# Columns: queries/s and average latency as dnsperf reports them, the share of
# queries lost, and CPU time (user + system) per answered query of the server
# (stub + upstream when forwarding; from /proc/PID/stat) and of dnsperf. On
# loopback the kernel's work to deliver a datagram is counted to its sender.
#
# sluice-stubd rewrites the namespace's resolv.conf and keeps a backup next to
# it: it runs in a mount namespace of its own where /etc/netns/sb-dns is bound
# over /etc, so neither ever touches the host's /etc. Other commands enter the
# network namespace only (nsenter --net), not the /etc/netns binds.
#
# Usage: bench/dns.sh [--seconds N] [--rounds R] [--phases LIST] [--clients C]
#                     [--outstanding Q] [--names N] [--server-cpu N] [--client-cpu N]
#   --seconds N      dnsperf time per phase (default 10)
#   --rounds R       repeat the phases R times, interleaved, and report medians
#   --phases LIST    some of "stub unbound dnsmasq forwarded direct forwarded-own
#                    direct-own" (default all)
#   --clients C      dnsperf -c (default 4); --outstanding Q: dnsperf -q (default 100)
#   --gen LIST       some of "dnsperf dnsload" (default both)
#   --names N        resource and forwarded names (default 1000)
set -euo pipefail

SECS=10
ROUNDS=1
CLIENTS=4
OUTSTANDING=100
NAMES=1000
SERVER_CPU=1
CLIENT_CPU=0
PHASES="stub unbound dnsmasq forwarded direct forwarded-own direct-own"
GENS="dnsperf dnsload"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--outstanding) OUTSTANDING=$2; shift 2 ;;
	--names) NAMES=$2; shift 2 ;;
	--phases) PHASES=$2; shift 2 ;;
	--gen) GENS=$2; shift 2 ;;
	--server-cpu) SERVER_CPU=$2; shift 2 ;;
	--client-cpu) CLIENT_CPU=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--rounds R] [--phases LIST] [--clients C]" \
		"[--outstanding Q] [--names N] [--server-cpu N] [--client-cpu N]" >&2; exit 2 ;;
	esac
done
if [ "$(nproc)" -lt 2 ]; then
	SERVER_CPU=0 CLIENT_CPU=0
	echo "bench: one CPU only: servers and dnsperf share it" >&2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
STUBD=$BUILD/tests/tools/sluice-stubd
DNSLOAD=$BUILD/tests/tools/dnsload
NS=sb-dns
NSETC=/etc/netns/$NS
SENTINEL=100.100.111.1
UP=198.18.0.53 RESDNS=198.18.0.54 UNBOUND=198.18.0.55 DNSMASQ=198.18.0.56
TMP=$(mktemp -d)
STUB_PID=

for tool in dnsperf unbound dnsmasq dig nsenter unshare taskset; do
	command -v $tool >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
[ -x "$STUBD" ] && [ -x "$DNSLOAD" ] || { echo "bench: $STUBD or $DNSLOAD not built" >&2; exit 1; }

teardown() {
	# The stub first, by its pid: SIGTERM makes it put resolv.conf back.
	if [ -n "$STUB_PID" ] && kill -TERM "$STUB_PID" 2>/dev/null; then
		for _ in $(seq 30); do kill -0 "$STUB_PID" 2>/dev/null || break; sleep 0.1; done
		if [ -e "$NSETC/resolv.conf.sluice-backup" ] ||
			! grep -q "^nameserver $UP" "$NSETC/resolv.conf" 2>/dev/null; then
			echo "bench: warning: the stub did not restore resolv.conf on SIGTERM" >&2
		fi
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
	n dig +short +time=1 +tries=1 @"$1" "$2" A 2>/dev/null | grep -v '^;' | head -1
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
# Not through srv(): $! must be the stub itself (each command execs the next).
nsenter --net=/run/netns/$NS taskset -c "$SERVER_CPU" \
	unshare -m --propagation private sh -c 'mount --bind "$0" /etc && exec "$@"' "$NSETC" \
	"$STUBD" --resources "$TMP/resources" --resource-dns $RESDNS --log-level warn \
	>"$TMP/stub.log" 2>&1 &
STUB_PID=$!
wait_answer $SENTINEL f0001.fwd.test stub
grep -q "^nameserver $SENTINEL" "$NSETC/resolv.conf" || {
	echo "bench: the stub did not point resolv.conf at $SENTINEL:" >&2
	cat "$NSETC/resolv.conf" "$TMP/stub.log" >&2
	exit 1
}
case "$(answers $SENTINEL r0001.corp.test)" in
100.*) ;;
*) echo "bench: the stub does not answer r0001.corp.test with a proxy IP" >&2; exit 1 ;;
esac

# ---- measuring ----
# CPU time (user + system, in clock ticks) of the servers, each line "name ticks":
# the stub, unbound, dnsmasq (198.18.0.56), the upstream (.53), the resource DNS (.54).
PIDS="stub=$STUB_PID unbound=$(cat "$TMP/unbound.pid") dnsmasq=$(cat "$TMP/dnsmasq.pid")"
PIDS="$PIDS up=$(cat "$TMP/up.pid") res=$(cat "$TMP/res.pid")"
cpu_ticks() {
	local p
	for p in $PIDS; do
		# fields 14 and 15 of /proc/PID/stat; comm (field 2) has no spaces here
		printf '%s=%s ' "${p%%=*}" "$(awk '{print $14 + $15}' "/proc/${p#*=}/stat")"
	done
}

run_load() { # generator label server queryfile [extra dnsperf args] -> one line of results
	local gen=$1 label=$2 server=$3 qf=$4 before after cpu TIMEFORMAT='%3U %3S' gcpu=$CLIENT_CPU
	shift 4
	case $label in *-own) gcpu=$SERVER_CPU ;; esac
	before=$(cpu_ticks)
	if [ "$gen" = dnsload ]; then
		set -- "$DNSLOAD" -s "$server" -d "$qf" -c 4 -q 256 -l "$SECS"
	else
		set -- dnsperf -s "$server" -d "$qf" -c "$CLIENTS" -q "$OUTSTANDING" "$@"
	fi
	{ time n taskset -c "$gcpu" "$@" >"$TMP/dnsperf.out" 2>&1; } 2>"$TMP/dnsperf.time" || {
		echo "bench: $gen against $label failed:" >&2
		cat "$TMP/dnsperf.out" >&2
		exit 1
	}
	after=$(cpu_ticks)
	cpu=$(awk '{print $1 + $2}' "$TMP/dnsperf.time")
	awk -v label="$label" -v before="$before" -v after="$after" -v cpu="$cpu" '
		/Queries completed:/ { done = $3 }
		/Queries lost:/ { lost = $3 }
		/Response codes:/ { sub(/^[ \t]*Response codes:[ \t]*/, ""); gsub(/ /, "_"); rc = $0 }
		/Queries per second:/ { qps = $4 }
		/Average Latency/ { lat = $4 }
		END {
			if (rc == "") rc = "NOERROR"  # dnsload does not count them
			printf "%s %s %s %s %s %s %s", label, qps, lat, done, lost, rc, cpu
			n = split(before, b, /[ =]/); split(after, a, /[ =]/)
			for (i = 1; i < n; i += 2) printf " %s=%d", b[i], a[i + 1] - b[i + 1]
			printf "\n"
		}' "$TMP/dnsperf.out"
}

# Warm up: one pass over the names through each server. For the stub this
# fills its cache (each name goes to the resource DNS server once), one query
# at a time: sluice-stubd's stand-in gateway files queries in flight by ID mod
# 4096, and two that collide are both lost. The pass after it must be answered
# whole.
run_load dnsperf warm $SENTINEL "$TMP/q-res" -n 1 -q 1 >/dev/null
for s in $SENTINEL $UNBOUND $DNSMASQ $UP; do
	f="$TMP/q-res"; [ $s = $UP ] && f="$TMP/q-fwd"
	set -- $(run_load dnsperf warm $s "$f" -n 1)
	if [ "$4" != "$NAMES" ] || [ "$5" != 0 ] || [ "$6" != "NOERROR_${NAMES}_(100.00%)" ]; then
		echo "bench: warm-up pass against $s: answered $4, lost $5, rcodes $6" >&2
		exit 1
	fi
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "dns: $NAMES names, $SECS s per phase, $ROUNDS round(s), generators: $GENS (dnsperf -c $CLIENTS" \
	"-q $OUTSTANDING; dnsload -c 4 -q 256) on CPU $CLIENT_CPU, every server on CPU $SERVER_CPU" \
	"(forwarding: see the placements above); load before: $load"
: >"$TMP/results"
for r in $(seq "$ROUNDS"); do
	for gen in $GENS; do
	for ph in $PHASES; do
		case $ph in
		stub) run_load $gen stub $SENTINEL "$TMP/q-res" -l "$SECS" ;;
		unbound) run_load $gen unbound $UNBOUND "$TMP/q-res" -l "$SECS" ;;
		dnsmasq) run_load $gen dnsmasq $DNSMASQ "$TMP/q-res" -l "$SECS" ;;
		forwarded)
			taskset -p -c "$CLIENT_CPU" "$STUB_PID" >/dev/null
			run_load $gen forwarded $SENTINEL "$TMP/q-fwd" -l "$SECS"
			taskset -p -c "$SERVER_CPU" "$STUB_PID" >/dev/null ;;
		direct) run_load $gen direct $UP "$TMP/q-fwd" -l "$SECS" ;;
		forwarded-own)
			taskset -p -c "$CLIENT_CPU" "$STUB_PID" >/dev/null
			run_load $gen forwarded-own $SENTINEL "$TMP/q-fwd" -l "$SECS"
			taskset -p -c "$SERVER_CPU" "$STUB_PID" >/dev/null ;;
		direct-own) run_load $gen direct-own $UP "$TMP/q-fwd" -l "$SECS" ;;
		*) echo "bench: unknown phase $ph" >&2; exit 2 ;;
		esac | sed "s/^/$gen /" >>"$TMP/results"
	done
	done
done
python3 - "$TMP/results" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(getconf CLK_TCK)" "$SECS" <<'PY'
import statistics, sys
tick = 1e6 / int(sys.argv[3])  # microseconds per clock tick
secs = float(sys.argv[4])
# which servers' CPU time a phase costs
servers = {"stub": ["stub"], "unbound": ["unbound"], "dnsmasq": ["dnsmasq"],
           "forwarded": ["stub", "up"], "direct": ["up"],
           "forwarded-own": ["stub", "up"], "direct-own": ["up"]}
rows = {}
for line in open(sys.argv[1]):
    gen, label, qps, lat, done, lost, rc, client, *ticks = line.split()
    t = {k: int(v) for k, v in (x.split("=") for x in ticks)}
    n = max(1, int(done))
    rows.setdefault(gen, {}).setdefault(label, []).append({
        "qps": float(qps), "lat": float(lat) * 1e3, "done": int(done), "lost": int(lost),
        "rc": rc, "client": float(client) * 1e6 / n,
        "cpu": {k: v * tick / n for k, v in t.items()}, "res": t.get("res", 0)})
desc = {
    "stub": "sluice-stubd, cached resource names",
    "unbound": "unbound 1 thread, local-data",
    "dnsmasq": "dnsmasq, address=",
    "forwarded": "sluice-stubd forwarding to dnsmasq",
    "direct": "that dnsmasq asked directly",
    "forwarded-own": "the same, the stub on a CPU of its own",
    "direct-own": "that dnsmasq directly, same placement",
}
for gen, grows in rows.items():
    med = {}
    notes = []
    print(f"\n[{gen}]")
    print(f"{'phase':<13} {'server':<38} {'q/s':>8} {'avg ms':>7} {'lost':>6} "
          f"{'server us/q':>11} {'loadgen us/q':>12}")
    for label in ["stub", "unbound", "dnsmasq", "forwarded", "direct", "forwarded-own",
                  "direct-own"]:
        rs = grows.get(label, [])
        if not rs:
            continue
        m = lambda f: statistics.median(f(r) for r in rs)
        q = med[label] = m(lambda r: r["qps"])
        lost = sum(r["lost"] for r in rs) / max(1, sum(r["done"] + r["lost"] for r in rs))
        cpu = m(lambda r: sum(r["cpu"][k] for k in servers[label]))
        each = "" if len(rs) == 1 else "  (q/s " + " ".join(f"{r['qps']:.0f}" for r in rs) + ")"
        print(f"{label:<13} {desc[label]:<38} {q:>8.0f} {m(lambda r: r['lat']):>7.3f} {lost:>6.2%} "
              f"{cpu:>11.1f} {m(lambda r: r['client']):>12.1f}{each}")
        bad = {r["rc"] for r in rs if not r["rc"].startswith("NOERROR") or "," in r["rc"]}
        if bad:
            notes.append(f"warning: {label}: response codes {' '.join(sorted(bad))}")
        if label.startswith("forwarded"):
            notes.append(f"{label}: server us/q is the stub's {m(lambda r: r['cpu']['stub']):.1f} "
                         f"+ the upstream's {m(lambda r: r['cpu']['up']):.1f}")
        busy = m(lambda r: r["client"] * r["done"] / 1e6 / secs)
        if busy > 0.85 and label in ("stub", "unbound", "dnsmasq", "direct"):
            notes.append(f"note: {label}: {gen} used {busy:.0%} of a CPU: where that is all it "
                         "may use, the load generator, not the server, limits that figure")
        if label == "stub" and max(r["res"] for r in rs) > 2:
            notes.append("warning: stub: the resource DNS server was busy: cache misses?")
    for n in notes:
        print(n)
    def paired(a, b):
        # The ratio within each round (the two phases ran back to back, so a
        # machine that slows down for a while weighs on both), and the median.
        rs = [x["qps"] / y["qps"] for x, y in zip(grows[a], grows[b])]
        if len(rs) < 2:
            return ""
        return (f"; per round {' '.join(f'{r:.2f}' for r in rs)}, "
                f"median {statistics.median(rs):.2f}x")
    if "stub" in med and "unbound" in med and "dnsmasq" in med:
        print(f"{gen}: ratio stub / unbound: {med['stub'] / med['unbound']:.2f}x  "
              f"stub / dnsmasq: {med['stub'] / med['dnsmasq']:.2f}x  (target: stub / unbound >= 1.50x"
              f"{paired('stub', 'unbound')})")
    for fw, di in (("forwarded", "direct"), ("forwarded-own", "direct-own")):
        if fw in med and di in med:
            f = med[fw] / med[di]
            print(f"{gen}: ratio {fw} / {di}: {f:.2f}x  (forwarding costs {1 - f:.1%} of the "
                  f"upstream's direct q/s; target <= 15%{paired(fw, di)})")
print(f"load after: {sys.argv[2]}")
PY
