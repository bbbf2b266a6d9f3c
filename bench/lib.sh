# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh - sourced by the benchmark scripts.
#
#   bench_setup BUILD_DIR DEPS_PROFILE PROGRAM...   installs what the profile
#       of scripts/deps.sh needs, builds BUILD_DIR (RelWithDebInfo) unless
#       every bench/PROGRAM is there, makes the test PKI; sets root, build
#       (absolute) and pki
#
# and one nginx on loopback for clients to measure against (ECDSA P-256
# certificate from PKI, session tickets on, room for 16,384 connections, or
# BENCH_NGINX_WORKER_CONNECTIONS):
#
#   bench_nginx_start WORK PKI LISTEN_BLOCK...   each LISTEN_BLOCK is the
#       inside of one server block ("listen 127.0.0.1:PORT ssl; ...");
#       sets bench_nginx_pid and waits until the first block's port answers
#   bench_nginx_stop
#   bench_wait_port PORT PID                     waits until 127.0.0.1:PORT accepts
#   bench_free_port [N]                          prints N (default 1) distinct
#       unused ports on one line
#   bench_cpu FILE                               "user sys maxrss" (bench/cpu_of's
#       output) -> user + system seconds
#   bench_json FILE KEY                          the top-level number KEY of an
#       evtls-load result, read with jq (a JSON parser: the same key deeper in
#       the object, as in its fingerprint, is not it); fails when absent
#   bench_report KEY=VALUE...                    the figures the script printed, as
#       one JSON object of numbers in $BENCH_JSON when it is set (tests/bench_brief.sh
#       checks them)
#
# BENCH_BRIEF=1 asks each script for a brief run (the suite's): the same
# steps with small counts, so that every figure is computed and checked.

bench_setup() {
  local dir=$1 profile=$2 prog missing=0
  shift 2
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  mkdir -p "$dir"
  build=$(cd "$dir" && pwd)
  bash "$root/scripts/deps.sh" "$profile"
  for prog in "$@"; do
    [ -x "$build/bench/$prog" ] || [ -x "$build/bin/$prog" ] || missing=1
  done
  if [ $missing = 1 ]; then
    echo "building evtls in $build" >&2
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DEVTLS_WOLFSSL="${EVTLS_WOLFSSL:-tuned}" >/dev/null
    cmake --build "$build" -j"$(nproc)" >/dev/null
  fi
  pki=$build/pki
  bash "$root/scripts/mkcerts.sh" "$pki" >/dev/null
}

# Below the kernel's ephemeral range, which the thousands of client
# connections of other tests running at the same time draw from, and used by
# no socket in any state.
bench_free_port() {
  local want=${1:-1} p low got=()
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "${low:-0}" -gt 11000 ] 2>/dev/null || low=32768
  while [ ${#got[@]} -lt "$want" ]; do
    p=$((10000 + RANDOM % (low - 10000)))
    [[ " ${got[*]} " != *" $p "* ]] || continue
    [ -z "$(ss -Htuan "( sport = :$p )" 2>/dev/null)" ] || continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || got+=("$p")
  done
  echo "${got[*]}"
}

bench_nginx_start() {
  local work=$1 pki=$2 first_port
  shift 2
  {
    echo "daemon off; master_process off; worker_processes 1;"
    echo "error_log $work/error.log; pid $work/nginx.pid;"
    echo "worker_rlimit_nofile 20000; events { worker_connections ${BENCH_NGINX_WORKER_CONNECTIONS:-16384}; }"
    echo "http {"
    echo "  access_log off;"
    echo "  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;"
    echo "  uwsgi_temp_path $work; scgi_temp_path $work;"
    echo "  keepalive_requests 100000000; keepalive_timeout 600s;"
    echo "  ssl_certificate $pki/server.pem; ssl_certificate_key $pki/server.key;"
    echo "  ssl_session_tickets on;"
    local block
    for block in "$@"; do
      echo "  server { $block location / { return 200 \"hello from nginx\n\"; } }"
    done
    echo "}"
  } >"$work/nginx.conf"
  first_port=$(sed -n 's/.*listen [0-9.]*:\([0-9]*\).*/\1/p' <<<"$1")
  # It dies with this script, however the script ends (SIGKILL included).
  setpriv --pdeathsig KILL -- nginx -c "$work/nginx.conf" -p "$work" &
  bench_nginx_pid=$!
  bench_wait_port "$first_port" "$bench_nginx_pid" && return 0
  echo "nginx did not start (see $work/error.log)" >&2
  return 1
}

# Waits (10 s at most) until 127.0.0.1:PORT accepts; 1 when PID ended first
# or it never did.
bench_wait_port() {
  local port=$1 pid=$2 _
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

bench_nginx_stop() {
  if [ -n "${bench_nginx_pid:-}" ]; then
    kill "$bench_nginx_pid" 2>/dev/null && wait "$bench_nginx_pid" 2>/dev/null
    bench_nginx_pid=
  fi
  return 0
}

bench_cpu() {
  awk '{printf "%.6f", $1 + $2}' "$1"
}

bench_json() {
  jq -er --arg k "$2" '.[$k] | numbers' "$1" || {
    echo "bench: no number '$2' at the top of $1" >&2
    return 1
  }
}

bench_report() {
  [ -n "${BENCH_JSON:-}" ] || return 0
  local args=() kv
  for kv in "$@"; do
    args+=(--arg "${kv%%=*}" "${kv#*=}")
  done
  jq -n '$ARGS.named | map_values(tonumber)' "${args[@]}" >"$BENCH_JSON"
}
