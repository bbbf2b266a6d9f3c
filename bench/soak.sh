#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# soak.sh [BUILD_DIR] [N] - the long soak: N (default 100,000) connections
# through one evtls_pool, each a GET, to nginx and one in ten to the fault
# peer's "mix" of faults, 50 at a time (bench/soak.c says what it checks).
# Prints the outcome counts and the fd, heap and TLS-memory figures; exits
# non-zero if a check fails. The test suite runs the same with N = 5,000.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" test soak
"$build/bench/soak" -n "${2:-100000}" -c 50 --max-seconds 1800
