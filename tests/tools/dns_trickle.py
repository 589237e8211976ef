#!/usr/bin/env python3
"""Slow DNS-over-TCP clients, for tests/integration/dns_tcp_slots.sh.

  dns_trickle.py attack SERVER N INTERVAL SECS STATUS
      Keeps N connections to SERVER:53, each sending the next byte of a
      length-prefixed query every INTERVAL s (the first at once), and opens a
      new one whenever the server closes one. Rewrites STATUS (JSON) twice a
      second: connects, closed (by the server), open, lifetimes (max and
      median of the closed ones, s), held_max (the longest any connection
      was open, closed or still open, s). Runs SECS s, or until SIGTERM.
  dns_trickle.py stall SERVER
      Two connections each send 3 bytes of a 30-byte query; one then stalls,
      the other sends one more byte every 0.5 s. Prints the seconds until the
      server closed each (or "open" after 8 s).
"""
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

MSG = struct.pack(">H", 28) + bytes(range(1, 29))


def attack(server, n, interval, secs, status):
    sel = selectors.DefaultSelector()
    conns = {}  # sock -> [born, next_send, pos]
    st = {"connects": 0, "closed": 0, "open": 0, "lifetime_max": 0.0, "lifetime_median": 0.0,
          "held_max": 0.0}
    lifetimes = []
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))

    def dial(now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((server, 53))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            return
        conns[s] = [now, now, 0]
        sel.register(s, selectors.EVENT_READ)
        st["connects"] += 1

    def drop(s, now):
        sel.unregister(s)
        born = conns.pop(s)[0]
        s.close()
        st["closed"] += 1
        lifetimes.append(now - born)

    end = time.monotonic() + secs
    next_status = 0
    redial = []  # times at which to open a replacement
    now = time.monotonic()
    for _ in range(n):
        dial(now)
    while not stop[0] and now < end:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                drop(s, time.monotonic())
                redial.append(time.monotonic() + 0.05)  # no busy loop on refusal
        now = time.monotonic()
        for s, c in list(conns.items()):
            if now >= c[1]:
                try:
                    s.send(MSG[c[2] % len(MSG):c[2] % len(MSG) + 1])
                    c[2] += 1
                except BlockingIOError:
                    pass  # not connected yet
                except OSError:
                    drop(s, now)
                    redial.append(now + 0.05)
                    continue
                c[1] = now + interval
        due = [t for t in redial if t <= now]
        redial = [t for t in redial if t > now]
        for _ in due:
            dial(now)
        if now >= next_status:
            next_status = now + 0.5
            st["open"] = len(conns)
            oldest = max((now - c[0] for c in conns.values()), default=0.0)
            st["held_max"] = round(max(oldest, st["held_max"]), 3)
            if lifetimes:
                srt = sorted(lifetimes)
                st["lifetime_max"] = round(srt[-1], 3)
                st["held_max"] = round(max(srt[-1], st["held_max"]), 3)
                st["lifetime_median"] = round(srt[len(srt) // 2], 3)
            with open(status + ".tmp", "w") as f:
                json.dump(st, f)
            os.replace(status + ".tmp", status)


def stall(server):
    socks = [socket.create_connection((server, 53), timeout=5) for _ in range(2)]
    t0 = time.monotonic()
    for s in socks:
        s.sendall(MSG[:3])
        s.setblocking(False)
    done = [None, None]
    pos = 3
    next_byte = t0 + 0.5
    while None in done and time.monotonic() - t0 < 8:
        now = time.monotonic()
        if now >= next_byte and done[1] is None:
            try:
                socks[1].send(MSG[pos:pos + 1])
                pos += 1
            except OSError:
                pass
            next_byte += 0.5
        for i, s in enumerate(socks):
            if done[i] is not None:
                continue
            try:
                if s.recv(4096) == b"":
                    done[i] = now - t0
            except BlockingIOError:
                pass
            except OSError:
                done[i] = now - t0
        time.sleep(0.01)
    print(" ".join("open" if d is None else "%.2f" % d for d in done))


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "attack":
        attack(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    elif len(sys.argv) == 3 and sys.argv[1] == "stall":
        stall(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
