#!/usr/bin/python3
"""One-way delay of every packet, for the admission-control lab and e2e test.

  owd.py recv SECONDS PORT [PORT...]
      receive UDP on the ports for SECONDS; print one CSV line per packet,
      "port,seq,send_ns,delay_us", then nothing else
  owd.py send DST PORT RATE_BPS BUCKET_BYTES FRAME_BYTES SECONDS
      send FRAME_BYTES-long Ethernet frames (UDP payload FRAME_BYTES - 42)
      to DST:PORT for SECONDS, shaped by a token bucket of rate RATE_BPS
      bits/s and depth BUCKET_BYTES (full at the start), counted in frame
      bytes as the switch's meter counts them; print the number sent
  owd.py bins RECV.csv BIN_S NAME:PORT:BOUND_MS [...]
      from recv's output, per BIN_S of send time the largest delay of each
      named flow and its bound, in ms: the CSV `p4qos lab plot --delay`
      draws

The hosts of a lab are network namespaces of one machine and share its
clock (CLOCK_REALTIME), so the sender's timestamp in the payload and the
receiver's kernel receive timestamp (SO_TIMESTAMPNS, taken when the
packet arrives, not when this program gets to it) give the one-way delay.
The sender stamps each packet just before sendto, after its token bucket
let it go: the delay is the network's, not the shaper's.
"""
import socket
import struct
import sys
import time

HDR = struct.Struct("!QQ")  # seq, send time (ns since the epoch)
OVERHEAD = 14 + 20 + 8  # Ethernet, IPv4 and UDP headers
# SO_TIMESTAMPNS from <asm-generic/socket.h>; Python's socket module may
# not name it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def recv(seconds, ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", p))
        s.setblocking(False)
        socks.append((p, s))
    import selectors
    sel = selectors.DefaultSelector()
    for p, s in socks:
        sel.register(s, selectors.EVENT_READ, p)
    end = time.monotonic() + seconds
    out = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 0.5)):
            s, port = key.fileobj, key.data
            while True:
                try:
                    data, anc, _, _ = s.recvmsg(2048, socket.CMSG_SPACE(16))
                except BlockingIOError:
                    break
                if len(data) < HDR.size:
                    continue
                seq, sent = HDR.unpack_from(data)
                rx = None
                for level, typ, val in anc:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", val[:16])
                        rx = sec * 1_000_000_000 + nsec
                if rx is None:
                    rx = time.time_ns()
                out.append("%d,%d,%d,%.1f" % (port, seq, sent, (rx - sent) / 1000.0))
    sys.stdout.write("".join(line + "\n" for line in out))


def send(dst, port, rate, bucket, frame, seconds):
    payload = frame - OVERHEAD
    if payload < HDR.size or frame > bucket:
        sys.exit("frame too small or larger than the bucket")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pad = b"\0" * (payload - HDR.size)
    tokens, last = float(bucket), time.monotonic()
    end = last + seconds
    seq = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        tokens = min(float(bucket), tokens + (now - last) * rate / 8.0)
        last = now
        if tokens < frame:
            time.sleep((frame - tokens) * 8.0 / rate)
            continue
        tokens -= frame
        s.sendto(HDR.pack(seq, time.time_ns()) + pad, (dst, port))
        seq += 1
    print(seq)


def bins(path, width, flows):
    rows = [l.strip().split(",") for l in open(path) if l.strip()]
    pk = [(int(r[0]), int(r[2]), float(r[3]) / 1000.0) for r in rows]
    if not pk:
        sys.exit("no packets in " + path)
    t0 = min(p[1] for p in pk)
    specs = [(n, int(port), float(b)) for n, port, b in (f.split(":") for f in flows)]
    worst = {}
    for port, sent, ms in pk:
        k = (port, int((sent - t0) / 1e9 / width))
        worst[k] = max(worst.get(k, 0.0), ms)
    last = max(k[1] for k in worst)
    print(",".join(["time_s"] + ["%s max delay,%s bound" % (n, n) for n, _, _ in specs]))
    for i in range(last + 1):
        row = ["%g" % round(i * width, 6)]
        for _, port, bound in specs:
            w = worst.get((port, i))
            row += ["" if w is None else "%.3f" % w, "%g" % bound]
        print(",".join(row))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "recv":
        recv(float(a[1]), [int(p) for p in a[2:]])
    elif a and a[0] == "bins" and len(a) >= 4:
        bins(a[1], float(a[2]), a[3:])
    elif a and a[0] == "send" and len(a) == 7:
        send(a[1], int(a[2]), float(a[3]), int(a[4]), int(a[5]), float(a[6]))
    else:
        sys.exit(__doc__)
