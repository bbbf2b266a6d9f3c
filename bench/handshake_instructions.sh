#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# handshake_instructions.sh [BUILD_DIR] - user-space instructions per full
# TLS 1.3 handshake in the evtls client, against the wolfSSL floor,
# counted exactly by callgrind in the same run.
#
#   evtls:  evtls-load -m handshake (connect, verified full handshake with
#           key share X25519, close) against nginx on loopback (ECDSA
#           P-256); every instruction of the client process counts: evtls,
#           libevent, wolfSSL and the C library's user-space side.
#   floor:  bench/tls_floor, a wolfSSL client and server over memory
#           buffers, same certificate, group, cipher and checks; only the
#           client's functions count (--toggle-collect=floor_client_*).
#
# Both are marginal counts, (I(N2) - I(N1)) / (N2 - N1): the set-up, the
# context and wolfSSL's first handshakes against a key (which build its ECC
# point cache) cancel out. Needs valgrind (scripts/deps.sh bench).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load tls_floor
work=$(mktemp -d /tmp/evtls-hsinstr.XXXXXX)
trap 'bench_nginx_stop; rm -rf "$work"' EXIT
port=$(bench_free_port)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3;"

GROUP=X25519
# evtls's default list without AES instructions (src/evtls_tlsctx.c), given
# to both explicitly (a wolfSSL with AES-NI puts AES-GCM first by default)
CIPHERS=TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384
N1=${N1:-20}
N2=${N2:-120}
[ -n "${BENCH_BRIEF:-}" ] && N1=5 N2=15

total() { sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$1" | head -1; }

evtls_count() { # N -> instructions
  valgrind --tool=callgrind --callgrind-out-file="$work/ev.$1" "$build/bin/evtls-load" \
    --cacert "$pki/ca.pem" --servername localhost --tls-min 1.3 --groups "$GROUP" \
    --ciphers "$CIPHERS" \
    -m handshake -c 1 -t 1 -n "$1" --json "$work/ev.$1.json" "127.0.0.1:$port" \
    >"$work/ev.$1.log" 2>&1 || { tail -5 "$work/ev.$1.log" >&2; exit 1; }
  grep -q "\"cipher\":\"TLS13-CHACHA20-POLY1305-SHA256\"" "$work/ev.$1.json" ||
    grep -q "TLS13-CHACHA20-POLY1305-SHA256" "$work/ev.$1.log" ||
    { echo "evtls did not negotiate ChaCha20-Poly1305" >&2; exit 1; }
  total "$work/ev.$1"
}
floor_count() { # N -> instructions
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect='floor_client_*' \
    --callgrind-out-file="$work/fl.$1" "$build/bench/tls_floor" "$pki" "$1" "$GROUP" \
    "$CIPHERS" >"$work/fl.$1.log" 2>&1 || { tail -5 "$work/fl.$1.log" >&2; exit 1; }
  grep -q "TLS13-CHACHA20-POLY1305-SHA256 $GROUP" "$work/fl.$1.log" ||
    { echo "the floor did not negotiate ChaCha20-Poly1305" >&2; exit 1; }
  total "$work/fl.$1"
}

echo "handshake_instructions: callgrind, $N1 and $N2 full TLS 1.3 handshakes each"
e1=$(evtls_count $N1)
e2=$(evtls_count $N2)
f1=$(floor_count $N1)
f2=$(floor_count $N2)
read -r ev fl ratio < <(awk -v e1="$e1" -v e2="$e2" -v f1="$f1" -v f2="$f2" -v n1=$N1 -v n2=$N2 \
  'BEGIN {ev = (e2 - e1) / (n2 - n1); fl = (f2 - f1) / (n2 - n1); printf "%.0f %.0f %.3f\n", ev, fl, ev / fl}')
printf "  evtls client (evtls-load, loopback nginx):  %12.0f instructions per handshake\n" "$ev"
printf "  wolfSSL floor (client over memory buffers): %12.0f instructions per handshake\n" "$fl"
printf "  ratio evtls / floor: %.3f (target <= 1.05, both on the same wolfSSL)\n" "$ratio"
bench_report evtls_per_handshake="$ev" floor_per_handshake="$fl" ratio="$ratio" n1=$N1 n2=$N2 \
  evtls_total_n1="$e1" evtls_total_n2="$e2" floor_total_n1="$f1" floor_total_n2="$f2"
