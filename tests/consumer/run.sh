#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh BUILD_DIR WORK_DIR [system|tuned] - installs evtls from BUILD_DIR
# into a scratch prefix, then builds and runs an out-of-tree application
# against it twice: with CMake's find_package(evtls) and with pkg-config.
# With the tuned wolfSSL it also checks that libevtls.so neither needs nor
# exports wolfSSL, that evtls.pc does not require it, and that a program
# using the system libwolfssl itself runs beside it.
set -euo pipefail
build=$1 work=$2 wolfssl=${3:-system}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name libevtls.so | head -1)")
cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/cmake-build/consumer" "$build/pki/ca.pem"
# Every function an installed header declares with EVTLS_API is exported,
# and no other evtls_ name is (internal ones are evtls__, and hidden).
so=$(find "$work/prefix" -name 'libevtls.so.*.*' | head -1)
declared=$(cat "$work"/prefix/include/evtls/*.h | tr '\n' ' ' | grep -o 'EVTLS_API [^(;{]*(' | grep -v '^EVTLS_API *__attribute__' |
  grep -o '[a-z_0-9]*($' | tr -d '(' | grep . | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" && $3 ~ /^evtls_/ { print $3 }' | sort -u)
if [ "$(echo "$declared" | wc -l)" -lt 100 ]; then
  echo "consumer: only $(echo "$declared" | wc -l) EVTLS_API functions found in the headers" >&2; exit 1
fi
if [ "$declared" != "$exported" ]; then
  echo "consumer: declared and exported functions differ (< header only, > library only):" >&2
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  exit 1
fi
echo "consumer: all $(echo "$declared" | wc -l) public functions are exported, and nothing else"
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 -Wall -Wextra -Werror "$here/main.c" -o "$work/consumer-pc" $(pkg-config --cflags --libs evtls)
LD_LIBRARY_PATH=$libdir "$work/consumer-pc" "$build/pki/ca.pem"
if [ "$wolfssl" = tuned ]; then
  so=$(find "$work/prefix" -name 'libevtls.so.*.*' | head -1)
  if readelf -d "$so" | grep -q 'NEEDED.*libwolfssl'; then
    echo "consumer: the tuned libevtls.so needs libwolfssl.so" >&2; exit 1
  fi
  if nm -D --defined-only "$so" | grep -q ' wolfSSL_'; then
    echo "consumer: the tuned libevtls.so exports wolfSSL symbols" >&2; exit 1
  fi
  if pkg-config --print-requires --print-requires-private evtls | grep -q wolfssl; then
    echo "consumer: the tuned evtls.pc requires wolfssl" >&2; exit 1
  fi
  cc -std=c11 -Wall -Wextra -Werror -DALSO_SYSTEM_WOLFSSL "$here/main.c" -o "$work/consumer-both" \
    $(pkg-config --cflags --libs evtls) $(pkg-config --cflags --libs wolfssl)
  LD_LIBRARY_PATH=$libdir "$work/consumer-both" "$build/pki/ca.pem"
  echo "consumer: the tuned libevtls.so keeps its wolfSSL to itself"
fi
echo "consumer: find_package and pkg-config both work"
