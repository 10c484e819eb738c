#!/usr/bin/python3
"""Startup to ready (the first 200 from /_stratus/health) and idle RSS of stratus.

Usage: bench/http/startup.py [path/to/stratus] [runs]
Polls the port in-process (no curl spawns in the measured loop). Measures a start on a fresh data
directory (the store is created) and a restart on an existing one, and the idle RSS one second
after start.
"""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/stratus"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PORT = 45999


def ready():
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=1) as s:
            s.sendall(b"GET /_stratus/health HTTP/1.1\r\nHost: x\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def start(data_dir):
    t0 = time.perf_counter()
    proc = subprocess.Popen([BIN, "serve", "--port", str(PORT), "--data-dir", data_dir,
                             "--log-level", "warn"])
    while not ready():
        if proc.poll() is not None:
            raise SystemExit("stratus exited")
    return proc, (time.perf_counter() - t0) * 1000


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


fresh, existing = [], []
for _ in range(RUNS):
    d = tempfile.mkdtemp(prefix="stratus-bench-")
    p, ms = start(d)
    fresh.append(ms)
    stop(p)
    p, ms = start(d)
    existing.append(ms)
    stop(p)
    shutil.rmtree(d)

d = tempfile.mkdtemp(prefix="stratus-bench-")
p, _ = start(d)
time.sleep(1)
rss = rss_kb(p.pid)
stop(p)
shutil.rmtree(d)

def show(name, xs):
    print(f"{name:38s} median {statistics.median(xs):6.1f} ms   min {min(xs):6.1f} ms   "
          f"max {max(xs):6.1f} ms   ({len(xs)} runs)")

show("startup to ready, existing data dir", existing)
show("startup to ready, fresh data dir", fresh)
print(f"idle RSS after 1 s: {rss / 1024:.1f} MB")
