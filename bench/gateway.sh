#!/usr/bin/env bash
# The gateway (sluice-gateway) in the demo world (tests/world/world.sh, its own
# prefix), against the real portal, dnsmasq, iperf3 and wireguard-go:
#
#   client ── wireguard-go sbgwg0 ══ UDP 51820 ══ sluice-gateway (TUN sbg-gw0) ── LAN
#   100.64.0.x                                    nft: DNAT, filter, masquerade   203.0.113.0/24
#
# 1. Throughput: iperf3 TCP from the client to 203.0.113.200 through the same
#    tunnel, alternating two paths, --rounds times each:
#      direct   to 203.0.113.200 itself (the CIDR resource 203.0.113.128/25):
#               tunnel, filter, masquerade; no DNAT
#      proxy    to the proxy IP the gateway bound to iperf.home.int (-> 203.0.113.200):
#               tunnel, DNAT, filter (on the original destination), masquerade
#    and prints the median of the rounds' proxy / direct ratios (target >= 0.90).
# 2. DNS: --names new names (n<i>.<run>.bench.home.int, which the LAN's dnsmasq
#    answers with 203.0.113.77) asked one at a time from the client through the
#    tunnel to the gateway's DNS endpoint, each with a fresh offer (one new proxy
#    IP): each answer installs a binding (DNAT map and filter elements) first.
#    Then as many other new names asked of dnsmasq directly from the gateway's
#    namespace. Median of each and the difference (target < 1 ms).
# 3. Memory: sluice-gateway's VmRSS before, and with --clients clients of
#    tests/tools/gw-load (each a device at the portal, an authorization, a
#    WireGuard peer, one DNS binding) and --flows UDP flows each through DNAT to an
#    echo server on the LAN (target < 64 MiB).
# 4. With --revoke, revocation: the policy of *.bench.home.int deleted at the portal; the time until
#    the gateway's table holds none of its elements (filter, DNAT), for every client.
#
# Usage: bench/gateway.sh [--seconds N] [--rounds R] [--names N] [--clients N]
#                         [--flows F] [--revoke] [--quick]
#   defaults: --seconds 5 --rounds 5 --names 1000 --clients 1000 --flows 10, no
#             revocation (with 1000 clients it takes minutes: docs/benchmarks.md)
#   --quick:  --seconds 1 --rounds 1 --names 100 --clients 100 --revoke (CI's smoke run)
#   --rounds 0 / --clients 0 leave out the throughput / the memory part
set -euo pipefail

SECS=5 ROUNDS=5 NAMES=1000 CLIENTS=1000 FLOWS=10 REVOKE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--names) NAMES=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--flows) FLOWS=$2; shift 2 ;;
	--revoke) REVOKE=1; shift ;;
	--quick) SECS=1 ROUNDS=1 NAMES=100 CLIENTS=100 REVOKE=1; shift ;;
	*) echo "usage: $0 [--seconds N] [--rounds R] [--names N] [--clients N] [--flows F] [--revoke] [--quick]" >&2
	   exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
GW_BIN=$BUILD/src/gateway/sluice-gateway
SESSION=$BUILD/tests/tools/sluice-session
LOAD=$BUILD/tests/tools/gw-load
SLUICE=$BUILD/src/cli/sluice
for b in "$GW_BIN" "$SESSION" "$LOAD" "$SLUICE" "$BUILD/src/portal/sluice-portal"; do
	[ -x "$b" ] || { echo "gateway.sh: $b missing (build first)" >&2; exit 1; }
done
for t in wireguard-go wg iperf3 dnsmasq python3; do
	command -v "$t" >/dev/null || { echo "gateway.sh: needs $t" >&2; exit 1; }
done

P=sbg-
NS_C=${P}client NS_G=${P}gw NS_L=${P}lan NS_P=${P}portal
WGIF=sbgwg0      # the UAPI socket path is global: a name of our own
GWIF=sbg-gw0
PORTAL=https://198.51.100.30:8443
TMP=$(mktemp -d /tmp/sluice-gw-bench.XXXXXX)
WORLD=$TMP/world
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
GW_PID= LOAD_PID= ECHO_PID=

cleanup() {
	local p
	for p in $LOAD_PID $ECHO_PID $GW_PID; do kill "$p" 2>/dev/null || true; done
	for p in $LOAD_PID $ECHO_PID $GW_PID; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	"$ROOT/tests/world/world.sh" --prefix "$P" --state "$WORLD" down >/dev/null 2>&1 || true
	rm -f "/var/run/wireguard/$WGIF.sock" "/var/run/wireguard/$GWIF.sock"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "gateway.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

BUSY=$(cpu_busy_pct)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ the world
"$ROOT/tests/world/world.sh" --prefix "$P" --state "$WORLD" --build "$BUILD" up \
	>"$TMP/world.out" 2>&1 || { cat "$TMP/world.out" >&2; die "world.sh up failed"; }

# The LAN's DNS gets a zone for the DNS benchmark and a name for iperf3; the
# flows of gw-load go to 203.0.113.77, where an echo server answers.
cat >>"$WORLD/conf/dnsmasq-lan.conf" <<'EOF'
# bench/gateway.sh
address=/bench.home.int/203.0.113.77
host-record=iperf.home.int,203.0.113.200
EOF
DNSMASQ_PID=$(cat "$WORLD/run/dnsmasq-lan.pid")
kill "$DNSMASQ_PID"
wait_until 5 sh -c "! kill -0 $DNSMASQ_PID" || die "dnsmasq did not stop"
l dnsmasq --conf-file="$WORLD/conf/dnsmasq-lan.conf" || die "dnsmasq did not restart"
wait_until 5 sh -c "ip netns exec $NS_L dig +short +time=1 +tries=1 @203.0.113.53 x.bench.home.int | grep -qx 203.0.113.77" ||
	die "the LAN's dnsmasq does not answer bench.home.int"
ip -n $NS_L addr add 203.0.113.77/24 dev eth0

# Resources and policies for group 1 (engineering, alice's) of site 1 (home).
BENCH_RES=$(admin resources create --site 1 --type dns --address '*.bench.home.int' --name Bench)
IPERF_RES=$(admin resources create --site 1 --type dns --address iperf.home.int --name iperf)
CIDR_RES=5   # "LAN servers", 203.0.113.128/25, of the world's policy
BENCH_POL=$(admin policies create --group 1 --resource "$BENCH_RES")
admin policies create --group 1 --resource "$IPERF_RES" >/dev/null
# every load client is a device of alice's: past the default device limit (20)
admin settings set --device-limit $((CLIENTS + 100)) >/dev/null

# ------------------------------------------------------------------ the gateway
# not through g(): $! must be the gateway itself (ip netns exec execs it)
ip netns exec $NS_G "$GW_BIN" --portal "$PORTAL" --token-file "$WORLD/gw.token" --ca "$WORLD/ca.pem" \
	--endpoint 198.51.100.20:51820 --state "$TMP/gwstate" --name gw --ifname "$GWIF" \
	--log-level "${SBG_GW_LOG:-warn}" >"$TMP/gw.log" 2>&1 &
GW_PID=$!

(umask 077 && wg genkey >"$TMP/client.key")
c "$SESSION" --portal "$PORTAL" --ca "$WORLD/ca.pem" --token-file "$WORLD/alice.token" \
	--key-file "$TMP/client.key" init >"$TMP/init.json" || die "client init failed"
TUN4=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["tunnel"]["ipv4"])' <"$TMP/init.json")
# granted once the gateway is online at the portal
request() {
	c "$SESSION" --portal "$PORTAL" --ca "$WORLD/ca.pem" --token-file "$WORLD/alice.token" \
		--key-file "$TMP/client.key" request "$CIDR_RES" "$IPERF_RES" "$BENCH_RES" >"$TMP/grants.json"
}
wait_until 30 request || { cat "$TMP/gw.log" "$TMP/grants.json" >&2; die "no grants: is the gateway up?"; }
RSS_START=$(rss_kb "$GW_PID")
read -r GWPUB PSK < <(python3 -c '
import json, sys
g = [json.loads(l) for l in sys.stdin if l.strip()]
print(g[0]["gateway"]["public_key"], g[0]["psk"])' <"$TMP/grants.json")
(umask 077 && echo "$PSK" >"$TMP/psk")

c wireguard-go $WGIF
wait_until 5 test -S /var/run/wireguard/$WGIF.sock || die "wireguard-go did not start"
c wg set $WGIF private-key "$TMP/client.key" peer "$GWPUB" preshared-key "$TMP/psk" \
	endpoint 198.51.100.20:51820 allowed-ips 100.64.0.0/11,100.96.0.0/11,203.0.113.128/25
c ip addr add "$TUN4/32" dev $WGIF
c ip link set $WGIF mtu 1420 up
for r in 100.64.0.0/11 100.96.0.0/11 203.0.113.128/25; do c ip route add $r dev $WGIF; done
wait_until 10 c ping -c 1 -W 1 100.64.0.1 || die "no tunnel to the gateway"

# ------------------------------------------------------------------ DNS helper
cat >"$TMP/dnsbench.py" <<'EOF'
# dnsbench.py SERVER PORT PREFIX N OFFER(0|1): asks N new names PREFIX<i>.bench.home.int
# one at a time; with OFFER, each query offers one fresh proxy IP (100.97.x.y) and the
# answer must be it. Prints each time in microseconds; exits 1 on a wrong answer.
import socket, struct, sys, time
server, port, prefix, n, offer = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(4)
s.connect((server, port))
bad = 0
for i in range(n):
    name = "%s%d.bench.home.int" % (prefix, i)
    q = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 1)
    q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    ip = bytes([100, 97, 1 + i // 250, 1 + i % 250])
    opt = struct.pack(">HHBBB", 65001, 7, 1, 1, 0) + ip if offer else b""
    q += b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt
    t0 = time.perf_counter_ns()
    s.send(q)
    while True:
        a = s.recv(2048)
        if a[:2] == q[:2]:
            break
    t1 = time.perf_counter_ns()
    rcode, an = a[3] & 15, struct.unpack(">H", a[6:8])[0]
    want = ip if offer else bytes([203, 0, 113, 77])
    if rcode != 0 or an < 1 or want not in a[len(q) - 11 - len(opt):]:
        bad += 1
    print((t1 - t0) / 1000)
sys.exit(1 if bad else 0)
EOF

# ------------------------------------------------------------------ 1. throughput
# The proxy IP the gateway binds to iperf.home.int for this client
PROXY=$(c python3 - <<'EOF'
import socket, struct
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 1) + b"\x05iperf\x04home\x03int\x00" + struct.pack(">HH", 1, 1)
opt = struct.pack(">HHBBB", 65001, 7, 1, 1, 0) + bytes([100, 96, 0, 1])
q += b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(4)
s.sendto(q, ("100.64.0.1", 53535)); a = s.recv(2048)
# the answer's A record is the offered address (the OPT record comes after it)
ok = a[3] & 15 == 0 and a[6:8] != b"\0\0" and bytes([100, 96, 0, 1]) in a[len(q) - len(opt) - 11:]
print("100.96.0.1" if ok else "none")
EOF
)
[ "$PROXY" = 100.96.0.1 ] || die "iperf.home.int was not bound to 100.96.0.1 (got $PROXY)"

RSS_TPUT=$RSS_START
if [ "$ROUNDS" -gt 0 ]; then
WGGO_PID=$(pgrep -n -f "wireguard-go $WGIF" || true)
iperf() { # DEST -> Mb/s received
	c iperf3 -c "$1" -t "$SECS" -J |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6)'
}
declare -a DIRECT=() VIAPROXY=() RATIOS=()
g0=$(cpu_ticks "$GW_PID"); w0=$(cpu_ticks "$WGGO_PID"); t0=$(date +%s%N)
for ((r = 1; r <= ROUNDS; r++)); do
	d=$(iperf 203.0.113.200) || die "iperf3 to 203.0.113.200 failed"
	p=$(iperf "$PROXY") || die "iperf3 to $PROXY failed"
	DIRECT+=("$d"); VIAPROXY+=("$p")
	RATIOS+=("$(python3 -c "print($p / $d)")")
	printf 'round %d: direct %.0f Mb/s, proxy %.0f Mb/s, ratio %.3f\n' "$r" "$d" "$p" "${RATIOS[-1]}"
done
g1=$(cpu_ticks "$GW_PID"); w1=$(cpu_ticks "$WGGO_PID"); t1=$(date +%s%N)
HZ=$(getconf CLK_TCK)
GW_CPU=$(( (g1 - g0) * 100 * 1000000000 / HZ / (t1 - t0) ))
WG_CPU=$(( (w1 - w0) * 100 * 1000000000 / HZ / (t1 - t0) ))
RSS_TPUT=$(rss_kb "$GW_PID")
fi

# ------------------------------------------------------------------ 2. DNS
RUNID=$(date +%s)
q0=$(cpu_ticks "$GW_PID")
c python3 "$TMP/dnsbench.py" 100.64.0.1 53535 "n$RUNID-" "$NAMES" 1 >"$TMP/dns_gw.txt" ||
	die "wrong answers from the gateway's DNS endpoint"
q1=$(cpu_ticks "$GW_PID")
g python3 "$TMP/dnsbench.py" 203.0.113.53 53 "m$RUNID-" "$NAMES" 0 >"$TMP/dns_direct.txt" ||
	die "wrong answers from dnsmasq"
# the same names again: answered from the resolver's cache and the bindings made
# above, so no private DNS and no nft transaction: the tunnel and the endpoint
c python3 "$TMP/dnsbench.py" 100.64.0.1 53535 "n$RUNID-" "$NAMES" 1 >"$TMP/dns_known.txt" ||
	die "wrong answers for known names from the gateway's DNS endpoint"
DNS_GW=$(median <"$TMP/dns_gw.txt")
DNS_KNOWN=$(median <"$TMP/dns_known.txt")
q2=$(cpu_ticks "$GW_PID")
TENTH=$(( NAMES / 10 > 0 ? NAMES / 10 : 1 ))
DNS_FIRST=$(head -n "$TENTH" "$TMP/dns_gw.txt" | median)
DNS_LAST=$(tail -n "$TENTH" "$TMP/dns_gw.txt" | median)
HZ=$(getconf CLK_TCK)
CPU_NEW=$(( (q1 - q0) * 1000000 / HZ / NAMES ))
DNS_DIRECT=$(median <"$TMP/dns_direct.txt")
RTT=$(c ping -c 50 -i 0.02 -q 100.64.0.1 | awk -F/ '/^rtt/ { print $5 * 1000 }')
RSS_DNS=$(rss_kb "$GW_PID")

# ------------------------------------------------------------------ 3. memory
if [ "$CLIENTS" -gt 0 ]; then
cat >"$TMP/echo.py" <<'EOF'
# echo.py ADDR PORT N: a UDP echo on N ports from PORT
import selectors, socket, sys
addr, base, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sel = selectors.DefaultSelector()
for p in range(base, base + n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, p)); sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for k, _ in sel.select():
        try:
            while True:
                d, a = k.fileobj.recvfrom(2048, socket.MSG_DONTWAIT)
                k.fileobj.sendto(d, a)
        except BlockingIOError:
            pass
EOF
ip netns exec $NS_L python3 "$TMP/echo.py" 203.0.113.77 9000 "$FLOWS" >"$TMP/echo.out" 2>&1 &
ECHO_PID=$!
wait_until 10 grep -q ready "$TMP/echo.out" || die "the echo server did not start"

CT0=$(g cat /proc/sys/net/netfilter/nf_conntrack_count)
ip netns exec $NS_C "$LOAD" --portal "$PORTAL" --ca "$WORLD/ca.pem" --token-file "$WORLD/alice.token" \
	--resource "$BENCH_RES" --gateway 198.51.100.20:51820 --domain bench.home.int \
	--clients "$CLIENTS" --flows "$FLOWS" >"$TMP/load.out" 2>"$TMP/load.err" &
LOAD_PID=$!
wait_until 600 grep -q '^ready' "$TMP/load.out" || { cat "$TMP/load.out" "$TMP/load.err" >&2; die "gw-load did not finish"; }
cat "$TMP/load.out" | sed 's/^/gw-load: /'
grep -q "^flows $((CLIENTS * FLOWS)) answered $((CLIENTS * FLOWS)) " "$TMP/load.out" ||
	{ cat "$TMP/load.err" "$TMP/gw.log" >&2; die "not every client got its flows through"; }
cat "$TMP/load.err" >&2
RSS_LOAD=$(rss_kb "$GW_PID")
CT1=$(g cat /proc/sys/net/netfilter/nf_conntrack_count)
PEERS=$(g wg show "$GWIF" peers | wc -l)
ELEMS=$(g nft -j list map inet sluice_gw dnat4 | python3 -c '
import json, sys
m = [o["map"] for o in json.load(sys.stdin)["nftables"] if "map" in o][0]
print(len(m.get("elem", [])))')
# one flow-log period later: the gateway has dumped the flows (ct_flows_dump) once more
sleep $((10 + 1))
RSS_LOAD2=$(rss_kb "$GW_PID")
HWM=$(hwm_kb "$GW_PID")
fi
# ------------------------------------------------------------------ 4. revocation
# The policy of *.bench.home.int deleted: every client's authorization of it is
# revoked, its filter and DNAT elements and its flows removed. What stays is
# the first client's CIDR and iperf.home.int: two filter elements, one binding.
nft_counts() { # -> "DNAT-ELEMENTS FILTER-ELEMENTS" of the gateway's table
	g nft -j list table inet sluice_gw | python3 -c '
import json, sys
objs = json.load(sys.stdin)["nftables"]
maps = sum(len(o["map"].get("elem", [])) for o in objs if "map" in o)
sets = sum(len(o["set"].get("elem", [])) for o in objs if "set" in o)
print(maps, sets)'
}
REVOKE_MS=
if [ "$REVOKE" = 1 ]; then
read -r DN0 FE0 < <(nft_counts)
r0=$(date +%s%N)
admin policies delete "$BENCH_POL" >/dev/null
revoked() { [ "$(nft_counts)" = "1 2" ]; }
wait_until 600 revoked || die "the revocation did not reach the gateway's table: $(nft_counts)"
r1=$(date +%s%N)
REVOKE_MS=$(( (r1 - r0) / 1000000 ))
CT2=$(g cat /proc/sys/net/netfilter/nf_conntrack_count)
fi
kill -0 "$GW_PID" || die "the gateway died"

# Both stop cleanly on SIGTERM, and a sanitizer build (SLUICE_BUILD=build-asan)
# has nothing to say about either.
if [ -n "$LOAD_PID" ]; then stop_clean "$LOAD_PID" gw-load "$TMP/load.err"; LOAD_PID=; fi
stop_clean "$GW_PID" sluice-gateway "$TMP/gw.log"
GW_PID=

# ------------------------------------------------------------------ report
RATIO=$(printf '%s\n' "${RATIOS[@]}" | median)
printf '\n'
echo "machine before the run      ${BUSY}% of $(nproc) CPUs busy (2 s), load average $LOADAVG"
if [ "$ROUNDS" -gt 0 ]; then
printf 'throughput direct           median %.0f Mb/s (tunnel, filter, masquerade; %d x %d s)\n' \
	"$(printf '%s\n' "${DIRECT[@]}" | median)" "$ROUNDS" "$SECS"
printf 'throughput via proxy IP     median %.0f Mb/s (tunnel, DNAT, filter, masquerade)\n' \
	"$(printf '%s\n' "${VIAPROXY[@]}" | median)"
printf 'ratio proxy / direct        median %.3f over %d rounds (target >= 0.90)\n' "$RATIO" "$ROUNDS"
echo "cpu during iperf3           sluice-gateway ${GW_CPU}%, wireguard-go ${WG_CPU}% (of one CPU)"
fi
printf 'dns new name via gateway    median %.0f us (%d names, each a fresh offer and binding)\n' "$DNS_GW" "$NAMES"
printf 'dns private DNS directly    median %.0f us (dnsmasq from the gateway namespace)\n' "$DNS_DIRECT"
printf 'dns difference              %.0f us (target < 1000 us)\n' "$(python3 -c "print($DNS_GW - $DNS_DIRECT)")"
printf 'dns known name via gateway  median %.0f us (cached, already bound: tunnel and endpoint only); tunnel ping rtt %.0f us\n' \
	"$DNS_KNOWN" "$RTT"
printf 'dns new name, by age        median %.0f us for the first %d names, %.0f us for the last %d (the client holds more bindings)\n' \
	"$DNS_FIRST" "$TENTH" "$DNS_LAST" "$TENTH"
echo "dns gateway cpu per new name ${CPU_NEW} us (process CPU, kernel included)"
printf 'dns new - known - direct    %.0f us (the binding: DNAT and filter elements, and the resolver)\n' \
	"$(python3 -c "print($DNS_GW - $DNS_KNOWN - $DNS_DIRECT)")"
[ -z "$REVOKE_MS" ] || echo "revocation                  ${REVOKE_MS} ms from the policy's deletion until the table held none of its elements ($DN0 DNAT and $FE0 filter elements before, 1 and 2 after; conntrack now ${CT2})"
echo "gateway RSS                 ${RSS_START} KiB at start, ${RSS_TPUT} KiB after iperf3, ${RSS_DNS} KiB after the DNS run"
if [ "$CLIENTS" -gt 0 ]; then
echo "gateway RSS with clients    ${RSS_LOAD} KiB with $CLIENTS clients x $FLOWS flows, ${RSS_LOAD2} KiB one flow-log period later, peak ${HWM} KiB (target < 65536 KiB)"
echo "gateway state               $PEERS WireGuard peers, $ELEMS DNAT map elements, conntrack $CT0 -> $CT1 entries"
fi
