#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh FUZZER SEED_DIR SECONDS [WORK_DIR] - runs a libFuzzer harness for
# SECONDS from a copy of its seed corpus (new inputs go to WORK_DIR/corpus,
# never into the repository). Exits non-zero on any crash, leak, timeout
# or sanitizer report; the input that caused it is in WORK_DIR/artifacts.
set -euo pipefail
fuzzer=$1 seeds=$2 secs=$3
work=${4:-$(dirname "$fuzzer")/fuzz-work/$(basename "$fuzzer")}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
set +e
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" \
  >"$work/log" 2>&1
rc=$?
set -e
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus)' "$work/log" || true
grep -E 'Done [0-9]+ runs' "$work/log" | tail -1 || true
if [ $rc -ne 0 ]; then
  tail -60 "$work/log"
  echo "run.sh: $(basename "$fuzzer") failed (exit $rc); inputs: $(ls "$work/artifacts")"
  exit 1
fi
echo "run.sh: $(basename "$fuzzer"): no crash in ${secs} s, corpus $(ls "$work/corpus" | wc -l) new inputs"
