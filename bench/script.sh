#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# script.sh [BUILD_DIR] - the cost of a wrk Lua script: evtls-load --script
# and wrk -s run the same script, which builds each request (a counter in
# the path and a header, wrk.format, as wrk's own examples do), against the
# same nginx on loopback (HTTPS keep-alive, TLS 1.3, ECDSA P-256), one
# thread and ten connections each, for the same time. Each client's CPU
# (user + system, bench/cpu_of) gives its requests per CPU-second; the
# ratio is evtls-load's to wrk's (target >= 1.0). A second pair runs a
# script with response() too, which hands every response's status,
# headers and body to Lua. wrk is Debian's (LuaJIT); evtls-load's Lua is
# Debian's 5.4. Both runs repeat three times, alternating, and the median
# of each is taken: the machine's drift moves both alike.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load cpu_of
load=$build/bin/evtls-load
cpu_of=$build/bench/cpu_of
work=$(mktemp -d /tmp/evtls-script.XXXXXX)
trap 'bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
read -r port < <(bench_free_port 1)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3;"
u=https://127.0.0.1:$port/
T=3 R=3
[ -n "${BENCH_BRIEF:-}" ] && T=1 R=1

cat >"$work/build.lua" <<'LUA'
-- every request its own: a counter in the path, a header
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/item/" .. counter, {["X-Counter"] = tostring(counter)})
end
LUA
cat "$work/build.lua" >"$work/respond.lua"
cat >>"$work/respond.lua" <<'LUA'
-- and each response read
bytes = 0
response = function(status, headers, body)
  if status ~= 200 then error("status " .. status) end
  bytes = bytes + #body
end
LUA

# run NAME PROGRAM ARGS...: output in $work/NAME.out, "user sys maxrss" in $work/NAME.cpu
run() {
  local name=$1
  shift
  "$cpu_of" "$work/$name.cpu" "$@" >"$work/$name.out" 2>&1 || {
    echo "script.sh: $name failed:" >&2
    tail -5 "$work/$name.out" >&2
    exit 1
  }
}
# per_cpu NAME REQUESTS: requests per CPU-second
per_cpu() { awk -v n="$2" -v c="$(bench_cpu "$work/$1.cpu")" 'BEGIN {printf "%.1f", (c > 0 ? n / c : 0)}'; }
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A ev wk
for script in build respond; do
  ev[$script]="" wk[$script]=""
  for i in $(seq $R); do
    run "ev_${script}_$i" "$load" --cacert "$pki/ca.pem" -t 1 -c 10 -d ${T}s --no-progress \
      -s "$work/$script.lua" --json "$work/ev_${script}_$i.json" "$u"
    n=$(bench_json "$work/ev_${script}_$i.json" requests)
    errs=$(bench_json "$work/ev_${script}_$i.json" errors || echo 1)
    [ "$errs" = 0 ] || { echo "script.sh: evtls-load had $errs errors" >&2; exit 1; }
    ev[$script]+=" $(per_cpu "ev_${script}_$i" "$n")"
    run "wrk_${script}_$i" wrk -t1 -c10 -d${T}s -s "$work/$script.lua" "$u"
    n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/wrk_${script}_$i.out")
    [ -n "$n" ] || { echo "script.sh: no request count from wrk" >&2; cat "$work/wrk_${script}_$i.out" >&2; exit 1; }
    ! grep -q "Non-2xx" "$work/wrk_${script}_$i.out" || { echo "script.sh: wrk saw errors" >&2; exit 1; }
    wk[$script]+=" $(per_cpu "wrk_${script}_$i" "$n")"
  done
done
ev_b=$(echo ${ev[build]} | median) wk_b=$(echo ${wk[build]} | median)
ev_r=$(echo ${ev[respond]} | median) wk_r=$(echo ${wk[respond]} | median)
ratio_b=$(awk -v a="$ev_b" -v b="$wk_b" 'BEGIN {printf "%.2f", a / b}')
ratio_r=$(awk -v a="$ev_r" -v b="$wk_r" 'BEGIN {printf "%.2f", a / b}')
echo "one thread, 10 connections, ${T} s, HTTPS keep-alive to nginx; requests per CPU-second (median of $R):"
echo "  request() builds each request:      evtls-load $ev_b, wrk $wk_b: $ratio_b (target >= 1.0)"
echo "  and response() reads each response: evtls-load $ev_r, wrk $wk_r: $ratio_r"
bench_report ev_build="$ev_b" wrk_build="$wk_b" ratio_build="$ratio_b" ev_respond="$ev_r" \
  wrk_respond="$wk_r" ratio_respond="$ratio_r"
