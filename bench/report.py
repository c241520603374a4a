#!/usr/bin/env python3
"""The one table of bench/run.sh: every figure against its target.

  report.py --fleet fleet.tsv [--scrape-dir DIR] [--collectd collectd.tsv]
            [--doc docs/benchmarks.md] [--stamp TEXT]

fleet.tsv:    bench/fleet.py's lines "fleet <metric> <run> <value>".
scrape-dir:   bench/scrape.sh's raw results.tsv and memory.tsv (RESULTS_COPY).
collectd.tsv: bench/collectd.sh's lines "collectd|ingotd <size> <metric> <value>" (optional).

Prints the table (Markdown) on stdout; with --doc, replaces the section
between "<!-- run.sh:begin -->" and "<!-- run.sh:end -->" of that file
(inserted before the first "## " heading when absent).
"""
import argparse
import collections
import os
import re
import statistics
import sys

BEGIN, END = "<!-- run.sh:begin -->", "<!-- run.sh:end -->"


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def load_fleet(path):
    runs = collections.defaultdict(list)
    text = collections.defaultdict(list)
    if not path or not os.path.exists(path):
        return runs, text
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or parts[0] != "fleet":
                continue
            v = num(parts[3])
            if v is None:
                text[parts[1]].append(parts[3])
            elif parts[1].endswith("_fn_pct"):
                text[parts[1]].append("%s %s%%" % (parts[2], parts[3]))
            else:
                runs[parts[1]].append(v)
    return runs, text


def load_scrape(d):
    """{(size, server, enc, conns): [rps...]}, {(size, server, what): kB}"""
    rps = collections.defaultdict(list)
    mem = {}
    if not d:
        return rps, mem
    res, memf = os.path.join(d, "results.tsv"), os.path.join(d, "memory.tsv")
    if os.path.exists(res):
        with open(res) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) < 10:
                    continue
                kv = dict(x.split("=", 1) for x in p[9].split() if "=" in x)
                if "requests" in kv and "duration_us" in kv and int(kv["duration_us"]) > 0:
                    rps[(p[0], p[2], p[3], p[4])].append(
                        int(kv["requests"]) / (int(kv["duration_us"]) / 1e6))
    if os.path.exists(memf):
        with open(memf) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) == 4:
                    mem[(p[0], p[1], p[2])] = int(p[3])
    return rps, mem


def load_collectd(path):
    out = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                # "collectd|ingotd <size> <metric> <value>" (bench/collectd.sh)
                p = line.rstrip("\n").split("\t")
                if len(p) == 4 and p[0] in ("collectd", "ingotd"):
                    out["%s %s %s" % (p[0], p[1], p[2])] = p[3]
    return out


def g(v):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return "{:,.0f}".format(v)
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def spread(vals):
    if not vals:
        return "not measured", None
    m = statistics.median(vals)
    if len(vals) == 1:
        return "%s (1 run)" % g(m), m
    return "%s (%s–%s, %d runs)" % (g(m), g(min(vals)), g(max(vals)), len(vals)), m


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def build(a):
    fleet, text = load_fleet(a.fleet)
    rps, mem = load_scrape(a.scrape_dir)
    cd = load_collectd(a.collectd)
    rows = []

    def row(what, vals, target, ratio_fn, ok_fn, unit=""):
        s, m = spread(vals)
        ratio = ratio_fn(m) if m is not None else None
        ok = ok_fn(m) if m is not None else None
        rows.append((what, s + unit, target, "n/a" if ratio is None else "%.2f" % ratio,
                     verdict(ok)))

    n = statistics.median(fleet["records"]) if fleet["records"] else 1000000
    row("Memory: RSS growth per stored record, JSON feed (%s records)" % g(n),
        fleet["bytes_per_record_json"], "≤ 64 B", lambda m: m / 64, lambda m: m <= 64, " B")
    row("Memory: RSS growth per stored record, CSV feed", fleet["bytes_per_record_csv"],
        "≤ 64 B", lambda m: m / 64, lambda m: m <= 64, " B")
    row("Ingest JSON v1 from file:// (records/s, one core)", fleet["ingest_json_records_per_s"],
        "≥ 500,000", lambda m: m / 500000, lambda m: m >= 500000)
    row("Ingest CSV from file:// (records/s, one core)", fleet["ingest_csv_records_per_s"],
        "≥ 500,000", lambda m: m / 500000, lambda m: m >= 500000)
    for fmt in ("json", "csv"):
        if fleet["cg_%s_parse_share_pct" % fmt]:
            p = statistics.median(fleet["cg_%s_parse_share_pct" % fmt])
            ir = statistics.median(fleet["cg_%s_ingest_Ir_per_record" % fmt])
            rows.append(("Ingest %s: share of instructions in parsing (callgrind)" % fmt.upper(),
                         "%.0f %% parsing, %.0f %% validation+store; %s Ir/record"
                         % (p, 100 - p, g(ir)), "report", "", ""))
    small, big = fleet["incr_10_plants_Ir"], fleet["incr_10000_plants_Ir"]
    s1, m1 = spread(small)
    s2, m2 = spread(big)
    rows.append(("Incremental: 50-record update, instructions (callgrind), 10 plants stored",
                 s1, "reference", "", ""))
    rows.append(("Incremental: the same update with 10,000 plants stored", s2, "≤ 2 × the 10-plant cost",
                 "n/a" if not (m1 and m2) else "%.2f" % (m2 / m1),
                 verdict(None if not (m1 and m2) else m2 / m1 <= 2)))
    row("Idle: 500 feeds at 1h, CPU seconds per minute", fleet["idle_cpu_s_per_min"], "< 0.1 s/min",
        lambda m: m / 0.1, lambda m: m < 0.1)
    if fleet["idle_wakeups_per_min"]:
        rows.append(("Idle: epoll_wait wake-ups per minute (timeout: count)",
                     "%s (%s)" % (g(fleet["idle_wakeups_per_min"][0]),
                                  " ".join(text["idle_epoll_timeouts"])),
                     "no polling", "", ""))
    row("Start-up: restore %s records, exec to /-/ready 200" % g(n), fleet["startup_ready_s"],
        "< 2 s", lambda m: m / 2, lambda m: m < 2, " s")

    # Scrape (bench/scrape.sh --quick: 20k series).
    for enc in ("plain", "gzip"):
        for conns in ("1", "16"):
            i = rps.get(("20k", "ingotd", enc, conns))
            x = rps.get(("20k", "nginx", enc, conns))
            if i and x:
                r = statistics.median(i) / statistics.median(x)
                rows.append(("Scrape 20k series, %s, %s conn: ingotd req/s (nginx %s)"
                             % (enc, conns, g(statistics.median(x))), spread(i)[0],
                             "≥ 0.5 × nginx", "%.2f" % r, verdict(r >= 0.5)))
    hwm = mem.get(("20k", "ingotd", "peak_rss_kb"))
    if hwm:
        rows.append(("Scrape 20k series: ingotd peak RSS (VmHWM)", "%.1f MB" % (hwm / 1024.0),
                     "< 30 MB", "%.2f" % (hwm / 1024.0 / 30), verdict(hwm / 1024.0 < 30)))
    ne = mem.get(("20k", "node_exporter", "peak_rss_kb"))
    if ne:
        rows.append(("Scrape 20k series: node_exporter peak RSS (reference)",
                     "%.1f MB" % (ne / 1024.0), "reference", "", ""))
    for k, v in sorted(cd.items()):
        rows.append(("collectd comparison: %s" % k, v, "reference", "", ""))
    if not cd:
        rows.append(("collectd 5.12", "not run (bench/collectd.sh absent or failed)", "", "", ""))

    out = ["| measurement | median (min–max) | target | ratio to target | verdict |",
           "|---|---|---|---:|---|"]
    out += ["| %s | %s | %s | %s | %s |" % r for r in rows]
    notes = []
    for fmt in ("json", "csv"):
        if text["cg_%s_fn_pct" % fmt]:
            notes.append("Callgrind, %s ingest, inclusive share of `ingest_document` by function: %s."
                         % (fmt.upper(), ", ".join(text["cg_%s_fn_pct" % fmt][:12])))
    for k in ("rss_empty_kb", "rss_json_kb", "hwm_json_kb", "rss_after_scrape_json_kb",
              "ingest_json_process_cpu_s", "startup_rss_kb"):
        if fleet[k]:
            notes.append("`%s`: %s." % (k, spread(fleet[k])[0]))
    return "\n".join(out), notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fleet")
    ap.add_argument("--scrape-dir")
    ap.add_argument("--collectd")
    ap.add_argument("--doc")
    ap.add_argument("--stamp", default="")
    a = ap.parse_args()
    table, notes = build(a)
    print(table)
    for n in notes:
        print("\n" + n)
    if a.doc:
        section = "\n".join([
            BEGIN,
            "## Fleet scale: the last `bench/run.sh`",
            "",
            "Written by `bench/run.sh` (%s). Each figure is the median of its runs with the "
            "min–max; the ratio is median ÷ target (for ≤/< targets, below 1 meets it; for ≥, "
            "above 1). Method and diagnosis: [Fleet scale](#fleet-scale-method-and-diagnosis)."
            % a.stamp,
            "",
            table,
            "",
        ] + ["- " + n for n in notes] + ["", END])
        with open(a.doc) as f:
            doc = f.read()
        if BEGIN in doc and END in doc:
            doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda m: section, doc,
                         flags=re.S)
        else:
            i = doc.find("\n## ")
            doc = doc[:i + 1] + section + "\n\n" + doc[i + 1:] if i >= 0 else doc + "\n" + section
        with open(a.doc, "w") as f:
            f.write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
