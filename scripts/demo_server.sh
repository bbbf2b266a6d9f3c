# SPDX-License-Identifier: GPL-2.0-or-later
# demo_server.sh - sourced by the scripts that run the demo HTTPS server
# (scripts/run.sh, tests/demo.sh, bench/poll_resume.sh).
#
# demo_server_start BUILD_DIR PKI_DIR OUT_FILE [server options...]
#   starts examples/evtls-https-server with PKI_DIR's server certificate,
#   its output in OUT_FILE, and waits until it listens. Sets demo_pid,
#   demo_url (https://127.0.0.1:PORT/) and demo_port; returns 1 with the
#   server's output on stderr if it does not listen within 5 s.
# demo_server_stop
#   stops it.
demo_server_start() {
  local build=$1 pki=$2 out=$3
  shift 3
  # It dies with the script that started it, however that ends.
  setpriv --pdeathsig KILL -- "$build/examples/evtls-https-server" --cert "$pki/server.pem" --key "$pki/server.key" "$@" \
    >"$out" 2>&1 &
  demo_pid=$!
  demo_url=
  for _ in $(seq 100); do
    demo_url=$(sed -n 's/^listening on //p' "$out" 2>/dev/null)
    [ -n "$demo_url" ] && break
    sleep 0.05
  done
  if [ -z "$demo_url" ]; then
    echo "the demo server did not start:" >&2
    cat "$out" >&2
    return 1
  fi
  demo_port=${demo_url##*:}
  demo_port=${demo_port%/}
}

demo_server_stop() {
  [ -n "${demo_pid:-}" ] || return 0
  kill "$demo_pid" 2>/dev/null || true
  wait "$demo_pid" 2>/dev/null || true
  demo_pid=
}
