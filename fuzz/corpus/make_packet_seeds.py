#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_packet into fuzz/corpus/packet/: kernel-made
packets (as in tests/unit/test_packet.c) and built ones of every shape the
parser knows. Run from anywhere; it overwrites only the seed-* files."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packet")
S4, D4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7])
S6, D6 = bytes.fromhex("20010db8" + "0" * 23 + "1"), bytes.fromhex("20010db8" + "0" * 23 + "2")


def csum(b):
    b += b"\0" * (len(b) & 1)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4(proto, payload=b"", icmp_type=8, doff=5):
    if proto == 6:
        return struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, doff << 4, 0x10, 512, 0, 0) \
            + b"\x01" * (doff * 4 - 20) + payload
    if proto == 17:
        return struct.pack("!HHHH", 5353, 53, 8 + len(payload), 0) + payload
    if proto in (1, 58):
        return struct.pack("!BBHHH", icmp_type, 0, 0, 0x4242, 7) + payload
    return payload


def fill(seg, proto, pseudo):
    off = {6: 16, 17: 6, 1: 2, 58: 2}.get(proto)
    if off is None:
        return seg
    c = csum((b"" if proto == 1 else pseudo) + seg) or (0xFFFF if proto == 17 else 0)
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def v4(proto, seg, opts=b"", frag=0):
    seg = fill(seg, proto, S4 + D4 + struct.pack("!BBH", 0, proto, len(seg)))
    h = struct.pack("!BBHHHBBH4s4s", 0x45 + len(opts) // 4, 0, 20 + len(opts) + len(seg),
                    0x1234, frag, 64, proto, 0, S4, D4) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + seg


def v6(proto, seg, exts=(), frag=None):
    """exts: extension header types in order; frag: (offset|M) for a last fragment header."""
    seg = fill(seg, proto, S6 + D6 + struct.pack("!IxxxB", len(seg), proto))
    types = list(exts) + ([44] if frag is not None else [])
    chain = b""
    for i, t in enumerate(types):
        nxt = types[i + 1] if i + 1 < len(types) else proto
        if t == 44:
            chain += struct.pack("!BBHI", nxt, 0, frag, 0xDEADBEEF)
        elif t == 51:
            chain += struct.pack("!BB", nxt, 4) + b"\0" * 22
        else:
            chain += struct.pack("!BB", nxt, 1) + b"\x01\x04" + b"\0" * 12
    first = types[0] if types else proto
    return struct.pack("!IHBB16s16s", 0x60000000, len(chain) + len(seg), first, 64, S6, D6) \
        + chain + seg


REAL = {
    "udp4_dns": "45000039dfc04000401146df0a0900010a090002e047003500252971123401000001000000000000"
                "076578616d706c6503636f6d0000010001",
    "tcp4_syn": "4500003cdcf94000400649ae0a0900010a090002c09a01bb6fcf03d700000000a002faf07fee0000"
                "020405b40402080a001882f5000000000103030a",
    "icmp6_echo": "6004dc3200183a40fd000009000000000000000000000001fd00000900000000000000000000000280"
                  "0050d52ad30001da2d026b000000002b54020000000000",
    "icmp4_port_unreach": "45c0003d669d00004001ff4e0a0900010a09000203031130000000004500002112344000"
                          "401114840a0900020a0900019c400009000d0ba468656c6c6f",
    "icmp6_port_unreach": "60046b14003d3a40fd000009000000000000000000000001fd0000090000000000000000"
                          "00000002010493" "3e0000000060000000000d1140fd00000900000000000000000000"
                          "0002fd0000090000000000000000000000019c410009000d25a168656c6c6f",
    "mld_hbh": "6000000000240001fe8000000000000052d2c0a381eb69ddff02000000000000000000000000001"
               "63a000502000001008f0070c80000000104000000ff020000000000000000000000010003",
}

inner_tcp = v4(6, l4(6, b"x" * 40))[:28]
SEEDS = {
    "v4_tcp_opts": v4(6, l4(6, b"GET / HTTP/1.1\r\n", doff=8), opts=b"\x01" * 8),
    "v4_udp_csum0": v4(17, struct.pack("!HHHH", 1, 2, 12, 0) + b"abcd"),
    "v4_icmp_echo_reply": v4(1, l4(1, b"ping" * 4, icmp_type=0)),
    "v4_icmp_time_exceeded_cut": v4(1, l4(1, inner_tcp, icmp_type=11)),
    "v4_first_frag": v4(17, l4(17, b"F" * 32), frag=0x2000),
    "v4_later_frag": v4(17, b"G" * 24, frag=0x2000 | 4),
    "v4_padded": v4(17, l4(17, b"pad")) + b"\0" * 18,
    "v4_esp": v4(50, b"\0\0\0\x01" * 6),
    "v6_tcp": v6(6, l4(6, b"hello")),
    "v6_udp_ext_chain": v6(17, l4(17, b"chain"), exts=(0, 60, 43, 51)),
    "v6_first_frag": v6(58, l4(58, b"E" * 16, icmp_type=128), frag=0x0001),
    "v6_later_frag": v6(6, b"H" * 16, exts=(0,), frag=0x04d0),
    "v6_atomic_frag": v6(17, l4(17, b"atomic"), frag=0),
    "v6_no_next": v6(59, b""),
    "v6_esp_after_dstopts": v6(50, b"\0\0\0\x02" * 4, exts=(60,)),
    "v6_err_quoting_echo": v6(58, l4(58, v6(58, l4(58, b"Q" * 60, icmp_type=128))[:48],
                                     icmp_type=1)),
    "v6_nine_exts": v6(59, b"", exts=(60,) * 9),
}
SEEDS["v4_truncated"] = SEEDS["v4_tcp_opts"][:37]
SEEDS["v6_truncated_ext"] = SEEDS["v6_udp_ext_chain"][:70]
SEEDS["v6_jumbo"] = SEEDS["v6_udp_ext_chain"][:4] + b"\0\0" + SEEDS["v6_udp_ext_chain"][6:]

os.makedirs(OUT, exist_ok=True)
for name, hexs in REAL.items():
    SEEDS["real_" + name] = bytes.fromhex(hexs)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(SEEDS), OUT))
