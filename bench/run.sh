#!/usr/bin/env bash
# The whole benchmark suite: scrape (bench/scrape.sh --quick), fleet scale
# (bench/fleet.py: memory per record, ingest, incremental update, idle,
# start-up), and collectd (bench/collectd.sh, when present). Prints one
# table against the targets and writes it into docs/benchmarks.md (the
# section between "<!-- run.sh:begin -->" and "<!-- run.sh:end -->"; the
# other sections are left alone).
#
#   bench/run.sh [--quick] [--runs N] [--skip scrape,fleet,collectd] [--no-doc]
#
#   --quick   20 s idle windows and a 20k-record callgrind document (~6 min
#             instead of ~10); the 1M-record figures are the same
#   --runs N  runs per fleet figure (default 3)
#   --skip    parts not to run
#   --no-doc  print the table, leave docs/benchmarks.md alone
#
# Environment: INGOTD (default: a Release build of this tree in BUILD_DIR,
# default /tmp/ingot-bench-build), WORK (default: a new /tmp/ingot-run.XXXXXX,
# kept: fleets, logs, callgrind files, raw TSVs). As root, missing peers
# (nginx-light, prometheus-node-exporter, wrk, collectd-core, valgrind,
# strace) are installed from Debian with apt-get; nothing else is downloaded.
# Every part is bounded by timeout(1); every server is started and stopped by
# its own script, by pid.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
QUICK=0
RUNS=3
SKIP=""
DOC=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --runs) RUNS="$2"; shift ;;
    --runs=*) RUNS="${1#*=}" ;;
    --skip) SKIP="$2"; shift ;;
    --skip=*) SKIP="${1#*=}" ;;
    --no-doc) DOC=0 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
skipped() { case ",$SKIP," in *",$1,"*) return 0 ;; esac; return 1; }
log() { echo "# $(date +%T) $*" >&2; }

# Peers from Debian, when root and missing.
need_pkgs=""
for pair in nginx:nginx-light prometheus-node-exporter:prometheus-node-exporter wrk:wrk \
            collectd:collectd-core valgrind:valgrind strace:strace; do
  command -v "${pair%%:*}" >/dev/null || [ -x "/usr/sbin/${pair%%:*}" ] || need_pkgs="$need_pkgs ${pair#*:}"
done
if [ -n "$need_pkgs" ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing$need_pkgs from Debian"
    "$ROOT/scripts/install-deps.sh" || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
  else
    log "missing$need_pkgs (run as root to install them); the parts needing them will fail"
  fi
fi

bench_ingotd
export INGOTD

WORK=${WORK:-$(mktemp -d /tmp/ingot-run.XXXXXX)}
mkdir -p "$WORK"
log "work directory: $WORK"
: > "$WORK/fleet.tsv"
: > "$WORK/collectd.tsv"

if ! skipped scrape; then
  log "scrape: bench/scrape.sh --quick"
  RESULTS_COPY="$WORK/scrape" timeout 900 "$HERE/scrape.sh" --quick > "$WORK/scrape.md" \
    2> "$WORK/scrape.err" || log "scrape.sh failed (see $WORK/scrape.err)"
fi

if ! skipped fleet; then
  log "fleet: bench/fleet.py (memory, ingest, callgrind, incremental, idle, start-up)"
  quick=()
  [ "$QUICK" = 1 ] && quick=(--quick)
  timeout 2400 python3 "$HERE/fleet.py" --ingotd "$INGOTD" --work "$WORK/fleet" --runs "$RUNS" \
    "${quick[@]}" > "$WORK/fleet.tsv" 2> >(tee "$WORK/fleet.err" >&2) ||
    log "fleet.py failed (see $WORK/fleet.err); reporting what it measured"
fi

if ! skipped collectd; then
  if [ -x "$HERE/collectd.sh" ]; then
    log "collectd: bench/collectd.sh"
    timeout 1200 "$HERE/collectd.sh" 2> "$WORK/collectd.err" | grep -P '^(collectd|ingotd)\t' \
      > "$WORK/collectd.tsv" || log "collectd.sh failed or printed nothing (see $WORK/collectd.err)"
  else
    log "collectd: bench/collectd.sh absent, skipped"
  fi
fi

doc=()
[ "$DOC" = 1 ] && doc=(--doc "$ROOT/docs/benchmarks.md")
python3 "$HERE/report.py" --fleet "$WORK/fleet.tsv" --scrape-dir "$WORK/scrape" \
  --collectd "$WORK/collectd.tsv" "${doc[@]}" \
  --stamp "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -m)$([ "$QUICK" = 1 ] && echo ', --quick')"
log "raw results in $WORK"
