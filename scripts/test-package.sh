#!/bin/sh
# Builds the ingot .deb in a fresh build-package/ (Release, prefix /usr),
# installs it on this machine and checks it as an administrator would meet it:
# Depends and conffiles, the installed binary and config, a reinstall that
# keeps a modified config, and the installed systemd units (verify clean,
# security exposure at most 1.5). Needs root. It purges any installed ingot
# package first and purges it again at the end (INGOT_KEEP_INSTALLED=1 keeps
# it), so it can run any number of times. Prints "N passed, M failed".
# Helper functions run through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -eu
cd "$(dirname "$0")/.."

max_exposure=1.5
dir=build-package
passed=0
failed=0
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT
export DEBIAN_FRONTEND=noninteractive

ok() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; [ ! -s "$log" ] || sed 's/^/       /' "$log"; }
# check NAME COMMAND...: passes when COMMAND exits 0; its output goes to $log.
# Every command given to it bounds its own time (timeout).
check() {
    name=$1; shift
    if "$@" >"$log" 2>&1 </dev/null; then ok "$name"; else fail "$name"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    if [ "$failed" -eq 0 ]; then exit 0; fi
    exit 1
}

if [ "$(id -u)" != 0 ]; then
    echo "test-package: needs root (it installs the package with dpkg)" >&2
    exit 1
fi
scripts/install-deps.sh

# A clean slate: no ingot installed, no old build.
timeout 120 dpkg --purge ingot >/dev/null 2>&1 </dev/null || true
rm -rf "$dir"

echo "== building the package in $dir"
if timeout 900 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
       >"$log" 2>&1 &&
   timeout 900 cmake --build "$dir" --target ingotd ingotctl -j"$(nproc)" >>"$log" 2>&1 &&
   (cd "$dir" && timeout 300 cpack -G DEB) >>"$log" 2>&1; then
    ok "cmake + cpack -G DEB"
else
    fail "cmake + cpack -G DEB"
    finish
fi
deb=$(ls "$dir"/ingot_*.deb)
echo "== $deb"

# The name ingot must not shadow or be shadowed by a Debian package (as far
# as this machine's apt lists know).
if [ -z "$(apt-cache madison ingot 2>/dev/null)" ]; then
    ok "no Debian package is called ingot"
else
    apt-cache policy ingot >"$log" 2>&1; fail "no Debian package is called ingot"
fi

info="$work/info"
dpkg-deb -I "$deb" >"$info"
depends=$(sed -n 's/^ Depends: //p' "$info")
missing=""
for lib in libevent libcurl libyaml libyajl libjansson libcsv; do
    case "$depends" in *"$lib"*) ;; *) missing="$missing $lib" ;; esac
done
if [ -z "$missing" ]; then
    ok "Depends names libevent libcurl libyaml libyajl libjansson libcsv"
else
    echo "Depends: $depends" >"$log"; fail "Depends lacks$missing"
fi
if dpkg-deb -I "$deb" conffiles 2>"$log" | grep -qx /etc/ingot/ingot.yaml; then
    ok "conffiles lists /etc/ingot/ingot.yaml"
else
    fail "conffiles lists /etc/ingot/ingot.yaml"
fi

# install_deb DEB: dpkg -i, completing missing dependencies with apt-get.
install_deb() {
    timeout 120 dpkg -i "$1" || timeout 600 apt-get -f install -y -qq
}
check "dpkg -i" install_deb "$deb"
if ! dpkg-query -W -f='${Status}' ingot 2>/dev/null | grep -q "ok installed"; then
    fail "ingot is installed"
    finish
fi

# The package must leave enabling and starting to the administrator.
if [ -e /etc/systemd/system/multi-user.target.wants/ingotd.service ] ||
   [ -e /etc/systemd/system/sockets.target.wants/ingotd.socket ]; then
    : >"$log"; fail "postinst enables nothing"
else
    ok "postinst enables nothing"
fi

check "ingotd --check-config on the installed config" \
    timeout 30 /usr/bin/ingotd --check-config --config.file=/etc/ingot/ingot.yaml
check "ingotctl check-config on the installed config" \
    timeout 30 /usr/bin/ingotctl check-config /etc/ingot/ingot.yaml

# A changed conffile survives reinstalling the same package.
marker="# test-package: local change $$"
echo "$marker" >>/etc/ingot/ingot.yaml
check "dpkg -i again" install_deb "$deb"
if grep -qxF "$marker" /etc/ingot/ingot.yaml; then
    ok "reinstall keeps the modified /etc/ingot/ingot.yaml"
else
    : >"$log"; fail "reinstall keeps the modified /etc/ingot/ingot.yaml"
fi

service=$(dpkg -L ingot | grep '/ingotd\.service$' || true)
socket=$(dpkg -L ingot | grep '/ingotd\.socket$' || true)
dropin=$(dpkg -L ingot | grep '/socket-activation\.conf$' || true)
if [ -z "$service" ] || [ -z "$socket" ] || [ -z "$dropin" ]; then
    dpkg -L ingot >"$log"; fail "package ships ingotd.service, ingotd.socket, socket-activation.conf"
    finish
fi

# verify_quiet: systemd-analyze verify exits 0 and says nothing.
verify_quiet() {
    out=$(timeout 60 systemd-analyze verify "$@" 2>&1) || { echo "$out"; return 1; }
    if [ -n "$out" ]; then echo "$out"; return 1; fi
}
check "systemd-analyze verify $service $socket" verify_quiet "$service" "$socket"
# The socket-activated setup: the installed units plus the drop-in as an
# administrator installs it (docs/systemd.md), found through a private unit
# directory searched before the usual ones (the trailing colon).
mkdir -p "$work/units/ingotd.service.d"
cp "$dropin" "$work/units/ingotd.service.d/"
with_dropin() (
    export SYSTEMD_UNIT_PATH="$work/units:"
    "$@"
)
check "systemd-analyze verify ingotd.service ingotd.socket with socket-activation.conf" \
    with_dropin verify_quiet ingotd.service ingotd.socket

# exposure_ok LABEL ARGS...: "Overall exposure level" at most $max_exposure.
exposure_ok() {
    label=$1; shift
    level=$(timeout 60 "$@" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ -n "$level" ] && awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }'; then
        ok "$label exposure $level <= $max_exposure"
    else
        { timeout 60 "$@" 2>&1 || true; } | grep -v '✓' >"$log" || true
        fail "$label exposure ${level:-unknown} > $max_exposure"
    fi
}
exposure_ok "ingotd.service" systemd-analyze security --offline=yes "$service"
exposure_ok "ingotd.service + socket-activation.conf" \
    env SYSTEMD_UNIT_PATH="$work/units:" systemd-analyze security --offline=yes ingotd.service

if [ "${INGOT_KEEP_INSTALLED:-0}" = 1 ]; then
    echo "== leaving ingot installed (INGOT_KEEP_INSTALLED=1)"
else
    check "dpkg --purge ingot" timeout 120 dpkg --purge ingot
    if [ -e /usr/bin/ingotd ] || [ -e /etc/ingot/ingot.yaml ] || [ -e "$service" ]; then
        : >"$log"; fail "purge removes the binary, the config and the units"
    else
        ok "purge removes the binary, the config and the units"
    fi
fi
finish
