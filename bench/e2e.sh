#!/usr/bin/env bash
# End to end: sluice (sluice-client and sluice-gateway) against the same path through
# wireguard-go at both ends with kernel routing and NAT, in the demo world
# (tests/world/world.sh, prefix sbe-, state in a temporary directory) with the real
# portal and dnsmasq; applications are iperf3 and a small DNS timer in the client's
# namespace.
#
#   sbe-client ── sluice-client  (sbe-cl0)  ══ UDP 51820 ══ sluice-gateway (sbe-gw0) ──┐
#   198.51.100.10                                           198.51.100.20    lan0  ├── sbe-lan
#              ── wireguard-go   (sbewgc)   ══ UDP 51821 ══ wireguard-go    (sbewgg) ──┘ 203.0.113.200
#                 198.18.0.1/24                             198.18.0.2/24, ip_forward,    iperf3 -s
#                                                           nft masquerade on lan0
#
# 1. Throughput to the CIDR resource 203.0.113.200 (the demo policy grants alice
#    203.0.113.128/25), --rounds rounds, each running both paths one after the
#    other: iperf3 TCP (one stream, --seconds) and iperf3 UDP (1368-byte payloads:
#    1396-byte IP packets, within the tunnel MTU of 1420 and the MSS iperf3 checks
#    them against; 4 MiB socket buffers). UDP reports the highest offered rate
#    found with loss < 1%: first as fast as iperf3 sends (-b 0); while the loss
#    is >= 1%, again at 0.9 x what the receiver got, at most 5 tries; the figure is
#    the goodput at that rate (packets sent less those the server counted lost),
#    each round printing what was sent too (sent = goodput: the sender was the limit). sluice-client routes 203.0.113.128/25 into
#    its device for as long as it runs; the wireguard-go rounds add a route of
#    their own for 203.0.113.200/32 (longest prefix wins) and delete it after, so
#    the two paths never share a route. Printed: the medians and the median of the
#    rounds' ratios sluice / wireguard-go (issue 11's target: >= 3), and each side's
#    CPU (both ends' processes, kernel time included, % of one CPU).
# 2. DNS latency through the sentinel (the stub of sluice-client), one query at a
#    time from a Python timer (its own cost is the same on every side):
#    a) new resource: --runs times, a fresh resource r<i>-<run>.e2e.home.int
#       (answered by the LAN's dnsmasq: address=/e2e.home.int/) and its policy made
#       with `sluice admin`; once the resource shows in `sluice status`, its first
#       query: access_request at the portal, the gateway's authorization, the query
#       through the tunnel, the gateway's resolution and binding. The first run is the
#       first use of the gateway since the start (no WireGuard session yet): shown on
#       its own, the rest give median and p90 (target <= 20 ms).
#    b) new name of an authorized resource: --names never-asked names
#       x<i>-<run>.bench.home.int of the resource *.bench.home.int (granted by a
#       first query before timing), against --names other new names asked of the
#       LAN's dnsmasq directly from the gateway's namespace (the private DNS's own
#       time; target: new name <= private DNS + 2 ms).
#    c) cached: the names of b) again (the stub's cache), against a public name asked
#       of the public resolver directly and through the stub (forwarded).
#
# Usage: bench/e2e.sh [--seconds N] [--rounds R] [--runs N] [--names N]
#                     [--impl "wireguard-go sluice"] [--quick]
#   defaults: --seconds 5 --rounds 3 --runs 30 --names 200 --impl "wireguard-go sluice"
#   --quick:  --seconds 1 --rounds 1 --runs 3 --names 20 (CI's smoke run)
#   --impl wireguard-go: the baseline's throughput alone (no sluice-client needed)
# SBE_CL_LOG / SBE_GW_LOG: the daemons' log level (default warn).
set -euo pipefail

SECS=5 ROUNDS=3 RUNS=30 NAMES=200 IMPLS="wireguard-go sluice"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--names) NAMES=$2; shift 2 ;;
	--impl) IMPLS=$2; shift 2 ;;
	--quick) SECS=1 ROUNDS=1 RUNS=3 NAMES=20; shift ;;
	*) echo "usage: $0 [--seconds N] [--rounds R] [--runs N] [--names N] [--impl LIST] [--quick]" >&2
	   exit 2 ;;
	esac
done
WGGO=0 SLUICE_ON=0
for i in $IMPLS; do
	case $i in
	wireguard-go) WGGO=1 ;;
	sluice) SLUICE_ON=1 ;;
	*) echo "e2e.sh: unknown implementation '$i'" >&2; exit 2 ;;
	esac
done
[ "$RUNS" -ge 2 ] || { echo "e2e.sh: --runs must be at least 2 (the first is shown apart)" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
GW_BIN=$BUILD/src/gateway/sluice-gateway
CL_BIN=$BUILD/src/client/sluice-client
SLUICE=$BUILD/src/cli/sluice
NEED=("$SLUICE" "$BUILD/src/portal/sluice-portal")
[ "$SLUICE_ON" = 0 ] || NEED+=("$GW_BIN" "$CL_BIN")
for b in "${NEED[@]}"; do
	[ -x "$b" ] || { echo "e2e.sh: $b missing (build first)" >&2; exit 1; }
done
# sluice-client's state (connected, resources, sentinels) is read with `sluice status`
if [ "$SLUICE_ON" = 1 ] && ! "$SLUICE" --help 2>&1 | grep '^  status' >/dev/null; then
	echo "e2e.sh: $SLUICE has no status command" >&2; exit 1
fi
for t in wireguard-go wg iperf3 dnsmasq nft python3; do
	command -v "$t" >/dev/null || { echo "e2e.sh: needs $t" >&2; exit 1; }
done

P=sbe-
NS_C=${P}client NS_G=${P}gw NS_L=${P}lan
# the UAPI sockets in /var/run/wireguard are global: names of our own
WGC=sbewgc WGG=sbewgg GWIF=sbe-gw0 CLIF=sbe-cl0
PORTAL=https://198.51.100.30:8443
TMP=$(mktemp -d /tmp/sluice-e2e-bench.XXXXXX)
WORLD=$TMP/world
SOCK=$TMP/client.sock
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
GW_PID='' CL_PID='' WGC_PID='' WGG_PID=''

cleanup() {
	local p
	for p in $CL_PID $GW_PID $WGC_PID $WGG_PID; do kill "$p" 2>/dev/null || true; done
	for p in $CL_PID $GW_PID $WGC_PID $WGG_PID; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	"$ROOT/tests/world/world.sh" --prefix "$P" --state "$WORLD" down >/dev/null 2>&1 || true
	for p in $WGC $WGG $GWIF $CLIF; do rm -f "/var/run/wireguard/$p.sock"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "e2e.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cpu_ticks() { # PID... -> user + system ticks of them all
	local p t=0
	for p in "$@"; do t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat") )); done
	echo "$t"
}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(a / b if b else 0)" "$1" "$2"; }

BUSY=$(cpu_busy_pct)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
HZ=$(getconf CLK_TCK)

# ------------------------------------------------------------------ the world
"$ROOT/tests/world/world.sh" --prefix "$P" --state "$WORLD" --build "$BUILD" up \
	>"$TMP/world.out" 2>&1 || { cat "$TMP/world.out" >&2; die "world.sh up failed"; }

# The LAN's DNS answers every name under bench.home.int (the wildcard resource of
# 2b) and under e2e.home.int (the new resources of 2a).
cat >>"$WORLD/conf/dnsmasq-lan.conf" <<'EOF'
# bench/e2e.sh
address=/bench.home.int/203.0.113.77
address=/e2e.home.int/203.0.113.78
EOF
DNSMASQ_PID=$(cat "$WORLD/run/dnsmasq-lan.pid")
kill "$DNSMASQ_PID"
wait_until 5 sh -c "! kill -0 $DNSMASQ_PID" || die "dnsmasq did not stop"
l dnsmasq --conf-file="$WORLD/conf/dnsmasq-lan.conf" || die "dnsmasq did not restart"
wait_until 5 sh -c "ip netns exec $NS_L dig +short +time=1 +tries=1 @203.0.113.53 x.e2e.home.int | grep -qx 203.0.113.78" ||
	die "the LAN's dnsmasq does not answer e2e.home.int"

# ------------------------------------------------------------------ the DNS timer
cat >"$TMP/dnstime.py" <<'EOF'
# dnstime.py SERVER CIDR NAME...: asks each NAME (type A) of SERVER:53 once, one at
# a time, and prints the time to its answer in microseconds. Exits 1 when an
# answer is not NOERROR or its first address is not in CIDR.
import ipaddress, socket, struct, sys, time
server, net, names = sys.argv[1], ipaddress.ip_network(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((server, 53))

def first_a(a, qlen):
    n, off = struct.unpack(">H", a[6:8])[0], qlen
    for _ in range(n):
        while a[off] and a[off] < 0xc0:
            off += a[off] + 1
        off += 2 if a[off] >= 0xc0 else 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", a[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            return ipaddress.ip_address(a[off:off + 4])
        off += rdlen
    return None

bad = 0
for i, name in enumerate(names):
    q = struct.pack(">HHHHHH", (i + 1) & 0xffff, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    t0 = time.perf_counter_ns()
    s.send(q)
    while True:
        a = s.recv(4096)
        if a[:2] == q[:2]:
            break
    t1 = time.perf_counter_ns()
    ip = first_a(a, len(q)) if a[3] & 15 == 0 else None
    if ip is None or ip not in net:
        print("dnstime.py: %s: rcode %d, address %s" % (name, a[3] & 15, ip), file=sys.stderr)
        bad += 1
    print((t1 - t0) / 1000)
sys.exit(1 if bad else 0)
EOF
PROXY4=100.96.0.0/11

# ------------------------------------------------------------------ wireguard-go
# Both ends with keys of their own, on UDP 51821, tunnel addresses in 198.18.0.0/24;
# the gateway forwards (the world turned ip_forward on) and masquerades on lan0.
wggo_up() {
	(umask 077 && wg genkey >"$TMP/wgc.key" && wg genkey >"$TMP/wgg.key")
	ip netns exec $NS_C wireguard-go -f $WGC >"$TMP/wgc.log" 2>&1 &
	WGC_PID=$!
	ip netns exec $NS_G wireguard-go -f $WGG >"$TMP/wgg.log" 2>&1 &
	WGG_PID=$!
	wait_until 5 test -S /var/run/wireguard/$WGC.sock || die "wireguard-go did not start in $NS_C"
	wait_until 5 test -S /var/run/wireguard/$WGG.sock || die "wireguard-go did not start in $NS_G"
	c wg set $WGC private-key "$TMP/wgc.key" peer "$(wg pubkey <"$TMP/wgg.key")" \
		endpoint 198.51.100.20:51821 allowed-ips 198.18.0.2/32,203.0.113.128/25
	g wg set $WGG private-key "$TMP/wgg.key" listen-port 51821 \
		peer "$(wg pubkey <"$TMP/wgc.key")" allowed-ips 198.18.0.1/32
	c ip addr add 198.18.0.1/24 dev $WGC
	g ip addr add 198.18.0.2/24 dev $WGG
	c ip link set $WGC mtu 1420 up
	g ip link set $WGG mtu 1420 up
	g nft -f - <<EOF
table ip sbe_bench {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 198.18.0.0/24 oifname "lan0" masquerade
	}
}
EOF
	wait_until 10 c ping -c 1 -W 1 198.18.0.2 || die "no wireguard-go tunnel"
}
wggo_route() { c ip route "$1" 203.0.113.200/32 dev $WGC; }

# ------------------------------------------------------------------ sluice
status_json() { c "$SLUICE" status --json --socket "$SOCK" >"$TMP/status.json" 2>/dev/null; }
connected() {
	status_json && python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["portal"]["connected"] else 1)' \
		<"$TMP/status.json"
}
has_resource() { # ADDRESS: the client holds it (whatever its state)
	status_json && python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(r.get("address") == sys.argv[1] for r in d.get("resources") or []) else 1)' "$1" \
		<"$TMP/status.json"
}
handshakes() { # -> how many gateways sluice-client has a WireGuard session with
	status_json && python3 -c '
import json, sys
print(sum(1 for g in json.load(sys.stdin).get("gateways") or [] if g.get("last_handshake")))' <"$TMP/status.json"
}
sluice_up() {
	# not through g() / c(): $! must be the daemon itself (ip netns exec execs it)
	ip netns exec $NS_G "$GW_BIN" --portal "$PORTAL" --token-file "$WORLD/gw.token" --ca "$WORLD/ca.pem" \
		--endpoint 198.51.100.20:51820 --state "$TMP/gwstate" --name gw --ifname "$GWIF" \
		--log-level "${SBE_GW_LOG:-warn}" >"$TMP/gw.log" 2>&1 &
	GW_PID=$!
	# resolv.conf of the namespace is the world's own file (ip netns exec binds it
	# over /etc/resolv.conf); the backup goes to our temporary directory
	ip netns exec $NS_C "$CL_BIN" --portal "$PORTAL" --token-file "$WORLD/alice.token" --ca "$WORLD/ca.pem" \
		--state "$TMP/clstate" --ifname "$CLIF" --status-socket "$SOCK" \
		--dns-backup "$TMP/resolv.conf.sluice-backup" \
		--log-level "${SBE_CL_LOG:-warn}" >"$TMP/client.log" 2>&1 &
	CL_PID=$!
	wait_until 15 connected || { cat "$TMP/client.log" >&2; die "sluice-client did not connect to the portal"; }
	SENTINEL=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["dns"]["sentinels"][0]["address"])' \
		<"$TMP/status.json")
	kill -0 "$GW_PID" || { cat "$TMP/gw.log" >&2; die "sluice-gateway exited"; }
}

# ------------------------------------------------------------------ 2. latency
# Before anything else uses the gateway, so that the first new resource is the
# first WireGuard handshake of the run.
declare -a NEWRES=()
if [ "$SLUICE_ON" = 1 ]; then
sluice_up
RUNID=$(date +%s)
GROUP=1 SITE=1          # engineering (alice's) and home, of the world's demo policy
HS0=$(handshakes) || die "sluice status failed"
for ((i = 0; i < RUNS; i++)); do
	name=r$i-$RUNID.e2e.home.int
	res=$(admin resources create --site $SITE --type dns --address "$name" --name "e2e r$i") ||
		die "could not create the resource $name"
	admin policies create --group $GROUP --resource "$res" >/dev/null ||
		die "could not create the policy of $name"
	wait_until 10 has_resource "$name" || die "the resource $name did not reach sluice-client"
	NEWRES+=("$(c python3 "$TMP/dnstime.py" "$SENTINEL" "$PROXY4" "$name")") ||
		{ cat "$TMP/client.log" >&2; die "no proxy IP for the new resource $name"; }
done

# b) the wildcard resource, granted by a first query that is not timed
res=$(admin resources create --site $SITE --type dns --address '*.bench.home.int' --name Bench)
admin policies create --group $GROUP --resource "$res" >/dev/null
wait_until 10 has_resource '*.bench.home.int' || die "the resource *.bench.home.int did not reach sluice-client"
c python3 "$TMP/dnstime.py" "$SENTINEL" "$PROXY4" "grant-$RUNID.bench.home.int" >/dev/null ||
	die "*.bench.home.int was not granted"
mapfile -t XNAMES < <(for ((i = 0; i < NAMES; i++)); do echo "x$i-$RUNID.bench.home.int"; done)
mapfile -t MNAMES < <(for ((i = 0; i < NAMES; i++)); do echo "m$i-$RUNID.bench.home.int"; done)
c python3 "$TMP/dnstime.py" "$SENTINEL" "$PROXY4" "${XNAMES[@]}" >"$TMP/newname.txt" ||
	die "wrong answers for new names through the stub"
g python3 "$TMP/dnstime.py" 203.0.113.53 203.0.113.77/32 "${MNAMES[@]}" >"$TMP/private.txt" ||
	die "wrong answers from the LAN's dnsmasq"
# c) the same names again: the stub's cache; a public name, directly and forwarded
c python3 "$TMP/dnstime.py" "$SENTINEL" "$PROXY4" "${XNAMES[@]}" >"$TMP/cached.txt" ||
	die "wrong answers for cached names through the stub"
mapfile -t PUB < <(for ((i = 0; i < NAMES; i++)); do echo gist.github.saas.test; done)
c python3 "$TMP/dnstime.py" 198.51.100.53 198.51.100.40/32 "${PUB[@]}" >"$TMP/public.txt" ||
	die "wrong answers from the public resolver"
c python3 "$TMP/dnstime.py" "$SENTINEL" 198.51.100.40/32 "${PUB[@]}" >"$TMP/forwarded.txt" ||
	die "wrong answers for a public name through the stub"
fi

# ------------------------------------------------------------------ 1. throughput
[ "$WGGO" = 0 ] || wggo_up
iperf_tcp() { # -> "Mb/s-received retransmits"
	c iperf3 -c 203.0.113.200 -t "$SECS" -J | python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]
print(e["sum_received"]["bits_per_second"] / 1e6, e["sum_sent"].get("retransmits", 0))'
}
iperf_udp() { # RATE (bits/s, 0: as fast as it sends) -> "goodput-Mb/s loss-% sent-Mb/s"
	c iperf3 -c 203.0.113.200 -u -b "$1" -l 1368 -w 4M -t "$SECS" -J | python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]        # packets sent, and lost as the server counted
mbit = 1368 * 8 / s["seconds"] / 1e6
print((s["packets"] - s["lost_packets"]) * mbit, s["lost_percent"], s["packets"] * mbit)'
}
udp_search() { # -> "goodput-Mb/s loss-% sent-Mb/s" at the highest rate found with loss < 1%
	local rate=0 gp loss sent try
	for ((try = 0; try < 5; try++)); do
		read -r gp loss sent < <(iperf_udp "$rate") || return 1
		python3 -c "import sys; sys.exit(0 if $loss < 1 else 1)" && break
		rate=$(python3 -c "print(int($gp * 1e6 * 0.9))")
	done
	echo "$gp $loss $sent"
}
declare -a TCP_W=() TCP_S=() UDP_W=() UDP_S=() UDPL_W=() UDPL_S=() R_TCP=() R_UDP=()
CPU_W=0 CPU_S=0 T_W=0 T_S=0
if [ "$SLUICE_ON" = 1 ]; then
	# the CIDR resource is asked for by its first packet
	wait_until 10 c ping -c 1 -W 1 203.0.113.200 || die "no path to 203.0.113.200 through sluice"
fi
if [ "$ROUNDS" -gt 0 ]; then
for ((r = 1; r <= ROUNDS; r++)); do
	if [ "$WGGO" = 1 ]; then
		wggo_route add
		c ping -c 1 -W 2 203.0.113.200 >/dev/null || die "no path to 203.0.113.200 through wireguard-go"
		k0=$(cpu_ticks $WGC_PID $WGG_PID); t0=$(date +%s%N)
		read -r tcp retr < <(iperf_tcp) || die "iperf3 TCP through wireguard-go failed"
		TCP_W+=("$tcp")
		read -r gp loss sent < <(udp_search) || die "iperf3 UDP through wireguard-go failed"
		UDP_W+=("$gp"); UDPL_W+=("$loss")
		CPU_W=$(( CPU_W + $(cpu_ticks $WGC_PID $WGG_PID) - k0 )); T_W=$(( T_W + $(date +%s%N) - t0 ))
		wggo_route del
		printf 'round %d: wireguard-go TCP %.0f Mb/s (%d retransmits), UDP %.0f Mb/s (sent %.0f, loss %.2f%%)\n' \
			"$r" "$tcp" "$retr" "$gp" "$sent" "$loss"
	fi
	if [ "$SLUICE_ON" = 1 ]; then
		k0=$(cpu_ticks $CL_PID $GW_PID); t0=$(date +%s%N)
		read -r tcp retr < <(iperf_tcp) || die "iperf3 TCP through sluice failed"
		TCP_S+=("$tcp")
		read -r gp loss sent < <(udp_search) || die "iperf3 UDP through sluice failed"
		UDP_S+=("$gp"); UDPL_S+=("$loss")
		CPU_S=$(( CPU_S + $(cpu_ticks $CL_PID $GW_PID) - k0 )); T_S=$(( T_S + $(date +%s%N) - t0 ))
		printf 'round %d: sluice       TCP %.0f Mb/s (%d retransmits), UDP %.0f Mb/s (sent %.0f, loss %.2f%%)\n' \
			"$r" "$tcp" "$retr" "$gp" "$sent" "$loss"
	fi
	if [ "$WGGO" = 1 ] && [ "$SLUICE_ON" = 1 ]; then
		R_TCP+=("$(ratio "${TCP_S[-1]}" "${TCP_W[-1]}")")
		R_UDP+=("$(ratio "${UDP_S[-1]}" "${UDP_W[-1]}")")
	fi
done
fi

# Both daemons stop cleanly on SIGTERM, and a sanitizer build
# (SLUICE_BUILD=build-asan) has nothing to say about either.
if [ "$SLUICE_ON" = 1 ]; then
	stop_clean "$CL_PID" sluice-client "$TMP/client.log"; CL_PID=
	stop_clean "$GW_PID" sluice-gateway "$TMP/gw.log"; GW_PID=
fi

# ------------------------------------------------------------------ report
med() { printf '%s\n' "$@" | median; }
printf '\n'
echo "machine before the run      ${BUSY}% of $(nproc) CPUs busy (2 s), load average $LOADAVG"
if [ "$ROUNDS" -gt 0 ]; then
	if [ "$WGGO" = 1 ]; then
		printf 'tcp wireguard-go            median %.0f Mb/s (%d x %d s, one stream)\n' "$(med "${TCP_W[@]}")" "$ROUNDS" "$SECS"
		printf 'udp wireguard-go            median %.0f Mb/s goodput at loss < 1%% (losses %s%%)\n' \
			"$(med "${UDP_W[@]}")" "$(printf '%.2f ' "${UDPL_W[@]}" | sed 's/ $//')"
		printf 'cpu wireguard-go            %.0f%% of one CPU (both ends, while measured)\n' \
			"$(python3 -c "print($CPU_W * 100 * 1e9 / $HZ / max($T_W, 1))")"
	fi
	if [ "$SLUICE_ON" = 1 ]; then
		printf 'tcp sluice                  median %.0f Mb/s (%d x %d s, one stream)\n' "$(med "${TCP_S[@]}")" "$ROUNDS" "$SECS"
		printf 'udp sluice                  median %.0f Mb/s goodput at loss < 1%% (losses %s%%)\n' \
			"$(med "${UDP_S[@]}")" "$(printf '%.2f ' "${UDPL_S[@]}" | sed 's/ $//')"
		printf 'cpu sluice                  %.0f%% of one CPU (sluice-client and sluice-gateway, while measured)\n' \
			"$(python3 -c "print($CPU_S * 100 * 1e9 / $HZ / max($T_S, 1))")"
	fi
	if [ "$WGGO" = 1 ] && [ "$SLUICE_ON" = 1 ]; then
		printf 'ratio sluice / wireguard-go tcp %.2f, udp %.2f: medians of %d rounds (target >= 3)\n' \
			"$(med "${R_TCP[@]}")" "$(med "${R_UDP[@]}")" "$ROUNDS"
	fi
fi
if [ "$SLUICE_ON" = 1 ]; then
	us() { printf '%.0f' "$1"; }
	printf '%s\n' "${NEWRES[@]:1}" >"$TMP/newres.txt"
	[ "$HS0" = 0 ] && first="the first WireGuard handshake" || first="a WireGuard session was up already"
	printf 'dns new resource            first %s us (%s); then median %s us, p90 %s us over %d (target <= 20000 us)\n' \
		"$(us "${NEWRES[0]}")" "$first" "$(us "$(median <"$TMP/newres.txt")")" "$(us "$(p90 <"$TMP/newres.txt")")" $((RUNS - 1))
	NN=$(median <"$TMP/newname.txt") PD=$(median <"$TMP/private.txt")
	printf 'dns new name                median %s us, p90 %s us through the stub (%d names); private DNS directly median %s us, p90 %s us\n' \
		"$(us "$NN")" "$(us "$(p90 <"$TMP/newname.txt")")" "$NAMES" "$(us "$PD")" "$(us "$(p90 <"$TMP/private.txt")")"
	printf 'dns new name difference     %s us over the private DNS (target <= 2000 us)\n' \
		"$(us "$(python3 -c "print($NN - $PD)")")"
	printf 'dns cached name             median %s us, p90 %s us through the stub; public resolver directly median %s us, forwarded by the stub median %s us\n' \
		"$(us "$(median <"$TMP/cached.txt")")" "$(us "$(p90 <"$TMP/cached.txt")")" \
		"$(us "$(median <"$TMP/public.txt")")" "$(us "$(median <"$TMP/forwarded.txt")")"
fi
