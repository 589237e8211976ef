#!/usr/bin/env bash
# tests/world/world.sh — the demo world of sluice, built from network namespaces.
#
#   world.sh [--prefix P] [--state DIR] [--build DIR] up|down|status
#
#   --prefix P   namespace name prefix (default "sl-"; tests use e.g. "sl-test-")
#   --state DIR  configs, pid files, logs and the portal's data and tokens
#                (default <repo>/.demo, git-ignored); `down` removes it whole.
#                Without --prefix, `down` and `status` use the prefix that `up`
#                recorded in DIR, else "sl-".
#   --build DIR  where sluice-portal and sluice are built (default $SLUICE_BUILD,
#                else <repo>/build)
#
# Nothing is created in the root namespace: no interface, bridge, route or nft
# rule. Outside the namespaces, `up` writes only /etc/netns/<ns>/resolv.conf
# (`ip netns exec` mounts it over /etc/resolv.conf) and the state dir.
#
#                  ${P}net: the "internet", 198.51.100.0/24 on one bridge
#   +---------------+---------------+------ br0 ------+----------------+------------------+
#   | veth client   | veth client2  | veth portal     | veth gw        | veth gw2         | veth saas
#   |               |               |                 |                |                  |
#  ${P}client      ${P}client2     ${P}portal        ${P}gw           ${P}gw2            ${P}saas
#  eth0            eth0            eth0              eth0             eth0               eth0
#  198.51.100.10   198.51.100.11   198.51.100.30     198.51.100.20    198.51.100.21      198.51.100.40  nginx: github.saas.test
#  alice's device  bob's device    sluice-portal     ip_forward=1     the same as gw:                   (allowlist: only
#  resolver .53    resolver .53    :8443             nft: NAT for     forwarding, NAT,                  198.51.100.20, else 403)
#  no route to     no route to                       the LAN only;    no new connection                 and gist.github.saas.test
#  the LAN         the LAN                           nothing new      into the LAN                      for everyone
#                                                    from eth0 to     resolver                          198.51.100.41  nginx: slack.saas.test,
#                                                    lan0             203.0.113.53                                     *.slack.saas.test
#                                                    resolver                                           198.51.100.53  dnsmasq: the public
#                                                    203.0.113.53     lan0 203.0.113.2                                 resolver, NXDOMAIN for
#                                                    lan0 203.0.113.1      2001:db8:113::2                             the names it does not know
#                                                         2001:db8:113::1  |
#                                                      | veth              | veth
#                                                    ${P}lan: br0, the LAN's switch (ports gw, gw2, hosts)
#                                                      | veth hosts -- eth0, the LAN's hosts; default routes via
#                                                      |                     203.0.113.1 and 2001:db8:113::1 (gw)
#                                                    203.0.113.50   2001:db8:113::50  nginx: nas.home.int
#                                                    203.0.113.60   2001:db8:113::60  nginx: gitlab.company.com
#                                                                                     (IPv4 also on :443, plain HTTP)
#                                                    203.0.113.70   2001:db8:113::70  nginx: server.home.int
#                                                    203.0.113.53   dnsmasq: the LAN's DNS (the gateways' resolver):
#                                                                   nas.home.int A and AAAA, v6only.home.int AAAA
#                                                                   only, rr.home.int three A (.50 .60 .70), NODATA
#                                                                   for a type a name lacks; saas.test and every
#                                                                   other name: 198.51.100.53
#                                                    203.0.113.200  iperf3 -s (:5201), UDP echo :7 (socat)
#
# Before sluice, the devices cannot reach 203.0.113.0/24: they have no route there,
# and even with one a gateway drops new connections from the internet to the
# LAN (its nft rules only match eth0 -> lan0, so traffic that sluice's gateway
# forwards from its TUN is untouched). The LAN reaches the internet through the
# first gateway's masquerade, so the SaaS hosts see the LAN as 198.51.100.20;
# what sluice-gateway in gw2 forwards into the LAN leaves it as 203.0.113.2, so
# the answers go straight back to gw2.
#
# The portal (tests/world/portal.sh) runs from a data dir made fresh in
# $STATE/portal and holds the demo's policy, built from nothing by `sluice
# admin` run from the client: $STATE/ca.pem and $STATE/admin.token are what
# `sluice admin` needs; $STATE/gw.token and $STATE/gw2.token are the site tokens
# of the two gateways (tests/world/gateway.sh --name gw|gw2), $STATE/alice.token
# and $STATE/bob.token the client tokens of the two devices
# (tests/world/client.sh --name client|client2).
#
# Resolvers: client, client2, portal and saas use 198.51.100.53; gw, gw2 and lan
# use 203.0.113.53. Every daemon runs from configs generated into $STATE/conf and
# logs into $STATE/logs. `down` kills every process in the world's namespaces
# (whoever started it: sluice-gateway and sluice-client too), waits for them to
# exit, then deletes the namespaces, /etc/netns/<ns> (so a device's resolv.conf
# that a killed sluice-client left pointing at its own nameservers goes too) and
# the state dir. `up` on a running world tears it down first; `down` on nothing
# succeeds silently; a failed `up` undoes itself.
set -eEuo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
MARKER=.sluice-world            # in $STATE: proves it is ours to delete
NAMES=(net client client2 portal gw gw2 saas lan)

PREFIX=
STATE=$REPO_ROOT/.demo
BUILD=${SLUICE_BUILD:-$REPO_ROOT/build}
CMD=

say() { printf '%s\n' "$*"; }
warn() { printf 'world.sh: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

usage() {
	cat <<EOF
usage: $0 [--prefix P] [--state DIR] [--build DIR] up|down|status
  up      build the world (tearing down a running one first), the portal with the
          demo's policy included
  down    tear it down: processes, namespaces, /etc/netns entries, state dir
  status  show what runs where, and whether the portal answers
defaults: --prefix sl- --state $REPO_ROOT/.demo --build ${SLUICE_BUILD:-$REPO_ROOT/build}
EOF
}

while (($#)); do
	case $1 in
	--prefix) (($# >= 2)) || die "--prefix needs a value"; PREFIX=$2; shift 2 ;;
	--prefix=*) PREFIX=${1#*=}; shift ;;
	--state) (($# >= 2)) || die "--state needs a value"; STATE=$2; shift 2 ;;
	--state=*) STATE=${1#*=}; shift ;;
	--build) (($# >= 2)) || die "--build needs a value"; BUILD=$2; shift 2 ;;
	--build=*) BUILD=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	up | down | status)
		[[ -z $CMD ]] || die "only one command, got '$CMD' and '$1'"
		CMD=$1; shift ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done
[[ -n $CMD ]] || { usage >&2; exit 2; }
((EUID == 0)) || die "must run as root (it creates network namespaces)"
for tool in ip nft dnsmasq nginx iperf3 socat dig curl setsid jq; do
	command -v "$tool" >/dev/null || die "missing tool '$tool' (see scripts/install-deps)"
done

[[ -n $STATE ]] || die "--state must not be empty"
STATE=$(realpath -m -- "$STATE")
case $STATE in
/ | /etc | /etc/* | /usr | /usr/* | /proc/* | /sys/* | /dev/* | "$REPO_ROOT" | "${HOME:-/}")
	die "refusing to use '$STATE' as the state dir" ;;
esac
if [[ -z $PREFIX && $CMD != up && -r $STATE/$MARKER ]]; then
	PREFIX=$(sed -n 's/^prefix=//p' "$STATE/$MARKER")
fi
PREFIX=${PREFIX:-sl-}
[[ $PREFIX =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$ ]] ||
	die "bad prefix '$PREFIX' (letters, digits, '_', '.', '-'; at most 32)"

CONF=$STATE/conf
LOGS=$STATE/logs
RUN=$STATE/run
BUILD=$(realpath -m -- "$BUILD")
# shellcheck source=tests/world/portal.sh
source "$(dirname "$SELF")/portal.sh"

ns() { printf '%s%s' "$PREFIX" "$1"; }
nsx() { local n=$1; shift; ip netns exec "$PREFIX$n" "$@"; }
# spawn NS OUTFILE CMD...: start a daemon in NS, stdin from /dev/null, output
# appended to OUTFILE. Never put redirections on a call of a shell function in
# `up`: if a signal arrives meanwhile, the EXIT trap would run with them still
# in place and its messages would vanish into the log (or /dev/null).
spawn() { local n=$1 out=$2; shift 2; ip netns exec "$PREFIX$n" "$@" </dev/null >>"$out" 2>&1; }
ns_exists() { [[ -e /run/netns/$PREFIX$1 ]]; }
any_ns_exists() {
	local n
	for n in "${NAMES[@]}"; do ns_exists "$n" && return 0; done
	return 1
}

# alive PID: the process exists and is not a zombie
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

world_pids() {
	local n
	for n in "${NAMES[@]}"; do
		ns_exists "$n" && ip netns pids "$(ns "$n")" 2>/dev/null
	done
	return 0
}

# ---------------------------------------------------------------- down

do_down() {
	local -a pids=() left=()
	local pid n i
	mapfile -t pids < <(world_pids | grep -vx -e "$$" -e "${BASHPID:-$$}" || true)
	if ((${#pids[@]})); then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do      # 5 s for a clean exit
			left=()
			for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
			((${#left[@]})) || break
			sleep 0.1
		done
		if ((${#left[@]})); then
			warn "killing ${#left[@]} process(es) that ignored SIGTERM: ${left[*]}"
			kill -KILL "${left[@]}" 2>/dev/null || true
			for ((i = 0; i < 30; i++)); do
				left=()
				for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
				((${#left[@]})) || break
				sleep 0.1
			done
			((${#left[@]} == 0)) || warn "still alive after SIGKILL: ${left[*]}"
		fi
	fi
	for n in "${NAMES[@]}"; do
		if ns_exists "$n"; then
			ip netns delete "$(ns "$n")" || warn "could not delete namespace $(ns "$n")"
		fi
		rm -rf -- "/etc/netns/$(ns "$n")"
	done
	# /etc/netns itself stays: another user of ip netns may be filling it right now
	if [[ -e $STATE/$MARKER ]]; then
		rm -rf -- "$STATE"
	fi
}

# ---------------------------------------------------------------- up

# The world is being built; on any failure the EXIT trap tears it down.
UP_STARTED=0
UP_DONE=0
on_exit() {
	local rc=$?
	if ((UP_STARTED && !UP_DONE)); then
		((rc)) || rc=1
		set +eE
		trap - ERR
		trap '' PIPE INT TERM HUP    # finish tearing down, even if our reader is gone
		warn "up failed; tearing down what was made"
		dump_logs
		do_down
	fi
	exit "$rc"
}
on_err() { # the failing command and where it was called from
	local i where=
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		where+=" <- ${FUNCNAME[i]}:${BASH_LINENO[i - 1]}"
	done
	warn "command failed: $1 (${where# <- })"
}
# the last lines of each non-empty log, since `down` deletes them
dump_logs() {
	local f
	for f in "$LOGS"/*; do
		[[ -s $f ]] || continue
		printf '%s:\n' "$f"
		tail -n 5 -- "$f" | sed 's/^/    /'
	done >&2 2>/dev/null
}
# log_tail FILE...: the last lines of those that exist, on one line
log_tail() { tail -q -n 3 -- "$@" 2>/dev/null | tr '\n' ' ' || true; }

write_resolv() {
	mkdir -p "/etc/netns/$(ns "$1")"
	printf '# written by tests/world/world.sh\nnameserver %s\noptions timeout:1 attempts:2\n' \
		"$2" >"/etc/netns/$(ns "$1")/resolv.conf"
}

# wait_for DESC CMD...: poll for up to 5 s
wait_for() {
	local desc=$1 i
	shift
	for ((i = 0; i < 50; i++)); do
		("$@") >/dev/null 2>&1 && return 0     # a subshell: see spawn()
		sleep 0.1
	done
	die "$desc did not come up"
}

build_network() {
	local h
	for h in "${NAMES[@]}"; do
		ip netns add "$(ns "$h")"
		ip -n "$(ns "$h")" link set lo up
	done

	# the internet: a bridge joining one veth per host; no address of its own
	ip -n "$(ns net)" link add br0 type bridge
	ip -n "$(ns net)" link set br0 up
	local -A inet=([client]=198.51.100.10 [client2]=198.51.100.11 [portal]=198.51.100.30
		[gw]=198.51.100.20 [gw2]=198.51.100.21 [saas]=198.51.100.40)
	for h in client client2 portal gw gw2 saas; do
		ip -n "$(ns net)" link add "$h" type veth peer name eth0 netns "$(ns "$h")"
		ip -n "$(ns net)" link set "$h" master br0 up
		ip -n "$(ns "$h")" addr add "${inet[$h]}/24" dev eth0
		ip -n "$(ns "$h")" link set eth0 up
	done
	ip -n "$(ns saas)" addr add 198.51.100.41/24 dev eth0
	ip -n "$(ns saas)" addr add 198.51.100.53/24 dev eth0

	# the LAN, one segment behind both gateways: in ${P}lan a bridge br0 (the
	# switch) with a port per gateway and one, "hosts", whose peer eth0 holds
	# the LAN hosts' addresses. nodad: the IPv6 addresses are usable at once,
	# so nginx can bind them.
	ip -n "$(ns lan)" link add br0 type bridge
	ip -n "$(ns lan)" link set br0 up
	ip -n "$(ns lan)" link add hosts type veth peer name eth0
	ip -n "$(ns lan)" link set hosts master br0 up
	local -A lan4=([gw]=203.0.113.1 [gw2]=203.0.113.2) lan6=([gw]=2001:db8:113::1 [gw2]=2001:db8:113::2)
	for h in gw gw2; do
		ip -n "$(ns "$h")" link add lan0 type veth peer name "$h" netns "$(ns lan)"
		ip -n "$(ns lan)" link set "$h" master br0 up
		ip -n "$(ns "$h")" addr add "${lan4[$h]}/24" dev lan0
		ip -n "$(ns "$h")" addr add "${lan6[$h]}/64" dev lan0 nodad
		ip -n "$(ns "$h")" link set lan0 up
	done
	for h in 50 60 70 53 200; do
		ip -n "$(ns lan)" addr add "203.0.113.$h/24" dev eth0
	done
	for h in 50 60 70; do
		ip -n "$(ns lan)" addr add "2001:db8:113::$h/64" dev eth0 nodad
	done
	ip -n "$(ns lan)" link set eth0 up
	# The first gateway is the LAN's router. What sluice-gateway in the second
	# forwards to the LAN leaves masqueraded as 203.0.113.2, so its answers go
	# straight back to it.
	ip -n "$(ns lan)" route add default via 203.0.113.1
	ip -n "$(ns lan)" -6 route add default via 2001:db8:113::1

	cat >"$CONF/gw.nft" <<'EOF'
# generated by tests/world/world.sh: a gateway (gw, gw2) as a router of the LAN.
# Only eth0 <-> lan0 is matched, so what sluice-gateway forwards from its TUN
# (and its own nft table) is not affected.
table inet sluice_world {
	chain forward {
		type filter hook forward priority filter; policy accept;
		# the internet may answer the LAN, never open a connection into it
		iifname "eth0" oifname "lan0" ct state established,related accept
		iifname "eth0" oifname "lan0" counter drop
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		# the LAN reaches the internet as the gateway's address
		ip saddr 203.0.113.0/24 oifname "eth0" masquerade
	}
}
EOF
	for h in gw gw2; do
		nsx "$h" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		nsx "$h" nft -f "$CONF/gw.nft"
	done

	write_resolv client 198.51.100.53
	write_resolv client2 198.51.100.53
	write_resolv portal 198.51.100.53
	write_resolv saas 198.51.100.53
	write_resolv gw 203.0.113.53
	write_resolv gw2 203.0.113.53
	write_resolv lan 203.0.113.53
}

write_dnsmasq_conf() { # NAME ADDRESS, extra lines on stdin
	{
		cat <<EOF
# generated by tests/world/world.sh
no-resolv
no-hosts
bind-interfaces
listen-address=$2
port=53
user=root
group=root
pid-file=$RUN/dnsmasq-$1.pid
log-facility=$LOGS/dnsmasq-$1.log
log-queries
local-ttl=60
EOF
		cat
	} >"$CONF/dnsmasq-$1.conf"
}

start_dns() {
	# The public resolver. dnsmasq answers REFUSED, not NXDOMAIN, for a name
	# it has no server for: local=/#/ makes every unknown name NXDOMAIN. Since
	# dnsmasq 2.86 an address=/d/IPv4 sends the d's other types (AAAA...)
	# upstream, which local=/#/ would turn into NXDOMAIN for a name that
	# exists: local=/slack.saas.test/ makes them NODATA, as a real zone would.
	write_dnsmasq_conf saas 198.51.100.53 <<'EOF'
host-record=github.saas.test,198.51.100.40
host-record=gist.github.saas.test,198.51.100.40
# slack.saas.test and every name under it
address=/slack.saas.test/198.51.100.41
local=/slack.saas.test/
local=/#/
EOF
	# The LAN's DNS: its own names, everything else to the public resolver.
	# local= makes it the zones' authority: a name it does not know is
	# NXDOMAIN, a type a name does not have NODATA (v6only.home.int A,
	# gitlab.company.com AAAA), never a question to the public resolver.
	write_dnsmasq_conf lan 203.0.113.53 <<'EOF'
host-record=nas.home.int,203.0.113.50,2001:db8:113::50
host-record=v6only.home.int,2001:db8:113::50
# round robin: three A records for one name
host-record=rr.home.int,203.0.113.50
host-record=rr.home.int,203.0.113.60
host-record=rr.home.int,203.0.113.70
host-record=gitlab.company.com,203.0.113.60
host-record=server.home.int,203.0.113.70
# other types of a resource name, passed through by the gateway as they are
txt-record=nas.home.int,"v=sluice test record"
mx-host=nas.home.int,mail.home.int,10
srv-host=nas.home.int,nas.home.int,80,1,5
local=/home.int/company.com/
server=/saas.test/198.51.100.53
server=198.51.100.53
EOF
	spawn saas "$LOGS/dnsmasq-saas.out" dnsmasq --conf-file="$CONF/dnsmasq-saas.conf" ||
		die "dnsmasq (public resolver) failed to start: $(log_tail "$LOGS"/dnsmasq-saas.*)"
	spawn lan "$LOGS/dnsmasq-lan.out" dnsmasq --conf-file="$CONF/dnsmasq-lan.conf" ||
		die "dnsmasq (LAN DNS) failed to start: $(log_tail "$LOGS"/dnsmasq-lan.*)"
}

# nginx_conf NAME: the http{} servers on stdin
write_nginx_conf() {
	local dir=$CONF/nginx-$1
	mkdir -p "$dir/tmp"
	{
		cat <<EOF
# generated by tests/world/world.sh
user nobody nogroup;
worker_processes 1;
pid $RUN/nginx-$1.pid;
lock_file $RUN/nginx-$1.lock;
error_log $LOGS/nginx-$1.error.log;
events { worker_connections 256; }
http {
	access_log $LOGS/nginx-$1.access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type text/plain;
	server_tokens off;
	keepalive_timeout 5;
EOF
		cat
		printf '}\n'
	} >"$dir/nginx.conf"
}

start_web() {
	# Each page names its host, the address (and port, when not 80) it was
	# asked on, and the address the request came from.
	write_nginx_conf lan <<'EOF'
	server {
		listen 203.0.113.50:80 default_server;
		server_name nas.home.int;
		location / { return 200 "nas.home.int (203.0.113.50): hello $remote_addr\n"; }
	}
	server {
		listen [2001:db8:113::50]:80 default_server;
		server_name nas.home.int v6only.home.int;
		location / { return 200 "nas.home.int (2001:db8:113::50): hello $remote_addr\n"; }
	}
	server {
		listen 203.0.113.60:80 default_server;
		server_name gitlab.company.com;
		location / { return 200 "gitlab.company.com (203.0.113.60): hello $remote_addr\n"; }
	}
	# plain HTTP on 443: a resource limited to tcp/443 still has a page
	server {
		listen 203.0.113.60:443 default_server;
		server_name gitlab.company.com;
		location / { return 200 "gitlab.company.com (203.0.113.60:443): hello $remote_addr\n"; }
	}
	server {
		listen [2001:db8:113::60]:80 default_server;
		server_name gitlab.company.com;
		location / { return 200 "gitlab.company.com (2001:db8:113::60): hello $remote_addr\n"; }
	}
	server {
		listen 203.0.113.70:80 default_server;
		server_name server.home.int;
		location / { return 200 "server.home.int (203.0.113.70): hello $remote_addr\n"; }
	}
	server {
		listen [2001:db8:113::70]:80 default_server;
		server_name server.home.int;
		location / { return 200 "server.home.int (2001:db8:113::70): hello $remote_addr\n"; }
	}
EOF
	# `return` runs before nginx's access phase, so allow/deny would not guard
	# it: the allowlist is a geo variable checked first.
	write_nginx_conf saas <<'EOF'
	geo $github_allowed {
		default        0;
		198.51.100.20  1;   # the gateway's address: the only one allowlisted
	}
	server {
		listen 198.51.100.40:80 default_server;
		server_name _;
		location / { return 404 "198.51.100.40: no site $host here\n"; }
	}
	server {
		listen 198.51.100.40:80;
		server_name github.saas.test;
		if ($github_allowed = 0) {
			return 403 "github.saas.test: $remote_addr is not on the IP allowlist\n";
		}
		location / { return 200 "github.saas.test (198.51.100.40): hello $remote_addr\n"; }
	}
	server {
		listen 198.51.100.40:80;
		server_name gist.github.saas.test;
		location / { return 200 "gist.github.saas.test (198.51.100.40): hello $remote_addr\n"; }
	}
	server {
		listen 198.51.100.41:80 default_server;
		server_name slack.saas.test *.slack.saas.test;
		location / { return 200 "$host (198.51.100.41, *.slack.saas.test): hello $remote_addr\n"; }
	}
EOF
	local site
	for site in lan saas; do
		spawn "$site" "$LOGS/nginx-$site.out" nginx -p "$CONF/nginx-$site/" \
			-c "$CONF/nginx-$site/nginx.conf" -e "$LOGS/nginx-$site.error.log" ||
			die "nginx ($site) failed to start: $(log_tail "$LOGS/nginx-$site".{error.log,out})"
	done
}

start_lan_tools() {
	spawn lan "$LOGS/iperf3.out" iperf3 -s -D -B 203.0.113.200 -I "$RUN/iperf3.pid" \
		--logfile "$LOGS/iperf3.log" || die "iperf3 failed to start: $(log_tail "$LOGS"/iperf3.*)"
	# UDP echo: one child per datagram, which lingers 2 s for more from that peer
	ip netns exec "$(ns lan)" setsid socat -T 2 UDP4-RECVFROM:7,bind=203.0.113.200,reuseaddr,fork PIPE \
		</dev/null >>"$LOGS/udp-echo.log" 2>&1 &
	echo $! >"$RUN/udp-echo.pid"
}

dns_answers() { # NS SERVER NAME EXPECTED
	[[ $(nsx "$1" dig +short +time=1 +tries=1 "@$2" "$3") == "$4" ]]
}
listening() { # NS PROTO ADDR:PORT
	nsx "$1" ss -Hln"$2" | awk '{print $4}' | grep -xF "$3" >/dev/null
}

wait_ready() {
	wait_for "public resolver 198.51.100.53" dns_answers saas 198.51.100.53 github.saas.test 198.51.100.40
	wait_for "LAN DNS 203.0.113.53" dns_answers lan 203.0.113.53 nas.home.int 203.0.113.50
	local a
	for a in 203.0.113.50 203.0.113.60 203.0.113.70 203.0.113.60:443 \
		'[2001:db8:113::50]' '[2001:db8:113::60]' '[2001:db8:113::70]'; do
		wait_for "nginx on $a" nsx lan curl -sf -o /dev/null --max-time 1 "http://$a/"
	done
	wait_for "nginx on 198.51.100.40" nsx saas curl -s -o /dev/null --max-time 1 http://198.51.100.40/
	wait_for "nginx on 198.51.100.41" nsx saas curl -sf -o /dev/null --max-time 1 http://198.51.100.41/
	wait_for "iperf3 on 203.0.113.200:5201" listening lan t 203.0.113.200:5201
	wait_for "UDP echo on 203.0.113.200:7" listening lan u 203.0.113.200:7
}

summary() {
	local w=$((${#PREFIX} + 8))
	row() { printf "  %-${w}s %-22s %s\n" "$@"; }
	say "world up: prefix $PREFIX, state $STATE"
	row "$(ns net)" "bridge br0" 'the "internet": 198.51.100.0/24 on one segment'
	row "$(ns client)" 198.51.100.10 "alice's device; resolver 198.51.100.53; no route to the LAN"
	row "$(ns client2)" 198.51.100.11 "bob's device; resolver 198.51.100.53; no route to the LAN"
	row "$(ns portal)" 198.51.100.30 "sluice-portal: https and wss on :8443"
	row "$(ns gw)" 198.51.100.20 "forwarding on; NAT for the LAN only; resolver 203.0.113.53"
	row "" "203.0.113.1" "on the LAN, and 2001:db8:113::1: the LAN's router"
	row "$(ns gw2)" 198.51.100.21 "the second gateway of site home, the same rules"
	row "" "203.0.113.2" "on the LAN, and 2001:db8:113::2"
	row "$(ns saas)" 198.51.100.40 "http github.saas.test (only from 198.51.100.20), gist.github.saas.test"
	row "" 198.51.100.41 "http slack.saas.test, *.slack.saas.test"
	row "" 198.51.100.53 "dns: the public resolver, NXDOMAIN for anything else"
	row "$(ns lan)" "203.0.113.50/.60/.70" "http nas.home.int, gitlab.company.com (also :443), server.home.int"
	row "" "2001:db8:113::50/60/70" "the same over IPv6"
	row "" 203.0.113.53 "dns: the LAN's names; the rest to 198.51.100.53"
	row "" "" "nas.home.int A+AAAA, v6only.home.int AAAA, rr.home.int 3 A"
	row "" 203.0.113.200 "iperf3 :5201, UDP echo :7"
	say "  logs: $LOGS"
	say "  try:  ip netns exec $(ns client) curl http://gist.github.saas.test"
	portal_summary
}

do_up() {
	if [[ -d $STATE && ! -e $STATE/$MARKER ]] && [[ -n $(ls -A -- "$STATE") ]]; then
		die "refusing to use '$STATE': not empty and not a world state dir (no $MARKER)"
	fi
	portal_require
	UP_STARTED=1
	if any_ns_exists; then
		say "world $PREFIX is up: tearing it down first"
		do_down
	fi
	rm -rf -- "$STATE"          # a stale state dir of ours, or an empty one
	mkdir -p "$STATE"
	printf 'prefix=%s\n' "$PREFIX" >"$STATE/$MARKER"      # first: it makes $STATE ours to delete
	mkdir -p "$CONF" "$LOGS" "$RUN"
	build_network
	start_dns
	start_web
	start_lan_tools
	wait_ready
	portal_up
	UP_DONE=1
	summary
}

# ---------------------------------------------------------------- status

# client_status NAME: one line on sluice-client in ${P}NAME (tests/world/client.sh)
client_status() {
	local sock=$RUN/$1.sock pid=- doc
	[[ -r $RUN/$1.pid ]] && pid=$(<"$RUN/$1.pid")
	if [[ $pid == - ]] || ! alive "$pid"; then
		say "  sluice-client: not running"
		return 0
	fi
	if doc=$(nsx "$1" "$BUILD/src/cli/sluice" status --socket "$sock" --json 2>/dev/null) &&
		[[ $(jq -r '.portal.connected' <<<"$doc" 2>/dev/null) == true ]]; then
		say "  sluice-client: pid $pid, connected to the portal (sluice status --socket $sock)"
	else
		say "  sluice-client: pid $pid, NOT connected to the portal, or no status socket ($sock)"
	fi
}

do_status() {
	local n pids rc=0
	if ! any_ns_exists; then
		say "world $PREFIX: down"
		return 3
	fi
	say "world $PREFIX: state $STATE"
	for n in "${NAMES[@]}"; do
		if ! ns_exists "$n"; then
			say "$(ns "$n"): MISSING"
			continue
		fi
		say "$(ns "$n"):"
		if [[ $n == net || $n == lan ]]; then
			say "  br0 ports: $(ip -n "$(ns "$n")" -br link show master br0 | awk '{sub(/@.*/, "", $1); print $1}' | tr '\n' ' ')"
		fi
		# addresses but the link-local ones
		ip -n "$(ns "$n")" -br addr show | awk '$1 != "lo" && NF > 2 {
			sub(/@.*/, "", $1); l = "  " $1
			for (i = 3; i <= NF; i++) if ($i !~ /^fe80:/) l = l " " $i
			if (l != "  " $1) print l }'
		{ ip -n "$(ns "$n")" -4 route show; ip -n "$(ns "$n")" -6 route show; } |
			sed -n 's/^default \(via [^ ]*\).*/  route: default \1/p'
		if [[ $n == client* ]]; then
			say "  resolv.conf: $(sed -n 's/^nameserver //p' "/etc/netns/$(ns "$n")/resolv.conf" 2>/dev/null | paste -sd' ')"
			client_status "$n"
		fi
		pids=$(ip netns pids "$(ns "$n")" | tr '\n' ',' | sed 's/,$//')
		if [[ -n $pids ]]; then
			ps -o pid=,args= -p "$pids" | sed 's/^ */  pid /'
		fi
		nsx "$n" ss -Hlntu 2>/dev/null | awk '{print "  listen " $1 " " $5}' | sort -u
		if [[ $n == portal ]]; then
			portal_status || rc=1
		fi
	done
	for n in "${NAMES[@]}"; do ns_exists "$n" || return 1; done
	return "$rc"
}

case $CMD in
up)
	trap on_exit EXIT
	trap 'on_err "$BASH_COMMAND"' ERR
	trap 'exit 130' INT
	trap 'exit 143' TERM
	do_up
	;;
down)
	trap '' INT TERM HUP PIPE     # finish tearing down, whatever happens
	do_down
	;;
status) do_status ;;
esac
