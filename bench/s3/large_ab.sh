#!/usr/bin/env bash
# Two stratus binaries side by side (before/after a change), single-stream large PUTs with curl
# alternated between them so that both see the same machine load: a plain body (MD5 only), a body
# with x-amz-content-sha256 (MD5 + the SHA-256 it must match) and one with x-amz-checksum-crc32
# (MD5 + CRC32). Reports, per binary and body kind, the median wall time per PUT (MB/s) and the
# server CPU per PUT (utime+stime of its process over the PUTs / PUTs). fsync on for both.
# usage: bench/s3/large_ab.sh BINARY_A BINARY_B [SIZE_MIB=100] [ROUNDS=5]
set -euo pipefail
a="$1"; b="$2"; mib="${3:-100}"; rounds="${4:-5}"
tmp="$(mktemp -d "${STRATUS_BENCH_DIR:-/tmp}/s3ab-XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$a" serve --port 4630 --data-dir "$tmp/a" --log-level warn 2>"$tmp/a.log" & pids+=($!)
"$b" serve --port 4631 --data-dir "$tmp/b" --log-level warn 2>"$tmp/b.log" & pids+=($!)
for port in 4630 4631; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  curl -s -o /dev/null -X PUT "http://127.0.0.1:$port/bench"
done
head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/object"
sha=$(sha256sum "$tmp/object" | cut -d' ' -f1)
crc=$(python3 -c "import zlib,base64,sys; d=open(sys.argv[1],'rb').read(); print(base64.b64encode(zlib.crc32(d).to_bytes(4,'big')).decode())" "$tmp/object")
declare -A hdr=([plain]="X-Bench: plain" [sha256]="x-amz-content-sha256: $sha" [crc32]="x-amz-checksum-crc32: $crc")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "$(date -u '+%F %H:%M') $rounds x $mib MiB per binary and body kind, alternated; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for port in 4630 4631; do curl -s -o /dev/null -T "$tmp/object" "http://127.0.0.1:$port/bench/warm"; done
for kind in plain sha256 crc32; do
  : >"$tmp/times-a"; : >"$tmp/times-b"; ca=0; cb=0
  for i in $(seq "$rounds"); do
    for side in a b; do
      if [ $side = a ]; then port=4630; pid=${pids[0]}; else port=4631; pid=${pids[1]}; fi
      t0=$(cpu_ticks "$pid")
      out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "${hdr[$kind]}" -T "$tmp/object" "http://127.0.0.1:$port/bench/$kind$i")
      t1=$(cpu_ticks "$pid")
      [ "${out%% *}" = 200 ] || echo "$side $kind PUT answered ${out%% *}" >&2
      echo "${out#* }" >>"$tmp/times-$side"
      if [ $side = a ]; then ca=$((ca + t1 - t0)); else cb=$((cb + t1 - t0)); fi
    done
  done
  for side in a b; do
    if [ $side = a ]; then bin=$a; c=$ca; else bin=$b; c=$cb; fi
    python3 - "$bin" "$kind" "$tmp/times-$side" "$c" "$hz" "$rounds" "$mib" <<'PY'
import statistics, sys
bin_, kind, path, ticks, hz, n, mib = sys.argv[1:8]
t = sorted(float(x) for x in open(path))
med = statistics.median(t)
print(f"{kind:<7} {bin_:<34} median {med * 1000:6.0f} ms = {int(mib) * 1048576 / med / 1e6:6.1f} MB/s"
      f" (best {int(mib) * 1048576 / t[0] / 1e6:6.1f})   server CPU {int(ticks) / int(hz) / int(n) * 1000:5.0f} ms per PUT")
PY
  done
done
