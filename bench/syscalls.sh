#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# syscalls.sh [BUILD_DIR] - system calls per keep-alive request: evtls-load
# and wrk, one connection each, against the same nginx on loopback, counted
# by `strace -c -f`. Prints each client's calls per request by name and in
# all, and the ratio. (Counts, not times: they do not drift between runs.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load
command -v strace >/dev/null || { echo "syscalls: strace is needed (apt-get install strace)" >&2; exit 1; }
load=$build/bin/evtls-load
work=$(mktemp -d /tmp/evtls-syscalls.XXXXXX)
trap 'bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port=$(bench_free_port)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3;"
url=https://127.0.0.1:$port/
N=20000
T=3
[ -n "${BENCH_BRIEF:-}" ] && N=2000 T=1

# table FILE REQUESTS LABEL: prints the calls per request by name; the
# total per request goes to stderr. strace -c's rows: "% time, seconds,
# usecs/call, calls, [errors,] syscall".
table() {
  awk -v n="$2" -v who="$3" '
    /^-/ { part++; next }
    part == 1 && NF >= 5 { cnt[$NF] = $4; tot += $4 }
    END {
      printf "%-10s %7.2f syscalls per request:", who, tot / n
      for (k in cnt) if (cnt[k] / n >= 0.01) printf " %s %.2f", k, cnt[k] / n
      printf "\n"
      print tot / n > "/dev/stderr"
    }' "$1"
}

# evtls-load: the warm-up and set-up are in the count too; N requests on one
# connection make them negligible (shown as the calls under 0.01/request).
strace -f -c -o "$work/evtls.strace" "$load" --cacert "$pki/ca.pem" -m request -c 1 -n "$N" \
  --no-progress "$url" >"$work/evtls.out" 2>&1
e=$(table "$work/evtls.strace" "$N" evtls-load 2>&1 >"$work/evtls.line")
cat "$work/evtls.line"

if command -v wrk >/dev/null; then
  strace -f -c -o "$work/wrk.strace" wrk -t1 -c1 -d${T}s "$url" >"$work/wrk.out" 2>&1
  done_w=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$work/wrk.out")
  w=$(table "$work/wrk.strace" "$done_w" wrk 2>&1 >"$work/wrk.line")
  cat "$work/wrk.line"
  ratio=$(awk -v e="$e" -v w="$w" 'BEGIN { printf "%.2f", e / w }')
  echo "evtls-load / wrk: $ratio"
  bench_report evtls_per_request="$e" wrk_per_request="$w" ratio="$ratio" evtls_requests="$N" \
    wrk_requests="$done_w"
else
  echo "wrk is not installed (scripts/deps.sh bench installs it)"
fi
