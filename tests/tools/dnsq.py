#!/usr/bin/env python3
"""Raw DNS exchanges that dig cannot make, for the stub's tests.

  dnsq.py formerr SERVER          a query whose question is cut short: print the rcode
  dnsq.py notimp SERVER           opcode STATUS: print the rcode
  dnsq.py pipeline SERVER N1 N2.. several queries on one TCP connection, sent
                                  back to back; print one "id rcode ancount" line each
"""
import socket
import struct
import sys


def qwire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\x00"


def query(ident, name, qtype=1, flags=0x0100):
    return struct.pack(">HHHHHH", ident, flags, 1, 0, 0, 0) + qwire(name) + struct.pack(">HH", qtype, 1)


def udp(server, msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(msg, (server, 53))
    return s.recv(65535)


def main():
    op, server = sys.argv[1], sys.argv[2]
    if op == "formerr":
        r = udp(server, query(4242, "example.test")[:-3])
        print(r[3] & 0x0f, struct.unpack(">H", r[:2])[0])
    elif op == "notimp":
        r = udp(server, query(4243, "example.test", flags=0x1000))
        print(r[3] & 0x0f)
    elif op == "pipeline":
        s = socket.create_connection((server, 53), timeout=5)
        names = sys.argv[3:]
        for i, n in enumerate(names):
            m = query(1000 + i, n)
            s.sendall(struct.pack(">H", len(m)) + m)
        buf = b""
        got = 0
        while got < len(names):
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    sys.exit("connection closed")
                buf += chunk
            n = struct.unpack(">H", buf[:2])[0]
            m, buf = buf[2:2 + n], buf[2 + n:]
            print(struct.unpack(">H", m[:2])[0], m[3] & 0x0f, struct.unpack(">H", m[6:8])[0])
            got += 1
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
