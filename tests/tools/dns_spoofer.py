#!/usr/bin/env python3
"""An upstream DNS server that tries to poison the stub (RFC 5452 checks).

For every query it first sends three forged answers carrying POISON, then,
after a pause, the genuine answer carrying GOOD:
  1. from another source port (the stub's socket is connected: the kernel drops it),
  2. with a wrong ID,
  3. with a different question.
Usage: dns_spoofer.py ADDR PORT GOOD POISON [LOG]
LOG, if given, gets a line "source-port id" for every query, as it arrived.
"""
import socket
import struct
import sys
import time


def answer(query, ident, qname_wire, ip):
    qd_end = 12 + len(qname_wire) + 4
    flags = 0x8180  # QR, RD, RA
    hdr = struct.pack(">HHHHHH", ident, flags, 1, 1, 0, 0)
    question = qname_wire + query[12 + len(qname_wire):qd_end]
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
    return hdr + question + rr


def qname_of(query):
    i = 12
    while query[i] != 0:
        i += 1 + query[i]
    return query[12:i + 1]


def main():
    addr, port, good, poison = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    log = open(sys.argv[5], "a", buffering=1) if len(sys.argv) > 5 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((addr, 0))
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 17:
            continue
        ident = struct.unpack(">H", q[:2])[0]
        if log:
            log.write(f"{peer[1]} {ident}\n")
        name = qname_of(q)
        other.sendto(answer(q, ident, name, poison), peer)
        s.sendto(answer(q, (ident + 1) & 0xffff, name, poison), peer)
        s.sendto(answer(q, ident, b"\x05other\x04test\x00", poison), peer)
        time.sleep(0.1)
        s.sendto(answer(q, ident, name, good), peer)


if __name__ == "__main__":
    main()
