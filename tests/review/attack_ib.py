#!/usr/bin/env python3
"""Attacks on the demo's cp949 internet-banking channel (127.0.0.1:9100, 8 ASCII digits before
each message). Run with `ficus demo` up; prints each case's reply header."""
import socket, sys

ADDR = ("127.0.0.1", 9100)

def hdr(op, seq, length=0):
    h = b"%06d" % length + op.ljust(8).encode() + b"IBK" + b"%010d" % seq + b"0" * 14 + b"    " + b" " * 40
    assert len(h) == 85
    return h

def msg(op, seq, body=b""):
    m = bytearray(hdr(op, seq) + body)
    m[0:6] = b"%06d" % len(m)
    return bytes(m)

def xfer_body(memo=b"RENT".ljust(20), amount=b"\x00\x00\x00\x00\x00\x12\x5c"):
    return b"1000000000000001" + b"1000000000000002" + amount + memo

def exchange(raw, read=True):
    s = socket.create_connection(ADDR, timeout=5)
    s.sendall(raw)
    out = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
            if len(out) >= 8 and len(out) >= 8 + int(out[:8] or b"0"):
                break
    except socket.timeout:
        out += b"<timeout>"
    s.close()
    return out

def frame(m):
    return b"%08d" % len(m) + m

def show(name, raw):
    r = exchange(raw)
    body = r[8:]
    print(f"{name:40s} len={len(body):4d} op={body[6:14]!r} seq={body[17:27]!r} code={body[41:45]!r} msg={body[45:85].decode('cp949','replace').rstrip()!r}")
    return body

cases = [
    ("ok XFER", frame(msg("XFER", 1, xfer_body()))),
    ("memo: invalid EUC-KR bytes", frame(msg("XFER", 2, xfer_body(memo=b"\xff\xfe".ljust(20))))),
    ("memo: lead byte split at field end", frame(msg("XFER", 3, xfer_body(memo=b"A" * 19 + b"\xb0")))),
    ("memo: lone SO/SI bytes", frame(msg("XFER", 4, xfer_body(memo=b"\x0eAB\x0f".ljust(20))))),
    ("memo: 10 hangul (cp037 host: no map)", frame(msg("XFER", 5, xfer_body(memo="홍길동이체테스트용돈".encode("cp949"))))),
    ("amount: bad packed sign", frame(msg("XFER", 6, xfer_body(amount=b"\x00" * 6 + b"\x12")))),
    ("body one byte short", frame(msg("XFER", 7, xfer_body()[:-1]))),
    ("body one byte long", frame(msg("XFER", 8, xfer_body() + b" "))),
    ("no route, with body", frame(msg("NOROUTE", 9, b"ABC"))),
    ("no route, header only", frame(msg("NOROUTE", 10))),
    ("heartbeat", frame(msg("HEARTBT", 11))),
    ("heartbeat with a body", frame(msg("HEARTBT", 12, b"XYZ"))),
    ("TXNHIST ODO request max rows 999", frame(msg("TXNHIST", 13, b"1000000000000003" + b"20260101" + b"20261231" + b"999"))),
    ("header: seq not digits", frame(msg("ACCTINQ", 14, b"1000000000000001")[:17] + b"ABCDEFGHIJ" + msg("ACCTINQ", 14, b"1000000000000001")[27:])),
    ("header: hangul in HDR-CHANNEL split", frame(msg("ACCTINQ", 15, b"1000000000000001")[:14] + b"A\xb0\xa1" + msg("ACCTINQ", 15, b"1000000000000001")[17:])),
    ("frame: length not digits", b"0000008X" + msg("ACCTINQ", 16, b"1000000000000001")),
    ("frame: length shorter than header", b"%08d" % 10 + b"0" * 10),
    ("frame: length says more than sent", b"%08d" % 200 + msg("ACCTINQ", 17, b"1000000000000001")),
    ("header shorter than 85 in frame", frame(b"000050ACCTINQ IBK0000000018")),
]
for name, raw in cases:
    try:
        show(name, raw)
    except Exception as e:
        print(f"{name:40s} ERROR {e}")
