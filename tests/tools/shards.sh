#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shards.sh BUILD_DIR [EVTLS_LOAD_MPI] - evtls-load beyond one machine, against
# nginx on loopback, whose own request counter (stub_status) is the truth:
#   1. three --shard runs started together (--start-at) and merged report
#      exactly the requests nginx served; the shares are exact; merging is
#      associative; the Kubernetes variables give the shard; HTTP/2 shards
#      merge with -M and their HTTP/2 counts; a result of another version of
#      evtls-load is refused by its name;
#   2. an HdrHistogram implementation that is not ours (Debian's
#      libhdrhistogram-java) decodes every histogram bucket for bucket as
#      ours does, and to the counts the result states;
#   3. results of another test, a shard twice and a damaged file are refused
#      (exit 2, naming the difference);
#   4. deploy/k8s's manifests parse, and their shard and merge command lines
#      run here (the target, CA, paths and size swapped for loopback's);
#   5. with EVTLS_LOAD_MPI, mpirun -np 3 reports exactly nginx's count;
#   6. the HTML reports of a run and of a merge are self-contained and render
#      in headless Chromium to a page with charts (not blank).
set -euo pipefail
build=$(cd "$1" && pwd)
mpi=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/lib.sh"
pki=$build/pki
load=$build/bin/evtls-load
work=$(mktemp -d)
trap 'bench_nginx_stop; rm -rf "$work"' EXIT
read -r port sport h2port < <(bench_free_port 3)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl;" \
  "listen 127.0.0.1:$sport; location = /status { stub_status; }" \
  "listen 127.0.0.1:$h2port ssl http2;"
url=https://127.0.0.1:$port/
fail() { echo "shards.sh: FAIL: $*" >&2; exit 1; }

served() { # nginx's requests counter (this status request included)
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$sport"
  printf 'GET /status HTTP/1.0\r\nHost: x\r\n\r\n' >&3
  line=$(sed -n '/^ *[0-9]* [0-9]* [0-9]*/p' <&3 | tail -1)
  exec 3>&-
  awk '{print $3}' <<<"$line"
}

# Runs "$@" and checks that nginx served exactly N requests meanwhile.
expect_served() { # N COMMAND...
  local n=$1 before after
  shift
  before=$(served)
  "$@"
  after=$(served)
  [ $((after - before - 1)) -eq "$n" ] || fail "nginx served $((after - before - 1)) requests, expected $n"
}

start_soon() { date -u -d '+1 sec' +%s.%N | cut -c1-14; }

echo "--- 1. three shards and merge"
run_shards() {
  local at pids=() i
  at=$(start_soon)
  for i in 0 1 2; do
    "$load" --shard "$i/3" --start-at "$at" -c 7 -n 1001 --cacert "$pki/ca.pem" --no-progress \
      --json "$work/s$i.json" "$url" >"$work/s$i.txt" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do wait "${pids[$i]}" || { cat "$work/s$i.txt"; fail "shard $i failed"; }; done
}
expect_served 1001 run_shards
[ "$(jq -r .format "$work/s0.json")" = evtls-result/3 ] || fail "no result format"
for i in 0 1 2; do
  want=$(( i < 2 ? 334 : 333 ))
  got=$(jq .counters.ops_ok "$work/s$i.json")
  [ "$got" -eq "$want" ] || fail "shard $i did $got requests, its share is $want"
  [ "$(jq .connections_here "$work/s$i.json")" -eq $(( i < 1 ? 3 : 2 )) ] || fail "shard $i's connections"
done
"$load" merge --json "$work/merged.json" "$work"/s{0,1,2}.json >"$work/merged.txt"
cat "$work/merged.txt"
[ "$(jq .requests "$work/merged.json")" -eq 1001 ] || fail "merged requests"
[ "$(jq .latency.total.count "$work/merged.json")" -eq 1001 ] || fail "merged total count"
[ "$(jq '.shards | length' "$work/merged.json")" -eq 3 ] || fail "merged shard table"
grep -q 'merged: 3 results of 3 shards' "$work/merged.txt" || fail "no merged line"
# A shard says -c is the whole test's, and what its own share is.
grep -q -- '-c 7 (connections of the whole test)' "$work/s0.txt" || fail "a shard's -c line"
grep -q 'shard 0 of 3 (0-based) on .*: 3 of the 7 connections' "$work/s0.txt" || fail "a shard's share"
"$load" --shard 1/2 --rate 40 -d 0.5 -c 2 --cacert "$pki/ca.pem" --no-progress "$url" \
  >"$work/rate.txt" 2>&1 || { cat "$work/rate.txt"; fail "an open-loop shard failed"; }
grep -q 'rate asked 40.0/s for the whole test, 20.0/s for this shard' "$work/rate.txt" ||
  { cat "$work/rate.txt"; fail "an open-loop shard's rate"; }
grep -q 'start skew' "$work/merged.txt" || fail "no start skew"
# HTTP/2 shards: their merge keeps -M and the HTTP/2 counts, exact at nginx.
run_h2_shards() {
  local i
  for i in 0 1; do
    "$load" --shard "$i/2" --http2 -M 4 -c 4 -n 400 --cacert "$pki/ca.pem" --no-progress \
      --json "$work/h$i.json" "https://127.0.0.1:$h2port/" >"$work/h$i.txt" 2>&1 ||
      { cat "$work/h$i.txt"; fail "HTTP/2 shard $i failed"; }
  done
}
expect_served 400 run_h2_shards
"$load" merge --json "$work/hm.json" "$work"/h{0,1}.json >"$work/hm.txt"
grep -q 'x -M 4 (HTTP/2 streams each)' "$work/hm.txt" || { cat "$work/hm.txt"; fail "merged -M"; }
grep -q 'HTTP/2: 400 of 400 responses over h2' "$work/hm.txt" || fail "merged HTTP/2 counts"
[ "$(jq .counters.h2_responses "$work/hm.json")" -eq 400 ] || fail "merged h2_responses"
# A result of another version of evtls-load is refused by its name.
jq -c '.format = "evtls-result/1"' "$work/h1.json" >"$work/old.json"
if "$load" merge "$work/h0.json" "$work/old.json" 2>"$work/old.err"; then fail "an old result merged"; fi
grep -q 'written by another version of evtls-load (format evtls-result/1' "$work/old.err" ||
  { cat "$work/old.err"; fail "the old result's refusal"; }
# Associative: (s0 + s1) + s2 is s0 + s1 + s2, bucket for bucket.
"$load" merge --allow-partial --json "$work/s01.json" "$work/s0.json" "$work/s1.json" \
  >/dev/null 2>"$work/partial.err"
grep -q 'note: 1 of the 3 shards missing (2)' "$work/partial.err" || fail "no note of the missing shard"
"$load" merge --json "$work/again.json" "$work/s01.json" "$work/s2.json" >/dev/null
for k in counters histograms status_codes latency series; do
  [ "$(jq -c ".$k" "$work/again.json")" = "$(jq -c ".$k" "$work/merged.json")" ] ||
    fail "merging in another grouping changed .$k"
done
# The Kubernetes Indexed Job's variables choose the shard.
expect_served 333 env JOB_COMPLETION_INDEX=2 EVTLS_SHARD_COUNT=3 \
  "$load" -c 7 -n 1001 --cacert "$pki/ca.pem" --no-progress --json "$work/k2.json" "$url" >/dev/null
[ "$(jq .shard.index "$work/k2.json")" -eq 2 ] || fail "JOB_COMPLETION_INDEX not taken"
# The index alone (a Job without EVTLS_SHARD_COUNT) would run the whole load
# in every pod: a usage error instead, naming the missing variable.
rc=0
env JOB_COMPLETION_INDEX=1 "$load" -c 1 -n 1 --cacert "$pki/ca.pem" "$url" >/dev/null \
  2>"$work/env.err" || rc=$?
[ $rc -eq 2 ] || fail "JOB_COMPLETION_INDEX without EVTLS_SHARD_COUNT exited $rc, not 2"
grep -q 'EVTLS_SHARD_COUNT is not' "$work/env.err" || fail "the usage error does not name the variable"

echo "--- 2. an independent HdrHistogram decoder"
mkdir -p "$work/java"
javac -d "$work/java" -cp /usr/share/java/hdrhistogram.jar "$root/tests/tools/hdr/HdrDecode.java"
jdecode() { java -cp "$work/java:/usr/share/java/hdrhistogram.jar" HdrDecode "$@"; }
"$build/tests/hdr_tool" sample 7 200000 >"$work/sample.txt"
jdecode "$(head -1 "$work/sample.txt")" >"$work/sample.java"
diff <(tail -n +2 "$work/sample.java") <(tail -n +2 "$work/sample.txt") >/dev/null ||
  fail "Java's buckets differ from the values recorded"
[ "$(head -1 "$work/sample.java")" = "total 200000" ] || fail "Java's total of the sample"
for p in dns tcp tls connect ttfb total; do
  h=$(jq -r ".histograms.$p" "$work/merged.json")
  jdecode "$h" >"$work/$p.java"
  "$build/tests/hdr_tool" decode 3 "$h" >"$work/$p.ours"
  cmp -s "$work/$p.java" "$work/$p.ours" || fail "phase $p: Java and evtls decode differently"
  [ "$(head -1 "$work/$p.java")" = "total $(jq ".latency.$p.count" "$work/merged.json")" ] ||
    fail "phase $p: Java's total differs from the result's count"
done
[ "$(head -1 "$work/total.java")" = "total 1001" ] || fail "Java's total is not nginx's count"
s=$(jq -r '[.series[] | select(.hist != null) | .hist][0]' "$work/merged.json")
jdecode "$s" | cmp -s - <("$build/tests/hdr_tool" decode 2 "$s") || fail "a series histogram"

echo "--- 3. refusals"
refused() { # WHAT FILE...
  local what=$1 rc=0
  shift
  "$load" merge "$@" >/dev/null 2>"$work/err" || rc=$?
  [ $rc -eq 2 ] || fail "merge of $* exited $rc, not 2"
  grep -q "$what" "$work/err" || { cat "$work/err"; fail "the refusal does not name $what"; }
  cat "$work/err"
}
"$load" --shard 2/3 -c 7 -n 1001 --cacert "$pki/ca.pem" --no-progress --json "$work/other.json" \
  "${url}other" >/dev/null 2>&1 || true # a 404 run: another test
refused urls "$work/s0.json" "$work/s1.json" "$work/other.json"
# The fingerprint covers every request byte, the verification and the
# timeouts: shards differing in one of them at a time are refused, naming it.
fp_shard() { # NAME INDEX ARGS...
  local name=$1 i=$2
  shift 2
  "$load" --shard "$i/2" -c 2 -n 8 --cacert "$pki/ca.pem" --no-progress --json "$work/fp-$name.json" \
    "$@" "$url" >/dev/null 2>&1 || fail "fingerprint shard $name failed"
}
fp_shard a0 0 -H 'X-A: 1'
fp_shard a1 1 -H 'X-A: 1'
fp_shard b1 1 -H 'X-A: 2'
fp_shard ins 1 -H 'X-A: 1' --insecure
fp_shard tmo 1 -H 'X-A: 1' --ttfb-timeout 5s
fp_shard bodyA 0 -H 'X-A: 1' --data 'body-1'
fp_shard bodyB 1 -H 'X-A: 1' --data 'body-2'
fp_shard name 1 -H 'X-A: 1' --servername localhost
fp_shard ramp 1 -H 'X-A: 1' --ramp-up 0.2
"$load" merge "$work/fp-a0.json" "$work/fp-a1.json" >/dev/null || fail "the same test did not merge"
refused "request_fnv1a is" "$work/fp-a0.json" "$work/fp-b1.json"
refused "insecure is false in one, true in the other" "$work/fp-a0.json" "$work/fp-ins.json"
refused "ttfb_timeout_ms is 0 in one, 5000 in the other" "$work/fp-a0.json" "$work/fp-tmo.json"
refused "request_fnv1a is" "$work/fp-bodyA.json" "$work/fp-bodyB.json" # bodies of one length
refused "servername is null in one" "$work/fp-a0.json" "$work/fp-name.json"
refused "ramp_up_us is 0 in one, 200000 in the other" "$work/fp-a0.json" "$work/fp-ramp.json"
refused "merged already" "$work/merged.json" "$work/s1.json"
refused "1 of the 3 shards missing (1)" "$work/s0.json" "$work/s2.json"
refused "did you mean '--allow-partial'" --allow-partia "$work/s0.json"
jq '.histograms.tls = "HISTFAAAAAAAAAA="' "$work/s0.json" >"$work/damaged.json"
refused "histograms.tls" "$work/damaged.json"
# A max past the layout (2^40) is refused, not read as a bucket.
jq '.latency.total.max_us = 1099511627776' "$work/s0.json" >"$work/huge.json"
refused "latency.total says" "$work/huge.json"
head -c 300 "$work/s0.json" >"$work/cut.json"
refused "not JSON" "$work/cut.json"

echo "--- 4. deploy/k8s"
/usr/bin/python3 "$root/tests/k8s_manifest.py" "$root/deploy/k8s/evtls-load-job.yaml" \
  "$root/deploy/k8s/evtls-load-merge.yaml" >"$work/k8s.txt"
n=$(sed -n '1p' "$work/k8s.txt" | jq '.[0]')
mkdir -p "$work/results"
at=$(start_soon)
shard_argv=$(sed -n '2p' "$work/k8s.txt" | jq -r --arg load "$load" --arg at "$at" \
  --arg ca "$pki/ca.pem" --arg res "$work/results" --arg url "$url" \
  'map(if . == "evtls-load" then $load elif . == "START_AT" then $at
       elif . == "/etc/evtls/ca.pem" then $ca elif . == "60s" then "1s"
       elif . == "300" then "30" elif startswith("https://") then $url
       else sub("^/results"; $res) end) | @sh')
k8s_shards() {
  local pids=() i
  for ((i = 0; i < n; i++)); do
    eval "JOB_COMPLETION_INDEX=$i EVTLS_SHARD_COUNT=$n ${shard_argv//\$\(JOB_COMPLETION_INDEX\)/$i}" \
      >"$work/k$i.txt" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do wait "${pids[$i]}" || { cat "$work/k$i.txt"; fail "k8s shard $i"; }; done
}
k8s_shards
merge_cmd=$(sed -n '3p' "$work/k8s.txt" | jq -r '.[2]')
merge_cmd=${merge_cmd//\/results/$work/results}
(PATH=$build/bin:$PATH && sh -c "$merge_cmd") >"$work/k8s-merge.txt"
[ "$(jq '.shards | length' "$work/results/merged.json")" -eq "$n" ] || fail "k8s merge"
[ "$(jq .connections_here "$work/results/merged.json")" -eq 30 ] || fail "k8s connections"

if [ -n "$mpi" ]; then
  echo "--- 5. mpirun -np 3 evtls-load-mpi"
  as_root=()
  [ "$(id -u)" -eq 0 ] && as_root=(--allow-run-as-root)
  run_mpi() {
    mpirun "${as_root[@]}" --oversubscribe -np 3 "$mpi" -c 7 -n 999 --cacert "$pki/ca.pem" \
      --no-progress --json "$work/mpi.json" "$url" >"$work/mpi.txt"
  }
  expect_served 999 run_mpi
  cat "$work/mpi.txt"
  [ "$(jq .requests "$work/mpi.json")" -eq 999 ] || fail "MPI requests"
  [ "$(jq '.shards | length' "$work/mpi.json")" -eq 3 ] || fail "MPI ranks"
  h=$(jq -r .histograms.total "$work/mpi.json")
  [ "$(jdecode "$h" | head -1)" = "total 999" ] || fail "MPI histogram"
fi
echo "--- 6. HTML reports"
"$load" -c 6 -n 600 --resume-ratio 0.5 --cacert "$pki/ca.pem" --no-progress \
  --threshold 'total.p99<60s' --threshold 'tls.max<1us' --html "$work/run.html" "$url" >/dev/null ||
  true # the 1 us threshold fails the run (exit 3): its verdict is in the report
"$load" --rate 50 -d 0.5 -c 2 --cacert "$pki/ca.pem" --no-progress --html "$work/open.html" \
  "$url" >/dev/null || fail "the open-loop run for its report failed"
"$load" merge --html "$work/merged.html" "$work"/s{0,1,2}.json >/dev/null
javac -d "$work/java" "$root/tests/report/PngInk.java"
for r in run merged; do
  h=$work/$r.html
  ! grep -qiE '<script|src=|href=|@import|url\(' "$h" || fail "$r.html fetches or runs something"
  [ "$(grep -o '<svg' "$h" | wc -l)" -eq 3 ] || fail "$r.html does not hold its three charts"
  for want in 'Latency by percentile' 'Operations and errors per second' 'Latency over the run' \
    Handshakes Errors '<code>' 'started' 'machine'; do
    grep -q "$want" "$h" || fail "$r.html has no '$want'"
  done
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2400 \
    --screenshot="$work/$r.png" "file://$h" >/dev/null 2>&1 || fail "chromium did not render $r.html"
  ink=$(java -cp "$work/java" PngInk "$work/$r.png")
  echo "$r.png: $ink"
  awk '{ exit !($2 > 0.03 && $4 >= 4) }' <<<"$ink" || fail "$r.png looks blank: $ink"
done
# What the summary says is in the report too: verdicts, the open loop's
# accounting, status codes, the client's costs; a merged report names the
# test, and the merge as what made it.
grep -q '<code>total.p99&lt;60s</code></td><td class="n">[0-9.]* ms</td><td>met</td>' "$work/run.html" ||
  fail "run.html has no met threshold"
grep -q '<code>tls.max&lt;1us</code></td><td class="n">[0-9.]* ms</td><td><b>NOT met</b>' "$work/run.html" ||
  fail "run.html has no failed threshold"
grep -q '<th>client</th><td>CPU [0-9.]* s user' "$work/run.html" || fail "run.html has no client costs"
grep -q '<h2>Open loop</h2>' "$work/open.html" || fail "open.html has no open-loop table"
grep -q '<h2>Status codes</h2>' "$work/open.html" && grep -q '<tr><td>200</td>' "$work/open.html" ||
  fail "open.html has no status codes"
grep -q '<th>merged by</th>' "$work/merged.html" || fail "the merged report does not say what merged it"
grep -q '<th>test</th><td>request mode, -c 7, 3 threads, -n 1001' "$work/merged.html" ||
  fail "the merged report does not describe the shards' test"
grep -q 'Shards' "$work/merged.html" || fail "the merged report has no shard table"
grep -q 'start skew' "$work/merged.html" || fail "the merged report has no start skew"

echo "shards.sh: ok"
