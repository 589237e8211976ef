#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_gso: a vnet header (host order, little
endian here) and a packet, as a TUN read gives them. hdr_len, which
gso_split() ignores, picks the fuzz target's out buffers: cap = 40 +
(hdr_len & 0x3ff) * 2, headroom = (hdr_len >> 10) & 15, max_segs = 1 +
(hdr_len >> 14) * 21. Run from this directory.

real-*: read from a TUN by test_gso (the kernel's SYN, TSO and USO
super-packets, hdr_len as the kernel set it); real-*-roomy: the same with
hdr_len rewritten to ROOMY. This script leaves them alone."""
import struct

NEEDS_CSUM = 1
NONE, TCPV4, UFO, TCPV6, UDP_L4, ECN = 0, 1, 3, 4, 5, 0x80
ACK, PSH, FIN, SYN, CWR = 0x10, 0x08, 0x01, 0x02, 0x80
ROOMY = 0xC000 | (8 << 10) | 0x3FF  # cap 2086, headroom 8, 64 segments


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def csum(b, s=0):
    if len(b) % 2:
        b += b"\0"
    for i in range(0, len(b), 2):
        s += b[i] << 8 | b[i + 1]
    return fold(s)


def pseudo(src, dst, proto, length):
    return fold(csum(src + dst) + proto + (length >> 16) + (length & 0xFFFF))


def ip(v, proto, l4, src, dst, ident=0x1234, opts=b"", frag=0x4000):
    if v == 4:
        hl = 20 + len(opts)
        h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(l4), ident,
                                  frag, 64, proto, 0, src, dst) + opts)
        struct.pack_into("!H", h, 10, 0xFFFF ^ csum(bytes(h)))
        return bytes(h) + l4
    return struct.pack("!IHBB16s16s", 0x60012345, len(l4), proto, 64, src, dst) + l4


ADDR = {4: (bytes([10, 1, 0, 1]), bytes([10, 2, 0, 2])),
        6: (bytes.fromhex("fd000000000000000000000000000001"),
            bytes.fromhex("fd000000000000000000000000000002"))}


def tcp(v, flags, payload, opts=b"", ipopts=b"", partial=True, seq=0xFFFFF000):
    src, dst = ADDR[v]
    th = bytearray(struct.pack("!HHIIBBHHH", 443, 50000, seq, 77, (20 + len(opts)) // 4 << 4,
                               flags, 65535, 0, 0) + opts)
    l4 = bytes(th) + payload
    ps = pseudo(src, dst, 6, len(l4))
    c = ps if partial else 0xFFFF ^ csum(l4, ps)
    l4 = l4[:16] + struct.pack("!H", c) + l4[18:]
    return ip(v, 6, l4, src, dst, opts=ipopts)


def udp(v, payload, partial=True):
    src, dst = ADDR[v]
    l4 = struct.pack("!HHHH", 4500, 51820, 8 + len(payload), 0) + payload
    ps = pseudo(src, dst, 17, len(l4))
    c = ps if partial else (0xFFFF ^ csum(l4, ps)) or 0xFFFF
    return ip(v, 17, l4[:6] + struct.pack("!H", c) + l4[8:], src, dst)


def vnet(flags, gso_type, hdr_len, gso_size, start, off):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, start, off)


def data(n, seed=1):
    return bytes(((i + seed) * 2654435761 >> 24) & 0xFF for i in range(n))


TS = bytes([1, 1, 8, 10]) + struct.pack("!II", 0x01020304, 0xA0B0C0D0)
seeds = {}
for v, t in ((4, TCPV4), (6, TCPV6)):
    hl = 20 if v == 4 else 40
    p = tcp(v, ACK | PSH | FIN | CWR, data(10000), TS)
    seeds[f"tcp{v}-ecn-fin-psh-cwr"] = vnet(NEEDS_CSUM, t | ECN, ROOMY, 1448, hl, 16) + p
    p = tcp(v, ACK, data(40 * 1448), TS)
    seeds[f"tcp{v}-gro-40"] = vnet(NEEDS_CSUM, t, ROOMY, 1448, hl, 16) + p
    p = tcp(v, ACK | PSH, data(4000 + 7), TS)
    seeds[f"tcp{v}-short-last"] = vnet(NEEDS_CSUM, t, ROOMY, 1000, hl, 16) + p
    seeds[f"tcp{v}-one-segment"] = vnet(NEEDS_CSUM, t, ROOMY, 9000, hl, 16) + \
        tcp(v, ACK, data(700))
    seeds[f"udp{v}-uso"] = vnet(NEEDS_CSUM, UDP_L4, ROOMY, 1200, hl, 6) + udp(v, data(5000))
    seeds[f"none{v}-partial"] = vnet(NEEDS_CSUM, NONE, ROOMY, 0, hl, 16) + \
        tcp(v, SYN, b"", bytes([2, 4, 5, 0x50]))
    seeds[f"none{v}-plain"] = vnet(0, NONE, ROOMY, 0, 0, 0) + udp(v, data(30), False)
    # Broken or refused.
    seeds[f"tcp{v}-gso0"] = vnet(NEEDS_CSUM, t, ROOMY, 0, hl, 16) + p
    seeds[f"tcp{v}-truncated"] = (vnet(NEEDS_CSUM, t, ROOMY, 1000, hl, 16) + p)[:-1]
    seeds[f"tcp{v}-wrong-type"] = vnet(NEEDS_CSUM, UDP_L4, ROOMY, 1000, hl, 16) + p
    seeds[f"tcp{v}-too-many"] = vnet(NEEDS_CSUM, t, 0x3FF, 1000, hl, 16) + p
    seeds[f"tcp{v}-cap-small"] = vnet(NEEDS_CSUM, t, 0xC000 | 200, 1000, hl, 16) + p
p = tcp(4, ACK, data(3000), TS, ipopts=bytes([1, 1, 1, 0]))
seeds["tcp4-ip-options"] = vnet(NEEDS_CSUM, TCPV4, ROOMY, 1000, 24, 16) + p
seeds["tcp4-mf"] = vnet(NEEDS_CSUM, TCPV4, ROOMY, 1000, 20, 16) + \
    ip(4, 6, tcp(4, ACK, data(3000))[20:], *ADDR[4], frag=0x2000)
seeds["tcp6-ext-hdr"] = vnet(NEEDS_CSUM, TCPV6, ROOMY, 1000, 48, 16) + \
    ip(6, 60, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp(6, ACK, data(3000))[40:], *ADDR[6])
seeds["ufo"] = vnet(NEEDS_CSUM, UFO, ROOMY, 1000, 20, 6) + udp(4, data(3000))
seeds["none-bad-offsets"] = vnet(NEEDS_CSUM, NONE, ROOMY, 0, 60, 16) + udp(4, data(30))
seeds["empty"] = vnet(0, NONE, ROOMY, 0, 0, 0)
for name, b in seeds.items():
    with open(name, "wb") as f:
        f.write(b)
