#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# poll_resume.sh [BUILD_DIR] [ROUNDS] - evtls-poll against the demo server
# (wolfSSL, ECDSA P-256, TLS 1.3) in the same run: ROUNDS rounds resuming
# and ROUNDS with --no-resume. Prints the median handshake and round times
# of each (the first, full round of the resuming run left out), their ratio,
# and each run's peak RSS. Wall-clock figures: compare within one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${2:-20}
[ -n "${BENCH_BRIEF:-}" ] && rounds=3
source "$root/bench/lib.sh" # bench_report
pki=$build/pki
bash "$root/scripts/mkcerts.sh" "$pki" >/dev/null
out=$(mktemp)
. "$root/scripts/demo_server.sh"
trap 'demo_server_stop; rm -f "$out" "$out".*' EXIT
demo_server_start "$build" "$pki" "$out"
url=$demo_url
# median FIELD < json lines
median() { jq -r ".$1 | numbers" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
run() { # NAME ARGS...
  local name=$1; shift
  "$build/bin/evtls-poll" --count $((rounds + 1)) --interval 0 --json --cacert "$pki/ca.pem" \
    "$@" "$url" 2>"$out.err" | tail -n "$rounds" >"$out.$name"
  printf '%-10s rounds %d  resumed %d  handshake median %s ms  round median %s ms  %s\n' "$name" \
    "$rounds" "$(grep -c '"resumed":true' "$out.$name" || true)" \
    "$(median handshake_ms <"$out.$name")" "$(median total_ms <"$out.$name")" \
    "$(grep -o 'peak memory.*' "$out.err")"
}
run resumed
run full --no-resume
hr=$(median handshake_ms <"$out.resumed") hf=$(median handshake_ms <"$out.full")
ratio=$(awk -v r="$hr" -v f="$hf" 'BEGIN {printf "%.2f", r / f}')
echo "resumed/full handshake ratio: $ratio"
bench_report rounds="$rounds" resumed_rounds="$(grep -c '"resumed":true' "$out.resumed" || true)" \
  handshake_ms_resumed="$hr" handshake_ms_full="$hf" ratio="$ratio"
