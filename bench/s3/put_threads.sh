#!/usr/bin/env bash
# Per-thread CPU of one stratus over N 100 MiB PUTs (ms per PUT), plus wall per PUT.
# Shows which thread pays for what (io threads receiving and writing, the hashing pool, workers).
# usage: bench/s3/put_threads.sh BINARY [PUTS=5] [SIZE_MIB=100]
set -euo pipefail
BIN=$1; N=${2:-5}; MIB=${3:-100}
t=$(mktemp -d /tmp/thr-XXXX)
$BIN serve --port 4650 --data-dir $t/d --log-level warn 2>$t/log & p=$!
trap 'kill $p; wait; rm -rf $t' EXIT
sleep 1
head -c $((MIB*1024*1024)) /dev/urandom > $t/obj
curl -s -o /dev/null -X PUT http://127.0.0.1:4650/bench; curl -s -o /dev/null -T $t/obj http://127.0.0.1:4650/bench/warm
snap() { for f in /proc/$p/task/*/stat; do awk '{print $1, $14+$15}' $f; done 2>/dev/null | sort; }
snap > $t/s0; s=$(date +%s.%N)
for i in $(seq $N); do curl -s -o /dev/null -T $t/obj http://127.0.0.1:4650/bench/o$i; done
e=$(date +%s.%N); snap > $t/s1
hz=$(getconf CLK_TCK)
join -a2 -e0 -o 0,1.2,2.2 $t/s0 $t/s1 | awk -v hz=$hz -v n=$N '{d=$3-$2; if (d>0) printf "tid %s: %6.0f ms/PUT\n", $1, d/hz/n*1000; tot+=d} END {printf "total: %6.0f ms/PUT\n", tot/hz/n*1000}'
python3 -c "print(f'wall {($e-$s)/$N*1000:.0f} ms/PUT; load $(cut -d' ' -f1 /proc/loadavg)')"
