#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vs_anchors.sh [BUILD_DIR] - evtls-load against the anchors, h2load
# (nghttp2-client), openssl s_time and wrk, in the same run against the
# same nginx on loopback (ECDSA P-256 certificate, session tickets on; one
# port with TLS 1.2 and 1.3, one with TLS 1.2 only to pin that version).
#
# Every client is measured the same way: bench/cpu_of runs it and reports
# the CPU seconds (user + system) and the peak RSS of the process. The
# table gives the client CPU per full and per resumed handshake (each with
# one GET, as h2load and s_time -www make one), per keep-alive request,
# handshakes per second (wall clock), and resident memory per open
# connection, each with its ratio to the best anchor. Wall-clock and CPU
# figures drift 20-50 % between runs on shared machines: compare within
# one run. Needs root for apt-get the first time (scripts/deps.sh bench).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load cpu_of
load=$build/bin/evtls-load
cpu_of=$build/bench/cpu_of
work=$(mktemp -d /tmp/evtls-anchors.XXXXXX)
trap 'bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
read -r p13 p12 < <(bench_free_port 2)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$p13 ssl; ssl_protocols TLSv1.2 TLSv1.3;" \
  "listen 127.0.0.1:$p12 ssl; ssl_protocols TLSv1.2;"
u13=https://127.0.0.1:$p13/
u12=https://127.0.0.1:$p12/
ca=(--cacert "$pki/ca.pem")

# run NAME PROGRAM ARGS... : output in $work/NAME.out, "user sys maxrss" in $work/NAME.cpu
run() {
  local name=$1; shift
  if ! "$cpu_of" "$work/$name.cpu" "$@" >"$work/$name.out" 2>&1; then
    echo "vs_anchors: $name failed:" >&2
    tail -5 "$work/$name.out" >&2
    exit 1
  fi
}
cpu() { bench_cpu "$work/$1.cpu"; }
rss() { awk '{print $3}' "$work/$1.cpu"; }
jnum() { bench_json "$work/$1.json" "$2"; }
# per NAME COUNT: CPU milliseconds per operation
per() { awk -v c="$(cpu "$1")" -v n="$2" 'BEGIN {printf "%.4f", (n > 0 ? c * 1000 / n : 0)}'; }
# h2load's successful requests (summed over the runs of a loop) and req/s (their mean)
h2_done() { sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$work/$1.out" | awk '{s += $1} END {print s + 0}'; }
h2_rps() { sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$work/$1.out" | awk '{s += $1; n++} END {printf "%.1f", n ? s / n : 0}'; }
stime_n() { sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' "$work/$1.out" | head -1; }
stime_real() { sed -n 's/^[0-9]* connections in \([0-9]*\) real seconds.*/\1/p' "$work/$1.out" | head -1; }

N=3000   # handshakes per run, evtls-load and h2load alike
K=50     # connections at once for the handshake rows (s_time runs one at a time)
T=3      # seconds for s_time, wrk and keep-alive runs
C=2000   # open connections for the memory row
IA=1000 IB=6000 # requests of the two callgrind runs (the marginal count is between them)
if [ -n "${BENCH_BRIEF:-}" ]; then
  N=200 K=10 T=1 C=200 IA=100 IB=600
fi
echo "vs_anchors: nginx on 127.0.0.1:$p13 (TLS 1.2+1.3) and :$p12 (TLS 1.2), ECDSA P-256"
echo "measuring (about two minutes)..."

# --- full handshakes (+ one GET each)
for v in 13 12; do
  u=u$v; u=${!u}
  port=p$v; port=${!port}
  tl=(--tls-max 1.3 --tls-min 1.3); st=-tls1_3
  [ $v = 12 ] && tl=(--tls-max 1.2) && st=-tls1_2
  run ev_full$v "$load" "${ca[@]}" "${tl[@]}" -m request --requests-per-conn 1 -n $N -c $K \
    --resume-ratio 0 --json "$work/ev_full$v.json" "$u"
  run ev_res$v "$load" "${ca[@]}" "${tl[@]}" -m request --requests-per-conn 1 -n $N -c $K \
    --resume-ratio 1 --json "$work/ev_res$v.json" "$u"
  # h2load makes one connection per client: -n K -c K, N/K times over, is
  # K connections at once, one request each, like evtls-load above. The
  # same loop with one connection per run (h2_base) is subtracted, so that
  # h2load's start-up in each run is not counted as handshakes.
  run h2_full$v bash -c "for i in \$(seq $((N / K))); do h2load --h1 -n $K -c $K '$u' || exit 1; done"
  run h2_base$v bash -c "for i in \$(seq $((N / K))); do h2load --h1 -n 1 -c 1 '$u' || exit 1; done"
  run st_full$v openssl s_time -connect "127.0.0.1:$port" -new $st -www / -time $T
  run st_res$v openssl s_time -connect "127.0.0.1:$port" -reuse $st -www / -time $T
done
run ev_hs13 "$load" "${ca[@]}" --tls-min 1.3 -m handshake -n $N -c $K \
  --json "$work/ev_hs13.json" "127.0.0.1:$p13"

# --- keep-alive requests
run ev_ka "$load" "${ca[@]}" -m request -c 10 -d $T --json "$work/ev_ka.json" "$u13"
run wrk_ka wrk -t1 -c10 -d${T}s "$u13"
run h2_ka h2load --h1 -c 10 -n 200000 "$u13"

# --- resident memory per open connection: peak RSS with C open minus with 1
run ev_mem1 "$load" "${ca[@]}" -m hold -c 1 -d 1 "127.0.0.1:$p13"
run ev_memC "$load" "${ca[@]}" -m hold -c $C -d 2 --ramp-up 0.5 "127.0.0.1:$p13"
run wrk_mem1 wrk -t1 -c1 -d2s "$u13"
run wrk_memC wrk -t1 -c$C -d3s "$u13"
run h2_mem1 h2load --h1 -c 1 -n 2 "$u13"
run h2_memC h2load --h1 -c $C -n $((2 * C)) "$u13"

# --- instructions per keep-alive request by cipher (callgrind, exact): the
# marginal count between two runs over the same 10 connections
instr() { # CIPHER N -> total instructions of the client
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$load" "${ca[@]}" \
    --ciphers "$1" -m request -c 10 -n "$2" "$u13" >/dev/null 2>&1
  callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
per_req_instr() { # CIPHER
  local a b
  a=$(instr "$1" $IA)
  b=$(instr "$1" $IB)
  echo $(((b - a) / (IB - IA)))
}
ir_aes=$(per_req_instr TLS13-AES128-GCM-SHA256)
ir_chacha=$(per_req_instr TLS13-CHACHA20-POLY1305-SHA256)

# --- the figures
# marginal A B: CPU ms per request between two h2load loops, A the larger
marginal() {
  awk -v a="$(cpu "$1")" -v b="$(cpu "$2")" -v n="$(h2_done "$1")" -v m="$(h2_done "$2")" \
    'BEGIN {printf "%.4f", (n > m ? (a - b) * 1000 / (n - m) : 0)}'
}
ev_n() { jnum "$1" requests; }
for v in 13 12; do
  eval "evf$v=\$(per ev_full$v \$(ev_n ev_full$v))"
  eval "evr$v=\$(per ev_res$v \$(ev_n ev_res$v))"
  eval "h2f$v=\$(marginal h2_full$v h2_base$v)"
  eval "stf$v=\$(per st_full$v \$(stime_n st_full$v))"
  eval "str$v=\$(per st_res$v \$(stime_n st_res$v))"
  eval "evres_ratio$v=\$(jnum ev_res$v resumed_ratio)"
done
evka=$(per ev_ka "$(ev_n ev_ka)")
wrk_n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/wrk_ka.out")
wrkka=$(per wrk_ka "$wrk_n")
h2ka=$(per h2_ka "$(h2_done h2_ka)")
ev_hps=$(jnum ev_full13 handshakes_per_s)
h2_hps=$(h2_rps h2_full13)
st_hps=$(awk -v n="$(stime_n st_full13)" -v s="$(stime_real st_full13)" 'BEGIN {printf "%.1f", (s > 0 ? n / s : 0)}')
mem() { awk -v a="$(rss "$1")" -v b="$(rss "$2")" -v c=$C 'BEGIN {printf "%.1f", (b - a) / (c - 1)}'; }
evmem=$(mem ev_mem1 ev_memC)
wrkmem=$(mem wrk_mem1 wrk_memC)
h2mem=$(mem h2_mem1 h2_memC)

# row LABEL UNIT EVTLS H2LOAD S_TIME WRK BETTER(low|high) TARGET
row() {
  awk -v l="$1" -v u="$2" -v e="$3" -v h="$4" -v s="$5" -v w="$6" -v better="$7" -v t="$8" 'BEGIN {
    best = ""; bn = "";
    split("h2load s_time wrk", names, " "); vals[1] = h; vals[2] = s; vals[3] = w;
    for (i = 1; i <= 3; i++) {
      if (vals[i] == "-" || vals[i] + 0 <= 0) continue;
      if (best == "" || (better == "low" ? vals[i] + 0 < best + 0 : vals[i] + 0 > best + 0)) { best = vals[i]; bn = names[i] }
    }
    ratio = best == "" ? "-" : sprintf("%.2f", e / best);
    printf "%-34s %-6s %10s %10s %10s %10s   %-7s %6s   %s\n", l, u, e, h, s, w, bn, ratio, t
  }'
}
echo
echo "client cost against nginx on loopback (lower is better unless marked)"
printf '%-34s %-6s %10s %10s %10s %10s   %-7s %6s   %s\n' "" "" evtls-load h2load s_time wrk \
  "best" "ratio" "target"
row "full handshake TLS 1.3 + GET" "ms CPU" "$evf13" "$h2f13" "$stf13" - low "<= 0.55x h2load"
row "full handshake TLS 1.2 + GET" "ms CPU" "$evf12" "$h2f12" "$stf12" - low ""
row "resumed handshake TLS 1.3 + GET" "ms CPU" "$evr13" - "$str13" - low "<= 0.80x s_time -reuse"
row "resumed handshake TLS 1.2 + GET" "ms CPU" "$evr12" - "$str12" - low "<= 1.00x s_time -reuse"
row "keep-alive request" "ms CPU" "$evka" "$h2ka" - "$wrkka" low "<= 0.85x wrk"
row "handshakes per second (higher)" "1/s" "$ev_hps" "$h2_hps" "$st_hps" - high ""
row "memory per open connection" "KiB" "$evmem" "$h2mem" - "$wrkmem" low ""
echo
awk -v e="$evf13" -v h="$h2f13" -v r="$evr13" -v r2="$evr12" -v s13="$str13" -v s12="$str12" -v k="$evka" -v w="$wrkka" 'BEGIN {
  printf "against the targets: full TLS 1.3 %.2fx h2load (<= 0.55), resumed TLS 1.3 %.2fx s_time -reuse (<= 0.80), resumed TLS 1.2 %.2fx s_time -reuse (<= 1.00), keep-alive %.2fx wrk (<= 0.85)\n", e / h, r / s13, r2 / s12, k / w }'
# split NAME COUNT: "user U us, system S us" per request (where keep-alive CPU goes)
split() { awk -v n="$2" '{printf "user %.1f us, system %.1f us", $1 * 1e6 / n, $2 * 1e6 / n}' "$work/$1.cpu"; }
echo "keep-alive per request: evtls-load $(split ev_ka "$(ev_n ev_ka)"); wrk $(split wrk_ka "$wrk_n")"
echo "evtls-load alone: handshake only (no GET), full TLS 1.3: $(per ev_hs13 "$(jnum ev_hs13 connections)") ms CPU;" \
  "resumed share of the resumed runs: TLS 1.3 $evres_ratio13, TLS 1.2 $evres_ratio12"
echo "instructions per keep-alive request (callgrind, marginal over $((IB - IA)) requests):" \
  "TLS13-AES128-GCM-SHA256 $ir_aes, TLS13-CHACHA20-POLY1305-SHA256 $ir_chacha" \
  "($(awk -v a="$ir_aes" -v c="$ir_chacha" 'BEGIN {printf "%.2f", c / a}')x)"
echo "notes: each h2load run is a new process whose clients connect once: full handshakes (h2load"
echo "       and wrk do resume when they reconnect); h2load and s_time do not"
echo "       verify the server's certificate, evtls-load does (ECDSA P-256 signature and chain);"
echo "       handshakes: evtls-load and h2load $K connections at once, s_time one at a time;"
echo "       keep-alive: all 10 connections; wrk cannot open a TLS connection per request."
bench_report ev_full13_ms="$evf13" ev_full12_ms="$evf12" ev_res13_ms="$evr13" ev_res12_ms="$evr12" \
  h2_full13_ms="$h2f13" h2_full12_ms="$h2f12" st_full13_ms="$stf13" st_full12_ms="$stf12" \
  st_res13_ms="$str13" st_res12_ms="$str12" ev_ka_ms="$evka" wrk_ka_ms="$wrkka" h2_ka_ms="$h2ka" \
  ev_hps="$ev_hps" h2_hps="$h2_hps" st_hps="$st_hps" ev_mem_kib="$evmem" wrk_mem_kib="$wrkmem" \
  h2_mem_kib="$h2mem" ir_aes="$ir_aes" ir_chacha="$ir_chacha" \
  ev_requests_full13="$(ev_n ev_full13)" ev_requests_ka="$(ev_n ev_ka)" n_per_run=$N \
  ev_res_ratio13="$evres_ratio13" ev_res_ratio12="$evres_ratio12" \
  ev_full13_cpu_s="$(cpu ev_full13)" ev_ka_cpu_s="$(cpu ev_ka)"
