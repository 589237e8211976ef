#!/usr/bin/env python3
"""Raw WebSocket sessions against the portal, with frames no library would send,
for tests/integration/portal_ws.sh. Every command takes the portal as
HOST:PORT:CA (a name the certificate carries, the port on 127.0.0.1, ca.pem).

  ws_raw.py upgrade P AUTH [NAME]      the upgrade's HTTP status with this
                                       Authorization value (a fresh device key)
  ws_raw.py unmasked P TOKEN           after init, an unmasked access_request:
                                       "close CODE" or "processed" (answered)
  ws_raw.py ask P TOKEN SIZE FRAGS     an access_request padded to SIZE bytes in
                                       FRAGS fragments: the answer's type and reason
  ws_raw.py flood P TOKENFILE N SIZE   N sessions (tokens from the file, in turn)
                                       each send SIZE bytes of one message, never
                                       finished; meanwhile one more session asks
                                       once. Prints the close codes the N got
                                       ("1009:400"), "legit TYPE REASON" and
                                       the close reasons with their counts
"""
import asyncio
import base64
import collections
import json
import os
import ssl
import sys

DEADLINE = 60  # s: for anything the portal must do; a test fails long before
CHUNK = 65536


def portal(spec):
    host, port, ca = spec.split(":", 2)
    return host, int(port), ca


def frame(op, payload, fin=True, mask=True, key=None):
    b0 = (0x80 if fin else 0) | op
    m = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, m | n])
    elif n < 65536:
        hdr = bytes([b0, m | 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([b0, m | 127]) + n.to_bytes(8, "big")
    if not mask:
        return hdr + payload
    key = os.urandom(4) if key is None else key
    if key == b"\0\0\0\0":
        return hdr + key + payload
    ks = (key * (n // 4 + 1))[:n]
    x = (int.from_bytes(payload, "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big")
    return hdr + key + x


async def read_frame(r):
    h = await r.readexactly(2)
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(await r.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await r.readexactly(8), "big")
    return bool(h[0] & 0x80), h[0] & 0x0F, await r.readexactly(n)


async def read_message(r, reason=None):
    """("text", str) for a whole text message, ("close", code) for a close frame
    (its reason appended to the list reason)."""
    parts = []
    while True:
        fin, op, p = await read_frame(r)
        if op == 8:
            if reason is not None:
                reason.append(p[2:].decode(errors="replace"))
            return "close", int.from_bytes(p[:2], "big") if len(p) >= 2 else 1005
        if op in (9, 10):
            continue  # lws answers our pings itself; its own we ignore
        parts.append(p)
        if fin:
            return "text", b"".join(parts).decode()


async def upgrade(spec, auth, name=None):
    host, port, ca = portal(spec)
    ctx = ssl.create_default_context(cafile=ca)
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=host,
                                         limit=1 << 22)
    # a public key the portal takes: a canonical u (top bit clear); a random one
    # is of small order or >= p with negligible odds
    pub = bytearray(os.urandom(32))
    pub[31] &= 0x7f
    key = base64.b64encode(bytes(pub)).decode()
    head = (f"GET /client/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Authorization: {auth}\r\nX-Sluice-Public-Key: {key}\r\n")
    if name is not None:
        head += f"X-Sluice-Name: {name}\r\n"
    w.write((head + "\r\n").encode("latin-1"))
    resp = await r.readuntil(b"\r\n\r\n")
    return int(resp.split()[1]), r, w


async def session(spec, token):
    """An open session whose init message was read."""
    st, r, w = await upgrade(spec, "Bearer " + token)
    if st != 101:
        raise RuntimeError(f"upgrade: {st}")
    kind, msg = await read_message(r)
    if kind != "text" or json.loads(msg)["type"] != "init":
        raise RuntimeError(f"no init: {kind} {msg}")
    return r, w


def request(size):
    body = '{"type":"access_request","req":7,"resource_id":424242}'
    pad = max(0, size - len(body))
    return ('{"type":"access_request",' + " " * pad + '"req":7,"resource_id":424242}').encode()


async def answer(r):
    while True:
        kind, msg = await read_message(r)
        if kind == "close":
            return f"close {msg}"
        m = json.loads(msg)
        if m.get("req") == 7:
            return f"{m['type']} {m.get('reason', '-')}"


async def ask(spec, token, size, frags):
    r, w = await session(spec, token)
    data = request(size)
    step = -(-len(data) // frags)
    # read as we send: a close frame must be seen before the reset that
    # follows it when the portal hangs up on bytes it did not read
    rd = asyncio.create_task(answer(r))
    try:
        for i in range(frags):
            if rd.done():
                break
            part = data[i * step:(i + 1) * step]
            w.write(frame(1 if i == 0 else 0, part, fin=i == frags - 1))
            await w.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    try:
        res = await asyncio.wait_for(rd, DEADLINE)
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        res = "eof"
    w.close()
    return res


async def unmasked(spec, token):
    r, w = await session(spec, token)
    w.write(frame(1, request(0), mask=False))
    await w.drain()
    try:
        res = await asyncio.wait_for(answer(r), DEADLINE)
    except (asyncio.IncompleteReadError, ConnectionError):
        return "eof"
    w.close()
    return "processed" if res.startswith("access_denied") else res


async def flood_one(r, w, size, reasons):
    async def closed():
        while True:
            kind, msg = await read_message(r, reasons)
            if kind == "close":
                return msg
    rd = asyncio.create_task(closed())
    sent = 0
    try:
        while sent < size and not rd.done():
            n = min(CHUNK, size - sent)
            w.write(frame(1 if sent == 0 else 0, b"a" * n, fin=False, key=b"\0\0\0\0"))
            await w.drain()
            sent += n
    except (ConnectionError, ssl.SSLError):
        pass
    try:
        code = await asyncio.wait_for(rd, DEADLINE)
    except asyncio.TimeoutError:
        code = "open"
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        code = "eof"
    w.close()
    return code


async def flood(spec, tokfile, n, size):
    tokens = open(tokfile).read().split()
    gate = asyncio.Semaphore(32)  # handshakes at once; the sessions all stay

    async def opened(i):
        async with gate:
            return await session(spec, tokens[i % len(tokens)])
    conns = await asyncio.gather(*(opened(i) for i in range(n)))
    reasons = []
    attack = asyncio.gather(*(flood_one(r, w, size, reasons) for r, w in conns))
    legit = await ask(spec, tokens[0], 200, 2)
    codes = collections.Counter(str(c) for c in await attack)
    print(" ".join(f"{c}:{k}" for c, k in sorted(codes.items())))
    print("legit " + legit)
    print("; ".join(f"{r}: {k}" for r, k in sorted(collections.Counter(reasons).items())))


def main():
    cmd, spec = sys.argv[1], sys.argv[2]
    if cmd == "upgrade":
        async def go():
            st, _, w = await upgrade(spec, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
            w.close()
            return st
        print(asyncio.run(go()))
    elif cmd == "unmasked":
        print(asyncio.run(unmasked(spec, sys.argv[3])))
    elif cmd == "ask":
        print(asyncio.run(ask(spec, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    elif cmd == "flood":
        asyncio.run(flood(spec, sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
