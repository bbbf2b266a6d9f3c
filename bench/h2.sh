#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# h2.sh [BUILD_DIR] - HTTP/2 against h2load in the same run, against the
# same nginx (http2, TLS 1.3, the same windows: nginx's), and the pool's
# HTTP/2 figures:
#   1. keep-alive GETs, evtls-load --http2 -c 10 -M 10 against
#      h2load -c 10 -m 10: client CPU (user + system, bench/cpu_of) per
#      request, three rounds, each round's ratio and the median (target
#      <= 0.7 x h2load's);
#   2. 100,000 requests (5,000 brief) through nginx's GOAWAY every 1,000
#      streams: the errors (target 0) and nginx's access log against the
#      requests evtls-load counted (target: each once);
#   3. bench/bench_h2: heap bytes per idle pooled connection, HTTP/2 against
#      HTTP/1.1 (target <= 24 KiB more), and 1,000 fetches at once with a cap
#      of 100 streams: connections made (target <= 10) and those started
#      before the first was up (target 1).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load cpu_of bench_h2
load=$build/bin/evtls-load
cpu_of=$build/bench/cpu_of
N=200000 ROUNDS=3 GOAWAY_N=100000 IDLE_N=500
if [ -n "${BENCH_BRIEF:-}" ]; then
  N=10000 ROUNDS=1 GOAWAY_N=20000 IDLE_N=50
fi
work=$(mktemp -d /tmp/evtls-h2.XXXXXX)
trap 'bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
read -r port port_ga < <(bench_free_port 2)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl http2; ssl_protocols TLSv1.3;" \
  "listen 127.0.0.1:$port_ga ssl http2; ssl_protocols TLSv1.3; keepalive_requests 1000;
  access_log $work/access.log;"
u=https://127.0.0.1:$port/
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
per_req_us() { awk -v c="$1" -v n="$2" 'BEGIN {printf "%.3f", c * 1e6 / n}'; }

ratios=()
for i in $(seq $ROUNDS); do
  "$cpu_of" "$work/ev.cpu" "$load" --cacert "$pki/ca.pem" --http2 -c 10 -M 10 -n $N \
    --no-progress --json "$work/ev.json" "$u" >"$work/ev.out" 2>&1
  ev_n=$(bench_json "$work/ev.json" requests)
  ev_h2=$(jq -er '.counters.h2_responses' "$work/ev.json")
  [ "$ev_h2" = "$ev_n" ] || { echo "evtls-load: $ev_h2 of $ev_n responses over h2" >&2; exit 1; }
  "$cpu_of" "$work/h2.cpu" h2load -c 10 -m 10 -n $N "$u" >"$work/h2.out" 2>&1
  h2_n=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$work/h2.out")
  [ "${h2_n:-0}" -gt 0 ] || { cat "$work/h2.out" >&2; exit 1; }
  ev_us=$(per_req_us "$(bench_cpu "$work/ev.cpu")" "$ev_n")
  h2_us=$(per_req_us "$(bench_cpu "$work/h2.cpu")" "$h2_n")
  r=$(awk -v e="$ev_us" -v h="$h2_us" 'BEGIN {printf "%.2f", e / h}')
  ratios+=("$r")
  echo "round $i: evtls-load --http2 -c 10 -M 10: $ev_us us CPU per request ($ev_n requests;" \
    "$(awk '{printf "%.2f s user, %.2f s system", $1, $2}' "$work/ev.cpu"));" \
    "h2load -c 10 -m 10: $h2_us ($h2_n;" \
    "$(awk '{printf "%.2f s user, %.2f s system", $1, $2}' "$work/h2.cpu")); ratio $r"
done
ratio=$(median "${ratios[@]}")
echo "client CPU per keep-alive HTTP/2 request, evtls-load / h2load, median of $ROUNDS: $ratio" \
  "(target <= 0.70)"

# Through nginx's GOAWAY every 1,000 streams: each request once at the server.
"$load" --cacert "$pki/ca.pem" --http2 -c 10 -M 10 -n $GOAWAY_N --no-progress \
  --json "$work/ga.json" "https://127.0.0.1:$port_ga/" >"$work/ga.out" 2>&1 || true
ga_ok=$(bench_json "$work/ga.json" requests)
ga_err=$(bench_json "$work/ga.json" errors)
ga_goaways=$(jq -er '.counters.h2_goaways' "$work/ga.json")
ga_refused=$(jq -er '.counters.h2_refused' "$work/ga.json")
for _ in $(seq 100); do # nginx logs a request just after its response
  [ "$(wc -l <"$work/access.log")" -ge "$ga_ok" ] && break
  sleep 0.1
done
logged=$(wc -l <"$work/access.log")
echo "$GOAWAY_N requests through a GOAWAY every 1,000 streams: $ga_ok succeeded, $ga_err errors" \
  "(target 0), nginx logged $logged (target $GOAWAY_N: each once), $ga_goaways GOAWAYs," \
  "$ga_refused streams refused and sent again"

"$build/bench/bench_h2" $IDLE_N >"$work/pool.json"
h1b=$(bench_json "$work/pool.json" h1_idle_bytes)
h2b=$(bench_json "$work/pool.json" h2_idle_bytes)
extra=$(bench_json "$work/pool.json" h2_extra_kib)
conns=$(bench_json "$work/pool.json" connections)
before=$(bench_json "$work/pool.json" connecting_before_up)
echo "idle pooled connection, heap: HTTP/1.1 $h1b bytes, HTTP/2 $h2b bytes: $extra KiB more" \
  "(target <= 24)"
echo "1,000 fetches at once, a cap of 100 streams: $conns connections (target <= 10)," \
  "$before started before the first was up (target 1)"
bench_report ratio="$ratio" ev_us="$ev_us" h2load_us="$h2_us" ev_requests="$ev_n" \
  h2load_requests="$h2_n" goaway_requests="$ga_ok" goaway_logged="$logged" \
  goaway_goaways="$ga_goaways" h1_idle_bytes="$h1b" \
  h2_idle_bytes="$h2b" fetch_connections="$conns" connecting_before_up="$before"
