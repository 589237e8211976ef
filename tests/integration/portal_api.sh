#!/usr/bin/env bash
# The portal's REST API over real HTTPS: `sluice-portal init` then `serve` on
# 127.0.0.1 (a free port), driven with curl --cacert ca.pem. Every endpoint
# family, validation errors, auth failures, and persistence across a clean
# restart and after kill -9. Needs no root and no namespace.
#
# A device registers itself with a WSS upgrade (curl speaks it): the client row
# comes from the session hub. One flow record is written into the database with
# sqlite3 while the portal is stopped. Then real sessions (tests/tools/sluice-session,
# the project's ctl library): a device granted a resource through a gateway, the
# portal restarted, the gateway's init listing the authorization with its PSK;
# a gateway's flow_log read back as a traffic row by the API and `sluice admin`.
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
PORTAL=$BUILD/src/portal/sluice-portal
SESSION=$BUILD/tests/tools/sluice-session
ADMIN=$BUILD/src/cli/sluice
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
for prog in "$PORTAL" "$SESSION" "$ADMIN"; do
	[ -x "$prog" ] || { diag "no $prog: build first"; exit 1; }
done
for tool in curl python3 sqlite3 openssl; do
	command -v $tool >/dev/null || { diag "$tool is needed"; exit 77; }
done
# shellcheck source=lib/portal.sh
source "$SRC/tests/integration/lib/portal.sh"

portal_cleanup_more() {
	if [ -n "${GW_PID:-}" ]; then
		kill "$GW_PID" 2>/dev/null
		wait "$GW_PID" 2>/dev/null
	fi
}
start() { portal_start - --log-level debug; }
stop() { portal_stop "$@"; }
req() { req_as "$TOKEN" "$@"; }

# ws_upgrade TOKEN KEY NAME: a device's session upgrade; prints the HTTP status
ws_upgrade() {
	printf 'Authorization: Bearer %s\n' "$1" |
		curl -s --http1.1 --cacert "$DATA/ca.pem" --resolve "$NAME:$PORT:127.0.0.1" \
			--max-time 1 -o /dev/null -w '%{http_code}' -H @- -H 'Connection: Upgrade' \
			-H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
			-H "Sec-WebSocket-Key: $(head -c 16 /dev/urandom | base64)" \
			-H "X-Sluice-Public-Key: $2" -H "X-Sluice-Name: $3" "https://$NAME:$PORT/client/ws"
}

rs() { rs_as "$TOKEN" "$@"; }
# page PATH: the number of items and the next id of a list
page() {
	req GET "$1" >/dev/null || return 1
	echo "$(jf '#items') $(jf next)"
}
# rsf METHOD PATH BODY FIELD: the status and a field of the answer
rsf() {
	local st
	st=$(req "$1" "$2" "${3:-}") || return 1
	echo "$st $(jf "$4")"
}

# ---- init
TOKEN=$("$PORTAL" init --data "$DATA" --name "$NAME" --address 127.0.0.1 2>"$TMP/init.log")
check_match "init prints an admin token" '^sl_[A-Za-z0-9_-]{43}$' echo "$TOKEN"
check_eq "the data directory is 0700" 700 stat -c %a "$DATA"
check_eq "keys are 0600" "600 600" bash -c "stat -c %a '$DATA/ca.key' '$DATA/server.key' | paste -sd' '"
check "the server certificate is the CA's, for the name and the address" \
	bash -c "openssl verify -CAfile '$DATA/ca.pem' '$DATA/server.pem' && \
		openssl x509 -in '$DATA/server.pem' -noout -ext subjectAltName | grep -q 'DNS:$NAME, IP Address:127.0.0.1'"
sums=$(cd "$DATA" && sha256sum ./*)
check_fails "init refuses an initialised directory" "$PORTAL" init --data "$DATA" --name x.test
check_eq "... and changes nothing" "$sums" bash -c "cd '$DATA' && sha256sum ./*"
check_fails "init without names fails" "$PORTAL" init --data "$TMP/other"
check_fails "init with a bad address fails" "$PORTAL" init --data "$TMP/other" --address 1.2.3
check_fails "... and leaves nothing behind" test -e "$TMP/other"
check_fails "serve refuses a directory that was never initialised" \
	"$PORTAL" serve --data "$TMP" --listen 127.0.0.1 --port 0

start || world_bail "the portal did not start"
check_eq "it listens on the --listen address only" "127.0.0.1:$PORT" \
	bash -c "ss -Hltn 'sport = :$PORT' | awk '{print \$4}'"

# ---- TLS and auth
check_fails "a client without the portal's CA refuses it" \
	curl -sS --max-time 5 --resolve "$NAME:$PORT:127.0.0.1" "https://$NAME:$PORT/api/v1/sites"
check_eq "no token: 401" "401 unauthorized -" rs_as "" GET /sites
check_eq "a wrong token: 401" "401 unauthorized -" \
	rs_as "sl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /sites
check_eq "a malformed Authorization: 401" 401 curl -s -o /dev/null -w '%{http_code}' \
	--cacert "$DATA/ca.pem" --resolve "$NAME:$PORT:127.0.0.1" -H 'Authorization: Basic eDp5' \
	"https://$NAME:$PORT/api/v1/sites"
check_eq "an unknown path without a token: 401 first" 401 req_as "" GET /nope
check_eq "the admin token: 200" 200 req GET /sites
check_eq "an unknown path: 404" "404 not_found -" rs GET /nope
check_eq "a wrong method: 405" "405 method_not_allowed -" rs PUT /sites '{}'
check_eq "a method the API never uses: 501" 501 curl -s -o /dev/null -w '%{http_code}' \
	--cacert "$DATA/ca.pem" --resolve "$NAME:$PORT:127.0.0.1" -X OPTIONS \
	-H "Authorization: Bearer $TOKEN" "https://$NAME:$PORT/api/v1/sites"
"$PY" -c 'print("{\"name\":\"" + "x" * (1 << 20) + "\"}")' >"$TMP/huge.json"
check_eq "a body over 1 MiB: 413" 413 curl -s -o /dev/null -w '%{http_code}' \
	--cacert "$DATA/ca.pem" --resolve "$NAME:$PORT:127.0.0.1" --data-binary "@$TMP/huge.json" \
	-H "Authorization: Bearer $TOKEN" "https://$NAME:$PORT/api/v1/sites"

# ---- every family
check_eq "POST /sites" "201 hq" rsf POST /sites '{"name":"hq"}' name
check_eq "GET /sites/1" "200 hq" rsf GET /sites/1 "" name
check_eq "PATCH /sites/1" "200 HQ" rsf PATCH /sites/1 '{"name":"HQ"}' name
check_eq "a second site of that name: 409" "409 conflict name" rs POST /sites '{"name":"HQ"}'
check_eq "POST /gateways" "201 100.64.0.1" rsf POST /gateways '{"site_id":1,"name":"gw1"}' tunnel_ipv4
check_eq "PATCH /gateways/1 (endpoint)" "200 gw.example.com:51820" \
	rsf PATCH /gateways/1 '{"endpoint":"gw.example.com:51820"}' endpoint
check_eq "a gateway endpoint without a port: 400" "400 validation endpoint" \
	rs PATCH /gateways/1 '{"endpoint":"gw.example.com"}'
check_eq "POST /resources (dns)" "201 *.corp.test" rsf POST /resources \
	'{"site_id":1,"type":"dns","address":"*.corp.test","name":"corp","filters":[{"protocol":"tcp","ports":"443"}]}' address
check_eq "POST /resources (cidr)" "201 10.0.0.0/8" rsf POST /resources \
	'{"site_id":1,"type":"cidr","address":"10.0.0.0/8","name":"ten"}' address
check_eq "a cidr with host bits: 400 on address" "400 validation address" rs POST /resources \
	'{"site_id":1,"type":"cidr","address":"10.0.0.1/8","name":"x"}'
check_eq "a bad DNS pattern: 400 on address" "400 validation address" rs POST /resources \
	'{"site_id":1,"type":"dns","address":"a.**","name":"x"}'
check_eq "ports on icmp: 400 on the filter" "400 validation filters[0].ports" rs POST /resources \
	'{"site_id":1,"type":"ip","address":"10.1.1.1","name":"x","filters":[{"protocol":"icmp","ports":"1"}]}'
check_eq "a reference to no site: 400 on site_id" "400 validation site_id" rs POST /resources \
	'{"site_id":9,"type":"ip","address":"10.1.1.1","name":"x"}'
check_eq "an unknown field: 400 naming it" "400 validation colour" rs POST /sites '{"name":"b","colour":1}'
check_eq "a read-only field: 400 naming it" "400 validation online" rs PATCH /gateways/1 '{"online":true}'
check_eq "not JSON: 400 bad_request" "400 bad_request -" rs POST /sites 'name=hq'
check_eq "POST /users" "201 ada@example.com" rsf POST /users '{"name":"Ada","email":"ada@example.com"}' email
check_eq "POST /groups" "201 eng" rsf POST /groups '{"name":"eng"}' name
check_eq "PUT /groups/1/members/1" "200 1" rsf PUT /groups/1/members/1 "" user_id
check_eq "... again: 200, the same membership" "200 1" rsf PUT /groups/1/members/1 "" id
check_eq "GET /groups/1/members" "200 Ada" rsf GET /groups/1/members "" items.0.name
check_eq "PUT a member into no group: 404" "404 not_found -" rs PUT /groups/7/members/1
check_eq "POST /policies" "201 Europe/Paris" rsf POST /policies \
	'{"group_id":1,"resource_id":1,"conditions":{"time_zone":"Europe/Paris","time_windows":[{"days":["mon","tue"],"start":"22:00","end":"06:00"}],"source_cidrs":["198.51.100.0/24"]}}' \
	conditions.time_zone
check_eq "an unknown time zone: 400 on it" "400 validation conditions.time_zone" rs POST /policies \
	'{"group_id":1,"resource_id":1,"conditions":{"time_zone":"Mars/Olympus"}}'
check_eq "a bad window end: 400 on it" "400 validation conditions.time_windows[0].end" \
	rs PATCH /policies/1 '{"conditions":{"time_windows":[{"days":["mon"],"start":"09:00","end":"25:00"}]}}'
check_eq "PATCH /settings" "200 9.9.9.9" rsf PATCH /settings '{"upstream_dns":["9.9.9.9"]}' upstream_dns.0
check_eq "a nameserver that is not an address: 400" "400 validation upstream_dns[0]" \
	rs PATCH /settings '{"upstream_dns":["dns.example"]}'
check_eq "GET /settings" "200 9.9.9.9" rsf GET /settings "" upstream_dns.0
check_eq "GET /flows (none yet)" "200 0" rsf GET /flows "" "#items"
check_eq "POST /flows: 405" "405 method_not_allowed -" rs POST /flows '{"event":"granted"}'
check_eq "GET /clients (none yet)" "200 0" rsf GET /clients "" "#items"
check_eq "POST /clients: 405" "405 method_not_allowed -" rs POST /clients '{}'

# tokens
check_eq "POST /tokens (client)" 201 req POST /tokens '{"kind":"client","name":"ada laptop","user_id":1}'
CLIENT_TOKEN=$(jf secret)
check_eq "a client token on the admin API: 403" "403 forbidden -" rs_as "$CLIENT_TOKEN" GET /sites
check_eq "a device registers itself over WSS with the client token" 101 \
	ws_upgrade "$CLIENT_TOKEN" Qmp3zTqcxmsm4BPp1uygMzUK2JB/1NQKQXfWoUTYWmY= laptop
check_eq "... and is a client, named as it said" "200 laptop" rsf GET /clients/1 "" name
check_eq "... of the token's user, with tunnel addresses from the pool" "1 100.64.0.2 fd00:2021:1111::2" \
	echo "$(jf user_id)" "$(jf tunnel_ipv4)" "$(jf tunnel_ipv6)"
check_eq "an admin token cannot open a device session: 401" 401 \
	ws_upgrade "$TOKEN" Rmp3zTqcxmsm4BPp1uygMzUK2JB/1NQKQXfWoUTYWmY= other
check_eq "POST /tokens (site)" "201 1" rsf POST /tokens '{"kind":"site","site_id":1}' token.site_id
SITE_TOKEN=$(jf secret)
check_eq "a site token on the admin API: 403" 403 req_as "$SITE_TOKEN" GET /users
check_eq "a site token without a site: 400 on site_id" "400 validation site_id" rs POST /tokens '{"kind":"site"}'
check_eq "an expiry in the past: 400" "400 validation expires_at" \
	rs POST /tokens '{"kind":"admin","expires_at":"2001-01-01T00:00:00Z"}'
check_eq "POST /tokens (admin)" 201 req POST /tokens '{"kind":"admin","name":"second"}'
ADMIN2=$(jf secret)
ADMIN2_ID=$(jf token.id)
check_eq "the new admin token works" 200 req_as "$ADMIN2" GET /tokens
check_fails "... and no list shows a secret" grep -q "sl_" "$TMP/body"
check_eq "PATCH /tokens/N (name)" "200 renamed" rsf PATCH "/tokens/$ADMIN2_ID" '{"name":"renamed"}' name
check_eq "PATCH /tokens/N (kind): 400" "400 validation kind" rs PATCH "/tokens/$ADMIN2_ID" '{"kind":"site"}'
check_eq "POST /tokens/N/revoke" 200 req POST "/tokens/$ADMIN2_ID/revoke"
check_eq "a revoked token: 401" 401 req_as "$ADMIN2" GET /tokens
check_eq "DELETE /tokens/N" 204 req DELETE "/tokens/$ADMIN2_ID"
check_eq "GET /tokens/N after delete: 404" "404 not_found -" rs GET "/tokens/$ADMIN2_ID"

# lists
for i in 1 2 3 4 5; do req POST /groups "{\"name\":\"team$i\"}" >/dev/null; done
check_eq "a page of 2 and the next id (the last on the page)" "2 2" page '/groups?limit=2'
check_eq "the last page: next is null" "2 null" page '/groups?after=4'
check_eq "a filter" "200 team3" rsf GET '/groups?name=team3' "" items.0.name
check_eq "limit over 500: 400 on limit" "400 bad_request limit" rs GET '/groups?limit=501'
check_eq "an unknown argument: 400 naming it" "400 bad_request colour" rs GET '/groups?colour=red'
check_eq "a site with resources cannot go: 409" "409 conflict gateways" rs DELETE /sites/1
check_eq "DELETE /groups/6" 204 req DELETE /groups/6
check_eq "DELETE /groups/1/members/1" 204 req DELETE /groups/1/members/1
check_eq "GET /audit records the writes with the token" "200 1" rsf GET '/audit?entity=sites&action=create' "" items.0.token_id
check_eq "GET /audit/1 (init's own row)" "200 tokens" rsf GET /audit/1 "" entity

# ---- a clean restart keeps everything
stop TERM
check_eq "SIGTERM stops the portal cleanly (exit 0)" 0 echo $?
# an hour old: within the flows log's retention (90 days by default)
sqlite3 "$DATA/portal.db" "INSERT INTO flows (time, event, client_id, user_id, resource_id, reason) VALUES ($(($(date +%s) - 3600)), 'denied', 1, 1, 1, 'no_policy');"
start || world_bail "the portal did not restart"
check_eq "after a restart the site is there" "200 HQ" rsf GET /sites/1 "" name
check_eq "... the membership is gone as it was" "200 0" rsf GET /groups/1/members "" "#items"
check_eq "... the settings are there" "200 9.9.9.9" rsf GET /settings "" upstream_dns.0
check_eq "GET /clients" "200 laptop" rsf GET /clients "" items.0.name
check_eq "PATCH /clients/1 (name)" "200 ada laptop" rsf PATCH /clients/1 '{"name":"ada laptop"}' name
check_eq "PATCH /clients/1 (public_key): 400" "400 validation public_key" rs PATCH /clients/1 '{"public_key":"x"}'
check_eq "POST /clients/1/revoke" 200 req POST /clients/1/revoke
check_match "... sets revoked_at" '^[0-9]{4}-' jf revoked_at
check_eq "DELETE /clients/1" 204 req DELETE /clients/1
check_eq "GET /clients/1 after delete: 404" "404 not_found -" rs GET /clients/1
check_eq "GET /flows/1" "200 denied" rsf GET /flows/1 "" event
check_eq "GET /flows?event=granted" "200 0" rsf GET '/flows?event=granted' "" "#items"

# ---- sessions: an authorization survives a restart; flow_log becomes traffic rows
# session [ARGS]: one session (tests/tools/sluice-session) to the running portal
session() {
	"$SESSION" --portal "https://127.0.0.1:$PORT" --ca "$DATA/ca.pem" "$@"
}
# wait_line FILE PATTERN: until a line of FILE matches, 10 s at most
wait_line() {
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# field FILE TYPE PATH: a value of the first frame of TYPE in FILE (PATH as jf's)
field() {
	"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] != sys.argv[2]:
        continue
    v = m
    for k in filter(None, sys.argv[3].split(".")):
        v = v[int(k)] if isinstance(v, list) else v[k]
    print(v)
    break' "$@"
}
# the secrets in files, out of ps's sight; the keys are private keys, as wg genkey's
(
	umask 077
	printf '%s\n' "$SITE_TOKEN" >"$TMP/site.token"
	printf '%s\n' "$CLIENT_TOKEN" >"$TMP/client.token"
	head -c 32 /dev/urandom | base64 >"$TMP/gw.key"
	head -c 32 /dev/urandom | base64 >"$TMP/dev.key"
)
GW=(--token-file "$TMP/site.token" --key-file "$TMP/gw.key" --gateway 198.51.100.1:51820
	--name gw1 --authorize)
DEV=(--token-file "$TMP/client.token" --key-file "$TMP/dev.key" --name phone)
check_eq "POST /resources (ip)" 201 req POST /resources '{"site_id":1,"type":"ip","address":"10.1.1.1","name":"nas"}'
NAS=$(jf id)
check_eq "Ada may reach it" 201 req POST /policies "{\"group_id\":1,\"resource_id\":$NAS}"
req PUT /groups/1/members/1 >/dev/null
session "${GW[@]}" --seconds 60 watch >"$TMP/gw.1.out" 2>"$TMP/gw.1.err" &
GW_PID=$!
check "a gateway session opens (it claims gw1)" wait_line "$TMP/gw.1.out" '"type":"init"'
session "${DEV[@]}" request "$NAS" >"$TMP/dev.out"
check_eq "a device is granted the resource through it" 0 echo $?
PSK=$(field "$TMP/dev.out" access_granted psk)
EXPIRES=$(field "$TMP/dev.out" access_granted expires_at)
check_match "... a PSK and an expiry" '^[A-Za-z0-9+/]{43}= [0-9]+$' echo "$PSK $EXPIRES"
check_eq "... with the PSK the gateway was sent" "$PSK" field "$TMP/gw.1.out" authorize psk
check_eq "GET /flows?event=granted" "200 1" rsf GET '/flows?event=granted' "" "#items"
CID=$(req GET '/clients?name=phone' >/dev/null && jf items.0.id)
stop TERM
check_eq "SIGTERM with sessions open: exit 0" 0 echo $?
wait "$GW_PID"
check_eq "the gateway's session ended with the portal" 2 echo $?
GW_PID=
check_eq "the database holding the PSK is 0600" 600 stat -c %a "$DATA/portal.db"
FLOWS="{\"type\":\"flow_log\",\"flows\":[{\"client_id\":$CID,\"resource_id\":$NAS,\"start\":1790000000,\"end\":1790000060,\"rx_bytes\":1000,\"tx_bytes\":2000,\"proto\":\"tcp\",\"dst_port\":443},{\"client_id\":$CID,\"resource_id\":424242,\"start\":1,\"end\":2,\"rx_bytes\":0,\"tx_bytes\":0,\"proto\":\"udp\",\"dst_port\":53}]}"
start || world_bail "the portal did not restart"
# the gateway comes back, and once its init is in, reports two flows
session "${GW[@]}" --seconds 60 --send "$FLOWS" watch >"$TMP/gw.2.out" 2>"$TMP/gw.2.err" &
GW_PID=$!
check "after the restart the gateway's init comes" wait_line "$TMP/gw.2.out" '"type":"init"'
check_eq "... listing the authorization: device, resource, PSK, expiry" \
	"$CID $NAS $PSK $EXPIRES" \
	echo "$(field "$TMP/gw.2.out" init authorizations.0.client.id)" \
	"$(field "$TMP/gw.2.out" init authorizations.0.resource.id)" \
	"$(field "$TMP/gw.2.out" init authorizations.0.psk)" \
	"$(field "$TMP/gw.2.out" init authorizations.0.expires_at)"
session "${DEV[@]}" request "$NAS" >"$TMP/dev.2.out"
check_eq "the device asks again: granted" 0 echo $?
check_eq "... and gets the same PSK (one per device and gateway)" "$PSK" \
	field "$TMP/dev.2.out" access_granted psk
traffic_rows() {
	for _ in $(seq 200); do
		[ "$(rsf GET '/flows?event=traffic' "" '#items')" = "200 1" ] && return 0
		sleep 0.05
	done
	return 1
}
check "a gateway's flow_log becomes a traffic row (the unknown resource's flow dropped)" traffic_rows
kill "$GW_PID"
wait "$GW_PID"
GW_PID=
req GET '/flows?event=traffic' >/dev/null
check_eq "... with every field" "$CID 1 $NAS 1 tcp 443 1000 2000 2026-09-21T14:13:20Z 2026-09-21T14:14:20Z" \
	echo "$(jf items.0.client_id)" "$(jf items.0.user_id)" "$(jf items.0.resource_id)" \
	"$(jf items.0.gateway_id)" "$(jf items.0.protocol)" "$(jf items.0.port)" \
	"$(jf items.0.rx_bytes)" "$(jf items.0.tx_bytes)" "$(jf items.0.start)" "$(jf items.0.end)"
check_match "sluice admin flows list shows it" \
	"traffic +2026-09-21T14:13:20Z +2026-09-21T14:14:20Z +$CID +1 +$NAS +1 +tcp/443 +1000 +2000" \
	env SLUICE_PORTAL="https://127.0.0.1:$PORT" SLUICE_CA="$DATA/ca.pem" SLUICE_TOKEN="$TOKEN" \
	"$ADMIN" admin flows list --event traffic

# ---- kill -9 right after an answer loses nothing
check_eq "POST /sites (answered)" 201 req POST /sites '{"name":"answered-before-kill"}'
KILLED_ID=$(jf id)
stop KILL 2>/dev/null
start || world_bail "the portal did not start after kill -9"
check_eq "after kill -9 the answered write is there" "200 answered-before-kill" \
	rsf GET "/sites/$KILLED_ID" "" name
check_eq "... and its audit row" "200 1" rsf GET "/audit?entity=sites&entity_id=$KILLED_ID" "" "#items"
check_eq "the admin token still works" 200 req GET /sites
check_eq "a revoked token is still refused" 401 req_as "$ADMIN2" GET /sites
check "the portal logged no internal error" bash -c "! grep -h 'internal\\|handler failed' '$TMP'/portal.*.log"
stop TERM
check_eq "SIGTERM again: exit 0" 0 echo $?
finish
