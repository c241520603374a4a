#!/usr/bin/env bash
# Scrape benchmark: ingotd against nginx serving the same bytes statically and
# prometheus-node-exporter serving the same series from its textfile collector.
#
#   bench/scrape.sh [--quick] [--sizes "1k 20k 100k"] [--runs N] [--keep]
#
#   --quick    the 20k size only, one 5 s run per cell (a smoke run, ~1.5 min)
#   --sizes    fleet sizes to run, of 1k 20k 100k: about that many series (the
#              plants per size are calibrated on the ingotd under test)
#   --runs N   runs per cell (default 3); the table shows median and min-max
#   --keep     keep the work directory (fleets, bodies, raw results, logs)
#
# Environment: INGOTD (a built ingotd; default: a Release build of this
# tree in BUILD_DIR, default /tmp/ingot-bench-build, brought up to date), BASE_PORT
# (default 28467, or the next free triple: ingotd, +1 nginx, +2
# node_exporter), RESULTS_COPY (a directory to copy the raw TSVs to).
#
# Everything listens on 127.0.0.1 only. Servers run on core 0, wrk on core 1.
# Every wrk run is bounded by -d and by timeout(1); servers are killed on exit.
# The full run (3 sizes x 3 servers x {plain,gzip} x {1,16} connections x 3
# runs) takes about 14 minutes. Prints Markdown tables on stdout, progress on
# stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

SIZES="1k 20k 100k"
RUNS=3
QUICK=0
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; SIZES="20k"; RUNS=1 ;;
    --sizes) SIZES="$2"; shift ;;
    --sizes=*) SIZES="${1#*=}" ;;
    --runs) RUNS="$2"; shift ;;
    --runs=*) RUNS="${1#*=}" ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "scrape.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# wrk duration (seconds) per size and server. ingotd and nginx get 10 s at
# the 20k target size; the 1k/100k sizes get 5 s; node_exporter (about
# 0.2 s per scrape at 20k, 1 s at 100k) gets 5 s at 1k and 10 s above.
duration() { # size server
  if [ "$QUICK" = 1 ]; then echo 5; return; fi
  case "$1:$2" in
    20k:*|100k:node_exporter) echo 10 ;;
    *) echo 5 ;;
  esac
}

# Cells not run: node_exporter at 100k with 16 connections runs 16 parallel
# 1 s gathers on one core (none completes within a bounded run, and it peaks
# above 1 GB of RSS); its one-connection rows give its cost.
skip_cell() { # size server conns
  [ "$1:$2:$3" = 100k:node_exporter:16 ]
}

for tool in wrk nginx prometheus-node-exporter taskset curl gzip python3 ss pgrep getconf; do
  command -v "$tool" >/dev/null || { echo "scrape.sh: $tool not found" >&2; exit 1; }
done

bench_ingotd

bench_ports 28467
P_INGOTD=$BASE_PORT
P_NGINX=$((BASE_PORT + 1))
P_NODE=$((BASE_PORT + 2))
NOW=2025-07-15T00:00:00Z

WORK=$(mktemp -d /tmp/ingot-bench.XXXXXX)
chmod 755 "$WORK"          # nginx's worker runs as nobody and reads the root
RESULTS="$WORK/results.tsv"
MEMORY="$WORK/memory.tsv"
SIZEINFO="$WORK/sizes.tsv"
: > "$RESULTS"; : > "$MEMORY"; : > "$SIZEINFO"

SERVER_PIDS=()
cleanup() {
  local p
  for p in "${SERVER_PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${SERVER_PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then echo "# work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $(date +%T) $*" >&2; }

# Stop one server we started (by its pid) and forget it.
stop_server() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${SERVER_PIDS[@]:-}"; do [ "$p" != "$pid" ] && [ -n "$p" ] && keep+=("$p"); done
  SERVER_PIDS=("${keep[@]:-}")
}

# The pid and its children (nginx: master and worker).
server_pids() { echo "$1"; pgrep -P "$1" || true; }

# Sum of utime+stime (clock ticks) of a server's processes.
cpu_ticks() {
  local sum=0 p f
  for p in $(server_pids "$1"); do
    # Fields after the "(comm)" field: utime and stime are the 12th and 13th.
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

# Largest VmHWM / VmRSS (kB) among a server's processes (nginx: the worker).
status_kb() { # pid field
  local max=0 p v
  for p in $(server_pids "$1"); do
    v=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
  done
  echo "$max"
}

wait_for() { # url grep-pattern seconds [pid that must stay alive]
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
      echo "scrape.sh: the server for $1 exited" >&2; return 1
    fi
    # No pipe into grep -q: with pipefail its early exit would fail curl.
    if curl -s --max-time 5 "$1" -o "$WORK/probe" 2>/dev/null && grep -q "$2" "$WORK/probe"; then
      return 0
    fi
    sleep 0.2
  done
  echo "scrape.sh: $1 did not show $2 within $3 s" >&2
  return 1
}

TICK=$(getconf CLK_TCK)

# One wrk run; appends a row to $RESULTS.
run_wrk() { # size series server pid port enc conns run
  local size=$1 series=$2 server=$3 pid=$4 port=$5 enc=$6 conns=$7 run=$8
  local dur hdr=() out c0 c1 line
  dur=$(duration "$size" "$server")
  [ "$enc" = gzip ] && hdr=(-H 'Accept-Encoding: gzip')
  c0=$(cpu_ticks "$pid")
  out=$(timeout $((dur + 60)) taskset -c 1 wrk -t1 -c"$conns" -d"${dur}s" --timeout 30s --latency \
          "${hdr[@]}" -s "$HERE/wrk_report.lua" "http://127.0.0.1:$port/metrics" 2>&1) || {
    echo "scrape.sh: wrk failed for $server $enc c$conns: $out" >&2; return 1; }
  # Let the server finish what was in flight (node_exporter completes a
  # gather even for a closed connection) before reading its CPU time.
  local prev=-1 i
  c1=$(cpu_ticks "$pid")
  for i in $(seq 150); do
    [ "$c1" = "$prev" ] && break
    sleep 0.2; prev=$c1; c1=$(cpu_ticks "$pid")
  done
  line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -1)
  [ -n "$line" ] || { echo "scrape.sh: no RESULT from wrk: $out" >&2; return 1; }
  # size series server enc conns run dur cpu_ticks tick key=value...
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$series" "$server" "$enc" "$conns" \
    "$run" "$dur" "$((c1 - c0))" "$TICK" "${line#RESULT }" >> "$RESULTS"
  log "$size $server $enc c$conns run $run: ${line#RESULT }"
  sleep 0.3
}

# Sets SERIES_COUNT: the series a scrape of ingotd shows for a fleet of $1
# plants (its second scrape, so the per-scrape request series are there as in
# the measured scrapes). Not run in a subshell: the server pid must stay known.
series_for_plants() {
  local dir="$WORK/calibrate-$1" cfg pid
  cfg=$(timeout 60 python3 "$HERE/gen_fleet.py" --plants "$1" --out "$dir" --port "$P_INGOTD")
  taskset -c 0 "$INGOTD" --config.file="$cfg" --web.listen-address="127.0.0.1:$P_INGOTD" \
    --time.now="$NOW" > "$dir/ingotd.log" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  wait_for "http://127.0.0.1:$P_INGOTD/metrics" '^ingot_feed_up{feed="fleet"} 1' 60 "$pid"
  curl -sf --max-time 10 "http://127.0.0.1:$P_INGOTD/metrics" -o "$dir/scrape"
  SERIES_COUNT=$(grep -vc '^#' "$dir/scrape")
  stop_server "$pid"
}

# The fleet sizes: plants per preset so that the scrape has about 1k, 20k
# or 100k series, from the series per plant and the fixed series of this
# build of ingotd (the exported families change as ingotd grows).
calibrate() {
  local s10 s20
  series_for_plants 10; s10=$SERIES_COUNT
  series_for_plants 20; s20=$SERIES_COUNT
  PER_PLANT=$(( (s20 - s10) / 10 ))
  FIXED=$(( s10 - 10 * PER_PLANT ))
  [ "$PER_PLANT" -gt 0 ] || { echo "scrape.sh: calibration failed ($s10, $s20)" >&2; exit 1; }
  log "calibration: $PER_PLANT series per plant + $FIXED fixed"
}
plants_for() { # size
  local target
  case "$1" in
    1k) target=1000 ;; 20k) target=20000 ;; 100k) target=100000 ;;
    *) echo "scrape.sh: unknown size $1 (1k, 20k, 100k)" >&2; exit 2 ;;
  esac
  echo $(( (target - FIXED + PER_PLANT / 2) / PER_PLANT ))
}

bench_size() {
  local size=$1 dir="$WORK/$size"
  mkdir -p "$dir/www" "$dir/textfile" "$dir/nginx"
  chmod 755 "$dir" "$dir/www"

  local cfg plants
  plants=$(plants_for "$size")
  log "$size: generating the fleet ($plants plants)"
  cfg=$(timeout 300 python3 "$HERE/gen_fleet.py" --plants "$plants" --out "$dir/fleet" --port "$P_INGOTD")

  log "$size: starting ingotd"
  taskset -c 0 "$INGOTD" --config.file="$cfg" --web.listen-address="127.0.0.1:$P_INGOTD" \
    --time.now="$NOW" > "$dir/ingotd.log" 2>&1 &
  local ingotd=$!
  SERVER_PIDS+=("$ingotd")
  wait_for "http://127.0.0.1:$P_INGOTD/metrics" '^ingot_feed_up{feed="fleet"} 1' 300 "$ingotd"

  # One scrape's exact bytes, plain and gzip.
  curl -sf --max-time 60 "http://127.0.0.1:$P_INGOTD/metrics" -o "$dir/ingotd.plain"
  curl -sf --max-time 60 -H 'Accept-Encoding: gzip' "http://127.0.0.1:$P_INGOTD/metrics" \
    -o "$dir/ingotd.gz"
  gzip -dc "$dir/ingotd.gz" > "$dir/ingotd.gz.decoded"
  grep -q '^ingot_feed_up{feed="fleet"} 1' "$dir/ingotd.gz.decoded" || {
    echo "scrape.sh: ingotd's gzip body does not decompress to the metrics" >&2; return 1; }
  local series plain_bytes gzip_bytes
  series=$(grep -vc '^#' "$dir/ingotd.plain")
  plain_bytes=$(wc -c < "$dir/ingotd.plain")
  gzip_bytes=$(wc -c < "$dir/ingotd.gz")

  # Static references: nginx (plain + gzip_static) and node_exporter (textfile).
  cp "$dir/ingotd.plain" "$dir/www/metrics"
  gzip -6 -n -c "$dir/www/metrics" > "$dir/www/metrics.gz"
  chmod 644 "$dir/www/metrics" "$dir/www/metrics.gz"
  cp "$dir/ingotd.plain" "$dir/textfile/metrics.prom"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$plants" "$series" "$plain_bytes" "$gzip_bytes" \
    "$(wc -c < "$dir/www/metrics.gz")" >> "$SIZEINFO"

  cat > "$dir/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  default_type text/plain;
  sendfile on;
  tcp_nopush off;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$P_NGINX;
    root $dir/www;
    location = /metrics { gzip_static on; }
  }
}
EOF
  log "$size: starting nginx and node_exporter"
  taskset -c 0 nginx -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" \
    -g 'daemon off;' > "$dir/nginx/stdout.log" 2>&1 &
  local nginx=$!
  SERVER_PIDS+=("$nginx")
  # Only the textfile collector; --web.disable-exporter-metrics drops
  # node_exporter's own go_/process_ metrics, which would collide with the
  # process_ metrics in the file (ingotd's) and turn every scrape into errors.
  taskset -c 0 prometheus-node-exporter --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$dir/textfile" --web.disable-exporter-metrics \
    --web.listen-address="127.0.0.1:$P_NODE" > "$dir/node_exporter.log" 2>&1 &
  local node=$!
  SERVER_PIDS+=("$node")
  wait_for "http://127.0.0.1:$P_NGINX/metrics" '^ingot_feed_up' 30 "$nginx"
  wait_for "http://127.0.0.1:$P_NODE/metrics" '^node_textfile_scrape_error 0' 60 "$node"

  # Check each server's answers once (status, encoding, series).
  local s port
  for s in nginx node; do
    port=$P_NGINX; [ "$s" = node ] && port=$P_NODE
    curl -sf --max-time 60 -H 'Accept-Encoding: gzip' -D "$dir/$s.gz.headers" \
      "http://127.0.0.1:$port/metrics" -o "$dir/$s.gz"
    grep -qi '^content-encoding: gzip' "$dir/$s.gz.headers" || {
      echo "scrape.sh: $s does not answer gzip" >&2; return 1; }
    curl -sf --max-time 60 "http://127.0.0.1:$port/metrics" -o "$dir/$s.plain"
  done
  log "$size: series ingotd=$series nginx=$(grep -vc '^#' "$dir/nginx.plain")" \
      "node_exporter=$(grep -vc '^#' "$dir/node.plain"); bytes plain=$plain_bytes gzip=$gzip_bytes"

  local -A pid=([ingotd]=$ingotd [nginx]=$nginx [node_exporter]=$node)
  local -A port_of=([ingotd]=$P_INGOTD [nginx]=$P_NGINX [node_exporter]=$P_NODE)
  for s in ingotd nginx node_exporter; do
    printf '%s\t%s\tidle_rss_kb\t%s\n' "$size" "$s" "$(status_kb "${pid[$s]}" VmRSS)" >> "$MEMORY"
  done

  # Interleave servers inside every run so drift on the shared machine hits
  # all three alike.
  local enc conns run
  for enc in plain gzip; do
    for conns in 1 16; do
      for run in $(seq "$RUNS"); do
        for s in ingotd nginx node_exporter; do
          skip_cell "$size" "$s" "$conns" && continue
          run_wrk "$size" "$series" "$s" "${pid[$s]}" "${port_of[$s]}" "$enc" "$conns" "$run"
        done
      done
    done
  done

  for s in ingotd nginx node_exporter; do
    printf '%s\t%s\tpeak_rss_kb\t%s\n' "$size" "$s" "$(status_kb "${pid[$s]}" VmHWM)" >> "$MEMORY"
    printf '%s\t%s\tend_rss_kb\t%s\n' "$size" "$s" "$(status_kb "${pid[$s]}" VmRSS)" >> "$MEMORY"
  done
  stop_server "$node"; stop_server "$nginx"; stop_server "$ingotd"
  # The fleet's feed files are large at 100k; the bodies are kept.
  rm -f "$dir/fleet/fleet.json"
}

log "ingotd: $INGOTD; work: $WORK; sizes: $SIZES; runs: $RUNS"
PER_PLANT=1; FIXED=0
for size in $SIZES; do plants_for "$size" >/dev/null; done   # validate the sizes early
calibrate
for size in $SIZES; do bench_size "$size"; done

python3 "$HERE/summarize.py" "$RESULTS" "$MEMORY" "$SIZEINFO"
if [ -n "${RESULTS_COPY:-}" ]; then
  mkdir -p "$RESULTS_COPY"
  cp "$RESULTS" "$MEMORY" "$SIZEINFO" "$RESULTS_COPY/"
fi
