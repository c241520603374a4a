#!/bin/sh
# Configures and builds ingot into BUILD_DIR (default build/). Extra
# arguments go to cmake's configure step (e.g. -DINGOT_SANITIZE=ON).
set -eu
cd "$(dirname "$0")/.."
dir="${BUILD_DIR:-build}"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
