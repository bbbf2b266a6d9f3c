#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pool_instructions.sh [BUILD_DIR] - instructions per pool checkout+checkin
# at 100 and 2,000 idle connections (default), counted exactly by callgrind
# (only the measured loop is collected).
set -euo pipefail
build=${1:-build}
iters=20000
[ -n "${BENCH_BRIEF:-}" ] && iters=2000
source "$(dirname "$0")/lib.sh" # bench_report
# 10,000 connections take over 8 minutes to set up under valgrind; pass
# sizes to try them: pool_instructions.sh build 100 10000
shift || true
sizes=${*:-100 2000}
[ -n "${BENCH_BRIEF:-}" ] && sizes="20 200"
figures=()
for n in $sizes; do
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
    --toggle-collect=bench_checkouts "$build/bench/bench_pool" "$n" "$n" "$iters" >/dev/null 2>&1
  ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
  rm -f "$out"
  # two runs of the loop per process (n, n), plus one warm-up checkout each
  echo "  $n pooled: $(( ir / (2 * (iters + 1)) )) instructions per checkout+checkin"
  figures+=("per_checkout_$n=$(( ir / (2 * (iters + 1)) ))" "total_$n=$ir")
done
bench_report iters="$iters" "${figures[@]}"
