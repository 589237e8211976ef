#!/usr/bin/env bash
# tests/world/client.sh — sluice-client on a device of the world.
#
#   client.sh start|stop|kill [--prefix P] [--state DIR] [--build DIR] [--name client|client2] [-- ARGS...]
#
# --name  which device (default client):
#           client   alice's, in ${P}client,  token $STATE/alice.token, state
#                    $STATE/client/, status socket $STATE/run/client.sock, log
#                    $STATE/logs/client.log, pid $STATE/run/client.pid
#           client2  bob's, in ${P}client2, token $STATE/bob.token, and client2
#                    for client in each of the others; if sluice-client has an
#                    --ifname option and ARGS name none, --ifname sluice1: the
#                    TUN is in its own namespace, but a UAPI socket
#                    (/var/run/wireguard/IFNAME.sock) is the host's
# start  runs sluice-client against the world's portal with the portal's CA; its
#        DNS backup goes to its state dir (under `ip netns exec`, /etc/resolv.conf
#        is the namespace's /etc/netns/<ns>/resolv.conf, which it rewrites and
#        restores). Then waits (15 s at most) until it is ready: `sluice status`
#        on its socket answers "connected": true (a build of `sluice` without the
#        status command: its log says "client up"). ARGS go to sluice-client.
# stop   SIGTERM, and waits until it has exited (it restores DNS, removes its routes)
# kill   SIGKILL, and waits until it is gone (a crash: it restores nothing; `world.sh
#        down` deletes the namespace's resolv.conf whatever it holds)
# `world.sh down` kills both with the rest.
set -euo pipefail

SCRIPT=client.sh
NAME=client
USAGE="usage: client.sh start|stop|kill [--prefix P] [--state DIR] [--build DIR] [--name client|client2] [-- ARGS]"
# shellcheck source=tests/world/daemon.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/daemon.sh"
daemon_parse "$@"

case $NAME in
client) TOKEN=$STATE/alice.token ;;
client2) TOKEN=$STATE/bob.token ;;
*) die "--name is client or client2, not '$NAME'" ;;
esac
BIN=$BUILD/src/client/sluice-client
SLUICE=$BUILD/src/cli/sluice
NS=$PREFIX$NAME
PIDF=$STATE/run/$NAME.pid
LOG=$STATE/logs/$NAME.log
SOCK=$STATE/run/$NAME.sock

# has_status: this build's `sluice` has the status command (2 is its usage error;
# on a socket that does not exist, `sluice status` says 3, no daemon)
has_status() {
	local rc=0
	[[ -x $SLUICE ]] || return 1
	"$SLUICE" status --socket "$STATE/run/.no-such-socket" --json >/dev/null 2>&1 || rc=$?
	((rc != 2))
}

# connected: the daemon's status socket answers "connected": true
connected() {
	local doc
	doc=$("$SLUICE" status --socket "$SOCK" --json 2>/dev/null) || return 1
	[[ $(jq -r '.portal.connected' <<<"$doc" 2>/dev/null) == true ]]
}

case $CMD in
start)
	[[ -x $BIN ]] || die "no $BIN: build first (make build)"
	[[ -s $TOKEN ]] || die "no $TOKEN: bring the world up first"
	[[ -e /run/netns/$NS ]] || die "no namespace $NS: bring the world up first"
	if [[ -s $PIDF ]] && alive "$(cat "$PIDF")"; then
		die "sluice-client ($NAME) already runs: pid $(cat "$PIDF")"
	fi
	mkdir -p "$STATE/run" "$STATE/logs"
	[[ -d $STATE/$NAME ]] || mkdir -m 0700 "$STATE/$NAME"
	if [[ $NAME == client2 && " ${ARGS[*]} " != *" --ifname"[\ =]* ]]; then
		help=$(timeout 5 "$BIN" --help 2>&1 || true)
		[[ $help != *--ifname* ]] || ARGS=(--ifname sluice1 "${ARGS[@]}")
	fi
	before=$(grep -c 'client up' "$LOG" 2>/dev/null || true)
	by_status=0
	has_status && by_status=1
	# setsid: it outlives this script and a Ctrl-C meant for it
	ip netns exec "$NS" setsid "$BIN" --portal https://198.51.100.30:8443 \
		--token-file "$TOKEN" --ca "$STATE/ca.pem" --state "$STATE/$NAME" \
		--dns-backup "$STATE/$NAME/resolv.conf.sluice-backup" --status-socket "$SOCK" \
		"${ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
	pid=$!
	echo "$pid" >"$PIDF"
	end=$((SECONDS + 15))
	while ((SECONDS < end)); do
		alive "$pid" || die "sluice-client ($NAME) exited: $(tail -n 5 "$LOG")"
		if ((by_status)); then
			connected && exit 0
		else
			now=$(grep -c 'client up' "$LOG" 2>/dev/null || true)
			((now > before)) && exit 0
		fi
		sleep 0.1
	done
	die "sluice-client ($NAME) not connected to the portal within 15 s: $(tail -n 5 "$LOG")"
	;;
stop | kill)
	daemon_stop sluice-client "$PIDF"
	;;
esac
