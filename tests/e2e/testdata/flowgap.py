#!/usr/bin/python3
"""Per-flow delivery gaps for the link-failure e2e test, run inside lab hosts.

  flowgap.py recv PORT SECONDS                   count datagrams for SECONDS,
                                                 print JSON per flow
  flowgap.py send DST PORT FLOWS PPS SECONDS     send PPS datagrams/s on each
                                                 of FLOWS UDP flows

Each flow is a socket of its own, so the flows differ in source port and
ECMP hashes them independently. Every datagram carries its flow number and
sequence number. The receiver reports, per flow, how many datagrams arrived,
how many are missing (by sequence number) and the longest time between two
consecutive arrivals: with PPS datagrams/s a flow that is never interrupted
has gaps of about 1/PPS, and a flow whose path failed has one gap as long as
its packets went nowhere.
"""
import json
import socket
import struct
import sys
import time


def recv(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.05)
    start = time.monotonic()
    end = start + seconds
    flows = {}
    while True:
        now = time.monotonic()
        if now >= end:
            break
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        got = time.monotonic() - start
        flow, seq = struct.unpack("!II", data[:8])
        f = flows.setdefault(flow, {"received": 0, "max_seq": -1, "first_s": got, "last_s": got,
                                    "max_gap_ms": 0.0, "gap_at_s": None})
        gap = (got - f["last_s"]) * 1000.0
        if gap > f["max_gap_ms"]:
            f["max_gap_ms"], f["gap_at_s"] = gap, f["last_s"]
        f["received"] += 1
        f["last_s"] = got
        f["max_seq"] = max(f["max_seq"], seq)
    for f in flows.values():
        f["missing"] = f["max_seq"] + 1 - f["received"]
    print(json.dumps({str(k): v for k, v in sorted(flows.items())}))


def send(dst, port, nflows, pps, seconds):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(nflows)]
    for s in socks:
        s.setblocking(False)
    gap = 1.0 / pps
    start = time.monotonic()
    next_send = start
    seq = 0
    pad = b"f" * 100
    while next_send < start + seconds:
        now = time.monotonic()
        if now < next_send:
            time.sleep(next_send - now)
        for i, s in enumerate(socks):
            try:
                s.sendto(struct.pack("!II", i, seq) + pad, (dst, port))
            except (BlockingIOError, OSError):
                pass  # counted as missing by the receiver
        seq += 1
        next_send += gap


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]), float(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
