#!/bin/sh
# Runs every test: installs what is missing, then builds and runs the whole
# ctest suite twice, as built for release and under ASan+UBSan, then the
# Debian package test (which installs and purges the package: run as root).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh

for variant in release sanitize; do
    dir="build-test-$variant"
    flags=""
    [ "$variant" = sanitize ] && flags="-DINGOT_SANITIZE=ON"
    echo "== $variant build"
    # shellcheck disable=SC2086
    BUILD_DIR="$dir" scripts/build.sh $flags
    echo "== $variant tests"
    (cd "$dir" && ctest --output-on-failure --timeout 600 -j2)
done

# Coverage-guided fuzzing of the feed and config parsers, bounded: 30 s
# per target (INGOT_FUZZ_SECONDS), in a clang build of its own.
echo "== fuzz"
CC=clang BUILD_DIR=build-test-fuzz scripts/build.sh -DINGOT_FUZZ=ON
(cd build-test-fuzz && ctest -L fuzz --output-on-failure -j2)

# The Debian package: builds it, installs it with dpkg, checks the installed
# units with systemd-analyze, then purges it again (needs root).
echo "== package"
scripts/test-package.sh
