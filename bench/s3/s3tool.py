#!/usr/bin/env python3
"""Helpers for compare.sh: create a bucket, write N objects, and time a full listing.

usage: s3tool.py URL mb BUCKET
       s3tool.py URL fill BUCKET PREFIX COUNT SIZE [THREADS]
       s3tool.py URL list BUCKET        -> prints "<keys> <seconds>" (ListObjects, 1000 per page)
Unsigned path-style requests (both servers accept them), standard library only."""
import http.client
import re
import sys
import threading
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def call(c, method, path, body=None):
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return data


def main():
    url, cmd, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "mb":
        call(conn(url), "PUT", f"/{bucket}")
    elif cmd == "fill":
        prefix, count, size = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        threads = int(sys.argv[7]) if len(sys.argv) > 7 else 8
        body = b"f" * size

        def work(t):
            c = conn(url)
            for i in range(t, count, threads):
                call(c, "PUT", f"/{bucket}/{prefix}{i}", body)

        ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    elif cmd == "list":
        # ListObjects (v1) pages with marker = the last key: both servers page it correctly
        # (s3rver 3.7 fails ListObjectsV2 continuation tokens with an InternalError).
        c = conn(url)
        keys, marker = 0, ""
        start = time.perf_counter()
        while True:
            q = "max-keys=1000" + (f"&marker={urllib.parse.quote(marker, safe='')}" if marker else "")
            data = call(c, "GET", f"/{bucket}?{q}")
            found = re.findall(rb"<Key>([^<]*)</Key>", data)
            keys += len(found)
            if b"<IsTruncated>true</IsTruncated>" not in data or not found:
                break
            marker = found[-1].decode()
        print(keys, f"{time.perf_counter() - start:.3f}")

if __name__ == "__main__":
    main()
