#!/usr/bin/env bash
# run.sh BUILD_DIR WORK_DIR - installs evtls from BUILD_DIR into a scratch
# prefix, then builds and runs an out-of-tree application against it twice:
# with CMake's find_package(evtls) and with pkg-config.
set -euo pipefail
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name libevtls.so | head -1)")
cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/cmake-build/consumer" "$build/pki/ca.pem"
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 -Wall -Wextra -Werror "$here/main.c" -o "$work/consumer-pc" $(pkg-config --cflags --libs evtls)
LD_LIBRARY_PATH=$libdir "$work/consumer-pc" "$build/pki/ca.pem"
echo "consumer: find_package and pkg-config both work"
