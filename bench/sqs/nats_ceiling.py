#!/usr/bin/env python3
"""The in-memory ceiling: publish->subscribe through a local nats-server, raw NATS protocol over
TCP (no client library), pipelined like a NATS client does. Prints messages/s and the p99
latency of timestamped probe messages. Usage: nats_ceiling.py PORT SECONDS [PAYLOAD_BYTES]"""
import socket, sys, threading, time

port, secs = int(sys.argv[1]), float(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 100

def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(4096)  # INFO
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
    return s

received = 0
lat = []
stop = False

def subscriber():
    global received
    s = connect()
    s.sendall(b"SUB bench 1\r\nPING\r\n")
    buf = b""
    while not stop:
        data = s.recv(1 << 20)
        if not data:
            break
        buf += data
        now = time.time()
        while True:
            i = buf.find(b"\r\n")
            if i < 0:
                break
            line = buf[:i]
            if line.startswith(b"MSG"):
                n = int(line.rsplit(b" ", 1)[1])
                if len(buf) < i + 2 + n + 2:
                    break
                payload = buf[i + 2:i + 2 + n]
                buf = buf[i + 2 + n + 2:]
                received += 1
                if payload.startswith(b"T"):
                    lat.append(now - float(payload[1:20]))
            else:
                buf = buf[i + 2:]

t = threading.Thread(target=subscriber, daemon=True)
t.start()
time.sleep(0.3)
pub = connect()
body = b"x" * size
chunk = (b"PUB bench %d\r\n" % size + body + b"\r\n") * 200
sent = 0
start = time.time()
next_probe = start
while time.time() - start < secs:
    pub.sendall(chunk)
    sent += 200
    if time.time() >= next_probe:
        probe = (b"T%.9f" % time.time()).ljust(size, b"x")
        pub.sendall(b"PUB bench %d\r\n" % size + probe + b"\r\n")
        sent += 1
        next_probe += 0.01
elapsed = time.time() - start
time.sleep(1)
stop = True
lat.sort()
p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else float("nan")
print(f"nats-server pub->sub: {received / elapsed:,.0f} msgs/s delivered ({sent / elapsed:,.0f} published), probe p99 {p99:.2f} ms")
