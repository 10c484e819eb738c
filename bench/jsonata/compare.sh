#!/usr/bin/env bash
# Side-by-side JSONata evaluations/second: the reference jsonata (npm, under node) and ours,
# on the same expressions and data (bench/jsonata/cases.json), in one run.
# The two sides run alternately for ROUNDS rounds (default 3) and each keeps its best rate per
# case, so that load from other processes on a shared machine distorts the ratio less.
# Rates are per wall-clock second; the CPU columns divide by CPU time instead (node: all of its
# threads, JIT and GC included; ours: the benchmark thread), which load distorts less.
# usage: bench/jsonata/compare.sh [BUILD_DIR] [SECONDS_PER_CASE] [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
secs="${2:-1}"
rounds="${3:-3}"
bin="$build/bench/jsonata/bench_jsonata"
[ -x "$bin" ] || { echo "build bench_jsonata first: cmake --build $build --target bench_jsonata" >&2; exit 1; }
if [ ! -d "$here/node_modules/jsonata" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$rounds"); do
  node "$here/bench.js" "$here/cases.json" "$root/tests/conformance/jsonata/datasets" "$secs" > "$tmp/ref.$r.json"
  STRATUS_SOURCE_DIR="$root" "$bin" --benchmark_min_time="$secs" --benchmark_format=json > "$tmp/ours.$r.json" 2>/dev/null
done
python3 - "$tmp" "$rounds" "$(node -e "console.log(require('$here/node_modules/jsonata/package.json').version)")" "$(nproc)" <<'PY'
import json, sys, os
tmp, rounds = sys.argv[1], int(sys.argv[2])
sys.argv[3:4] = [sys.argv[3]]
ref, ours, ours_cpu = {}, {}, {}
for r in range(1, rounds + 1):
    for name, v in json.load(open(os.path.join(tmp, f"ref.{r}.json"))).items():
        best = ref.setdefault(name, {"evals_per_sec": 0, "compiles_per_sec": 0, "cpu_evals_per_sec": 0})
        best["evals_per_sec"] = max(best["evals_per_sec"], v["evals_per_sec"])
        best["cpu_evals_per_sec"] = max(best["cpu_evals_per_sec"], v.get("cpu_evals_per_sec", 0))
        best["compiles_per_sec"] = max(best["compiles_per_sec"], v["compiles_per_sec"])
    for b in json.load(open(os.path.join(tmp, f"ours.{r}.json")))["benchmarks"]:
        key = b["name"].replace("/real_time", "")
        ours[key] = max(ours.get(key, 0), b["items_per_second"])
        if b.get("cpu_time", 0) > 0:  # ns per iteration
            ours_cpu[key] = max(ours_cpu.get(key, 0), 1e9 / b["cpu_time"])
print(f"reference: jsonata {sys.argv[3]} on node {os.popen('node --version').read().strip()}; ours: stratus_jsonata; best of {rounds} alternating rounds")
print(f"{'case':<20} {'ref eval/s':>12} {'ours eval/s':>12} {'ratio':>7}   {'ref cpu/s':>10} {'ours cpu/s':>10} {'ratio':>7}   {'ref compile/s':>13} {'ours compile/s':>14} {'ratio':>7}")
ratios, cpu_ratios = [], []
for name, r in ref.items():
    e = ours.get("eval/" + name, 0.0)
    ec = ours_cpu.get("eval/" + name, 0.0)
    c = ours.get("compile/" + name, 0.0)
    ratio = e / r["evals_per_sec"] if r["evals_per_sec"] else 0
    ratios.append(ratio)
    cpu_ratio = ec / r["cpu_evals_per_sec"] if r["cpu_evals_per_sec"] else 0
    cpu_ratios.append(cpu_ratio)
    cr = c / r["compiles_per_sec"] if r["compiles_per_sec"] else 0
    print(f"{name:<20} {r['evals_per_sec']:>12.0f} {e:>12.0f} {ratio:>6.1f}x   {r['cpu_evals_per_sec']:>10.0f} {ec:>10.0f} {cpu_ratio:>6.1f}x   {r['compiles_per_sec']:>13.0f} {c:>14.0f} {cr:>6.1f}x")
def geomean(xs):
    prod = 1.0
    for x in xs: prod *= x
    return prod ** (1 / len(xs))
print(f"geometric mean eval ratio: {geomean(ratios):.1f}x  (min {min(ratios):.1f}x)")
if all(x > 0 for x in cpu_ratios):
    print(f"geometric mean eval ratio per CPU second: {geomean(cpu_ratios):.1f}x  (min {min(cpu_ratios):.1f}x)")
PY
