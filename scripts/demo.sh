#!/bin/sh
# Quick start: installs what is missing, builds, serves the demo feeds on
# 127.0.0.1:8468 and runs ingotd in the foreground on conf/ingot.yaml (a
# copy in build/ that keeps its snapshots in build/demo-state).
# Stop it with Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

python3 -m http.server 8468 --bind 127.0.0.1 --directory conf/demo >/dev/null 2>&1 &
feed_server=$!
trap 'kill $feed_server 2>/dev/null' EXIT INT TERM
# ingotd fetches at start: let the feed server listen first.
python3 - <<'WAIT'
import socket, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", 8468), timeout=1).close()
        break
    except OSError:
        time.sleep(0.05)
WAIT

echo
echo "ingot demo: open http://127.0.0.1:8467/metrics (Ctrl-C stops it)"
echo "targets evaluated as of 2025-07-01, where the demo data ends"
echo
# The demo keeps its snapshots in build/demo-state, not in the shipped
# config's /var/lib/ingot (the package's StateDirectory): a copy of
# conf/ingot.yaml with state_dir set, so a restart of the demo resumes.
{ cat conf/ingot.yaml; echo "state_dir: demo-state"; } >build/demo.yaml
# The demo data ends in June 2025: evaluate as of 2025-07-01 so the 2025
# targets show their mid-year progress (drop the flag for the wall clock).
build/ingotd --config.file=build/demo.yaml --time.now=2025-07-01T00:00:00Z "$@"
