#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pkcs11.sh [BUILD_DIR] - what a client key in a PKCS#11 token costs, in one
# run: evtls-load full TLS 1.3 handshakes (-m handshake, -c 10, two threads)
# against nginx requiring a client certificate, with the test's ECDSA P-256
# client key from its file and the same key imported into a SoftHSM token
# (made here, in its own directory): handshakes per CPU-second of the client
# (user + system, bench/cpu_of, SoftHSM's signing included: it runs in the
# client's process) and the ratio. Then the token's run again with every
# handshake after the first resuming (--resume-ratio 1): a resumed TLS 1.3
# handshake does not authenticate the client again, so the token signs only
# the full ones (printed: handshakes per CPU-second, and the signatures the
# token made, counted as the full handshakes).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load cpu_of
load=$build/bin/evtls-load
cpu_of=$build/bench/cpu_of
module=/usr/lib/softhsm/libsofthsm2.so
N=4000
[ -n "${BENCH_BRIEF:-}" ] && N=400
work=$(mktemp -d /tmp/evtls-pkcs11.XXXXXX)
trap 'bench_nginx_stop; rm -rf "$work"' EXIT
export SOFTHSM2_CONF=$work/softhsm2.conf
mkdir "$work/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$work/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$pki/client.key" -out "$work/client.p8"
softhsm2-util --import "$work/client.p8" --token bench --label client --id 01 --pin 1234 >/dev/null
read -r port < <(bench_free_port 1)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3;
  ssl_verify_client on; ssl_client_certificate $pki/ca.pem;"
u=https://localhost:$port/

run() { # NAME KEY ARGS...: N handshakes; prints handshakes per CPU-second
  local name=$1 key=$2
  shift 2
  "$cpu_of" "$work/$name.cpu" "$load" --cacert "$pki/ca.pem" --cert "$pki/client.pem" \
    --key "$key" -m handshake -t 2 -c 10 -n $N --no-progress --json "$work/$name.json" "$@" \
    "$u" >"$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; exit 1; }
  [ "$(bench_json "$work/$name.json" connections_failed)" = 0 ] ||
    { cat "$work/$name.out" >&2; exit 1; }
  awk -v n="$(bench_json "$work/$name.json" connections)" -v c="$(bench_cpu "$work/$name.cpu")" \
    'BEGIN {printf "%.1f", n / c}'
}
file_hps=$(run file "$pki/client.key")
token_hps=$(run token "pkcs11:token=bench;object=client?pin-value=1234&module-path=$module")
resumed_hps=$(run resumed "pkcs11:token=bench;object=client?pin-value=1234&module-path=$module" \
  --resume-ratio 1)
full=$(( $(bench_json "$work/resumed.json" connections) - $(bench_json "$work/resumed.json" resumed) ))
ratio=$(awk -v t="$token_hps" -v f="$file_hps" 'BEGIN {printf "%.2f", t / f}')
echo "full TLS 1.3 handshakes with a client certificate, $N each, per CPU-second of the client:"
echo "  key from its file: $file_hps; key in SoftHSM: $token_hps; token / file: $ratio"
echo "  key in SoftHSM, resuming (--resume-ratio 1): $resumed_hps handshakes per CPU-second;" \
  "$full of them full (a resumed TLS 1.3 handshake does not authenticate the client again)"
bench_report handshakes="$N" file_hps="$file_hps" token_hps="$token_hps" ratio="$ratio" \
  resumed_hps="$resumed_hps" full_in_resumed_run="$full"
