#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test.sh - the whole test suite: installs what it needs, then builds and
# runs every test twice, in a -Werror build and in an ASan+UBSan build; runs
# the integration tests a third time under valgrind memcheck; and runs each
# libFuzzer harness for EVTLS_FUZZ_SECONDS (default 30) from its
# seed corpus.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh" test
jobs=$(nproc)
export EVTLS_LOG=${EVTLS_LOG:-warn}
status=0
# Every process the suite starts inherits this mark; a peer or tool of ours
# (by process name, as ps shows it: 15 characters at most) that still
# carries it when the suite ends was left behind: a failure, and it is ended.
export EVTLS_SUITE_RUN="$$.$(date +%s%N)"
peer_re='^(nginx|openssl|gnutls-serv|dnsmasq|tinyproxy|node|nghttpd|python3|prometheus|evtls-relay|evtls-faultpeer|evtls-https-ser|evtls-load|evtls-load-mpi|evtls-poll|mpirun|orted|prted)$'
peers_left() {
  local pid
  for pid in $(ps -eo pid=,comm= | awk -v re="$peer_re" '$2 ~ re {print $1}'); do
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "EVTLS_SUITE_RUN=$EVTLS_SUITE_RUN" &&
      echo "$pid"
  done
  return 0
}
run_suite() { # NAME BUILD_DIR CMAKE_ARGS...
  local name=$1 dir=$2; shift 2
  echo "=== $name build"
  mkdir -p "$dir"
  if ! cmake -S "$root" -B "$dir" "$@" >"$dir/cmake.log" 2>&1; then
    tail -30 "$dir/cmake.log"
    return 1
  fi
  grep -E '^wolfssl-tuned:' "$dir/cmake.log" || true
  if ! cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1; then
    grep -E ': (error|warning):' -A3 "$dir/build.log" || tail -30 "$dir/build.log"
    return 1
  fi
  echo "=== $name tests"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600) || return 1
}
# The main release suite runs on the tuned wolfSSL (built once from Debian's
# source into build-wolfssl/), valgrind too; the ASan+UBSan suite on the
# system library, so that both builds pass everything.
run_suite "release (tuned wolfSSL)" "$root/build-test" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEVTLS_WOLFSSL=tuned -DEVTLS_MPI=ON || status=1
echo "=== valgrind memcheck (integration tests, release build)"
bash "$root/scripts/memcheck.sh" "$root/build-test" || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "asan+ubsan (system wolfSSL)" "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug \
  -DEVTLS_SANITIZE=ON -DEVTLS_BUILD_EXAMPLES=ON -DEVTLS_WOLFSSL=system || status=1
fuzz_s=${EVTLS_FUZZ_SECONDS:-30}
run_suite "fuzz (${fuzz_s} s per harness)" "$root/build-fuzz" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVTLS_FUZZ=ON -DEVTLS_FUZZ_SECONDS="$fuzz_s" \
  -DEVTLS_BUILD_TESTS=OFF -DEVTLS_BUILD_EXAMPLES=OFF -DEVTLS_BUILD_BENCH=OFF -DEVTLS_BUILD_TOOLS=OFF || status=1
left=$(peers_left)
if [ -n "$left" ]; then
  echo "=== peers the suite left running (now ended):"
  # shellcheck disable=SC2086
  ps -o pid=,args= -p $left || true
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
  status=1
else
  echo "=== no peer left running"
fi
if [ $status -eq 0 ]; then echo "test.sh: all suites passed"; else echo "test.sh: FAILED"; fi
exit $status
