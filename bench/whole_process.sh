#!/bin/bash
# whole_process.sh - the issue-14 targets as a user meets them: the whole
# `colb run` process (start-up, environment, policy, output files), N = 200,
# d = 15, K = 25, T = 1000, one repeat; best of 5 wall times and the user CPU
# time of that run (the machine is shared: compare the two; see
# docs/performance.md). Decisions/s = N T / wall. Wall and user time come
# from bash's `time` keyword (milliseconds; it times the colb process and
# nothing else: the `date` subshells and /usr/bin/time around each run,
# used before, added ~16 ms to runs of 40-60 ms); the maximum RSS from one
# more run under GNU time.
#
# Usage: bash bench/whole_process.sh [COLB]   (default build-native/colb;
# `make bench` runs it after the benchmark programs)
COLB=${1:-build-native/colb}
OUT=$(mktemp -d) || exit 1
trap 'rm -rf "$OUT"' EXIT
TIMEFORMAT='%3R %3U'
best() { # $1 = label, $2 = decisions, rest = colb run arguments
    label=$1 n=$2; shift 2
    bw=999999 bu=0
    for i in 1 2 3 4 5; do
        { time "$COLB" run --quiet 1 --out "$OUT/r" "$@" >/dev/null 2>"$OUT/err"; } 2>"$OUT/t" || return 1
        read -r w u < "$OUT/t"
        if awk "BEGIN{exit !($w < $bw)}"; then bw=$w bu=$u; fi
    done
    /usr/bin/time -f "%M" -o "$OUT/m" "$COLB" run --quiet 1 --out "$OUT/r" "$@" >/dev/null 2>&1 || return 1
    read -r m < "$OUT/m"
    awk -v l="$label" -v n="$n" -v w="$bw" -v u="$bu" -v m="$m" \
        'BEGIN{printf "| %s | %.3f | %.3f | %.2f | %.2f | %.0f |\n", l, w, u, n / w / 1e6, (u > 0 ? n / u / 1e6 : 0), m / 1024}'
}
BASE="--env clustered --clusters 4 --dim 15 --arms 25 --horizon 1000 --repeats 1"
echo "## Whole process: colb run, d = 15, K = 25, T = 1000, one repeat (best of 5)"
echo
echo "| run | wall s | user s | M decisions/s (wall) | M decisions/s (user CPU) | max RSS MB |"
echo "|---|---:|---:|---:|---:|---:|"
for p in linucb-ind club recommended cmlb pmlb oracle pooled sclb sclub locb random; do
    best "$p, N = 200, 1 thread" 200000 $BASE --users 200 --policies $p -j 1 || exit 1
done
# the same without drawing the plots (--plots 0: their data and scripts
# only): what a scripted sweep of small runs pays per run
for p in linucb-ind club recommended; do
    best "$p, N = 200, 1 thread, --plots 0" 200000 $BASE --users 200 --policies $p -j 1 --plots 0 || exit 1
done
best "linucb-ind, N = 2000, 1 thread" 2000000 $BASE --users 2000 --policies linucb-ind -j 1 || exit 1
best "linucb-ind, N = 2000, 2 threads" 2000000 $BASE --users 2000 --policies linucb-ind -j 2 || exit 1
for k in avx512 avx2 portable; do
    COLB_KERNEL=$k best "linucb-ind, N = 200, COLB_KERNEL=$k" 200000 $BASE --users 200 --policies linucb-ind -j 1 2>/dev/null ||
        echo "| linucb-ind, COLB_KERNEL=$k | (not on this CPU) | | | | |"
done
best "linucb-ind, N = 10^6, T = 3, 2 threads" 3000000 --env clustered --clusters 4 --dim 15 --arms 25 \
    --horizon 3 --repeats 1 --users 1000000 --policies linucb-ind -j 2 || exit 1
