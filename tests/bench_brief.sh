#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench_brief.sh BUILD_DIR - every benchmark script under bench/ (but the
# soak, which the suite runs as soak_short), each run briefly (BENCH_BRIEF=1: the same steps, small counts),
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
benches=(scale vs_anchors syscalls poll_resume storm pool_instructions handshake_instructions bulk
  mem_per_conn h2 early pkcs11 script)
for b in "${benches[@]}"; do
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
sc = figures("syscalls")
near("syscalls", "ratio", sc["ratio"], ratio(sc["evtls_per_request"], sc["wrk_per_request"]), 0.006)
if sc["evtls_requests"] != 2000:
    bad.append(f"syscalls: {sc['evtls_requests']} requests, not the brief run's 2000")

pr = figures("poll_resume")
if pr["resumed_rounds"] != pr["rounds"]:
    bad.append(f"poll_resume: {pr['resumed_rounds']} of {pr['rounds']} rounds resumed")
near("poll_resume", "ratio", pr["ratio"],
     ratio(pr["handshake_ms_resumed"], pr["handshake_ms_full"]), 0.006)

st = figures("storm")
for run in ("localhost", "127_0_0_1", "localhost_race_limit_8", "localhost_race_unlimited"):
    near("storm", f"{run}_ratio", st[f"{run}_ratio"],
         ratio(st[f"{run}_accepted"], st["connections_asked"]), 0.00006)
    if run != "localhost_race_unlimited" and st[f"{run}_connections"] != st["connections_asked"]:
        bad.append(f"storm: {run} made {st[f'{run}_connections']} connections, "
                   f"not the {st['connections_asked']} asked")

pi = figures("pool_instructions")
for n in (20, 200):
    near("pool_instructions", f"per_checkout_{n}", pi[f"per_checkout_{n}"],
         ratio(pi[f"total_{n}"], 2 * (pi["iters"] + 1)), 1)

hi = figures("handshake_instructions")
span = hi["n2"] - hi["n1"]
near("handshake_instructions", "evtls_per_handshake", hi["evtls_per_handshake"],
     ratio(hi["evtls_total_n2"] - hi["evtls_total_n1"], span), 1)
near("handshake_instructions", "floor_per_handshake", hi["floor_per_handshake"],
     ratio(hi["floor_total_n2"] - hi["floor_total_n1"], span), 1)
near("handshake_instructions", "ratio", hi["ratio"],
     ratio(hi["evtls_per_handshake"], hi["floor_per_handshake"]), 0.0006)

bu = figures("bulk")  # one round: its ratio is the median
near("bulk", "ratio_tuned", bu["ratio_tuned"],
     ratio(bu["evtls_mb_per_cpu_s"], bu["wrk_mb_per_cpu_s"]), 0.006)

mm = figures("mem_per_conn")
if mm["held"] != 300:
    bad.append(f"mem_per_conn: {mm['held']} held, not the brief run's 300")

h2 = figures("h2")  # one round: its ratio is the median
near("h2", "ratio", h2["ratio"], ratio(h2["ev_us"], h2["h2load_us"]), 0.006)
if h2["ev_requests"] != 10000 or h2["h2load_requests"] != 10000:
    bad.append(f"h2: {h2['ev_requests']} and {h2['h2load_requests']} requests, not 10000 each")
if h2["goaway_requests"] != 20000 or h2["goaway_logged"] != 20000:
    bad.append(f"h2: through GOAWAYs {h2['goaway_requests']} requests, {h2['goaway_logged']} "
               f"logged by nginx, not 20000 each")
if h2["fetch_connections"] > 10 or h2["connecting_before_up"] != 1:
    bad.append(f"h2: {h2['fetch_connections']} connections for 1,000 fetches, "
               f"{h2['connecting_before_up']} before the first was up")

ea = figures("early")
near("early", "ratio", ea["ratio"], ratio(ea["ttfb_conn_ms_early"], ea["ttfb_conn_ms_plain"]), 0.006)
if ea["operations"] != 6 or ea["early_accepted"] != 6:
    bad.append(f"early: {ea['early_accepted']} of {ea['operations']} requests early, "
               f"not the brief run's 6 of 6")

pk = figures("pkcs11")
near("pkcs11", "ratio", pk["ratio"], ratio(pk["token_hps"], pk["file_hps"]), 0.006)
if pk["handshakes"] != 400 or pk["full_in_resumed_run"] > 10:
    bad.append(f"pkcs11: {pk['handshakes']} handshakes a run (not the brief 400), "
               f"{pk['full_in_resumed_run']} full in the resuming run (at most -c 10)")

sp = figures("script")
near("script", "ratio_build", sp["ratio_build"], ratio(sp["ev_build"], sp["wrk_build"]), 0.006)
near("script", "ratio_respond", sp["ratio_respond"], ratio(sp["ev_respond"], sp["wrk_respond"]),
     0.006)

if bad:
    print("\n".join(bad))
    sys.exit(1)
n = sum(len(d) for d in (s, a, sc, pr, st, pi, hi, bu, mm, h2, ea, pk, sp))
print(f"bench_brief: {n} figures of 13 benchmarks checked")
PY
