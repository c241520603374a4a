#!/usr/bin/env python3
"""Fleet-scale benchmarks of ingotd: memory per record, ingest rate, the
cost of an incremental update at two fleet sizes, idle CPU and start-up.

Usage:
  fleet.py --ingotd PATH [--work DIR] [--runs N] [--records R] [--quick]
           [--only memory,ingest,callgrind,incremental,idle,startup]

Prints one TSV line per measurement on stdout:
  fleet <TAB> <metric> <TAB> <run> <TAB> <value>
and progress on stderr. bench/run.sh turns the lines into the table of
docs/benchmarks.md (median and min-max over the runs of each metric).

Every ingotd it starts listens on 127.0.0.1 (a free port), keeps its state in
the work directory, runs with --time.now=2025-07-15T00:00:00Z, and is
stopped by pid when its measurement ends (SIGTERM, then SIGKILL after 30 s).

What is measured (see docs/benchmarks.md, "Fleet scale"):
  memory       VmRSS of ingotd after one R-record feed was applied (ingotd
               calls malloc_trim after each document) minus VmRSS of the same
               config fed an empty document; bytes per record.
  ingest       records/s from the "fetching" debug line to the "feed up"
               line (file:// read, parse, validate, apply, rollups): JSON
               and CSV documents of R records. Also the process's CPU time.
  callgrind    instruction counts of ingesting a 100k-record document, split
               into parsing (yajl / libcsv and the feed readers) and the rest
               (validation, store, rollups: ingest.c's sink callbacks).
  incremental  instructions in push_ingest for a 50-record update (the same
               50 records each time, values alternating) with 10 and with
               10,000 plants stored; median of 5 updates after one warm-up.
  idle         500 file:// feeds at 1h intervals, nothing changing: CPU
               seconds per minute (utime+stime) over 60 s windows, and the
               epoll_wait wake-ups in one window with their timeouts (strace).
  startup      from exec to /-/ready answering 200, restoring a snapshot of
               R records (the feed is an empty file:// document).
"""
import argparse
import collections
import glob
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen_fleet.py")
NOW = "2025-07-15T00:00:00Z"
TICK = os.sysconf("SC_CLK_TCK")
EMPTY_DOC = '{"schema": "ingot.feed.v1", "plants": []}\n'


def log(msg):
    print("# %s %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def emit(metric, run, value):
    print("fleet\t%s\t%s\t%s" % (metric, run, value), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gen(out, *args):
    """Runs gen_fleet.py into out (cached: skipped when out/ingot.yaml exists)."""
    cfg = os.path.join(out, "ingot.yaml")
    if not os.path.exists(cfg):
        log("generating %s (%s)" % (out, " ".join(args)))
        subprocess.run([sys.executable, GEN, "--out", out] + list(args), check=True,
                       stdout=subprocess.DEVNULL)
    return cfg


def derive_config(src, dst, port, state_dir, url=None, extra=""):
    """A copy of gen_fleet.py's config with its port, a state_dir, optionally
    every feed's url replaced, and extra top-level YAML appended."""
    with open(src) as f:
        text = f.read()
    text = re.sub(r"listen_address: 127\.0\.0\.1:\d+", "listen_address: 127.0.0.1:%d" % port, text)
    if url:
        text = re.sub(r"url: file://\S+", "url: " + url, text)
    os.makedirs(state_dir, exist_ok=True)
    text += "state_dir: %s\n%s" % (state_dir, extra)
    with open(dst, "w") as f:
        f.write(text)
    return dst


class Ingotd:
    """One ingotd we started; stop() ends it by its pid."""

    def __init__(self, ingotd, cfg, logpath, prefix=(), extra_args=()):
        self.logpath = logpath
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)", open(cfg).read()).group(1))
        self.logf = open(logpath, "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(list(prefix) + [ingotd, "--config.file=" + cfg,
                                                     "--time.now=" + NOW] + list(extra_args),
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, timeout=5):
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, b""
        except OSError:
            return None, b""

    def wait_ready(self, deadline_s=120, poll=0.005):
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("ingotd exited; see %s" % self.logpath)
            if self.get("/-/ready", timeout=2)[0] == 200:
                return time.monotonic() - self.t0
            time.sleep(poll)
        raise RuntimeError("ingotd not ready within %d s; see %s" % (deadline_s, self.logpath))

    def wait_log(self, pattern, deadline_s=300):
        end = time.monotonic() + deadline_s
        rx = re.compile(pattern)
        while time.monotonic() < end:
            with open(self.logpath) as f:
                for line in f:
                    if rx.search(line):
                        return line
            if self.proc.poll() is not None:
                raise RuntimeError("ingotd exited; see %s" % self.logpath)
            time.sleep(0.05)
        raise RuntimeError("no /%s/ in %s within %d s" % (pattern, self.logpath, deadline_s))

    def status_kb(self, field):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def log_time(line):
    """Seconds since midnight of a plain log line's timestamp."""
    m = re.match(r"\S+T(\d+):(\d+):(\d+\.\d+)Z", line)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


# ---------------------------------------------------------------- memory/ingest

def memory_and_ingest(a, work):
    months = 48
    fleets = {fmt: gen(os.path.join(work, "fleet-%s-%d" % (fmt, a.records)), "--records",
                       str(a.records), "--months", str(months), "--format", fmt)
              for fmt in ("json", "csv")}
    empty = os.path.join(work, "empty.json")
    with open(empty, "w") as f:
        f.write(EMPTY_DOC)
    n_records = None
    with open(fleets["json"]) as f:
        plants = int(re.search(r"(\d+) plants", f.readline()).group(1))
    n_records = plants * 3 * months

    # An empty ingotd: the same config (allowlists and all), an empty document.
    base = []
    for run in range(a.runs):
        d = os.path.join(work, "empty-%d" % run)
        cfg = derive_config(fleets["json"], d + ".yaml", free_port(), d + "-state",
                            url="file://" + empty)
        p = Ingotd(a.ingotd, cfg, d + ".log")
        try:
            p.wait_ready()
            p.wait_log("feed up")
            time.sleep(1)
            base.append(p.status_kb("VmRSS"))
        finally:
            p.stop(signal.SIGKILL)
        emit("rss_empty_kb", run, base[-1])
    rss_empty = statistics.median(base)

    for fmt in ("json", "csv"):
        for run in range(a.runs):
            d = os.path.join(work, "%s-%d" % (fmt, run))
            shutil.rmtree(d + "-state", ignore_errors=True)
            cfg = derive_config(fleets[fmt], d + ".yaml", free_port(), d + "-state")
            p = Ingotd(a.ingotd, cfg, d + ".log", extra_args=["--log.level=debug"])
            try:
                up = p.wait_log("feed up: ", deadline_s=600)
                start = p.wait_log("feed=fleet fetching")
                accepted = int(re.search(r"(\d+) records accepted", up).group(1))
                if accepted != n_records:
                    raise RuntimeError("%s: %d of %d records accepted" % (fmt, accepted, n_records))
                secs = log_time(up) - log_time(start)
                cpu = p.cpu_seconds()
                time.sleep(1)
                rss = p.status_kb("VmRSS")
                hwm = p.status_kb("VmHWM")
                emit("ingest_%s_records_per_s" % fmt, run, "%.0f" % (accepted / secs))
                emit("ingest_%s_seconds" % fmt, run, "%.3f" % secs)
                emit("ingest_%s_process_cpu_s" % fmt, run, "%.2f" % cpu)
                emit("rss_%s_kb" % fmt, run, rss)
                emit("hwm_%s_kb" % fmt, run, hwm)
                emit("bytes_per_record_%s" % fmt, run,
                     "%.1f" % ((rss - rss_empty) * 1024.0 / accepted))
                # After one scrape: the cached renders of every series too.
                p.get("/metrics", timeout=60)
                emit("rss_after_scrape_%s_kb" % fmt, run, p.status_kb("VmRSS"))
            finally:
                # SIGTERM: the last snapshot, which startup restores.
                p.stop(signal.SIGTERM if (fmt, run) == ("json", 0) else signal.SIGKILL)
            log("%s run %d: %.0f records/s, %.1f B/record" %
                (fmt, run, accepted / secs, (rss - rss_empty) * 1024.0 / accepted))
    emit("records", 0, n_records)
    return fleets["json"], empty


# ---------------------------------------------------------------- callgrind

def callgrind_counts(outfile):
    """{function: inclusive Ir} and the total from a callgrind output file."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", outfile],
                         capture_output=True, text=True, check=True).stdout
    incl, total = {}, None
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S+?)(?:\s+\[.*\])?$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        name = m.group(2)
        if "PROGRAM TOTALS" in line:
            total = n
        else:
            incl[name] = incl.get(name, 0) + n
        if total is None and line.strip().endswith("PROGRAM TOTALS"):
            total = n
    return incl, total


# Functions under ingest_document worth naming in the report (inclusive).
INGEST_FUNCTIONS = ("yajl_parse", "on_map_key", "on_number", "on_string", "on_end",
                    "utf8_valid", "number_parse", "number_parse_short", "strtod", "csv_parse",
                    "cell_cb", "row_cb", "on_record", "on_plant", "store_put", "store_plant_get",
                    "store_record_find", "store_granularity_conflict", "period_parse",
                    "config_plant_id_valid", "config_feed_allows_plant", "rollup_month_apply")


def pick(incl, suffix):
    return sum(v for k, v in incl.items() if k.endswith(suffix))


def callgrind_ingest(a, work):
    n = 100000 if not a.quick else 20000
    for fmt in ("json", "csv"):
        src = gen(os.path.join(work, "cg-%s-%d" % (fmt, n)), "--records", str(n), "--months",
                  "48", "--format", fmt)
        d = os.path.join(work, "cg-%s" % fmt)
        shutil.rmtree(d + "-state", ignore_errors=True)
        cfg = derive_config(src, d + ".yaml", free_port(), d + "-state")
        out = d + ".callgrind"
        p = Ingotd(a.ingotd, cfg, d + ".log",
                   prefix=["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out])
        try:
            p.wait_log("feed up: ", deadline_s=600)
        finally:
            p.stop(signal.SIGKILL if False else signal.SIGINT)
        incl, _ = callgrind_counts(out)
        # ingest_document_with_listener is inlined into ingest_document; the
        # sink callbacks (validation, store, rollups) are ingest.c's
        # on_record and on_plant, called through pointers from the readers.
        doc = pick(incl, ":ingest_document") or pick(incl, ":ingest_document_with_listener")
        sink = pick(incl, ":on_record") + pick(incl, ":on_plant")
        if not doc:
            raise RuntimeError("no ingest_document in %s" % out)
        emit("cg_%s_ingest_Ir_per_record" % fmt, 0, "%.0f" % (doc / n))
        emit("cg_%s_parse_share_pct" % fmt, 0, "%.1f" % (100.0 * (doc - sink) / doc))
        emit("cg_%s_store_share_pct" % fmt, 0, "%.1f" % (100.0 * sink / doc))
        for name in INGEST_FUNCTIONS:
            v = pick(incl, ":" + name)
            if v >= doc * 0.02:
                emit("cg_%s_fn_pct" % fmt, name, "%.1f" % (100.0 * v / doc))
        log("callgrind %s: %.0f Ir/record, parse %.0f%%" % (fmt, doc / n, 100.0 * (doc - sink) / doc))


# ---------------------------------------------------------------- incremental

def update_doc(plants, factor):
    """50 records: the first 10 plants, copper, the last 5 months."""
    recs = []
    for i, pid in enumerate(plants[:10]):
        for k, period in enumerate(("2025-02", "2025-03", "2025-04", "2025-05", "2025-06")):
            prod = round((1000 + 37 * i + k) * factor, 3)
            recs.append('{"id":"%s","records":[{"metal":"copper","period":"%s",'
                        '"production_tonnes":%s,"co2_tonnes":%s}]}'
                        % (pid, period, prod, round(prod * 1.1, 3)))
    return ('{"schema":"ingot.feed.v1","plants":[' + ",".join(recs) + "]}").encode()


def incremental(a, work):
    token = os.path.join(work, "push.token")
    with open(token, "w") as f:
        f.write("bench-token-0123456789abcdef\n")
    for n_plants in (10, 10000):
        src = gen(os.path.join(work, "inc-%d" % n_plants), "--plants", str(n_plants),
                  "--months", "12")
        with open(src) as f:
            plants = re.findall(r"^      - (\S+)$", f.read(), re.M)
        extra = ("push_sources:\n  - name: bench_push\n    token_file: %s\n    plants: [%s]\n"
                 % (token, ", ".join(plants[:10])))
        d = os.path.join(work, "inc-run-%d" % n_plants)
        shutil.rmtree(d + "-state", ignore_errors=True)
        cfg = derive_config(src, d + ".yaml", free_port(), d + "-state", extra=extra)
        out = d + ".callgrind"
        for f in glob.glob(out + "*"):
            os.remove(f)
        p = Ingotd(a.ingotd, cfg, d + ".log",
                   prefix=["valgrind", "--tool=callgrind", "--toggle-collect=push_ingest",
                           "--callgrind-out-file=" + out])
        try:
            p.wait_log("feed up: ", deadline_s=900)
            p.wait_ready()
            for k in range(6):
                req = urllib.request.Request(
                    p.url("/api/v1/ingest"), data=update_doc(plants, 1.0 + 0.01 * (k % 2 + 1)),
                    headers={"Authorization": "Bearer bench-token-0123456789abcdef",
                             "Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=60) as r:
                    body = r.read().decode()
                if '"accepted": 50' not in body.replace('"accepted":50', '"accepted": 50'):
                    raise RuntimeError("push not accepted: %s" % body)
                # One dump per update (the counters restart at each dump).
                subprocess.run(["callgrind_control", "-d", str(p.pid)], check=True,
                               stdout=subprocess.DEVNULL)
        finally:
            p.stop(signal.SIGINT)
        dumps = sorted(glob.glob(out + ".*"), key=lambda f: int(f.rsplit(".", 1)[1])
                       if f.rsplit(".", 1)[1].isdigit() else 1 << 30)
        costs = []
        for f in dumps:
            with open(f) as fh:
                m = re.search(r"^(?:summary|totals): (\d+)", fh.read(), re.M)
            if m and int(m.group(1)) > 0:
                costs.append(int(m.group(1)))
        costs = costs[:6]
        for run, c in enumerate(costs[1:]):  # the first is a warm-up
            emit("incr_%d_plants_Ir" % n_plants, run, c)
        log("incremental, %d plants: %s Ir per update" % (n_plants, costs))


# ---------------------------------------------------------------- idle

def idle(a, work):
    src = gen(os.path.join(work, "idle-500"), "--plants", "1000", "--feeds", "500", "--months",
              "2", "--metals", "1")
    d = os.path.join(work, "idle")
    shutil.rmtree(d + "-state", ignore_errors=True)
    cfg = derive_config(src, d + ".yaml", free_port(), d + "-state")
    p = Ingotd(a.ingotd, cfg, d + ".log")
    window = 20 if a.quick else 60
    try:
        p.wait_ready()
        time.sleep(5)
        for run in range(a.runs):
            trace = "%s-%d.strace" % (d, run)
            st = None
            if run == 0:
                st = subprocess.Popen(["strace", "-qq", "-f", "-tt", "-e", "trace=epoll_wait",
                                       "-o", trace, "-p", str(p.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
            c0, t0 = p.cpu_seconds(), time.monotonic()
            time.sleep(window)
            c1, t1 = p.cpu_seconds(), time.monotonic()
            if st:
                st.send_signal(signal.SIGINT)
                st.wait(10)
            emit("idle_cpu_s_per_min", run, "%.4f" % ((c1 - c0) * 60.0 / (t1 - t0)))
            if run == 0:
                timeouts = collections.Counter()
                wakeups = 0
                with open(trace) as f:
                    for line in f:
                        m = re.search(r"epoll_wait(?:\(\d+, | resumed>).*?, \d+, (-?\d+)\)\s+= (\d+)",
                                      line)
                        if m:
                            wakeups += 1
                            t = int(m.group(1))
                            timeouts["%s" % ("none" if t < 0 else
                                             "%d s" % round(t / 1000.0))] += 1
                emit("idle_wakeups_per_min", 0, "%.1f" % (wakeups * 60.0 / (t1 - t0)))
                emit("idle_epoll_timeouts", 0, " ".join(
                    "%s:%d" % kv for kv in sorted(timeouts.items())) or "none")
        emit("idle_feeds", 0, 500)
    finally:
        p.stop(signal.SIGKILL)


# ---------------------------------------------------------------- startup

def startup(a, work, json_cfg, empty):
    snap = sorted(glob.glob(os.path.join(work, "json-0-state", "snapshot-*.pb")))
    if not snap:
        raise RuntimeError("no snapshot from the memory run in %s/json-0-state" % work)
    for run in range(a.runs):
        d = os.path.join(work, "startup-%d" % run)
        shutil.rmtree(d + "-state", ignore_errors=True)
        os.makedirs(d + "-state")
        shutil.copy(snap[-1], d + "-state")
        cfg = derive_config(json_cfg, d + ".yaml", free_port(), d + "-state",
                            url="file://" + empty)
        p = Ingotd(a.ingotd, cfg, d + ".log")
        try:
            secs = p.wait_ready(poll=0.002)
            line = p.wait_log("restored")
            n = int(re.search(r"restored (\d+) records", line).group(1))
            emit("startup_ready_s", run, "%.3f" % secs)
            emit("startup_records", run, n)
            emit("startup_rss_kb", run, p.status_kb("VmRSS"))
            log("startup run %d: %d records, ready in %.3f s" % (run, n, secs))
        finally:
            p.stop(signal.SIGKILL)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--work", default=None, help="work directory (default: a new one in /tmp)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--quick", action="store_true",
                    help="20 s idle windows and a 20k-record callgrind document")
    ap.add_argument("--only", default="memory,ingest,callgrind,incremental,idle,startup")
    a = ap.parse_args()
    a.ingotd = os.path.abspath(a.ingotd)
    work = a.work or subprocess.run(["mktemp", "-d", "/tmp/ingot-fleet.XXXXXX"],
                                    capture_output=True, text=True).stdout.strip()
    os.makedirs(work, exist_ok=True)
    only = set(a.only.split(","))
    json_cfg = empty = None
    if only & {"memory", "ingest", "startup"}:
        json_cfg, empty = memory_and_ingest(a, work)
    if "callgrind" in only:
        callgrind_ingest(a, work)
    if "incremental" in only:
        incremental(a, work)
    if "idle" in only:
        idle(a, work)
    if "startup" in only:
        startup(a, work, json_cfg, empty)
    log("work directory: %s" % work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
