#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# memcheck.sh BUILD_DIR [TEST...] - runs the integration tests (default: all
# of them that BUILD_DIR built) under valgrind memcheck, with the programs
# they start (evtls-load, evtls-poll, the test's own children) traced too
# and the peers (nginx, openssl, dnsmasq, node, the fault peer) not. Fails
# unless every process reports zero errors and zero leaks (definite,
# indirect and possible). Logs: BUILD_DIR/memcheck/<test>.<pid>.log.
set -euo pipefail
build=$(cd "${1:?usage: memcheck.sh BUILD_DIR [TEST...]}" && pwd)
shift
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  for t in test_cfg test_conn test_io test_dns test_pool test_pool_contract test_http test_fair test_fault test_load test_targets test_script test_poll test_foreign_loop test_transport test_client test_h2 test_early test_pkcs11 test_trust test_null_args test_http_parse; do
    [ -x "$build/tests/$t" ] && tests+=("$t")
  done
fi
out=$build/memcheck
rm -rf "$out"
mkdir -p "$out"
export EVTLS_LOG=${EVTLS_LOG:-warn} CMOCKA_MESSAGE_OUTPUT=stdout
# Programs run 5-20 times slower under memcheck; the few tests that give
# one a fixed time to get going scale it by this.
export EVTLS_TEST_TIME_SCALE=${EVTLS_TEST_TIME_SCALE:-8}
status=0
for t in "${tests[@]}"; do
  start=$(date +%s)
  rc=0
  (cd "$build/tests" && valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
    --trace-children=yes \
    --trace-children-skip='/usr/*,/bin/*,/sbin/*,*/nginx,*/openssl,*/dnsmasq,*/node,*/evtls-faultpeer' \
    --log-file="$out/$t.%p.log" "./$t" >"$out/$t.out" 2>&1) || rc=$?
  # A process's log holds only its header unless memcheck found something.
  bad=$(grep -l -E '(ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]|possibly lost: [1-9])' \
    "$out/$t".*.log 2>/dev/null || true)
  procs=$(cat "$out/$t".*.log | grep -c 'ERROR SUMMARY: 0 errors' || true)
  if [ $rc -ne 0 ] || [ -n "$bad" ]; then
    status=1
    echo "memcheck: $t FAILED (exit $rc) after $(( $(date +%s) - start )) s"
    grep -E '^\[  (FAILED|ERROR)' "$out/$t.out" || true
    for f in $bad; do echo "--- $f"; grep -E '^==[0-9]+== ' "$f" | sed -n '1,60p'; done
  else
    echo "memcheck: $t: 0 errors, 0 leaks in $procs processes ($(( $(date +%s) - start )) s)"
  fi
done
[ $status -eq 0 ] && echo "memcheck.sh: all clean" || echo "memcheck.sh: FAILED"
exit $status
