#!/usr/bin/env bash
# deps.sh [run|test] - installs the Debian packages evtls needs, if missing.
#   run:  build tools, libevent, wolfSSL, http-parser, openssl (for the demo certificate)
#   test: the above plus cmocka, nginx, dnsmasq and clang (sanitizers)
# Needs root for apt-get (or sudo, which is used when present).
set -euo pipefail
what=${1:-run}
pkgs=(build-essential cmake pkg-config libevent-dev libwolfssl-dev libhttp-parser-dev openssl ca-certificates)
if [ "$what" = test ]; then
  pkgs+=(libcmocka-dev nginx-light dnsmasq-base procps)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "run as root (apt-get install ${missing[*]})" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on port 80 when it is installed; our tests start their
# own instances on loopback ports, so the system one is not needed.
if [ "$what" = test ] && pgrep -x nginx >/dev/null 2>&1; then
  $SUDO nginx -s stop 2>/dev/null || true
fi
