#!/usr/bin/python3
"""The Grafana dashboard and the Prometheus rules, proven against real data.

Usage:
    python3 test_dashboard.py --ingotd build/ingotd --prometheus /usr/bin/prometheus \
        --promtool /usr/bin/promtool --source-dir .

Python 3.11 standard library only; everything on 127.0.0.1, every wait
bounded, every process stopped in `finally`. Grafana itself is not needed:

  1. promtool: `check rules` on conf/prometheus/rules.yml, `check config` on
     conf/prometheus/prometheus.yml, `test rules` on
     tests/prometheus/rules_test.yml.
  2. The structure of conf/grafana/dashboards/ingot.json: id null, a uid, a
     schemaVersion of 36 or more, unique panel ids, every panel (rows' nested
     panels included) on the 24-column grid without overlaps, every non-row
     panel with a description and the ${datasource} datasource, the
     datasource variable and the metal, plant and year variables; the
     provisioning files name the same datasource uid and folder.
  3. Live: the demo feeds (conf/demo) served on a free port, ingotd on a copy
     of conf/ingot.yaml pointed at them with --time.now=2025-07-01T00:00:00Z,
     and a real Prometheus (free port, temporary TSDB, scrape and evaluation
     every second) scraping ingotd and loading a copy of rules.yml. Once the
     target is up, the demo data is in and every rule group has evaluated on
     it, every PromQL expression is run through /api/v1/query:
       - every target of every dashboard panel, with the variables replaced by
         demo values: no error and at least one series;
       - every variable query label_values(metric, label): the metric has
         series and the label the demo value;
       - every recording rule (from Prometheus's own /api/v1/rules, i.e. the
         file as Prometheus parsed it, counted against the file): no error, at
         least one series, and the recorded series exists;
       - every alert expression: no error (no series is fine on the demo);
       - every rule's health is ok.
One line per check; the last line is "N passed, M failed"; exit status 1 when
anything failed.
"""

import argparse
import calendar
import functools
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

DEMO_NOW = "2025-07-01T00:00:00Z"    # the demo data ends in June 2025
DEMO = {"metal": "copper", "plant": "kz-balkhash-cu", "year": "2025"}
GRAFANA_VARS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
WAIT = 60.0                          # bound of each live wait, seconds

from harness import check, free_port, results, wait_until


def http_get(port, path, timeout=5):
    """(status, body) of GET http://127.0.0.1:port/path; status None on no answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, ValueError):
        return None, b""


# ---------------------------------------------------------------------------
# 1. promtool


def promtool_checks(args):
    src = args.source_dir
    for what, argv in (
            ("promtool check rules conf/prometheus/rules.yml",
             ["check", "rules", os.path.join(src, "conf/prometheus/rules.yml")]),
            ("promtool check config conf/prometheus/prometheus.yml",
             ["check", "config", os.path.join(src, "conf/prometheus/prometheus.yml")]),
            ("promtool test rules tests/prometheus/rules_test.yml",
             ["test", "rules", os.path.join(src, "tests/prometheus/rules_test.yml")])):
        try:
            p = subprocess.run([args.promtool, *argv], capture_output=True, text=True, timeout=60)
            out = p.stdout + p.stderr
            # promtool prints duplicate-rule and lint findings as warnings with exit 0.
            check(what, p.returncode == 0 and "WARNING" not in out.upper(), out[-3000:])
        except (OSError, subprocess.TimeoutExpired) as e:
            check(what, False, e)


# ---------------------------------------------------------------------------
# 2. Dashboard structure


def all_panels(panels):
    """Every panel, rows' nested (collapsed) panels included."""
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def variable_query(v):
    q = v.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")


def structure_checks(dash, src):
    check("dashboard: id is null", "id" in dash and dash["id"] is None, dash.get("id"))
    check("dashboard: uid is set", isinstance(dash.get("uid"), str) and dash["uid"],
          dash.get("uid"))
    check("dashboard: schemaVersion >= 36", (dash.get("schemaVersion") or 0) >= 36,
          dash.get("schemaVersion"))
    check("dashboard: title and description", dash.get("title") and dash.get("description"), "")

    panels = list(all_panels(dash.get("panels", [])))
    ids = [p.get("id") for p in panels]
    check(f"dashboard: {len(panels)} panels with unique ids",
          panels and len(set(ids)) == len(ids) and None not in ids, ids)

    bad_grid = []
    for p in panels:
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in "xywh") or g["x"] < 0 or g["y"] < 0 \
                or g["w"] < 1 or g["h"] < 1 or g["x"] + g["w"] > 24:
            bad_grid.append((p.get("title"), g))
    check("dashboard: every gridPos within the 24 columns", not bad_grid, bad_grid)
    # Top-level panels share the grid; a collapsed row's panels share it among themselves.
    layers = [dash.get("panels", [])] + [r.get("panels", []) for r in dash.get("panels", [])
                                          if r.get("type") == "row" and r.get("panels")]
    clashes = [(a.get("title"), b.get("title")) for layer in layers
               for i, a in enumerate(layer) for b in layer[i + 1:]
               if isinstance(a.get("gridPos"), dict) and isinstance(b.get("gridPos"), dict)
               and overlaps(a["gridPos"], b["gridPos"])]
    check("dashboard: no two panels overlap", not clashes, clashes)

    visual = [p for p in panels if p.get("type") != "row"]
    check(f"dashboard: all {len(visual)} panels have a description",
          all(isinstance(p.get("description"), str) and len(p["description"]) > 20
              for p in visual),
          [p.get("title") for p in visual if not p.get("description")])
    wrong_ds = [p.get("title") for p in visual
                if (p.get("datasource") or {}).get("uid") != "${datasource}"
                or any((t.get("datasource") or {}).get("uid", "${datasource}") != "${datasource}"
                       for t in p.get("targets", []))]
    check("dashboard: every panel and target uses ${datasource}", not wrong_ds, wrong_ds)
    no_targets = [p.get("title") for p in visual if not any(t.get("expr") for t in
                                                             p.get("targets", []))]
    check("dashboard: every panel has a PromQL target", not no_targets, no_targets)

    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("datasource") or {}
    check("dashboard: datasource variable (type datasource, query prometheus)",
          ds.get("type") == "datasource" and ds.get("query") == "prometheus", ds)
    for name in ("metal", "plant", "year"):
        v = variables.get(name) or {}
        check(f"dashboard: variable {name} from label_values(..., {name})",
              v.get("type") == "query" and
              re.fullmatch(rf"label_values\(.+,\s*{name}\)", variable_query(v).strip()) and
              (v.get("datasource") or {}).get("uid") == "${datasource}", v)
    check("dashboard: metal and plant are multi-value with All",
          all(variables.get(n, {}).get("multi") and variables.get(n, {}).get("includeAll")
              for n in ("metal", "plant")), "")

    # Provisioning files: the datasource uid, and a file provider on a folder.
    try:
        with open(os.path.join(src, "conf/grafana/provisioning/datasources/ingot.yaml")) as f:
            dsfile = f.read()
        with open(os.path.join(src, "conf/grafana/provisioning/dashboards/ingot.yaml")) as f:
            dbfile = f.read()
    except OSError as e:
        check("provisioning files present", False, e)
        return panels, variables
    check("provisioning: datasource apiVersion 1, prometheus, fixed uid, localhost:9090",
          re.search(r"(?m)^apiVersion:\s*1\s*$", dsfile) and
          re.search(r"(?m)^\s*type:\s*prometheus\s*$", dsfile) and
          re.search(r"(?m)^\s*uid:\s*\S+", dsfile) and "http://localhost:9090" in dsfile, dsfile)
    check("provisioning: dashboards apiVersion 1, file provider with a path",
          re.search(r"(?m)^apiVersion:\s*1\s*$", dbfile) and
          re.search(r"(?m)^\s*type:\s*file\s*$", dbfile) and
          re.search(r"(?m)^\s*path:\s*/\S+", dbfile), dbfile)
    return panels, variables


# ---------------------------------------------------------------------------
# 3. Live: feeds, ingotd, Prometheus


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class FeedServer:
    """The demo feed directory over HTTP on 127.0.0.1, on a free port, from a thread."""

    def __init__(self, directory):
        handler = functools.partial(QuietHandler, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Process:
    """A child process with its output in a log file."""

    def __init__(self, argv, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


def prom_query(port, expr):
    """(error, result) of an instant query: error None on success."""
    status, body = http_get(port, "/api/v1/query?query=" + urllib.parse.quote(expr), timeout=10)
    try:
        doc = json.loads(body)
    except ValueError:
        return f"HTTP {status}, not JSON: {body[:200]!r}", []
    if status != 200 or doc.get("status") != "success":
        return f"HTTP {status}: {doc.get('errorType')}: {doc.get('error')}", []
    data = doc.get("data", {})
    result = data.get("result", [])
    if data.get("resultType") == "scalar":
        result = [result]
    return None, result


def rule_groups(port):
    status, body = http_get(port, "/api/v1/rules")
    try:
        return json.loads(body)["data"]["groups"] if status == 200 else []
    except (ValueError, KeyError):
        return []


def substitute(expr, instance):
    """The expression with Grafana's variables replaced by demo values."""
    values = dict(GRAFANA_VARS, instance=instance, **DEMO)
    # Longest names first, so $__rate_interval is not taken for $__range and the like.
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    return expr


def live_checks(args, tmp, panels, variables):
    src = args.source_dir
    feeds = FeedServer(os.path.join(src, "conf/demo"))
    ingotd = prom = None
    try:
        # ingotd on a copy of the shipped config, its feed URLs on our server.
        with open(os.path.join(src, "conf/ingot.yaml")) as f:
            config = f.read()
        config = config.replace("http://127.0.0.1:8468/", f"http://127.0.0.1:{feeds.port}/")
        urls = re.findall(r"(?m)^\s*url:\s*(\S+)", config)
        check(f"demo config: all {len(urls)} feed URLs point at the test server",
              urls and all(u.startswith(f"http://127.0.0.1:{feeds.port}/") for u in urls), urls)
        config_path = os.path.join(tmp, "ingot.yaml")
        with open(config_path, "w") as f:
            f.write(config + "state_dir: state\n")  # beside the config, never /var/lib/ingot
        ingot_port = free_port()
        instance = f"127.0.0.1:{ingot_port}"
        ingotd = Process([args.ingotd, f"--config.file={config_path}",
                          f"--web.listen-address={instance}", f"--time.now={DEMO_NOW}"],
                         os.path.join(tmp, "ingotd.log"))

        # Prometheus: its own config, a copy of the rules, a temporary TSDB.
        home = os.path.join(tmp, "prometheus")
        os.makedirs(home)
        shutil.copy(os.path.join(src, "conf/prometheus/rules.yml"), os.path.join(home, "rules.yml"))
        with open(os.path.join(home, "prometheus.yml"), "w") as f:
            f.write("global:\n"
                    "  scrape_interval: 1s\n"
                    "  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files:\n"
                    "  - rules.yml\n"
                    "scrape_configs:\n"
                    "  - job_name: ingot\n"
                    "    metrics_path: /metrics\n"
                    f"    static_configs:\n      - targets: ['{instance}']\n")
        prom_port = free_port()
        prom = Process([args.prometheus, f"--config.file={home}/prometheus.yml",
                        f"--storage.tsdb.path={home}/data",
                        f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                       os.path.join(home, "prometheus.log"))

        ready = wait_until(lambda: http_get(prom_port, "/-/ready", 2)[0] == 200, WAIT)
        if not check("prometheus ready", ready, prom.tail()):
            return

        def up():
            err, res = prom_query(prom_port, f'up{{job="ingot",instance="{instance}"}} == 1')
            return not err and len(res) == 1
        if not check("prometheus scrapes ingotd (up == 1)", wait_until(up, WAIT),
                     prom.tail() + ingotd.tail()):
            return

        # The demo data is in: all four feeds up and the national figures filled.
        def data_in():
            e1, r1 = prom_query(prom_port, f'ingot_feed_up{{instance="{instance}"}} == 1')
            e2, r2 = prom_query(prom_port, 'ingot_national_production_tonnes'
                                           f'{{instance="{instance}",year="2025"}} > 0')
            return not e1 and not e2 and len(r1) == 4 and len(r2) == 3
        if not check("the demo's four feeds are up and the national figures filled",
                     wait_until(data_in, WAIT), ingotd.tail()):
            return

        # Every rule group has evaluated at least twice since the data arrived.
        since = time.time() + 2.5

        def evaluated():
            groups = rule_groups(prom_port)
            stamps = [g.get("lastEvaluation", "") for g in groups]
            if len(groups) < 2 or any(not s or s.startswith("0001") for s in stamps):
                return None
            done = all(_rfc3339(s) >= since for s in stamps)
            return groups if done else None
        groups = wait_until(evaluated, WAIT)
        if not check("every rule group evaluated on the demo data", groups, rule_groups(prom_port)):
            return

        rules_checks(args, prom_port, groups)
        value_checks(prom_port, instance)
        dashboard_checks(prom_port, instance, panels, variables)
    finally:
        for p in (prom, ingotd):
            if p is not None:
                p.stop()
        feeds.stop()
        if results.count(False):
            for name, p in (("ingotd", ingotd), ("prometheus", prom)):
                if p is not None:
                    print(f"# {name} log:\n{p.tail()}", flush=True)


def _rfc3339(stamp):
    """Seconds since the epoch of Prometheus's RFC 3339 timestamps (nanoseconds, Z or offset)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", stamp)
    if not m:
        return 0.0
    base = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    frac = float("0." + m.group(2)) if m.group(2) else 0.0
    tz = m.group(3)
    offset = 0 if tz == "Z" else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 +
                                                                 int(tz[4:6]) * 60)
    return base + frac - offset


def rules_checks(args, port, groups):
    with open(os.path.join(args.source_dir, "conf/prometheus/rules.yml")) as f:
        text = f.read()
    n_record = len(re.findall(r"(?m)^\s*-\s*record:", text))
    n_alert = len(re.findall(r"(?m)^\s*-\s*alert:", text))
    rules = [r for g in groups for r in g.get("rules", [])]
    recording = [r for r in rules if r.get("type") == "recording"]
    alerting = [r for r in rules if r.get("type") == "alerting"]
    check(f"rules.yml: Prometheus loaded all {n_record} recording rules and {n_alert} alerts",
          len(recording) == n_record and len(alerting) == n_alert and n_record and n_alert,
          f"{len(recording)} recording, {len(alerting)} alerting")
    for r in rules:
        check(f"rule {r.get('name')} ({r.get('type')}): health ok",
              r.get("health") == "ok" and not r.get("lastError"),
              f"{r.get('health')}: {r.get('lastError')}")
    for r in recording:
        expr = r.get("query", "")
        err, res = prom_query(port, expr)
        check(f"recording rule {r['name']}: expression returns series",
              err is None and res, f"{err or 'no series'}\n    {expr}")
        err, res = prom_query(port, r["name"])
        check(f"recording rule {r['name']}: recorded series exist",
              err is None and res, err or "no series")
    for r in alerting:
        expr = r.get("query", "")
        err, res = prom_query(port, expr)
        check(f"alert {r['name']}{_static_labels(r)}: expression evaluates "
              f"({len(res)} series on the demo)", err is None, f"{err}\n    {expr}")


def value_checks(port, instance):
    """Two recording rules against figures computed another way: the label matching is right."""
    i = f'instance="{instance}"'
    for what, same, expr in (
            ("production ÷ target equals ingotd's own ingot_target_progress_ratio, metal by metal",
             3, f'abs(metal_year:ingot_national_production_tonnes:ratio_target{{{i}}} '
                f'- ingot_target_progress_ratio{{{i}}}) < 1e-9'),
            ("projected output vs baseline equals Σ projected 2025 ÷ Σ production 2023 "
             "(the demo's baseline year)",
             1, f'abs(year:ingot_national_output_projected:ratio_baseline{{{i}, year="2025"}} '
                f'- on() (sum(ingot_national_production_projected_tonnes{{{i}, year="2025"}}) '
                f'/ sum(ingot_national_production_tonnes{{{i}, year="2023"}}))) < 1e-9')):
        err, res = prom_query(port, expr)
        check(f"value: {what}", err is None and len(res) == same,
              f"{err or str(len(res)) + ' matching series, want ' + str(same)}\n    {expr}")


def _static_labels(rule):
    extra = {k: v for k, v in (rule.get("labels") or {}).items() if k != "severity"}
    return "{" + ",".join(f"{k}={v}" for k, v in sorted(extra.items())) + "}" if extra else ""


def dashboard_checks(port, instance, panels, variables):
    for name, v in variables.items():
        if v.get("type") != "query":
            continue
        query = substitute(variable_query(v), instance)
        m = re.fullmatch(r"\s*label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)\s*", query)
        if not check(f"variable {name}: label_values(metric, label) form", m, query):
            continue
        metric, label = m.group(1), m.group(2)
        err, res = prom_query(port, metric)
        values = sorted({s["metric"].get(label) for s in res if label in s["metric"]})
        want = DEMO.get(name, instance if name == "instance" else None)
        check(f"variable {name}: {metric} has series with {label} "
              f"({', '.join(values)})",
              err is None and values and (want is None or want in values),
              f"{err or 'want ' + str(want) + ' in ' + str(values)}\n    {metric}")

    for p in panels:
        for t in p.get("targets", []):
            raw = t.get("expr")
            if not raw:
                continue
            expr = substitute(raw, instance)
            what = f"panel {p.get('id')} \"{p.get('title')}\" {t.get('refId')}"
            left = re.findall(r"\$\{?\w+", expr)
            if not check(f"{what}: every variable substituted", not left, f"{left} in {raw}"):
                continue
            err, res = prom_query(port, expr)
            check(f"{what}: {len(res)} series", err is None and res,
                  f"{err or 'no series'}\n    {expr}")


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--promtool", required=True)
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    args = ap.parse_args()
    args.source_dir = os.path.abspath(args.source_dir)

    promtool_checks(args)
    path = os.path.join(args.source_dir, "conf/grafana/dashboards/ingot.json")
    try:
        with open(path) as f:
            dash = json.load(f)
        check("dashboard: ingot.json is JSON", True)
    except (OSError, ValueError) as e:
        check("dashboard: ingot.json is JSON", False, e)
        dash = None
    if dash is not None:
        panels, variables = structure_checks(dash, args.source_dir)
        tmp = tempfile.mkdtemp(prefix="ingot-dashboard-")
        try:
            live_checks(args, tmp, panels, variables)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    passed, failed = results.count(True), results.count(False)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
