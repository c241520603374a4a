#!/bin/sh
# Installs the Debian 12 packages ingot builds and tests with, if any is
# missing. Needs root (it runs apt-get).
set -eu

# dpkg-dev, file and systemd: scripts/test-package.sh (cpack runs dpkg-shlibdeps
# and file; systemd-analyze checks the units). chromium: the status page test
# renders "/" headless (tests/integration/test_status_page.py). protobuf-compiler:
# the snapshot test decodes /snapshot with the real protoc. libsnappy-dev: remote
# write bodies are snappy-compressed. victoria-metrics: the remote write test
# writes into a real VictoriaMetrics (tests/integration/test_remote_write.py).
packages="build-essential cmake pkg-config git python3 valgrind
  libevent-dev libcurl4-openssl-dev libyaml-dev libjansson-dev libcsv-dev libcmocka-dev libsystemd-dev
  libssl-dev zlib1g-dev libcrypt-dev libhttp-parser-dev openssl libyajl-dev
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libsnappy-dev
  prometheus victoria-metrics dpkg-dev file systemd clang libclang-rt-14-dev llvm chromium"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
