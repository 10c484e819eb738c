#!/usr/bin/env bash
# A/B: two stratus binaries side by side, PUTs alternated; wall and server CPU per 100 MiB PUT.
# usage: bench/s3/put_ab.sh BINARY_A BINARY_B [PUTS=6] [SIZE_MIB=100]   (a = A, b = B, d = cp + sync)
set -euo pipefail
A=$1; B=$2; N=${3:-6}; MIB=${4:-100}
t=$(mktemp -d /tmp/ab-XXXX)
$A serve --port 4640 --data-dir $t/a --log-level warn 2>$t/a.log & pa=$!
$B serve --port 4641 --data-dir $t/b --log-level warn 2>$t/b.log & pb=$!
trap 'kill $pa $pb; wait; rm -rf $t' EXIT
sleep 1
head -c $((MIB*1024*1024)) /dev/urandom > $t/obj
for p in 4640 4641; do curl -s -o /dev/null -X PUT http://127.0.0.1:$p/bench; curl -s -o /dev/null -T $t/obj http://127.0.0.1:$p/bench/warm; done
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
declare -A wall cpu
wall[a]=0; wall[b]=0; cpu[a]=0; cpu[b]=0
for i in $(seq $N); do
  for x in a b; do
    if [ $x = a ]; then port=4640; pid=$pa; else port=4641; pid=$pb; fi
    c0=$(ticks $pid); s=$(date +%s.%N)
    curl -s -o /dev/null -T $t/obj http://127.0.0.1:$port/bench/o$i
    e=$(date +%s.%N); c1=$(ticks $pid)
    wall[$x]=$(echo "${wall[$x]} + $e - $s" | bc -l); cpu[$x]=$((${cpu[$x]} + c1 - c0))
  done
  s=$(date +%s.%N); cp $t/obj $t/copy && sync $t/copy; e=$(date +%s.%N); rm $t/copy
  wall[d]=$(echo "${wall[d]:-0} + $e - $s" | bc -l)
done
hz=$(getconf CLK_TCK)
for x in a b d; do
  python3 -c "import sys; w=float(sys.argv[2])/$N; print(f'{sys.argv[1]}: {$MIB*1.048576/w:7.1f} MB/s  {w*1000:6.0f} ms/PUT' + (f'  CPU {int(sys.argv[3])/$hz/$N*1000:5.0f} ms/PUT' if sys.argv[3] != '-' else ''))" $x ${wall[$x]} ${cpu[$x]:--}
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
