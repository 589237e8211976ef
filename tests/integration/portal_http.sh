#!/usr/bin/env bash
# HTTP conformance of the portal's one TLS port (docs/security.md, "Requests"):
# raw requests over TLS (python3 ssl) to a real `sluice-portal serve` on
# 127.0.0.1, each checked for the status line it gets back, never a silent
# close: 400, 411, 413, 414, 431, 501, 505 for what a careful server refuses;
# HEAD on a static file and on an API GET (GET's status and headers, no body);
# valid requests still served, two on one connection. Needs no root.
set -uo pipefail

SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$SRC/build}
PORTAL=$BUILD/src/portal/sluice-portal
# shellcheck source=../world/lib.sh
source "$SRC/tests/world/lib.sh"
[ -x "$PORTAL" ] || { diag "no $PORTAL: build first"; exit 1; }
command -v python3 >/dev/null || { diag "python3 is needed"; exit 77; }
# shellcheck source=lib/portal.sh
source "$SRC/tests/integration/lib/portal.sh"

# raw.py PORT CA TOKEN: reads requests from stdin, one per line, as Python bytes
# expressions (b"...", b"a" * 9000; several on a line, separated by " ;; ", go on one
# connection); prints per line the status codes, or "closed" where the
# connection ended without an answer. With -v: the answers' heads and body sizes.
cat >"$TMP/raw.py" <<'PYEOF'
import socket, ssl, sys
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
verbose = "-v" in sys.argv[4:]

def read_answer(t, head_only):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = t.recv(65536)
        if not d:
            return None, buf
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    fields = {}
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        fields[k.strip().lower()] = v.strip()
    n = 0 if head_only else int(fields.get(b"content-length", b"0"))
    while len(body) < n:
        d = t.recv(65536)
        if not d:
            break
        body += d
    return lines, body

for line in sys.stdin:
    reqs = [eval(r.replace("TOKEN", token)) for r in line.strip().split(" ;; ")]
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                        server_hostname="portal.test")
    out = []
    for r in reqs:
        try:
            t.sendall(r)
            lines, body = read_answer(t, r.startswith(b"HEAD "))
        except (OSError, ssl.SSLError):
            lines = None
        if lines is None:
            out.append("closed")
            break
        out.append(lines[0].split(b" ")[1].decode())
        if verbose:
            # the head without its date-free fields' order changing: sorted
            print("\n".join(sorted(l.decode() for l in lines[1:])) + "\nbody %d" % len(body))
    t.close()
    print(" ".join(out))
PYEOF

raw() { "$PY" "$TMP/raw.py" "$PORT" "$DATA/ca.pem" "$TOKEN" "$@"; }
# row DESC EXPECTED REQUEST: one request line of raw.py, its answers
row() { check_eq "$1" "$2" raw <<<"$3"; }

TOKEN=$(portal_init) || { diag "init failed: $(cat "$TMP/init.log")"; exit 1; }
mkdir "$TMP/web"
printf '<!doctype html><title>sluice</title>\n' >"$TMP/web/index.html"
portal_start - --web "$TMP/web" || exit 1

H='Host: portal.test\r\n'
A='Authorization: Bearer TOKEN\r\n'
GET="b'GET /api/v1/settings HTTP/1.1\r\n$H$A\r\n'"
POST="b'POST /api/v1/sites HTTP/1.1\r\n$H$A"

# ---- valid requests are still served
row "a GET is served" 200 "$GET"
row "two requests on one connection (keep-alive)" "200 200" "$GET ;; $GET"
row "HTTP/1.0 without Host is served" 200 "b'GET /api/v1/settings HTTP/1.0\r\n$A\r\n'"
row "a static file" 200 "b'GET / HTTP/1.1\r\n$H\r\n'"

# ---- HEAD wherever GET is
for path in / /api/v1/settings; do
	check_eq "HEAD $path: GET's status and headers, no body, then the connection serves on" \
		"$(raw -v <<<"b'GET $path HTTP/1.1\r\n$H$A\r\n'" | sed 's/^body .*/body 0/')" \
		raw -v <<<"b'HEAD $path HTTP/1.1\r\n$H$A\r\n'"
	row "... and a GET after it on the same connection" "200 200" \
		"b'HEAD $path HTTP/1.1\r\n$H$A\r\n' ;; b'GET $path HTTP/1.1\r\n$H$A\r\n'"
done
check_match "HEAD / says the file's length" '^content-length: 37' \
	raw -v <<<"b'HEAD / HTTP/1.1\r\n$H\r\n'"

# ---- a method the API takes nowhere: 501 at once (lws matches the ones it knows
# without regard to case, so "get" is GET: docs/security.md)
for m in CONNECT TRACE OPTIONS PROPFIND trace; do
	target=/; [ $m = CONNECT ] && target=portal.test:443
	row "$m is 501" 501 "b'$m $target HTTP/1.1\r\n$H\r\n'"
done

# ---- the request line
row "HTTP/9.9 is 505" 505 "b'GET / HTTP/9.9\r\n$H\r\n'"
row "HTTP/2.0 (in HTTP/1 syntax) is 505" 505 "b'GET / HTTP/2.0\r\n$H\r\n'"
row "no version is 400" 400 "b'GET /\r\n$H\r\n'"
row "HTTP/1.1 without Host is 400" 400 "b'GET /api/v1/settings HTTP/1.1\r\n$A\r\n'"
row "two Host headers are 400" 400 "b'GET / HTTP/1.1\r\n${H}Host: other.test\r\n\r\n'"
row "%01 in the path is 400" 400 "b'GET /api/v1/set%01tings HTTP/1.1\r\n$H$A\r\n'"
row "a raw control character in the path is 400" 400 "b'GET /a\x01b HTTP/1.1\r\n$H\r\n'"
row "a control character in a query argument is 400" 400 \
	"b'GET /api/v1/settings?a=%1b HTTP/1.1\r\n$H$A\r\n'"
row "a 100 KB path is 414" 414 "b'GET /' + b'a' * 100000 + b' HTTP/1.1\r\n$H\r\n'"
row "a 100 KB query argument is 414" 414 "b'GET /?a=' + b'b' * 100000 + b' HTTP/1.1\r\n$H\r\n'"
row "a URL just over 4 KiB in arguments is 414" 414 \
	"b'GET /?' + b'&'.join(b'a%d=' % i + b'x' * 300 for i in range(14)) + b' HTTP/1.1\r\n$H\r\n'"
row "33 query arguments are 414" 414 \
	"b'GET /api/v1/settings?' + b'&'.join(b'a%d=1' % i for i in range(33)) + b' HTTP/1.1\r\n$H$A\r\n'"

# ---- headers
row "a 9 KB User-Agent is 431" 431 "b'GET / HTTP/1.1\r\n${H}User-Agent: ' + b'a' * 9000 + b'\r\n\r\n'"
row "8 KiB of headers is 431" 431 \
	"b'GET / HTTP/1.1\r\n$H' + b''.join(b'%s: ' % h + b'a' * 3000 + b'\r\n' for h in (b'Referer', b'Accept', b'User-Agent')) + b'\r\n'"

# ---- bodies
# what strtoull() would take as 2, with a valid body of 2 bytes
PATCH="b'PATCH /api/v1/settings HTTP/1.1\r\n$H$A"
for cl in +2 '\t2' ' 02 2' 2,2 0x2 -1; do
	row "Content-Length: $cl is 400" 400 "$PATCH""Content-Length: $cl\r\n\r\n{}'"
done
row "two differing Content-Length headers are 400" 400 \
	"$POST""Content-Length: 1\r\nContent-Length: 2\r\n\r\nab'"
row "Transfer-Encoding without a length is 411" 411 \
	"$POST""Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n'"
row "a body over max_body is 413" 413 "$POST""Content-Length: 2000000\r\n\r\n'"
row "a valid body is still taken" 200 "$PATCH""Content-Length: 2\r\n\r\n{}'"

# under ASan/UBSan a report makes this exit non-zero
portal_stop_check
if ((CHECKS_FAILED)); then diag "the portal's log:"; diag "$(tail -n 40 "$LOG")"; fi

finish
