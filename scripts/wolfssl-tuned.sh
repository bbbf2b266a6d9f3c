#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# wolfssl-tuned.sh PREFIX WORKDIR [SOURCE_DIR] - builds the wolfSSL that
# libevtls links privately (cmake -DEVTLS_WOLFSSL=tuned runs it) and
# installs its static library and headers into PREFIX.
#
# The source is Debian's own package of the wolfSSL installed here, with
# Debian's security patches applied: `apt-get source` through a private apt
# state in WORKDIR whose sources list is this machine's Debian entries
# turned into deb-src entries. No system file is changed and no root is
# needed. With SOURCE_DIR (cmake -DEVTLS_WOLFSSL_SOURCE=DIR), that unpacked
# tree is used instead (an offline build).
#
# The configuration is evtls's: TLS 1.2 and 1.3 only; the features evtls
# uses (SNI, ALPN, tickets, X25519 and the NIST curves, ChaCha20-Poly1305
# and AES-GCM, RSA-PSS, PSK, the OpenSSL-compatible calls of
# opensslextra), TLS 1.3 early data (0-RTT: evtls_cfg_set_early_data),
# PKCS#11 (client keys in a token, as Debian's wolfSSL has it);
# none of OPENSSL_ALL, KEEP_PEER_CERT or SESSION_CERTS (no
# copy of the peer's certificates per connection); x86-64 assembly for
# AES-NI, AVX/AVX2 ChaCha20-Poly1305 and SHA-2, and the single-precision
# P-256 and X25519 code, each chosen at run time from CPUID, so a CPU
# without AVX2, BMI2 or AES-NI runs the C code instead.
set -euo pipefail
prefix=${1:?usage: wolfssl-tuned.sh PREFIX WORKDIR [SOURCE_DIR]}
work=${2:?usage: wolfssl-tuned.sh PREFIX WORKDIR [SOURCE_DIR]}
src=${3:-}
mkdir -p "$work"
work=$(cd "$work" && pwd)

flags=(
  --enable-static --disable-shared --with-pic
  --disable-examples --disable-crypttests --disable-benchmark
  --disable-oldtls --enable-tls13
  --enable-opensslextra
  --enable-sni --enable-alpn --enable-session-ticket --enable-supportedcurves
  --enable-curve25519 --enable-ed25519 --enable-rsapss --enable-psk
  --enable-sys-ca-certs --enable-pwdbased
  --enable-crl --enable-ocsp --enable-ocspstapling --enable-curve448 --enable-ed448
  --enable-altcertchains --enable-earlydata --enable-pkcs11
  --enable-aesgcm --enable-chacha --enable-poly1305
  --disable-sha3 --disable-pkcs12
  --enable-intelasm --enable-aesni --enable-sp=yes --enable-sp-asm
  --disable-silent-rules
)
# Hidden by default, exported by WOLFSSL_API: libevtls.so hides them all
# again at link time (--exclude-libs). WOLFSSL_IP_ALT_NAME keeps the
# certificate's iPAddress names, which evtls checks an IP literal against
# (the system build has them through OPENSSL_ALL). MAX_CERTIFICATE_SZ:
# Certificate messages up to 64 KB, as OpenSSL takes (wolfSSL's default is
# about 18 KB: nine certificates of 2 KB; the limit is only a check, no
# buffer is sized by it). The number is written here alone: cmake/wolfssl.cmake
# reads it back from the stamp for evtls_get_build_info.
cflags="-O2 -g -fPIC -fvisibility=hidden -DWOLFSSL_IP_ALT_NAME -DMAX_CERTIFICATE_SZ=65536"

stamp="$prefix/.evtls-tuned"
want="$(printf '%s\n' "${flags[@]}" "$cflags" "${src:-apt}")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$prefix/lib/libwolfssl.a" ]; then
  echo "wolfssl-tuned: up to date in $prefix"
  exit 0
fi

if [ -z "$src" ]; then
  version=$(dpkg-query -W -f='${Version}' libwolfssl-dev 2>/dev/null ||
            dpkg-query -W -f='${Version}' 'libwolfssl[0-9]*' | head -n 1)
  [ -n "$version" ] || { echo "wolfssl-tuned: no wolfSSL package installed to match" >&2; exit 1; }
  upstream=${version%%-*}
  src="$work/src/wolfssl-$upstream"
  if [ ! -f "$src/configure.ac" ]; then
    echo "wolfssl-tuned: fetching Debian's source of wolfssl $version (private apt state in $work/apt)"
    apt="$work/apt"
    rm -rf "$apt" "$work/src"
    mkdir -p "$apt"/{state/lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d} "$work/src"
    : >"$apt/etc/sources.list"
    # This machine's Debian entries, as deb-src, in both formats.
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      sed -n -E 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" | grep -i debian >>"$apt/etc/sources.list" || true
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      grep -qi debian "$f" || continue
      sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$apt/etc/sources.list.d/$(basename "$f")"
    done
    opts=(-o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache"
          -o "Dir::Etc::SourceList=$apt/etc/sources.list"
          -o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
          -o "Dir::Etc::Preferences=$apt/etc/preferences"
          -o "Dir::Etc::PreferencesParts=$apt/etc/preferences.d"
          -o "APT::Sandbox::User=$(id -un)" -o Debug::NoLocking=1)
    apt-get -qq "${opts[@]}" update
    (cd "$work/src" && apt-get -qq "${opts[@]}" source "wolfssl=$version" >/dev/null)
  fi
fi
[ -f "$src/configure.ac" ] || { echo "wolfssl-tuned: $src is not a wolfSSL source tree" >&2; exit 1; }

start=$(date +%s)
build="$work/build"
rm -rf "$build"
cp -a "$src" "$build"
cd "$build"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
./configure --prefix="$prefix" "${flags[@]}" CFLAGS="$cflags" >"$work/configure.log" 2>&1 ||
  { tail -30 "$work/configure.log"; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { grep -E 'error' -A3 "$work/make.log" | head -40; exit 1; }
rm -rf "$prefix"
make install >/dev/null
printf '%s\n' "$want" >"$stamp"
echo "wolfssl-tuned: built in $(( $(date +%s) - start )) s into $prefix"
