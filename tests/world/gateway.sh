#!/usr/bin/env bash
# tests/world/gateway.sh — sluice-gateway in a gateway namespace of the world.
#
#   gateway.sh start|stop|kill [--prefix P] [--state DIR] [--build DIR] [--name gw|gw2] [-- ARGS...]
#
# --name  which gateway of site home (default gw):
#           gw   in ${P}gw,  endpoint 198.51.100.20:51820, token $STATE/gw.token,
#                key in $STATE/gateway/, log $STATE/logs/gateway.log,
#                pid $STATE/run/gateway.pid
#           gw2  in ${P}gw2, endpoint 198.51.100.21:51820, token $STATE/gw2.token,
#                key in $STATE/gateway2/, log $STATE/logs/gateway2.log,
#                pid $STATE/run/gateway2.pid, and --ifname sluice-gw2 unless ARGS
#                name one: the TUN is in its own namespace, but the UAPI socket
#                (/var/run/wireguard/IFNAME.sock) is the host's, so two gateways
#                running at once need two names
# start  runs sluice-gateway with the site token, the portal's CA, its key and
#        its log (appended), then waits (10 s at most) until it has its tunnel
#        from the portal. ARGS go to sluice-gateway.
# stop   SIGTERM, and waits until it has exited (it removes its table and device)
# kill   SIGKILL, and waits until it is gone (a crash: it removes nothing)
# `world.sh down` kills both with the rest.
set -euo pipefail

SCRIPT=gateway.sh
NAME=gw
USAGE="usage: gateway.sh start|stop|kill [--prefix P] [--state DIR] [--build DIR] [--name gw|gw2] [-- ARGS]"
# shellcheck source=tests/world/daemon.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/daemon.sh"
daemon_parse "$@"

case $NAME in
gw) ADDR=198.51.100.20 SUB=gateway ;;
gw2)
	ADDR=198.51.100.21 SUB=gateway2
	[[ " ${ARGS[*]} " == *" --ifname "* || " ${ARGS[*]} " == *" --ifname="* ]] ||
		ARGS=(--ifname sluice-gw2 "${ARGS[@]}")
	;;
*) die "--name is gw or gw2, not '$NAME'" ;;
esac
BIN=$BUILD/src/gateway/sluice-gateway
PIDF=$STATE/run/$SUB.pid
LOG=$STATE/logs/$SUB.log

case $CMD in
start)
	[[ -x $BIN ]] || die "no $BIN: build first (make build)"
	[[ -s $STATE/$NAME.token ]] || die "no $STATE/$NAME.token: bring the world up first"
	mkdir -p "$STATE/run" "$STATE/logs"
	before=$(grep -c 'tunnel .* up' "$LOG" 2>/dev/null || true)
	# setsid: it outlives this script and a Ctrl-C meant for it
	ip netns exec "$PREFIX$NAME" setsid "$BIN" --portal https://198.51.100.30:8443 \
		--token-file "$STATE/$NAME.token" --ca "$STATE/ca.pem" \
		--endpoint "$ADDR:51820" --state "$STATE/$SUB" --name "$NAME" \
		"${ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
	pid=$!
	echo "$pid" >"$PIDF"
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || die "sluice-gateway ($NAME) exited: $(tail -n 5 "$LOG")"
		now=$(grep -c 'tunnel .* up' "$LOG" 2>/dev/null || true)
		((now > before)) && exit 0
		sleep 0.1
	done
	die "sluice-gateway ($NAME) got no tunnel from the portal within 10 s: $(tail -n 5 "$LOG")"
	;;
stop | kill)
	daemon_stop sluice-gateway "$PIDF"
	;;
esac
