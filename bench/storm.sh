#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# storm.sh [BUILD_DIR] [CONNECTIONS] - does `-c N` mean N connections at the
# server? A keep-alive storm (evtls-load -m request -c N -d 10, default N
# 3,000) against one nginx listening on [::1] and 127.0.0.1
# (worker_connections N + 400), by name (https://localhost, both families:
# Happy Eyeballs) and by address (https://127.0.0.1). For each run it
# prints nginx's own count of accepted connections (stub_status, read
# before and after over plain HTTP on another port) beside the client's
# connections, TCP attempts, attempts that lost a race, and errors; then
# the ratio accepted / -c, which must be at most 1.01 with 0 errors.
# The last run races without a limit (--race-limit 100000), as evtls-load
# did before the limit, to show what the limit saves.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" test evtls-load
N=${2:-3000}
D=10
[ -n "${BENCH_BRIEF:-}" ] && N=200 D=2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
load=$build/bin/evtls-load
work=$(mktemp -d /tmp/evtls-storm.XXXXXX)
trap 'bench_nginx_stop; rm -rf "$work"' EXIT
read -r port sport < <(bench_free_port 2)
BENCH_NGINX_WORKER_CONNECTIONS=$((N + 400)) bench_nginx_start "$work" "$pki" \
  "listen 127.0.0.1:$port ssl; listen [::1]:$port ssl;" \
  "listen 127.0.0.1:$sport; location = /status { stub_status; }"

accepted() { # nginx's accepts counter, over plain HTTP
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$sport"
  printf 'GET /status HTTP/1.0\r\nHost: x\r\n\r\n' >&3
  line=$(sed -n 's/^ *\([0-9][0-9]*\) [0-9][0-9]* [0-9][0-9]*.*/\1/p' <&3 | head -1)
  exec 3<&-
  echo "$line"
}
j() { bench_json "$work/$1.json" "$2"; }
fail=0 figures=()
run() { # NAME strict|- URL [ARGS...]
  local name=$1 strict=$2 url=$3 before after
  shift 3
  before=$(accepted)
  "$load" --cacert "$pki/ca.pem" --servername localhost --no-progress -m request -c "$N" -d "$D" \
    --ramp-up 1 --json "$work/$name.json" "$@" "$url" >"$work/$name.out" 2>&1 || true
  sleep 1 # nginx accepts what its queue still holds
  after=$(accepted)
  # The second status request is one accept of its own.
  local acc=$((after - before - 1))
  awk -v name="$name" -v n="$N" -v acc="$acc" -v conns="$(j "$name" connections)" \
      -v att="$(j "$name" attempts)" -v lost="$(j "$name" attempts_lost)" \
      -v err="$(j "$name" errors)" -v strict="$strict" 'BEGIN {
    r = acc / n
    printf "storm %-22s -c %d: nginx accepted %d (%.3fx -c); client: %d connections, %d TCP attempts, %d lost a race, %d errors%s\n",
           name, n, acc, r, conns, att, lost, err, (r <= 1.01 && err == 0) ? "" : (strict == "strict" ? "  <- FAILS the 1.01x / 0 errors target" : "")
    exit !(r <= 1.01 && err == 0) }' || { [ "$strict" = strict ] && fail=1; }
  [ -s "$work/$name.json" ] || { echo "storm: evtls-load failed:"; tail -5 "$work/$name.out"; }
  local key=${name//[.-]/_}
  figures+=("${key}_accepted=$acc" "${key}_connections=$(j "$name" connections)"
    "${key}_ratio=$(awk -v a="$acc" -v n="$N" 'BEGIN {printf "%.4f", a / n}')")
}
run localhost strict "https://localhost:$port/"
run 127.0.0.1 strict "https://127.0.0.1:$port/"
run localhost-race-limit-8 strict "https://localhost:$port/" --race-limit 8
run localhost-race-unlimited - "https://localhost:$port/" --race-limit 100000
bench_report connections_asked="$N" "${figures[@]}"
exit $fail
