#!/usr/bin/python3
"""UDP latency probes for the e2e tests, run inside lab hosts.

  udpprobe.py server PORT                    echo every datagram back
  udpprobe.py client DST PORT DSCP N GAP_S   send N probes GAP_S apart with
                                             DSCP, print JSON round trips

The reply path is not congested in the tests, so a round trip measures the
forward queueing delay plus a constant. Lost probes (no echo within 2 s)
count as lost, not as latency.
"""
import json
import select
import socket
import struct
import sys
import time


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        data, addr = s.recvfrom(2048)
        s.sendto(data, addr)


def client(dst, port, dscp, n, gap):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # The DSCP is the upper six bits of the TOS byte (RFC 2474 section 3).
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, dscp << 2)
    s.setblocking(False)
    sent = {}
    rtts = []
    next_send = time.monotonic()
    seq = 0
    deadline = None
    while True:
        now = time.monotonic()
        if seq < n and now >= next_send:
            s.sendto(struct.pack("!Id", seq, now) + b"p" * 100, (dst, port))
            sent[seq] = now
            seq += 1
            next_send += gap
            if seq == n:
                deadline = now + 2.0
        if deadline is not None and (now >= deadline or len(rtts) == n):
            break
        wait = max(0.0, min(next_send - now, 0.05)) if seq < n else 0.05
        r, _, _ = select.select([s], [], [], wait)
        while r:
            try:
                data, _ = s.recvfrom(2048)
            except BlockingIOError:
                break
            got = time.monotonic()
            k, t0 = struct.unpack("!Id", data[:12])
            if k in sent:
                rtts.append((got - t0) * 1000.0)
                del sent[k]
    rtts.sort()

    def pct(p):
        if not rtts:
            return None
        return rtts[min(len(rtts) - 1, int(round(p / 100.0 * (len(rtts) - 1))))]

    print(json.dumps({"sent": n, "received": len(rtts), "p50_ms": pct(50), "p99_ms": pct(99),
                      "max_ms": rtts[-1] if rtts else None}))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
