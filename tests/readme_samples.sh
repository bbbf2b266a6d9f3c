#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# readme_samples.sh BUILD_DIR CC [CFLAGS...] - the README's samples, as a
# reader copies them: each ```c block that starts with "/* sample: NAME */"
# is compiled alone against the build's libevtls.so and public headers
# (-Werror), then run against the demo server on loopback; it must exit 0
# and print the server's answer. A sample that no longer compiles or runs
# fails the suite.
set -euo pipefail
build=$(cd "${1:?usage: readme_samples.sh BUILD_DIR CC [CFLAGS...]}" && pwd)
cc=${2:?usage: readme_samples.sh BUILD_DIR CC [CFLAGS...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/evtls-samples.XXXXXX)
. "$root/scripts/demo_server.sh"
trap 'demo_server_stop; rm -rf "$work"' EXIT

# The blocks, one file each.
python3 - "$root/README.md" "$work" <<'PY'
import re, sys
text = open(sys.argv[1], encoding='utf-8').read()
names = []
for block in re.findall(r'```c\n(.*?)```', text, re.S):
    m = re.match(r'/\* sample: (\w+) \*/\n', block)
    if m:
        open('%s/%s.c' % (sys.argv[2], m.group(1)), 'w').write(block)
        names.append(m.group(1))
open(sys.argv[2] + '/names', 'w').write('\n'.join(names) + '\n')
PY
mapfile -t names <"$work/names"
[ "${#names[@]}" -eq 3 ] || { echo "readme_samples: ${#names[@]} samples in the README, not 3" >&2; exit 1; }

demo_server_start "$build" "$build/pki" "$work/server.log"
libs=$(pkg-config --libs libevent)
for n in "${names[@]}"; do
  # shellcheck disable=SC2086
  "$cc" -std=c11 -Wall -Wextra -Werror "$@" -I"$root/include" "$work/$n.c" -o "$work/$n" \
    -L"$build" -levtls $libs -Wl,-rpath,"$build"
  if ! "$work/$n" localhost "$demo_port" "$build/pki/ca.pem" >"$work/$n.out" 2>"$work/$n.err"; then
    echo "readme_samples: $n failed:" >&2
    cat "$work/$n.out" "$work/$n.err" >&2
    exit 1
  fi
  grep -q "200" "$work/$n.out" || { echo "readme_samples: $n printed no 200:" >&2; cat "$work/$n.out" >&2; exit 1; }
  echo "$n: $(head -n 1 "$work/$n.out")"
done
# A wrong trust anchor: each refuses, exit 1, the error said.
for n in "${names[@]}"; do
  if "$work/$n" localhost "$demo_port" "$build/pki/other-ca.pem" >/dev/null 2>"$work/$n.err"; then
    echo "readme_samples: $n accepted an untrusted server" >&2
    exit 1
  fi
  grep -q "CERT_UNTRUSTED\|certificate" "$work/$n.err" || { cat "$work/$n.err" >&2; exit 1; }
done
echo "readme_samples: ${#names[@]} samples compiled and ran"
