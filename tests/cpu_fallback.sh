#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cpu_fallback.sh BUILD_DIR - the tuned wolfSSL carries x86-64 assembly
# (AES-NI, AVX/AVX2, BMI2/ADX) and picks it at run time from CPUID. This
# runs the tuned evtls-poll under QEMU's user-mode emulator as older CPUs,
# where an instruction the model lacks raises SIGILL: a Core 2 (no AES-NI,
# no AVX) and a Haswell (AES-NI, AVX2 and BMI2, no ADX), with both TLS 1.3
# ciphers, two rounds each (a full handshake and a resumed one, a GET each)
# against the demo server running natively. Every run must succeed.
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
command -v qemu-x86_64 >/dev/null || { echo "cpu_fallback: qemu-x86_64 missing (apt-get install qemu-user)"; exit 1; }
pki=$build/pki
out=$(mktemp -d /tmp/evtls-cpu.XXXXXX)
. "$root/scripts/demo_server.sh"
trap 'demo_server_stop; rm -rf "$out"' EXIT
demo_server_start "$build" "$pki" "$out/server.out"
url="https://localhost:$demo_port/"
# First, that the emulated models refuse what they lack (else this test
# could not fail): an AES-NI instruction as a Core 2, an ADX one as a
# Haswell, each SIGILL.
printf '%s\n' '#include <immintrin.h>' \
  'int main(int c, char **v) { (void)v; __m128i a = _mm_set1_epi32(c);' \
  '#ifdef ADX' \
  '  unsigned long long x = (unsigned long long)c, y = 1; (void)a;' \
  '  __asm__ volatile("adcx %1, %0" : "+r"(x) : "r"(y)); return (int)x; }' \
  '#else' \
  '  a = _mm_aesenc_si128(a, a); return _mm_cvtsi128_si32(a) == 7; }' \
  '#endif' >"$out/probe.c"
cc -O1 -maes -madx "$out/probe.c" -o "$out/probe-aes"
cc -O1 -maes -madx -DADX "$out/probe.c" -o "$out/probe-adx"
for probe in "Conroe probe-aes" "Haswell-v4 probe-adx"; do
  set -- $probe
  rc=0
  { qemu-x86_64 -cpu "$1" "$out/$2" >/dev/null 2>&1 || rc=$?; } 2>/dev/null
  if [ $rc -ne 132 ]; then
    echo "cpu_fallback: the emulator ran $2 as $1: it does not enforce the model"
    exit 1
  fi
done
status=0
for cpu in Conroe Haswell-v4; do
  for cipher in TLS13-AES128-GCM-SHA256 TLS13-CHACHA20-POLY1305-SHA256; do
    rc=0
    qemu-x86_64 -cpu "$cpu" "$build/bin/evtls-poll" --count 2 --interval 0 --quiet \
      --cacert "$pki/ca.pem" --ciphers "$cipher" --tls-min 1.3 "$url" >"$out/poll.out" 2>&1 || rc=$?
    if [ $rc -ne 0 ] || ! grep -q "summary: 2 rounds, 2 ok, 0 failed" "$out/poll.out"; then
      echo "cpu_fallback: as $cpu with $cipher: exit $rc"
      tail -5 "$out/poll.out"
      status=1
    else
      echo "cpu_fallback: as $cpu with $cipher: 2 rounds ok"
    fi
  done
done
exit $status
