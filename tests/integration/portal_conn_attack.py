#!/usr/bin/env python3
"""The attacker of portal_conn.sh: many sockets against sluice-portal serve on
127.0.0.1. Each mode prints one result line, "key=value ..." (times in ms), for
the shell to check; "ready" lines go to the file named by --ready when the
attack is in place, and the mode then waits for --release to exist.

  hold N        TLS connections that send "CONNECT x:1 HTTP/1.1" and wait:
                lifetimes (min, max), how many the portal closed
  slowhead      one TLS connection sending a head one byte every 2 s: its lifetime
  bodies N PID  unauthenticated POSTs announcing 1 MB: how many got 401 (with
                WWW-Authenticate: Bearer) before a body byte, PID's RSS growth
                while they then trickle a byte a second
  slowbody TOK LEN RATE  an authenticated body of LEN bytes at RATE bytes/s:
                when the portal cut it
  open N SRC    N TLS connections from address SRC, held: how many got through
                the handshake (the others were refused)
  tcp N         N plain TCP connects (non-blocking), held
"""
import argparse
import os
import selectors
import socket
import ssl
import sys
import time

HOST = "127.0.0.1"


def now_ms():
    return time.monotonic() * 1000.0


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_connect(ctx, port, src=None, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout,
                                 source_address=(src, 0) if src else None)
    return ctx.wrap_socket(s, server_hostname="portal.test")


def ready(args):
    if args.ready:
        with open(args.ready, "a") as f:
            f.write("ready\n")


def wait_release(args, limit_s=120):
    end = time.monotonic() + limit_s
    while args.release and not os.path.exists(args.release) and time.monotonic() < end:
        time.sleep(0.05)


def rss_kib(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def watch_closes(sel, opened, closed, timeout, answers=None):
    for key, _ in sel.select(timeout):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except ssl.SSLWantReadError:
            continue
        except OSError:
            data = b""
        if data and answers is not None and s not in answers:
            answers[s] = data.split(b"\r\n")[0]
        if not data:
            closed[s] = now_ms()
            sel.unregister(s)


def mode_hold(args, n):
    ctx = tls_ctx()
    sel = selectors.DefaultSelector()
    opened, closed, answers, socks = {}, {}, {}, []
    for _ in range(n):
        t0 = now_ms()
        s = tls_connect(ctx, args.port)
        s.sendall(b"CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n")
        s.setblocking(False)
        opened[s] = t0
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
        watch_closes(sel, opened, closed, 0, answers)
    ready(args)
    end = time.monotonic() + args.limit
    while len(closed) < n and time.monotonic() < end:
        watch_closes(sel, opened, closed, 0.05, answers)
    life = [closed[s] - opened[s] for s in closed]
    got501 = sum(1 for a in answers.values() if a.startswith(b"HTTP/1.1 501"))
    print("opened=%d closed=%d min=%d max=%d got501=%d" % (
        n, len(closed), min(life) if life else -1, max(life) if life else -1, got501))


def mode_slowhead(args):
    ctx = tls_ctx()
    t0 = now_ms()
    s = tls_connect(ctx, args.port, src="127.0.0.3")
    head = b"GET /api/v1/sites HTTP/1.1\r\nHost: portal.test\r\n\r\n"
    s.settimeout(2.0)
    sent = 0
    end = time.monotonic() + args.limit
    while time.monotonic() < end:
        try:
            s.sendall(head[sent:sent + 1])
            sent += 1
            if not s.recv(1):
                break
        except socket.timeout:
            continue
        except OSError:
            break
    print("sent=%d life=%d" % (sent, now_ms() - t0))


def read_head(s, limit_s):
    data = b""
    end = time.monotonic() + limit_s
    s.settimeout(limit_s)
    while b"\r\n\r\n" not in data and time.monotonic() < end:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def mode_bodies(args, n, pid):
    ctx = tls_ctx()
    rss0 = rss_kib(pid)
    socks, got401, bearer = [], 0, 0
    for _ in range(n):
        s = tls_connect(ctx, args.port)
        s.sendall(b"POST /api/v1/sites HTTP/1.1\r\nHost: portal.test\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        socks.append(s)
    # every head is in before any answer is read: the portal holds them all
    for s in socks:
        head = read_head(s, 10).lower()
        if head.startswith(b"http/1.1 401"):
            got401 += 1
        if b"\r\nwww-authenticate: bearer" in head:
            bearer += 1
    peak = rss_kib(pid)
    for _ in range(3):  # the slow body itself: it must not grow anything
        for s in socks:
            try:
                s.sendall(b"{")
            except OSError:
                pass
        time.sleep(1)
        peak = max(peak, rss_kib(pid))
    print("conns=%d got401=%d bearer=%d rss0=%d peak=%d growth=%d" % (
        n, got401, bearer, rss0, peak, peak - rss0))


def mode_slowbody(args, token, length, rate):
    ctx = tls_ctx()
    s = tls_connect(ctx, args.port, src="127.0.0.3")
    s.sendall(("POST /api/v1/sites HTTP/1.1\r\nHost: portal.test\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (token, length)).encode())
    t0 = now_ms()
    step = max(1, rate // 10)
    sent, answer = 0, b""
    s.settimeout(0.1)
    end = time.monotonic() + args.limit
    while sent < length and time.monotonic() < end:
        try:
            s.sendall(b" " * min(step, length - sent))
            sent += min(step, length - sent)
        except OSError:
            break
        try:
            answer = s.recv(4096)
            if not answer:
                break
            break  # an answer before the body is complete
        except socket.timeout:
            pass
        except OSError:
            break
    print("sent=%d cut=%d answer=%s" % (sent, now_ms() - t0,
                                        answer.split(b"\r\n")[0].decode() or "none"))


def mode_open(args, n, src):
    ctx = tls_ctx()
    socks, refused = [], 0
    for _ in range(n):
        try:
            s = tls_connect(ctx, args.port, src=src, timeout=5)
            socks.append(s)
        except OSError:
            refused += 1
    # a refusal can also land just after the handshake: look once more
    time.sleep(0.3)
    held = 0
    for s in socks:
        s.setblocking(False)
        try:
            held += 1 if s.recv(1) else 0
        except ssl.SSLWantReadError:
            held += 1
        except OSError:
            pass
    print("held=%d refused=%d" % (held, n - held))
    sys.stdout.flush()
    ready(args)
    wait_release(args)


def mode_tcp(args, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((HOST, args.port))
        except BlockingIOError:
            pass
        socks.append(s)
    print("connects=%d" % n)
    sys.stdout.flush()
    ready(args)
    wait_release(args)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready")
    p.add_argument("--release")
    p.add_argument("--limit", type=float, default=60, help="seconds a mode waits at most")
    p.add_argument("mode")
    p.add_argument("rest", nargs="*")
    args = p.parse_args()
    r = args.rest
    if args.mode == "hold":
        mode_hold(args, int(r[0]))
    elif args.mode == "slowhead":
        mode_slowhead(args)
    elif args.mode == "bodies":
        mode_bodies(args, int(r[0]), r[1])
    elif args.mode == "slowbody":
        mode_slowbody(args, r[0], int(r[1]), int(r[2]))
    elif args.mode == "open":
        mode_open(args, int(r[0]), r[1])
    elif args.mode == "tcp":
        mode_tcp(args, int(r[0]))
    else:
        sys.exit("unknown mode " + args.mode)


if __name__ == "__main__":
    main()
