#!/usr/bin/env bash
# collectd 5.12 (curl_json + write_prometheus) against ingotd on the same fleet.
#
#   bench/collectd.sh [--sizes "1k 20k 100k"] [--interval S] [--limit S] [--keep]
#
#   --sizes     fleet sizes, of 1k 20k 100k: the plants of bench/scrape.sh's
#               sizes (about that many ingotd series; calibrated the same way
#               on the ingotd under test)
#   --interval  the poll interval of both pollers (default 10 s)
#   --limit     the wall-clock bound of one poller's run (default 60 s); a
#               poller that has not absorbed its first poll by then "cannot
#               hold" the fleet
#   --keep      keep the work directory (fleets, configs, logs, scrapes)
#
# The fleet (bench/gen_fleet.py) is served from 127.0.0.1 by
# bench/collectd_feed_server.py (python3's http.server without Last-Modified,
# so that every poll of either poller is a full fetch and parse, and with one
# log line per finished GET: that log counts the polls). Then, one after the
# other, each poller runs on core 0 (the feed server on core 1):
#   collectd -f -C <conf>: curl_json with one <Key> per record field
#     ("plants/*/records/*/production_tonnes", ... 5 keys), Type gauge,
#     write_prometheus on 127.0.0.1; own BaseDir/PIDFile in the work dir;
#   ingotd: gen_fleet.py's config, its feed's URL pointed at the same server,
#     the same interval, state_dir in the work dir.
# Each run: start; wait for the first poll to be served and the process to go
# idle (its CPU still for 0.4 s): "first" = CPU from exec to there; then two
# more polls, idle again: "steady" = CPU per poll over those. CPU is the sum
# of the process's threads' run time (/proc/PID/task/*/schedstat, ns), checked
# against utime+stime. Per value = per poll / (records x 5 numeric fields),
# the values collectd dispatches per poll. Series = non-comment lines of one
# /metrics scrape at the end of the run. Every run is bounded by --limit (and
# by timeout(1) as a safety net); everything is killed on exit.
#
# Output: TSV lines "collectd|ingotd <TAB> size <TAB> metric <TAB> value" on
# stdout (bench/run.sh reads them), a table and progress on stderr.
# Environment: INGOTD (default: a Release build in BUILD_DIR, default
# /tmp/ingot-bench-build), BASE_PORT (default 28567: feed, collectd, ingotd),
# RSS_LIMIT_MB (default 4096: a poller past it is stopped, "cannot hold").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

SIZES="1k 20k 100k"
INTERVAL=10
LIMIT=60
RSS_LIMIT_MB=${RSS_LIMIT_MB:-4096}
KEEP=0
STEADY_POLLS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift ;;
    --sizes=*) SIZES="${1#*=}" ;;
    --interval) INTERVAL="$2"; shift ;;
    --interval=*) INTERVAL="${1#*=}" ;;
    --limit) LIMIT="$2"; shift ;;
    --limit=*) LIMIT="${1#*=}" ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "collectd.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

COLLECTD=${COLLECTD:-/usr/sbin/collectd}
PLUGINDIR=${COLLECTD_PLUGINDIR:-/usr/lib/collectd}
TYPESDB=${COLLECTD_TYPESDB:-/usr/share/collectd/types.db}
if [ ! -x "$COLLECTD" ] || [ ! -f "$PLUGINDIR/curl_json.so" ] || [ ! -f "$PLUGINDIR/write_prometheus.so" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "# installing collectd-core and write_prometheus's libmicrohttpd12" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y collectd-core libmicrohttpd12 libyajl2 >/dev/null
  fi
fi
[ -x "$COLLECTD" ] || { echo "collectd.sh: $COLLECTD not found (apt-get install collectd-core)" >&2; exit 1; }
for so in curl_json write_prometheus; do
  if ldd "$PLUGINDIR/$so.so" | grep -q 'not found'; then
    echo "collectd.sh: $so.so lacks a library (write_prometheus needs libmicrohttpd12):" >&2
    ldd "$PLUGINDIR/$so.so" | grep 'not found' >&2
    exit 1
  fi
done
for tool in taskset curl python3 ss pgrep getconf timeout; do
  command -v "$tool" >/dev/null || { echo "collectd.sh: $tool not found" >&2; exit 1; }
done

bench_ingotd

bench_ports 28567
P_FEED=$BASE_PORT
P_COLLECTD=$((BASE_PORT + 1))
P_INGOTD=$((BASE_PORT + 2))
NOW=2025-07-15T00:00:00Z
TICK=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/ingot-collectd.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "# work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $(date +%T) $*" >&2; }

# Stop one process we started (by its pid) and forget it.
stop_pid() {
  local pid=$1 i keep=() p
  kill "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]:-}"; do [ "$p" != "$pid" ] && [ -n "$p" ] && keep+=("$p"); done
  PIDS=("${keep[@]:-}")
}

# Stop a poller: SIGTERM to the poller itself (not just its timeout(1)
# wrapper, whose SIGKILL would orphan it), up to 20 s to exit (collectd frees
# its write queue on the way out), then SIGKILL. Sets KILLED=1 if it took that.
stop_poller() { # wrapper-pid poller-pid
  local i
  KILLED=0
  kill "$2" 2>/dev/null || true
  for i in $(seq 200); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$2" 2>/dev/null; then KILLED=1; kill -9 "$2" 2>/dev/null || true; fi
  stop_pid "$1"
}

# The poller's own pid: the child of its timeout(1) wrapper.
child_of() { # pid
  local i c
  for i in $(seq 50); do
    c=$(pgrep -P "$1" | head -1 || true)
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.05
  done
  echo "collectd.sh: no child under $1" >&2; return 1
}

# CPU of a process in ns: its live threads' run time (schedstat).
cpu_ns() {
  local sum=0 t v
  for t in /proc/"$1"/task/*/schedstat; do
    read -r v _ 2>/dev/null < "$t" || continue
    sum=$((sum + v))
  done
  echo "$sum"
}
# utime+stime of the whole process in ns (dead threads included; 1/CLK_TCK resolution).
cpu_ticks_ns() {
  local f
  f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  set -- $f
  echo $(( (${12} + ${13}) * 1000000000 / TICK ))
}
# Run time (ns) of the threads whose name starts with a prefix (collectd:
# reader#0 = curl + yajl + dispatch, writer#0 = write_prometheus).
thread_cpu_ns() { # pid comm-prefix
  local sum=0 t v c
  for t in /proc/"$1"/task/*; do
    read -r c 2>/dev/null < "$t/comm" || continue
    case "$c" in "$2"*) ;; *) continue ;; esac
    read -r v _ 2>/dev/null < "$t/schedstat" || continue
    sum=$((sum + v))
  done
  echo "$sum"
}
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Finished polls of a poller in the feed server's log (by User-Agent).
polls() { # ua-prefix
  local n
  n=$(grep -c " $1" "$FEEDLOG" 2>/dev/null) || true
  echo "${n:-0}"
}

# Waits until the poller has finished >= N polls and its CPU has been still
# for 0.4 s; echoes its cpu_ns then. Fails at the deadline (SECONDS).
wait_polls_idle() { # pid ua n deadline
  local pid=$1 ua=$2 n=$3 deadline=$4 a b
  while [ "$(polls "$ua")" -lt "$n" ]; do
    [ $SECONDS -lt "$deadline" ] || return 1
    over_rss "$pid" && return 1
    kill -0 "$pid" 2>/dev/null || { echo "collectd.sh: pid $pid exited" >&2; return 1; }
    sleep 0.1
  done
  a=$(cpu_ns "$pid")
  while :; do
    [ $SECONDS -lt "$deadline" ] || return 1
    over_rss "$pid" && return 1
    sleep 0.4
    b=$(cpu_ns "$pid")
    [ $((b - a)) -lt 2000000 ] && { echo "$b"; return 0; }
    a=$b
  done
}

# A poller past RSS_LIMIT_MB is stopped (it counts as not holding the fleet).
over_rss() {
  local kb; kb=$(status_kb "$1" VmRSS); kb=${kb:-0}
  if [ "$kb" -gt $((RSS_LIMIT_MB * 1024)) ]; then
    echo "collectd.sh: pid $1 passed ${RSS_LIMIT_MB} MB of RSS" >&2; return 0
  fi
  return 1
}

emit() { # tool size metric value
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4"
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$WORK/results.tsv"
}

# One poller's run. Sets nothing; emits its metrics.
measure() { # tool size pid ua metrics-url values
  local tool=$1 size=$2 pid=$3 ua=$4 url=$5 values=$6
  local start=$SECONDS deadline=$((SECONDS + LIMIT)) c1 c2 n1 t1 held=1 ticks ns
  log "$size $tool: waiting for the first poll to be absorbed (limit ${LIMIT}s)"
  if c1=$(wait_polls_idle "$pid" "$ua" 1 "$deadline"); then
    t1=$((SECONDS - start))
    n1=$(polls "$ua")
    emit "$tool" "$size" first_cpu_s "$(awk -v c="$c1" 'BEGIN{printf "%.4f", c/1e9}')"
    emit "$tool" "$size" first_polls "$n1"
    emit "$tool" "$size" first_cpu_per_value_us "$(awk -v c="$c1" -v n="$n1" -v v="$values" 'BEGIN{printf "%.4f", c/1e3/(n*v)}')"
    emit "$tool" "$size" first_absorbed_after_s "$t1"
    log "$size $tool: first poll absorbed after ${t1}s, $n1 poll(s) served, $(awk -v c="$c1" 'BEGIN{printf "%.3f", c/1e9}') CPU-s"
    if c2=$(wait_polls_idle "$pid" "$ua" $((n1 + STEADY_POLLS)) "$deadline"); then
      local n2; n2=$(polls "$ua")
      emit "$tool" "$size" steady_polls "$((n2 - n1))"
      emit "$tool" "$size" cpu_per_poll_s "$(awk -v c=$((c2 - c1)) -v n=$((n2 - n1)) 'BEGIN{printf "%.5f", c/1e9/n}')"
      emit "$tool" "$size" cpu_per_value_us "$(awk -v c=$((c2 - c1)) -v n=$((n2 - n1)) -v v="$values" 'BEGIN{printf "%.4f", c/1e3/(n*v)}')"
    else
      log "$size $tool: no steady polls within the limit"
      emit "$tool" "$size" cpu_per_value_us NA
    fi
  else
    held=0
    local why=time_limit
    [ "$(status_kb "$pid" VmRSS)" -gt $((RSS_LIMIT_MB * 1024)) ] && why=rss_limit
    log "$size $tool: first poll NOT absorbed (stopped by the $why after $((SECONDS - start))s; served polls: $(polls "$ua"))"
    emit "$tool" "$size" stopped_by "$why"
    emit "$tool" "$size" first_cpu_per_value_us NA
    emit "$tool" "$size" cpu_per_value_us NA
  fi
  emit "$tool" "$size" held "$held"
  emit "$tool" "$size" polls_served "$(polls "$ua")"
  ns=$(cpu_ns "$pid"); ticks=$(cpu_ticks_ns "$pid")
  emit "$tool" "$size" cpu_total_s "$(awk -v c="$ns" 'BEGIN{printf "%.3f", c/1e9}')"
  emit "$tool" "$size" cpu_total_ticks_s "$(awk -v c="$ticks" 'BEGIN{printf "%.3f", c/1e9}')"
  if [ "$tool" = collectd ]; then
    local rd wr np; rd=$(thread_cpu_ns "$pid" reader); wr=$(thread_cpu_ns "$pid" writer); np=$(polls "$ua")
    emit "$tool" "$size" reader_cpu_s "$(awk -v c="$rd" 'BEGIN{printf "%.3f", c/1e9}')"
    emit "$tool" "$size" writer_cpu_s "$(awk -v c="$wr" 'BEGIN{printf "%.3f", c/1e9}')"
    [ "$np" -gt 0 ] && emit "$tool" "$size" reader_cpu_per_value_us \
      "$(awk -v c="$rd" -v n="$np" -v v="$values" 'BEGIN{printf "%.4f", c/1e3/(n*v)}')"
  fi
  emit "$tool" "$size" rss_kb "$(status_kb "$pid" VmRSS)"
  emit "$tool" "$size" peak_rss_kb "$(status_kb "$pid" VmHWM)"
  local series=NA
  if curl -sf --max-time 30 "$url" -o "$WORK/$size/$tool.metrics" 2>/dev/null; then
    series=$(grep -vcE '^(#|$)' "$WORK/$size/$tool.metrics" || true)
  else
    log "$size $tool: /metrics did not answer within 30 s"
  fi
  emit "$tool" "$size" series "$series"
  emit "$tool" "$size" run_s "$((SECONDS - start))"
}

# --- calibration (as bench/scrape.sh: series of ingotd at 10 and 20 plants)
series_for_plants() { # plants -> SERIES_COUNT
  local dir="$WORK/calibrate-$1" cfg pid w
  cfg=$(timeout 60 python3 "$HERE/gen_fleet.py" --plants "$1" --out "$dir" --port "$P_INGOTD")
  mkdir -p "$dir/state"; echo "state_dir: $dir/state" >> "$cfg"
  timeout -s KILL 120 taskset -c 0 "$INGOTD" --config.file="$cfg" \
    --web.listen-address="127.0.0.1:$P_INGOTD" --time.now="$NOW" > "$dir/ingotd.log" 2>&1 &
  w=$!; PIDS+=("$w")
  local i
  for i in $(seq 300); do
    if curl -s --max-time 5 "http://127.0.0.1:$P_INGOTD/metrics" -o "$dir/probe" 2>/dev/null &&
       grep -q '^ingot_feed_up{feed="fleet"} 1' "$dir/probe"; then break; fi
    sleep 0.2
  done
  curl -sf --max-time 10 "http://127.0.0.1:$P_INGOTD/metrics" -o "$dir/scrape"
  SERIES_COUNT=$(grep -vc '^#' "$dir/scrape")
  stop_pid "$w"
}
calibrate() {
  local s10 s20
  series_for_plants 10; s10=$SERIES_COUNT
  series_for_plants 20; s20=$SERIES_COUNT
  PER_PLANT=$(( (s20 - s10) / 10 ))
  FIXED=$(( s10 - 10 * PER_PLANT ))
  [ "$PER_PLANT" -gt 0 ] || { echo "collectd.sh: calibration failed ($s10, $s20)" >&2; exit 1; }
  log "calibration: $PER_PLANT series per plant + $FIXED fixed"
}
plants_for() {
  local target
  case "$1" in
    1k) target=1000 ;; 20k) target=20000 ;; 100k) target=100000 ;;
    *) echo "collectd.sh: unknown size $1 (1k, 20k, 100k)" >&2; exit 2 ;;
  esac
  echo $(( (target - FIXED + PER_PLANT / 2) / PER_PLANT ))
}

collectd_conf() { # dir url
  local d=$1 url=$2 f
  {
    cat <<EOF
# bench/collectd.sh: curl_json polls the fleet, write_prometheus exposes it.
Hostname "bench"
FQDNLookup false
BaseDir "$d"
PIDFile "$d/collectd.pid"
PluginDir "$PLUGINDIR"
TypesDB "$TYPESDB"
Interval $INTERVAL
ReadThreads 1
WriteThreads 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$d/collectd.log"
  Timestamp true
</Plugin>
LoadPlugin curl_json
LoadPlugin write_prometheus
<Plugin curl_json>
  <URL "$url">
    Instance "fleet"
    Timeout $((LIMIT * 1000))
EOF
    for f in production_tonnes co2_tonnes energy_mwh waste_tonnes waste_recycled_tonnes; do
      printf '    <Key "plants/*/records/*/%s">\n      Type "gauge"\n    </Key>\n' "$f"
    done
    cat <<EOF
  </URL>
</Plugin>
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "$P_COLLECTD"
</Plugin>
EOF
  } > "$d/collectd.conf"
}

bench_size() {
  local size=$1 dir="$WORK/$1" plants cfg records values w pid
  plants=$(plants_for "$size")
  mkdir -p "$dir/collectd" "$dir/state"
  log "$size: generating the fleet ($plants plants)"
  cfg=$(timeout 300 python3 "$HERE/gen_fleet.py" --plants "$plants" --out "$dir/fleet" --port "$P_INGOTD")
  records=$(grep -o '"production_tonnes"' "$dir/fleet/fleet.json" | wc -l)
  values=$((records * 5))
  for t in collectd ingotd; do
    emit "$t" "$size" plants "$plants"
    emit "$t" "$size" records "$records"
    emit "$t" "$size" values_per_poll "$values"
  done
  log "$size: $plants plants, $records records, $values values per poll, $(wc -c < "$dir/fleet/fleet.json") bytes"

  FEEDLOG="$dir/feed.log"; : > "$FEEDLOG"
  taskset -c 1 python3 "$HERE/collectd_feed_server.py" --dir "$dir/fleet" --port "$P_FEED" \
    --log "$FEEDLOG" > "$dir/feed_server.out" 2>&1 &
  local feed=$!; PIDS+=("$feed")
  local i
  for i in $(seq 50); do
    curl -sf --max-time 2 -o /dev/null -r 0-10 "http://127.0.0.1:$P_FEED/ingot.yaml" 2>/dev/null && break
    sleep 0.1
  done
  : > "$FEEDLOG"
  local url="http://127.0.0.1:$P_FEED/fleet.json"

  # collectd
  collectd_conf "$dir/collectd" "$url"
  log "$size: starting collectd"
  timeout -s KILL $((LIMIT + 60)) taskset -c 0 "$COLLECTD" -f -C "$dir/collectd/collectd.conf" \
    > "$dir/collectd/stdout.log" 2>&1 &
  w=$!; PIDS+=("$w")
  pid=$(child_of "$w")
  measure collectd "$size" "$pid" "collectd/" "http://127.0.0.1:$P_COLLECTD/metrics" "$values"
  stop_poller "$w" "$pid"
  # collectd logs the value lists still queued for its writer at shutdown.
  local left
  left=$(grep -o '[0-9]* value lists were left' "$dir/collectd/collectd.log" | awk '{print $1}' | tail -1 || true)
  if [ -z "$left" ]; then
    if [ "$KILLED" = 0 ] && grep -q 'Stopping [0-9]* write threads' "$dir/collectd/collectd.log"; then
      left=0
    else
      left=NA
    fi
  fi
  emit collectd "$size" write_queue_left_at_stop "$left"

  # ingotd: the generated config, the feed over HTTP from the same server.
  sed -i -e "s|url: file://.*|url: $url|" -e "s|interval: 1h|interval: ${INTERVAL}s|" \
    -e "s|timeout: 5m|timeout: ${INTERVAL}s|" "$cfg"
  echo "state_dir: $dir/state" >> "$cfg"
  log "$size: starting ingotd"
  timeout -s KILL $((LIMIT + 60)) taskset -c 0 "$INGOTD" --config.file="$cfg" \
    --web.listen-address="127.0.0.1:$P_INGOTD" --time.now="$NOW" > "$dir/ingotd.log" 2>&1 &
  w=$!; PIDS+=("$w")
  pid=$(child_of "$w")
  measure ingotd "$size" "$pid" "ingot/" "http://127.0.0.1:$P_INGOTD/metrics" "$values"
  stop_poller "$w" "$pid"

  stop_pid "$feed"
  rm -f "$dir/fleet/fleet.json"
}

log "collectd: $($COLLECTD -h | grep -m1 '^collectd '); ingotd: $INGOTD; work: $WORK"
log "sizes: $SIZES; interval ${INTERVAL}s; limit ${LIMIT}s per poller run"
PER_PLANT=1; FIXED=0
for size in $SIZES; do plants_for "$size" >/dev/null; done
calibrate
for size in $SIZES; do bench_size "$size"; done

# Human table on stderr.
python3 - "$WORK/results.tsv" >&2 <<'EOF'
import sys
r = {}
for line in open(sys.argv[1]):
    t, s, m, v = line.rstrip("\n").split("\t")
    r.setdefault(s, {}).setdefault(t, {})[m] = v
def f(x, fmt):
    try: return fmt % float(x)
    except (TypeError, ValueError): return x or "NA"
print()
print("| size | plants | records | values/poll | collectd µs/value (steady) | collectd µs/value (first poll) | collectd reader-only µs/value | ingotd µs/value (steady) | ratio collectd/ingotd | collectd series | ingotd series | collectd RSS MB | ingotd RSS MB | collectd held |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for s, d in r.items():
    c, i = d.get("collectd", {}), d.get("ingotd", {})
    try: ratio = "%.0f×" % (float(c["cpu_per_value_us"]) / float(i["cpu_per_value_us"]))
    except (KeyError, ValueError, ZeroDivisionError): ratio = "NA"
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        s, c.get("plants"), c.get("records"), c.get("values_per_poll"),
        f(c.get("cpu_per_value_us"), "%.3f"), f(c.get("first_cpu_per_value_us"), "%.3f"),
        f(c.get("reader_cpu_per_value_us"), "%.3f"), f(i.get("cpu_per_value_us"), "%.4f"), ratio, c.get("series"), i.get("series"),
        f(int(c.get("peak_rss_kb", 0)) / 1024, "%.0f"), f(int(i.get("peak_rss_kb", 0)) / 1024, "%.0f"),
        "yes" if c.get("held") == "1" else "no (%s)" % c.get("stopped_by", "?")))
EOF
