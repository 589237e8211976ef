#!/usr/bin/env bash
# Devices and keys (issue 12, findings 4 and 5) against a real portal:
# `sluice-portal init`, `serve` on 127.0.0.1 (a free port), tokens and settings
# by `sluice admin`, devices and gateways opening their WSS upgrade (a small
# python client: it reads the answer to the upgrade and hangs up).
#   - public keys a WireGuard would refuse (small order, non-canonical u,
#     non-canonical base64): 403 bad_key on WSS, 400 on REST;
#   - a device's key taken by a gateway and the reverse: 403 key_in_use
#     (WSS, REST);
#   - the 21st device of a user: 403 device_limit; an existing one still
#     connects; deleting or revoking one makes room;
#   - a deleted device's tunnel addresses: not reused before the quarantine
#     (address_quarantine_seconds, short here), reused after it, and never
#     held by two rows at once.
# Needs no root and no namespace.
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
PORTAL=$BUILD/src/portal/sluice-portal
ADMIN=$BUILD/src/cli/sluice
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
for prog in "$PORTAL" "$ADMIN"; do
	[ -x "$prog" ] || { diag "no $prog: build first"; exit 1; }
done
for tool in curl python3 sqlite3; do
	command -v $tool >/dev/null || { diag "$tool is needed"; exit 77; }
done
# shellcheck source=lib/portal.sh
source "$SRC/tests/integration/lib/portal.sh"
QUARANTINE=4 # seconds: long enough that a registration right after a delete is inside it

# req METHOD PATH [BODY]: "STATUS" and, for an error, its code and field
req() { rs_as "$TOKEN" "$@"; }

# The upgrade, as a device (/client/ws) or a gateway (/gateway/ws): prints
# "101" or "STATUS CODE" per key, one a line, in order.
cat >"$TMP/ws.py" <<'EOF'
import base64, json, os, socket, ssl, sys
port, ca, name, token, path = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)
for key in sys.argv[6:]:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=10),
                        server_hostname=name)
    hdr = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
           "Authorization: Bearer %s\r\nX-Sluice-Public-Key: %s\r\n"
           "X-Sluice-Endpoint: 192.0.2.7:51820\r\n\r\n"
           % (path, name, base64.b64encode(os.urandom(16)).decode(), token, key))
    s.sendall(hdr.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b" ")[1].decode()
    if status == "101":
        print("101")
    else:
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(body) < n:
            d = s.recv(65536)
            if not d:
                break
            body += d
        try:
            code = json.loads(body)["error"]["code"]
        except Exception:
            code = "?"
        print(status, code)
    s.close()
EOF
ws() { "$PY" "$TMP/ws.py" "$PORT" "$DATA/ca.pem" "$NAME" "$@"; }
device() { local t=$1; shift; ws "$t" /client/ws "$@"; }
gateway() { local t=$1; shift; ws "$t" /gateway/ws "$@"; }

# newkey: a valid public key (random u below 2^254: canonical, and with
# overwhelming odds none of the five small-order points)
newkey() { "$PY" -c 'import os, base64; b = bytearray(os.urandom(32)); b[31] &= 0x3f; print(base64.b64encode(b).decode())'; }
# b64 HEX: base64 of the 32 bytes given as hex (little-endian u)
b64() { "$PY" -c 'import sys, base64; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }

# ---- the portal
TOKEN=$(portal_init) ||
	world_bail "init failed: $(cat "$TMP/init.log")"
portal_start || world_bail "the portal did not start"
admin sites create --name hq >/dev/null
admin users create --name ada >/dev/null
admin users create --name bob >/dev/null
ADA=$(admin -q tokens create --kind client --user 1)
BOB=$(admin -q tokens create --kind client --user 2)
SITE=$(admin -q tokens create --kind site --site 1)
if [ -z "$ADA" ] || [ -z "$BOB" ] || [ -z "$SITE" ]; then world_bail "no tokens"; fi

# ---- bad keys
ZERO=$(b64 0000000000000000000000000000000000000000000000000000000000000000)
ONE=$(b64 0100000000000000000000000000000000000000000000000000000000000000)
PM1=$(b64 ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f)
ORD8=$(b64 e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800)
ORD8HI=$(b64 5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7)
P=$(b64 edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f)
P5=$(b64 f2ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f)
GOOD=$(newkey)
TOPBIT=$("$PY" -c 'import sys, base64; b = bytearray(base64.b64decode(sys.argv[1])); b[31] |= 0x80; print(base64.b64encode(b).decode())' "$GOOD")
PADBITS=${GOOD:0:42}$(echo "${GOOD:42:1}" | tr 'AEIMQUYcgkosw048' 'BFJNRVZdhlptx159')=
NOPAD=${GOOD:0:43}
want=$(printf '403 bad_key\n%.0s' 1 2 3 4 5 6 7 8 9 10)
check_eq "a device with a small-order or non-canonical key: 403 bad_key (0, 1, p-1, order 8, order 8 with the top bit, p, p+5, a key with the top bit, padding bits, no padding)" \
	"$want" device "$ADA" "$ZERO" "$ONE" "$PM1" "$ORD8" "$ORD8HI" "$P" "$P5" "$TOPBIT" "$PADBITS" "$NOPAD"
check_eq "... a gateway too" "$(printf '403 bad_key\n403 bad_key\n403 bad_key')" \
	gateway "$SITE" "$ZERO" "$ORD8" "$TOPBIT"
check_eq "... and no row was made" "0 0" \
	sqlite3 "$DATA/portal.db" "SELECT (SELECT count(*) FROM clients) || ' ' || (SELECT count(*) FROM gateways)"
for k in "$ZERO" "$ONE" "$PM1" "$ORD8" "$P" "$TOPBIT" "$PADBITS"; do
	check_eq "REST: a gateway with public_key $k: 400 on public_key" "400 validation public_key" \
		req POST /gateways "{\"site_id\":1,\"name\":\"bad\",\"public_key\":\"$k\"}"
done
check_eq "the valid key itself: accepted" 101 device "$ADA" "$GOOD"

# ---- keys: a device's and a gateway's never the same
GWKEY=$(newkey)
check_eq "a gateway enrolls with its key" 101 gateway "$SITE" "$GWKEY"
check_eq "a device with the gateway's key: 403 key_in_use" "403 key_in_use" device "$BOB" "$GWKEY"
check_eq "a gateway with a device's key: 403 key_in_use" "403 key_in_use" gateway "$SITE" "$GOOD"
check_eq "REST: a new gateway with a device's key: 403 key_in_use" "403 key_in_use public_key" \
	req POST /gateways "{\"site_id\":1,\"name\":\"gw2\",\"public_key\":\"$GOOD\"}"
check_eq "REST: a gateway given a device's key: 403 key_in_use" "403 key_in_use public_key" \
	req PATCH /gateways/1 "{\"public_key\":\"$GOOD\"}"
check_eq "the gateway still enrolls with its own key" 101 gateway "$SITE" "$GWKEY"

# ---- the device limit (default 20): ada has 1 device
KEYS=()
for _ in $(seq 19); do KEYS+=("$(newkey)"); done
check_eq "ada's devices 2 to 20 register" "$(printf '101\n%.0s' $(seq 19))" device "$ADA" "${KEYS[@]}"
K21=$(newkey)
check_eq "the 21st: 403 device_limit" "403 device_limit" device "$ADA" "$K21"
check_eq "... bob's first is not counted against ada" 101 device "$BOB" "$(newkey)"
check_eq "an existing device still connects" "101" device "$ADA" "${KEYS[4]}"
ID5=$(sqlite3 "$DATA/portal.db" "SELECT id FROM clients WHERE public_key = '${KEYS[4]}'")
check_eq "revoking one makes room" "200" req POST "/clients/$ID5/revoke"
check_eq "... the 21st is in" 101 device "$ADA" "$K21"
K22=$(newkey)
check_eq "... and the next is refused again" "403 device_limit" device "$ADA" "$K22"
ID6=$(sqlite3 "$DATA/portal.db" "SELECT id FROM clients WHERE public_key = '${KEYS[5]}'")
check_eq "deleting one makes room" 204 req DELETE "/clients/$ID6"
check_eq "... the next is in" 101 device "$ADA" "$K22"
admin settings set --device-limit 2 >/dev/null
check_eq "a lower device_limit refuses new devices" "403 device_limit" device "$ADA" "$(newkey)"
check_eq "... not the existing ones" 101 device "$ADA" "${KEYS[0]}"
admin settings set --device-limit-default >/dev/null

# ---- tunnel addresses: quarantined, then reused
admin settings set --address-quarantine "$QUARANTINE" >/dev/null
quarantine_get() { echo "$(req GET /settings) $(jf address_quarantine_seconds)"; }
settings_text() { admin settings get | tr '\n' ' '; }
check_eq "the setting reads back" "200 $QUARANTINE" quarantine_get
check_match "sluice admin settings get shows them" "address_quarantine_seconds.*$QUARANTINE" \
	settings_text
check_eq "REST: a device_limit of 0: 400 on it" "400 validation device_limit" \
	req PATCH /settings '{"device_limit":0}'
check_eq "REST: a quarantine that is no integer: 400 on it" "400 validation address_quarantine_seconds" \
	req PATCH /settings '{"address_quarantine_seconds":"1h"}'
BKEY=$(newkey)
device "$BOB" "$BKEY" >/dev/null
BID=$(sqlite3 "$DATA/portal.db" "SELECT id FROM clients WHERE public_key = '$BKEY'")
ADDR=$(sqlite3 "$DATA/portal.db" "SELECT tunnel_ipv4 || ' ' || tunnel_ipv6 FROM clients WHERE id = $BID")
check_eq "bob's device deleted" 204 req DELETE "/clients/$BID"
FREED=$(sqlite3 "$DATA/portal.db" "SELECT freed_at FROM tunnel_free ORDER BY freed_at DESC LIMIT 1")
addr_of() { sqlite3 "$DATA/portal.db" "SELECT tunnel_ipv4 || ' ' || tunnel_ipv6 FROM clients WHERE public_key = '$1'"; }
N1=$(newkey)
device "$BOB" "$N1" >/dev/null
NOW=$(date +%s)
if ((NOW < FREED + QUARANTINE)); then
	check "inside the quarantine a new device gets other addresses" \
		test -n "$(addr_of "$N1")" -a "$(addr_of "$N1")" != "$ADDR"
else
	diag "the machine took over $QUARANTINE s: the not-before check is skipped"
fi
wait_for $((QUARANTINE + 10)) "the quarantine passes" \
	bash -c "test \$(date +%s) -ge $((FREED + QUARANTINE))"
# n of an address pair, as tunnel_free keeps it
num() { echo "$1" | awk -F'[. ]' '{print ($2 - 64) * 65536 + $3 * 256 + $4}'; }
# the free list also holds the device deleted above (its quarantine, the
# same setting, is over too): the oldest goes first
OLDEST=$(sqlite3 "$DATA/portal.db" "SELECT n FROM tunnel_free ORDER BY freed_at, n LIMIT 1")
N2=$(newkey)
N3=$(newkey)
check_eq "after it, new devices get freed addresses" "$(printf '101\n101')" device "$BOB" "$N2" "$N3"
check_eq "... the oldest freed first" "$OLDEST" num "$(addr_of "$N2")"
check "... and bob's deleted device's ($ADDR)" \
	test "$(addr_of "$N2")" = "$ADDR" -o "$(addr_of "$N3")" = "$ADDR"
check_eq "... each taken out of the free list" 0 \
	sqlite3 "$DATA/portal.db" "SELECT count(*) FROM tunnel_free"
check_eq "no address is held twice (clients and gateways)" "0" sqlite3 "$DATA/portal.db" "
	SELECT count(*) FROM (SELECT tunnel_ipv4 AS a FROM clients UNION ALL SELECT tunnel_ipv4 FROM gateways)
	GROUP BY a HAVING count(*) > 1
	UNION ALL SELECT 0 LIMIT 1"
check_fails "the database refuses a second row with a live address" sqlite3 "$DATA/portal.db" \
	"INSERT INTO clients (user_id, public_key, tunnel_ipv4, tunnel_ipv6, created_at)
	 SELECT 2, 'x', tunnel_ipv4, 'fd00::1', 0 FROM clients WHERE public_key = '$N3'"
# a deleted gateway's addresses go the same way
GWADDR=$(sqlite3 "$DATA/portal.db" "SELECT tunnel_ipv4 FROM gateways WHERE id = 1")
admin settings set --address-quarantine 1 >/dev/null
check_eq "a gateway deleted" 204 req DELETE /gateways/1
check_eq "... its addresses are in quarantine" 1 \
	sqlite3 "$DATA/portal.db" "SELECT count(*) FROM tunnel_free WHERE n = $(num "$GWADDR")"

# the end: TERM, exit 0, and nothing from a sanitizer in its log (an ASan build)
RC=0
portal_stop || RC=$?
check_eq "the portal stops cleanly, no sanitizer report" "0 0" \
	echo "$RC $(grep -cE 'Sanitizer|runtime error' "$LOG")"

finish
