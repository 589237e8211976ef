#!/usr/bin/env bash
# The stub resolver (sluice-stubd) against real DNS software in a namespace.
#
#   [sl-test-dns]  lo: sentinels 100.100.111.1..3 (added by the stub)
#     v0 198.18.0.63  "dead" upstream: packets to it are dropped (nftables)
#        198.18.0.53  upstream dnsmasq: public.test, fwd.test, big.test (3000-byte TXT)
#        198.18.0.66  a spoofing upstream (tests/tools/dns_spoofer.py)
#        198.18.0.54  resource DNS dnsmasq (stands in for the gateway's resolver)
#   resolv.conf: nameserver 198.18.0.63, 198.18.0.53, 198.18.0.66 (options timeout:1)
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
STUBD=$BUILD/tests/tools/sluice-stubd
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
world_require_root
[ -x "$STUBD" ] || { diag "no $STUBD: build first"; exit 1; }

NS=sl-test-dns
TMP=$(mktemp -d)
RESOLV=/etc/netns/$NS/resolv.conf
S1=100.100.111.1 S2=100.100.111.2 S3=100.100.111.3

cleanup() {
	pids=$(ip netns pids $NS 2>/dev/null)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	sleep 0.3
	pids=$(ip netns pids $NS 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -rf "/etc/netns/$NS" "$TMP"
}
trap cleanup EXIT
[ -n "${DNS_TEST_DEBUG:-}" ] && trap - EXIT
trap 'exit 130' INT TERM

n() { ip netns exec $NS "$@"; }

ip netns add $NS || world_bail "namespace"
ip -n $NS link set lo up
ip -n $NS link add v0 type veth peer name v1
# .53 first: the primary address is the source of local traffic.
for a in 53 63 66 54; do ip -n $NS addr add 198.18.0.$a/24 dev v0; done
ip -n $NS link set v0 up
ip -n $NS link set v1 up
n nft -f - <<'EOF'
table inet dead {
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 198.18.0.63 udp dport 53 drop
		ip daddr 198.18.0.63 tcp dport 53 drop
	}
}
EOF
mkdir -p /etc/netns/$NS
printf 'nameserver 198.18.0.63\nnameserver 198.18.0.53\nnameserver 198.18.0.66\nsearch example.test\noptions timeout:1 attempts:1\n' >"$RESOLV"
cp "$RESOLV" "$TMP/resolv.orig"

big=$(python3 -c 'print(",".join("x" * 250 for _ in range(12)))')
n dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=198.18.0.53 \
	--user=root --pid-file="$TMP/up.pid" --log-facility="$TMP/up.log" --local=/#/ \
	--address=/public.test/198.18.1.1 --address=/fwd.test/198.18.1.2 --txt-record="big.test,$big" \
	|| world_bail "upstream dnsmasq"
n dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=198.18.0.54 \
	--user=root --pid-file="$TMP/res.pid" --log-facility="$TMP/res.log" --local=/#/ --local-ttl=300 \
	--host-record=nas.home.int,203.0.113.50 --host-record=gitlab.corp.test,203.0.113.60 \
	--cname=www.corp.test,gitlab.corp.test --host-record=lab1.lab.test,203.0.113.80 \
	|| world_bail "resource dnsmasq"
n python3 "$SRC/tests/tools/dns_spoofer.py" 198.18.0.66 53 198.18.1.2 198.18.66.66 "$TMP/spoofer.log" &
disown
printf 'nas.home.int\n*.corp.test\n' >"$TMP/resources"

BACKUP=$TMP/resolv.conf.sluice-backup
host_backup_before=$(ls /etc/resolv.conf.sluice-backup 2>/dev/null)
start_stubd() {
	ip netns exec $NS "$STUBD" --resources "$TMP/resources" --resource-dns 198.18.0.54 --log-level debug \
		--backup "$BACKUP" >>"$TMP/stubd.log" 2>&1 &
	STUBD_PID=$!
	for _ in $(seq 50); do
		grep -q "^nameserver $S1" "$RESOLV" 2>/dev/null && n dig +time=1 +tries=1 @$S2 public.test >/dev/null && return 0
		sleep 0.1
	done
	diag "$(cat "$TMP/stubd.log")"
	return 1
}
check_eq "under ip netns exec it refuses to start without --backup" 2 \
	bash -c "ip netns exec $NS $STUBD --resources $TMP/resources --resource-dns 198.18.0.54 2>/dev/null; echo \$?"
start_stubd || world_bail "sluice-stubd did not start"
check "the backup is where --backup says" test -e "$BACKUP"
check_eq "... and not in the host's /etc" "$host_backup_before" bash -c "ls /etc/resolv.conf.sluice-backup 2>/dev/null"

check_match "resolv.conf points at the sentinels, in order" \
	"nameserver $S1.nameserver $S2.nameserver $S3" bash -c "grep ^nameserver $RESOLV | tr '\n' '.'"
check_match "resolv.conf keeps search and options" "search example.test" cat "$RESOLV"

# Forwarding: unchanged answers from the upstream behind each sentinel.
check_eq "UDP forwarding" 198.18.1.1 n dig +short @$S2 public.test
check_eq "TCP forwarding" 198.18.1.1 n dig +short +tcp @$S2 public.test
check_match "NXDOMAIN passed through" "status: NXDOMAIN" n dig @$S2 nosuch.test
check_match "a timeout over UDP: no answer" "timed out" \
	bash -c "ip netns exec $NS dig +time=1 +tries=1 @$S1 public.test || true"
check_match "a timeout over TCP: SERVFAIL" "status: SERVFAIL" n dig +tcp +time=8 +tries=1 @$S1 public.test
check_match "the host's resolver fails over to the next sentinel" "198.18.1.1" n getent ahosts public.test

# Large answers: TC over UDP, whole over TCP.
check_match "a 3000-byte TXT answer is truncated over UDP" "flags:[a-z ]* tc" \
	n dig +ignore +bufsize=1232 @$S2 big.test TXT
check_match "... and comes whole over TCP" "MSG SIZE  rcvd: 3[0-9][0-9][0-9]" n dig +tcp @$S2 big.test TXT
check_match "... and truncated to 512 without EDNS" "flags:[a-z ]* tc" n dig +ignore +noedns @$S2 big.test TXT
check_eq "several pipelined queries on one TCP connection" "1000 0 1 1001 3 0 1002 0 1" \
	bash -c "ip netns exec $NS python3 $SRC/tests/tools/dnsq.py pipeline $S2 public.test nosuch.test fwd.test | sort | tr '\n' ' ' | sed 's/ $//'"

# RFC 5452: forged answers (other port, wrong ID, wrong question) lose.
check_eq "forged answers are ignored, the genuine one wins" 198.18.1.2 n dig +short @$S3 spoof.test
check_match "... and the stub says so" "does not match" cat "$TMP/stubd.log"
sleep 1.1 # past FSOCK_AGE_MS: the next query leaves from a fresh socket
n dig +short +qid=4660 @$S3 spoof.test >/dev/null
check "queries a second apart leave from different random source ports" \
	bash -c "test \$(cut -d' ' -f1 $TMP/spoofer.log | sort -u | wc -l) -ge 2"
check_fails "the upstream never sees the asker's query ID" grep -q ' 4660$' "$TMP/spoofer.log"

# Malformed queries.
check_eq "FORMERR for a cut question, with the query's ID" "1 4242" n python3 "$SRC/tests/tools/dnsq.py" formerr $S2
check_eq "NOTIMP for another opcode" 4 n python3 "$SRC/tests/tools/dnsq.py" notimp $S2
check_match "the Firefox canary gets NXDOMAIN" "status: NXDOMAIN" n dig @$S2 use-application-dns.net

# Resources: proxy IPs from 100.96.0.0/11, never the real address.
first=$(n dig @$S2 nas.home.int | grep -o '^;; flags:[a-z ]*;')
nas=$(n dig +short @$S2 nas.home.int)
cached=$(n dig @$S2 nas.home.int | grep -o '^;; flags:[a-z ]*;')
check_eq "the first answer and the cached one carry the same flags (RA, the asker's RD, no AA)" \
	";; flags: qr rd ra; ;; flags: qr rd ra;" echo "$first" "$cached"
check_match "a resource name gets a proxy IP" "^100\.(9[6-9]|1[01][0-9]|12[0-7])\." echo "$nas"
check_eq "... the same one again (cached)" "$nas" n dig +short @$S2 nas.home.int
check_eq "... over TCP too" "$nas" n dig +short +tcp @$S2 nas.home.int
check_match "... and through glibc" "^$nas " n getent ahosts nas.home.int
www=$(n dig +short @$S2 www.corp.test)
gitlab=$(n dig +short @$S2 gitlab.corp.test)
check_match "a wildcard resource, CNAME flattened" "^100\." echo "$www"
check "two names on one real address get two proxy IPs" test "$www" != "$gitlab"
check_fails "the real address never shows" bash -c "ip netns exec $NS dig @$S2 www.corp.test | grep -q 203.0.113"
check_match "AAAA of an IPv4-only resource: NODATA" "status: NOERROR.*ANSWER: 0" \
	bash -c "ip netns exec $NS dig @$S2 nas.home.int AAAA | tr '\n' ' '"
check_match "HTTPS for a resource: NOERROR, no answer" "status: NOERROR.*ANSWER: 0" \
	bash -c "ip netns exec $NS dig @$S2 nas.home.int HTTPS | tr '\n' ' '"
check_eq "PTR for a proxy IP names the resource" "nas.home.int." n dig +short @$S2 -x "$nas"
check_match "a name under no resource is forwarded" "status: NXDOMAIN" n dig @$S2 server.home.int

# Live updates (SIGHUP rereads the resources file): queries in flight go on.
ip netns exec $NS bash -c "for i in \$(seq 60); do dig +short +time=2 +tries=1 @$S2 gitlab.corp.test; done" >"$TMP/burst.out" &
burster=$!
printf '*.corp.test\n*.lab.test\n' >"$TMP/resources"
kill -HUP $STUBD_PID
wait $burster
check_eq "a reload drops no query in flight" 60 bash -c "grep -c '^100\.' $TMP/burst.out"
check_match "an added resource takes effect" "^100\." n dig +short @$S2 lab1.lab.test
check_match "a removed resource is forwarded again (its cached answer forgotten)" \
	"status: NXDOMAIN" n dig @$S2 nas.home.int
check_eq "an unchanged resource keeps its proxy IP" "$gitlab" n dig +short @$S2 gitlab.corp.test

# resolv.conf comes back: after SIGTERM, and after kill -9 plus a restart.
kill -9 $STUBD_PID
wait $STUBD_PID 2>/dev/null
check_match "after kill -9 resolv.conf still names the sentinels" "nameserver $S1" cat "$RESOLV"
start_stubd || world_bail "sluice-stubd did not restart"
check_match "a restart serves again" "198.18.1.1" n dig +short @$S2 public.test
kill -TERM $STUBD_PID
wait $STUBD_PID 2>/dev/null
check "SIGTERM restores resolv.conf byte for byte" cmp "$TMP/resolv.orig" "$RESOLV"
check_fails "and removes the sentinel addresses" bash -c "ip -n $NS addr show lo | grep -q 100.100.111"
finish
