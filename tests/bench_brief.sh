#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench_brief.sh BUILD_DIR - the benchmarks that print figures against the
# anchors, each run briefly (BENCH_BRIEF=1: the same steps, small counts),
# and every figure each one printed read back as JSON (BENCH_JSON, written
# by bench_report in bench/lib.sh) and checked with a JSON parser: a number,
# finite and above zero, and where a figure is computed from counts, equal
# to that computation. A format change in evtls-load's JSON or an anchor's
# output can no longer turn a figure into 0, inf or another key's value
# unseen. No figure is compared with a target here: that is the
# benchmarks' own printing, on a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: bench_brief.sh BUILD_DIR}" && pwd)
work=$(mktemp -d /tmp/evtls-bench-brief.XXXXXX)
trap 'rm -rf "$work"' EXIT
for b in scale vs_anchors; do
  echo "--- bench/$b.sh, brief"
  BENCH_BRIEF=1 BENCH_JSON=$work/$b.json bash "$root/bench/$b.sh" "$build" >"$work/$b.out" 2>&1 || {
    cat "$work/$b.out"
    echo "bench_brief: bench/$b.sh failed" >&2
    exit 1
  }
  cat "$work/$b.out"
done
python3 - "$work" <<'PY'
import json, math, sys
work = sys.argv[1]
bad = []

def figures(name):
    with open(f"{work}/{name}.json") as f:
        d = json.load(f)
    for k, v in d.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
            bad.append(f"{name}: {k} = {v!r} is not a finite number above zero")
    return d

def ratio(a, b):
    return a / b if b else math.nan

def near(name, what, got, want, tol):
    if not abs(got - want) <= tol:  # a nan (a count of zero) fails too
        bad.append(f"{name}: {what} is {got}, computed from its counts {want:.4f}")

s = figures("scale")
if s.get("handshakes_per_run") != 300 or s.get("held") != 300:
    bad.append(f"scale: brief runs are 300 handshakes and 300 held, not {s}")
small = (s["us_small_1"] + s["us_small_2"]) / 2
big = (s["us_big_1"] + s["us_big_2"]) / 2
near("scale", "ratio_big_small", s["ratio_big_small"], ratio(big, small), 0.006)

a = figures("vs_anchors")
if a.get("ev_requests_full13") != a.get("n_per_run"):
    bad.append(f"vs_anchors: evtls-load's full-handshake run made {a.get('ev_requests_full13')} "
               f"requests, not the {a.get('n_per_run')} asked (the wrong key read?)")
near("vs_anchors", "ev_full13_ms", a["ev_full13_ms"],
     ratio(a["ev_full13_cpu_s"] * 1000, a["ev_requests_full13"]), 0.00006)
near("vs_anchors", "ev_ka_ms", a["ev_ka_ms"],
     ratio(a["ev_ka_cpu_s"] * 1000, a["ev_requests_ka"]), 0.00006)
for k in ("ev_res_ratio13", "ev_res_ratio12"):
    if a[k] > 1:
        bad.append(f"vs_anchors: {k} = {a[k]} is a share above 1")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"bench_brief: {len(s) + len(a)} figures checked")
PY
