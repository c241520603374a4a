# bench/lib.sh: what the benchmark scripts share; sourced, not run.
# Needs ROOT (the repository) set by the caller.

# Sets INGOTD, unless the caller's environment names one: a Release build of
# this tree in BUILD_DIR (default /tmp/ingot-bench-build), brought up to date.
bench_ingotd() {
  [ -n "${INGOTD:-}" ] && return 0
  BUILD_DIR=${BUILD_DIR:-/tmp/ingot-bench-build}
  echo "# building ingotd (Release) in $BUILD_DIR" >&2
  [ -f "$BUILD_DIR/CMakeCache.txt" ] ||
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target ingotd >/dev/null
  INGOTD="$BUILD_DIR/ingotd"
}

# Sets BASE_PORT to the first of three free consecutive loopback ports from
# BASE_PORT (default $1) up: other processes on a shared machine may hold some.
bench_ports() {
  BASE_PORT=${BASE_PORT:-$1}
  local _
  for _ in $(seq 100); do
    bench_port_free "$BASE_PORT" && bench_port_free $((BASE_PORT + 1)) &&
      bench_port_free $((BASE_PORT + 2)) && return 0
    BASE_PORT=$((BASE_PORT + 3))
  done
  echo "no three free consecutive ports found" >&2
  return 1
}

bench_port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
