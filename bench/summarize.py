#!/usr/bin/env python3
"""Summarize bench/scrape.sh's raw results as Markdown tables.

  summarize.py results.tsv memory.tsv sizes.tsv

results.tsv: size series server enc conns run dur cpu_ticks tick "k=v ..."
  (one wrk run per line; k=v from bench/wrk_report.lua)
memory.tsv:  size server what kB
sizes.tsv:   size plants series plain_bytes ingotd_gzip_bytes static_gzip_bytes

Per cell (size, encoding, connections, server) over its runs: requests/s
median (min-max); p50 and p99 latency, median over runs; server CPU per
request, median over runs; bytes per response (headers included); CPU per
MiB sent; the server's CPU use over the run (100 % = its one core busy). CPU per request divides the server's utime+stime over the run
(read before wrk starts and after the server has gone idle again) by the
requests started: wrk's completed requests plus the one still in flight on
each connection when the run ended.
"""
import statistics
import sys
from collections import defaultdict

SERVERS = ("ingotd", "nginx", "node_exporter")
SIZE_ORDER = {"1k": 0, "20k": 1, "100k": 2}


def parse_results(path):
    cells = defaultdict(list)
    series = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            size, ser, server, enc, conns, run, dur, ticks, tick, kv = line.split("\t")
            d = dict(x.split("=") for x in kv.split())
            d = {k: int(v) for k, v in d.items()}
            req = d["requests"]
            started = req + int(conns)
            errors = sum(v for k, v in d.items() if k.startswith("err_"))
            cpu_s = int(ticks) / int(tick)
            cells[(size, enc, int(conns), server)].append({
                "rps": req / (d["duration_us"] / 1e6),
                "p50": d["p50_us"] / 1000.0,
                "p99": d["p99_us"] / 1000.0,
                "cpu_us": cpu_s / started * 1e6,
                "cpu_pct": 100.0 * cpu_s / (d["duration_us"] / 1e6),
                "bpr": d["bytes"] / req if req else 0.0,
                "errors": errors,
                "requests": req,
            })
            series[size] = int(ser)
    return cells, series


def med(xs):
    return statistics.median(xs)


def fmt_rps(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_ms(v):
    return "%.3g" % v if v < 100 else "%.0f" % v


def fmt_num(v):
    return "%.3g" % v if v < 1000 else "%.0f" % v


def summary(runs):
    rps = [r["rps"] for r in runs]
    s = {
        "rps": med(rps), "rps_min": min(rps), "rps_max": max(rps),
        "p50": med([r["p50"] for r in runs]),
        "p99": med([r["p99"] for r in runs]),
        "cpu_us": med([r["cpu_us"] for r in runs]),
        "cpu_pct": med([r["cpu_pct"] for r in runs]),
        "bpr": med([r["bpr"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
        "n": len(runs),
    }
    s["cpu_us_per_mib"] = s["cpu_us"] / (s["bpr"] / 1048576.0) if s["bpr"] else float("nan")
    return s


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    cells, series = parse_results(sys.argv[1])
    mem = defaultdict(dict)
    with open(sys.argv[2]) as f:
        for line in f:
            if line.strip():
                size, server, what, kb = line.split()
                mem[(size, server)][what] = int(kb)
    sizes = []
    with open(sys.argv[3]) as f:
        for line in f:
            if line.strip():
                sizes.append(line.split())
    sizes.sort(key=lambda r: SIZE_ORDER.get(r[0], 99))

    print("### Sizes\n")
    print("| size | plants | series (ingotd scrape) | plain bytes | ingotd gzip bytes | nginx's `metrics.gz` (`gzip -6`) bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for size, plants, ser, plain, gz, sgz in sizes:
        print("| %s | %s | %s | %s | %s | %s |" % (size, plants, ser, plain, gz, sgz))

    keys = sorted({(k[0], k[1], k[2]) for k in cells},
                  key=lambda k: (SIZE_ORDER.get(k[0], 99), k[1] != "plain", k[2]))
    print("\n### Results (median of runs; req/s min–max)\n")
    print("| size | enc | conns | server | req/s median (min–max) | p50 ms | p99 ms "
          "| CPU µs/req | KiB/resp | CPU µs/MiB | server CPU % | runs | errors |")
    print("|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    summ = {}
    for k in keys:
        for server in SERVERS:
            runs = cells.get(k + (server,))
            if not runs:
                print("| %s | %s | %d | %s | skipped | | | | | | | 0 | |" % (k + (server,)))
                continue
            s = summary(runs)
            summ[k + (server,)] = s
            print("| %s | %s | %d | %s | %s (%s–%s) | %s | %s | %s | %.1f | %s | %.0f | %d | %d |" % (
                k[0], k[1], k[2], server, fmt_rps(s["rps"]), fmt_rps(s["rps_min"]),
                fmt_rps(s["rps_max"]), fmt_ms(s["p50"]), fmt_ms(s["p99"]),
                fmt_num(s["cpu_us"]), s["bpr"] / 1024.0, fmt_num(s["cpu_us_per_mib"]),
                s["cpu_pct"], s["n"], s["errors"]))

    print("\n### Ratios ingotd / reference (req/s: > 1 is ingotd faster; CPU per request: < 1 is ingotd cheaper)\n")
    print("| size | enc | conns | req/s ÷ nginx | req/s ÷ node_exporter | CPU/req ÷ nginx | CPU/req ÷ node_exporter |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for k in keys:
        i = summ.get(k + ("ingotd",))
        if not i:
            continue
        row = []
        for metric in ("rps", "cpu_us"):
            for ref in ("nginx", "node_exporter"):
                r = summ.get(k + (ref,))
                row.append("%.3g" % (i[metric] / r[metric]) if r and r[metric] else "n/a")
        print("| %s | %s | %d | %s |" % (k[0], k[1], k[2], " | ".join(row)))

    print("\n### Memory (kB; nginx: its worker)\n")
    print("| size | server | RSS before load | RSS after load | peak RSS (VmHWM) |")
    print("|---|---|---:|---:|---:|")
    for size in sorted({s for s, _ in mem}, key=lambda s: SIZE_ORDER.get(s, 99)):
        for server in SERVERS:
            m = mem.get((size, server), {})
            print("| %s | %s | %s | %s | %s |" % (size, server, m.get("idle_rss_kb", ""),
                                               m.get("end_rss_kb", ""), m.get("peak_rss_kb", "")))


if __name__ == "__main__":
    main()
