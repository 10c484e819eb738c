#!/usr/bin/env bash
# Runs every benchmark; figures go to docs/PERFORMANCE.md by hand, with these commands.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
bench/http/startup.py "$BUILD/stratus" 20
bench/http/compare.sh "$BUILD/stratus" 10 64
for b in "$BUILD"/bench/*/bench_*; do
  [ -x "$b" ] && "$b" --benchmark_min_time=0.5
done
