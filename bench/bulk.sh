#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bulk.sh [BUILD_DIR [SYSTEM_BUILD_DIR]] - large bodies over keep-alive,
# evtls-load against wrk in the same run against the same nginx: 1 MB
# bodies on 4 connections, five rounds of 3 s runs (evtls-load on the tuned
# wolfSSL, evtls-load on Debian's wolfSSL, wrk), client CPU by bench/cpu_of,
# and MB of response received per client CPU-second (more is better), each
# round's ratios to wrk and their medians. SYSTEM_BUILD_DIR (default
# BUILD_DIR-system) is configured with -DEVTLS_WOLFSSL=system and built if
# it has no evtls-load. Then evtls-load's clock: ten runs of -d 3 with 1 MB
# and ten with 100 KB bodies, and how late each stopped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load cpu_of
load=$build/bin/evtls-load
sys_build=${2:-$build-system}
if [ -n "${BENCH_BRIEF:-}" ]; then
  sys_build=$build # brief: the same steps, without building a second evtls
elif [ ! -x "$sys_build/bin/evtls-load" ]; then
  echo "building evtls on Debian's wolfSSL in $sys_build" >&2
  cmake -S "$root" -B "$sys_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVTLS_WOLFSSL=system \
    -DEVTLS_BUILD_TESTS=OFF -DEVTLS_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$sys_build" -j"$(nproc)" --target evtls-load >/dev/null
fi
sys_load=$sys_build/bin/evtls-load
ROUNDS=5 D=3 LATE_RUNS=10
if [ -n "${BENCH_BRIEF:-}" ]; then
  ROUNDS=1 D=1 LATE_RUNS=2
fi
cpu_of=$build/bench/cpu_of
work=$(mktemp -d /tmp/evtls-bulk.XXXXXX)
trap 'bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
truncate -s 1000000 "$work/1m.bin"
truncate -s 100000 "$work/100k.bin"
port=$(bench_free_port)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3;
  location = /1m { alias $work/1m.bin; } location = /100k { alias $work/100k.bin; }"
url=https://127.0.0.1:$port

cpu() { bench_cpu "$work/$1.cpu"; }
# "user+system s (user, system)" from bench/cpu_of's output FILE.
cpu_split() { awk '{printf "%.2f s CPU (%.2f user, %.2f system)", $1 + $2, $1, $2}' "$1"; }
# evtls-load (PROGRAM) on 4 connections for 3 s. Prints "MB-per-CPU-second
# cipher" and leaves its details in $work/NAME.detail.
ev_run() {
  local name=$1 prog=$2 bytes cipher wakes mbps
  "$cpu_of" "$work/ev.cpu" "$prog" --cacert "$pki/ca.pem" -m request -c 4 -d $D --no-progress \
    --json "$work/ev.json" "$url/1m" >"$work/ev.out" 2>&1 || true
  bytes=$(bench_json "$work/ev.json" bytes_in)
  cipher=$(jq -r '.tls[0].cipher' "$work/ev.json")
  wakes=$(jq -er '.counters.read_wakes' "$work/ev.json")
  mbps=$(bench_json "$work/ev.json" bytes_in_per_s)
  echo "$(awk -v m="$mbps" 'BEGIN {printf "%.0f", m / 1e6}') MB/s, $(cpu_split "$work/ev.cpu")," \
    "$(awk -v w="$wakes" -v b="$bytes" 'BEGIN {printf "%.2f", w / (b / 1e6)}') read wake-ups per MB" \
    >"$work/$name.detail"
  awk -v b="$bytes" -v c="$(cpu ev)" -v k="$cipher" 'BEGIN {printf "%.1f %s\n", b / 1e6 / c, k}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# MB per CPU-second drifts 20-50 % from run to run on a 2-core machine (the
# kernel's share, wake-ups, the other processes): five rounds of 3 s runs,
# the three clients alternating, each round's ratios printed, and the medians.
if ! command -v wrk >/dev/null; then
  echo "wrk is not installed (scripts/deps.sh bench installs it)"
else
  tuned=() system=()
  for i in $(seq $ROUNDS); do
    read -r ev ev_cipher < <(ev_run tuned "$load")
    read -r sy sy_cipher < <(ev_run system "$sys_load")
    "$cpu_of" "$work/wrk.cpu" wrk -t1 -c4 -d${D}s "$url/1m" >"$work/wrk.out" 2>&1
    # wrk prints "N requests in Ts, X.XXMB read": its bytes read, after TLS.
    read -r wrk_mb wrk_s < <(sed -n 's/.* requests in \([0-9.]*\)s, \([0-9.]*\)\([KMG]\)B read/\2 \3 \1/p' \
      "$work/wrk.out" | awk '{m = $1; if ($2 == "G") m *= 1024; if ($2 == "K") m /= 1024
        printf "%.1f %s\n", m * 1.048576, $3}')
    wrk=$(awk -v m="$wrk_mb" -v c="$(cpu wrk)" 'BEGIN {printf "%.1f", m / c}')
    r=$(awk -v e="$ev" -v w="$wrk" 'BEGIN {printf "%.2f", e / w}')
    rs=$(awk -v e="$sy" -v w="$wrk" 'BEGIN {printf "%.2f", e / w}')
    tuned+=("$r")
    system+=("$rs")
    echo "round $i: evtls-load $ev MB per CPU-second ($ev_cipher): $r x wrk;" \
      "on Debian's wolfSSL $sy ($sy_cipher): $rs x; wrk $wrk"
    echo "  evtls-load $(cat "$work/tuned.detail")"
    echo "  on Debian's wolfSSL $(cat "$work/system.detail")"
    echo "  wrk $(awk -v m="$wrk_mb" -v t="$wrk_s" 'BEGIN {printf "%.0f", m / t}') MB/s," \
      "$(cpu_split "$work/wrk.cpu")"
  done
  echo "evtls-load / wrk, MB per CPU-second, median of $ROUNDS rounds: $(median "${tuned[@]}")" \
    "(target >= 1.10 on the tuned wolfSSL); on Debian's wolfSSL $(median "${system[@]}")"
  figures=(ratio_tuned="$(median "${tuned[@]}")" ratio_system="$(median "${system[@]}")"
    evtls_mb_per_cpu_s="$ev" wrk_mb_per_cpu_s="$wrk")
fi

for size in 1m 100k; do
  worst=0
  for i in $(seq $LATE_RUNS); do
    "$load" --cacert "$pki/ca.pem" -m request -c 4 -d $D --no-progress \
      --json "$work/d.json" "$url/$size" >/dev/null 2>&1 || true
    late=$(bench_json "$work/d.json" stop_late_ms)
    worst=$(awk -v a="$worst" -v b="${late:-9999}" 'BEGIN {print (b > a ? b : a)}')
  done
  echo "-d $D with $size bodies, $LATE_RUNS runs: stopped at most $worst ms after -d was up"
  figures+=("runs_$size=$LATE_RUNS")
done
bench_report "${figures[@]}"
