#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# prometheus.sh BUILD_DIR - evtls-load's live metrics as a real scraper reads
# them: Debian's Prometheus server (its own storage, on a loopback port of
# its own) scrapes `evtls-load --metrics-listen` every 200 ms during a run
# of exactly 300 requests against nginx, and after it (--metrics-linger);
# a query through Prometheus's HTTP API then returns 300 successful
# operations and 300 in the latency histogram's count, and each target's
# count (of a targets file, one name with quotes to escape) and the
# responses by class, and the run's JSON says the same. Every process is stopped on every way out.
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/lib.sh"
pki=$build/pki
load=$build/bin/evtls-load
work=$(mktemp -d)
prom_pid=
trap '[ -z "$prom_pid" ] || kill "$prom_pid" 2>/dev/null; bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "prometheus.sh: FAIL: $*" >&2; exit 1; }
read -r port mport pport < <(bench_free_port 3)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; location = /gone { return 404; }"
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: evtls-load
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
setpriv --pdeathsig KILL -- prometheus --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/data" --web.listen-address="127.0.0.1:$pport" \
  >"$work/prometheus.log" 2>&1 &
prom_pid=$!
bench_wait_port "$pport" "$prom_pid" || fail "prometheus did not start: $(tail -5 "$work/prometheus.log")"
# Prometheus hands new targets to its scrapers at most every 5 s: the run
# starts once the target is known (it is down until then).
for _ in $(seq 100); do
  n=$(curl -sf "http://127.0.0.1:$pport/api/v1/targets" | jq '.data.activeTargets | length' || true)
  [ "${n:-0}" -ge 1 ] && break
  sleep 0.2
done
[ "${n:-0}" -ge 1 ] || fail "prometheus never took the target"
# Two targets: two of every three requests to /, one to a page that is not
# there, whose 404 is that target's success.
cat >"$work/targets" <<T
{"name":"home","url":"https://127.0.0.1:$port/","weight":2}
{"name":"gone \\"quoted\\"","url":"https://127.0.0.1:$port/gone","expect_status":"404"}
T
"$load" --cacert "$pki/ca.pem" -c 4 -n 300 --rate 200 --metrics-listen "127.0.0.1:$mport" \
  --metrics-linger 2 --no-progress --json "$work/run.json" --targets "$work/targets" \
  >"$work/load.out" 2>&1 || { cat "$work/load.out" >&2; fail "evtls-load"; }
[ "$(jq -r .requests "$work/run.json")" = 300 ] || fail "the run made $(jq .requests "$work/run.json")"
query() { # PROMQL: its one value, read with jq
  curl -sf --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // "none"'
}
ok=$(query 'max_over_time(evtls_operations_total{result="ok"}[1m])')
count=$(query 'max_over_time(evtls_latency_seconds_count[1m])')
scrapes=$(query 'count_over_time(up{job="evtls-load"}[1m])')
home=$(query 'max_over_time(evtls_target_operations_total{target="home",result="ok"}[1m])')
gone=$(query 'max_over_time(evtls_target_operations_total{target="gone \"quoted\"",result="ok"}[1m])')
c4xx=$(query 'max_over_time(evtls_responses_total{class="4xx"}[1m])')
errs=$(query 'max_over_time(evtls_errors_total{class="status"}[1m])')
ttfb=$(query 'max_over_time(evtls_phase_seconds_count{phase="ttfb"}[1m])')
tls=$(query 'max_over_time(evtls_phase_seconds_count{phase="tls"}[1m])')
open_max=$(query 'max_over_time(evtls_connections_open[1m])')
open_end=$(query 'last_over_time(evtls_connections_open[1m])')
body=$(query 'max_over_time(evtls_body_bytes_total[1m])')
tls_in=$(query 'max_over_time(evtls_tls_bytes_total{direction="in"}[1m])')
echo "prometheus: $scrapes scrapes; operations ok $ok, latency count $count (the run: 300);" \
  "targets home $home, gone $gone (200 and 100); 4xx $c4xx, status errors $errs;" \
  "ttfb count $ttfb, tls count $tls; connections open at most $open_max, at the end $open_end;" \
  "body bytes $body, TLS bytes in $tls_in"
[ "$ttfb" = 300 ] || fail "prometheus read a ttfb count of $ttfb, not 300"
[ "$tls" = "$(jq -r .connections "$work/run.json")" ] || fail "prometheus read $tls handshakes' tls phase, the run made $(jq .connections "$work/run.json")"
[ "${open_max%.*}" -ge 1 ] && [ "${open_max%.*}" -le 4 ] || fail "connections open at most $open_max (-c 4)"
[ "$open_end" = 0 ] || fail "$open_end connections open after the run"
[ "$body" = "$(jq -r .body_bytes "$work/run.json")" ] || fail "prometheus read $body body bytes, the run $(jq .body_bytes "$work/run.json")"
[ "$tls_in" = "$(jq -r .bytes_in "$work/run.json")" ] || fail "prometheus read $tls_in TLS bytes in, the run $(jq .bytes_in "$work/run.json")"
[ "$ok" = 300 ] || fail "prometheus read $ok successful operations, not 300"
[ "$home" = 200 ] || fail "prometheus read $home operations of target home, not 200"
[ "$gone" = 100 ] || fail "prometheus read $gone operations of the quoted target, not 100"
[ "$c4xx" = 100 ] || fail "prometheus read $c4xx 4xx responses, not 100"
[ "$errs" = 0 ] || fail "prometheus read $errs status errors, not 0 (the 404s were expected)"
[ "$count" = 300 ] || fail "prometheus read a latency count of $count, not 300"
[ "${scrapes%.*}" -ge 3 ] || fail "only $scrapes scrapes"
echo "prometheus.sh: ok"
