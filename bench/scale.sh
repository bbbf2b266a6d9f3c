#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# scale.sh [BUILD_DIR] - one evtls-load process at 15,000 concurrent TLS
# connections against nginx on loopback, and the client CPU per handshake
# at 15,000 concurrent against that at 100, in the same run.
#
#   1. hold: 15,000 connections opened (ramped over 30 s) and held for 15 s;
#      must end with 15,000 held and no error; prints the resident memory
#      per held connection.
#   2. handshake mode (connect, verified full TLS 1.3 handshake, close),
#      closed loop, 1 thread, C = 100 and C = 15,000 connections in flight,
#      the same number of handshakes each, twice in turn (100, 15000, 100,
#      15000): client CPU (user + system, from the kernel's accounting of
#      the process) per handshake, and the ratio of the means of the two
#      runs at each size.
# Wall-clock CPU figures drift 20-50 % between runs on shared machines;
# the ratio is taken within one run. The open-files limit (20,000) bounds
# one process to about 19,000 sockets.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load
work=$(mktemp -d /tmp/evtls-scale.XXXXXX)
trap 'bench_nginx_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
port=$(bench_free_port)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl backlog=16384; ssl_protocols TLSv1.3;"

BIG=${BIG:-15000}
SMALL=${SMALL:-100}
N=${N:-15000} # handshakes per handshake-mode run
HOLD_S=15 RAMP_S=30
if [ -n "${BENCH_BRIEF:-}" ]; then
  BIG=300 SMALL=20 N=300 HOLD_S=1 RAMP_S=1
fi
load=("$build/bin/evtls-load" --cacert "$pki/ca.pem" --servername localhost --tls-min 1.3
  --connect-timeout 30s --handshake-timeout 30s -t 1)
jnum() { bench_json "$@"; }

echo "scale: nginx on 127.0.0.1:$port (TLS 1.3, ECDSA P-256); evtls-load, one thread"
"${load[@]}" -m hold -c "$BIG" -d $HOLD_S --ramp-up $RAMP_S --json "$work/hold.json" "127.0.0.1:$port" \
  >"$work/hold.out" 2>&1 || { tail -20 "$work/hold.out" >&2; exit 1; }
held=$(jnum "$work/hold.json" held)
errors=$(jnum "$work/hold.json" errors)
# the slope of resident memory as the connections opened (the ramp), fixed costs apart
per_held=$(awk -v k="$(jnum "$work/hold.json" kib_per_held)" 'BEGIN {printf "%.1f", k}')
echo "  hold: $held of $BIG connections held at once, $errors errors, $per_held KiB resident each," \
  "opened at $(jnum "$work/hold.json" handshakes_per_s) handshakes/s"
[ "$held" = "$BIG" ] && [ "$errors" = 0 ] || { echo "scale: hold run failed" >&2; exit 1; }

declare -A cpu n_hs
for round in 1 2; do
  for c in "$SMALL" "$BIG"; do
    "${load[@]}" -m handshake -c "$c" -n "$N" --json "$work/hs$c.$round.json" "127.0.0.1:$port" \
      >"$work/hs$c.$round.out" 2>&1 || { tail -20 "$work/hs$c.$round.out" >&2; exit 1; }
    f=$work/hs$c.$round.json
    # "total user system", microseconds per handshake
    read -r us us_user us_sys < <(awk -v u="$(jnum "$f" cpu_user_s)" -v s="$(jnum "$f" cpu_sys_s)" \
      -v n="$(jnum "$f" connections)" \
      'BEGIN {if (n > 0) printf "%.1f %.1f %.1f\n", (u + s) * 1e6 / n, u * 1e6 / n, s * 1e6 / n;
              else print "0 0 0"}')
    cpu[$c.$round]=$us
    n_hs[$c.$round]=$(jnum "$f" connections)
    [ "${n_hs[$c.$round]}" = "$N" ] || { echo "scale: ${n_hs[$c.$round]} handshakes, not $N" >&2; exit 1; }
    printf "  handshake mode, %5d in flight: %6d handshakes, %s errors, %7.1f us CPU each (user %.1f, system %.1f)\n" \
      "$c" "$(jnum "$f" connections)" "$(jnum "$f" errors)" "$us" "$us_user" "$us_sys"
    [ "$(jnum "$f" errors)" = 0 ] || { echo "scale: errors at $c in flight" >&2; exit 1; }
  done
done
ratio=$(awk -v a1="${cpu[$SMALL.1]}" -v a2="${cpu[$SMALL.2]}" -v b1="${cpu[$BIG.1]}" -v b2="${cpu[$BIG.2]}" \
  'BEGIN {printf "%.2f", ((b1 + b2) / 2) / ((a1 + a2) / 2)}')
echo "  CPU per handshake at $BIG / at $SMALL in flight: $ratio (target <= 1.20)"
bench_report held="$held" held_kib_each="$per_held" handshakes_per_run="$N" \
  us_small_1="${cpu[$SMALL.1]}" us_small_2="${cpu[$SMALL.2]}" us_big_1="${cpu[$BIG.1]}" \
  us_big_2="${cpu[$BIG.2]}" ratio_big_small="$ratio"
