#!/usr/bin/env python3
"""Generate a synthetic fleet of plants as an ingot feed plus a matching config.

Usage:
  gen_fleet.py --plants N [--out DIR] [--format json|csv] [--feeds K] [--port PORT] [--seed S]
               [--months M | --from YYYY-MM] [--metals K]
  gen_fleet.py --size 1k|20k|100k [...]
  gen_fleet.py --records R [--months M] [--metals K] [...]

--records R makes ceil(R / (metals x months)) plants, e.g. --records 1000000
--months 48 gives 6,945 plants x 3 metals x 48 months = 1,000,080 records.

Every plant reports every configured metal, monthly from --from (default 2024-01) to 2025-06
(the benchmark runs with --time.now=2025-07-15T00:00:00Z), with production,
CO2, energy and waste figures that follow a plausible per-metal profile and
drift slowly over time.  The feed is written to DIR/fleet.json (or
DIR/fleet.csv; with --feeds K, K feeds DIR/fleet_01.json ...) and the config
to DIR/ingot.yaml; the config path is printed on stdout.

The CSV format carries only the records (no plant attributes: CSV has no
place for them), so a CSV fleet exports fewer series per plant than a JSON
one.
"""
import argparse
import json
import os
import random
import sys

METALS = ("copper", "zinc", "aluminum")

# Plausible monthly profile per metal: (production t/month range,
# t CO2 per t, MWh per t, t waste per t, recycled share of the waste).
PROFILE = {
    "copper":   ((2000.0, 15000.0), (0.7, 1.4), (3.5, 5.5), (0.25, 0.40), (0.65, 0.92)),
    "zinc":     ((1000.0,  9000.0), (0.6, 1.2), (3.0, 4.8), (0.20, 0.35), (0.60, 0.90)),
    "aluminum": ((4000.0, 27000.0), (0.8, 1.6), (4.0, 6.0), (0.10, 0.25), (0.70, 0.95)),
}

REGIONS = ("Karaganda", "East Kazakhstan", "Pavlodar", "Ulytau", "Kostanay",
           "Aktobe", "Almaty", "Turkistan", "Zhambyl", "Abai", "Kyzylorda")
KINDS = ("smelter", "refinery", "complex", "works")

# Plants per size for --size, for a build of ingotd that exports 22 series
# per plant (3 plant-year families x 3 metals x 2 years + 4 attribute
# families) plus a fixed set of national and self-monitoring series.
# bench/scrape.sh does not rely on these: it measures series per plant on the
# ingotd it benchmarks and passes --plants.
SIZES = {"1k": 43, "20k": 907, "100k": 4543}

LAST_YEAR, LAST_MONTH = 2025, 6


def months(first):
    y, m = first
    while (y, m) <= (LAST_YEAR, LAST_MONTH):
        yield "%04d-%02d" % (y, m)
        m += 1
        if m == 13:
            y, m = y + 1, 1


def plant_records(rng, first, metals=METALS):
    """Yield (metal, period, production, co2, energy, waste, recycled)."""
    periods = list(months(first))
    for metal in metals:
        (plo, phi), co2r, enr, wr, rr = PROFILE[metal]
        base = rng.uniform(plo, phi)
        co2 = rng.uniform(*co2r)
        energy = rng.uniform(*enr)
        waste = rng.uniform(*wr)
        recycled = rng.uniform(*rr)
        growth = rng.uniform(0.002, 0.009)      # per month
        for i, period in enumerate(periods):
            month = int(period[5:7])
            season = 1.0 + 0.03 * ((month % 12) - 6) / 6.0
            prod = base * (1.0 + growth) ** i * season * rng.uniform(0.96, 1.04)
            w = prod * waste * rng.uniform(0.95, 1.05)
            # Weighbridge figures to the kilogram; meters to the kWh.
            yield (metal, period,
                   round(prod, 3),
                   round(prod * co2 * rng.uniform(0.97, 1.03), 3),
                   round(prod * energy * rng.uniform(0.97, 1.03), 3),
                   round(w, 3),
                   round(w * min(1.0, recycled * rng.uniform(0.97, 1.03)), 3))


def region(i):
    return REGIONS[i % len(REGIONS)]


def plant_id(i):
    """kz-<region>-<kind>-<serial>, e.g. kz-east-kazakhstan-smelter-00002."""
    slug = region(i).lower().replace(" ", "-")
    return "kz-%s-%s-%05d" % (slug, KINDS[(i // len(REGIONS)) % len(KINDS)], i)


def write_json(path, plants, rng, attr, first, metals):
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"schema": "ingot.feed.v1",\n "publisher": "synthetic benchmark fleet",\n "plants": [\n')
        for i in plants:
            head = {
                "id": plant_id(i),
                "name": "%s %s No. %d" % (region(i), KINDS[(i // len(REGIONS)) % len(KINDS)], i),
                "region": region(i),
                "capacity_tonnes_per_year": attr.randrange(50, 400) * 1000,
                "green_operational": attr.random() < 0.3,
                "workers_certified": attr.randrange(50, 3000),
            }
            recs = []
            for metal, period, prod, co2, en, w, rec in plant_records(rng, first, metals):
                recs.append(json.dumps({
                    "metal": metal, "period": period, "production_tonnes": prod,
                    "co2_tonnes": co2, "energy_mwh": en, "waste_tonnes": w,
                    "waste_recycled_tonnes": rec}, separators=(",", ":")))
            h = json.dumps(head, separators=(",", ":"))
            f.write("  " + h[:-1] + ',"records":[\n   ' + ",\n   ".join(recs) + "]}")
            f.write(",\n" if i < plants[-1] else "\n")
        f.write(" ]}\n")


def write_csv(path, plants, rng, attr, first, metals):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("plant,metal,period,production_tonnes,co2_tonnes,energy_mwh,"
                "waste_tonnes,waste_recycled_tonnes\n")
        for i in plants:
            pid = plant_id(i)
            for metal, period, prod, co2, en, w, rec in plant_records(rng, first, metals):
                f.write("%s,%s,%s,%.3f,%.3f,%.3f,%.3f,%.3f\n"
                        % (pid, metal, period, prod, co2, en, w, rec))


def write_config(path, feeds, fmt, n, port, max_connections, metals=METALS, interval="1h"):
    """feeds: [(name, path, plant numbers)]"""
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Generated by bench/gen_fleet.py: %d plants in %d feed(s).\n" % (n, len(feeds)))
        f.write("web:\n  listen_address: 127.0.0.1:%d\n  max_connections: %d\n"
                % (port, max_connections))
        f.write("metals: [%s]\n" % ", ".join(metals))
        f.write("feeds:\n")
        for name, feed_path, plants in feeds:
            f.write("  - name: %s\n    url: file://%s\n    format: %s\n"
                    "    interval: %s\n    timeout: 5m\n    max_body_bytes: 1073741824\n"
                    "    plants:\n" % (name, feed_path, fmt, interval))
            for i in plants:
                f.write("      - %s\n" % plant_id(i))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--plants", type=int, help="number of plants")
    g.add_argument("--size", choices=sorted(SIZES), help="preset fleet size (series)")
    g.add_argument("--records", type=int,
                   help="about this many records: ceil(R / (metals x months)) plants")
    ap.add_argument("--out", default=".", help="output directory (created)")
    ap.add_argument("--format", choices=("json", "csv"), default="json")
    ap.add_argument("--port", type=int, default=8467, help="listen port in the config")
    ap.add_argument("--max-connections", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--feeds", type=int, default=1,
                    help="split the plants over this many feeds (default 1: one feed "
                         "named fleet; else fleet_01, fleet_02, ...)")
    ap.add_argument("--from", dest="first", default="2024-01",
                    help="first month reported, YYYY-MM (default 2024-01: the previous "
                         "year; earlier years are not exported without a baseline target)")
    ap.add_argument("--months", type=int,
                    help="report this many months, ending 2025-06 (overrides --from)")
    ap.add_argument("--metals", type=int, default=len(METALS), choices=range(1, len(METALS) + 1),
                    help="report the first K of %s (default all)" % ", ".join(METALS))
    ap.add_argument("--interval", default="1h", help="feed interval in the config (default 1h)")
    a = ap.parse_args()

    if a.months is not None:
        if a.months < 1:
            ap.error("--months must be at least 1")
        k = LAST_YEAR * 12 + LAST_MONTH - 1 - (a.months - 1)
        a.first = "%04d-%02d" % (k // 12, k % 12 + 1)
    metals = METALS[:a.metals]
    n = a.plants if a.plants is not None else SIZES.get(a.size, 0)
    try:
        first = (int(a.first[0:4]), int(a.first[5:7]))
        if len(a.first) != 7 or a.first[4] != "-" or not 1 <= first[1] <= 12:
            raise ValueError
    except ValueError:
        ap.error("--from must be YYYY-MM")
    if a.records is not None:
        per_plant = len(metals) * len(list(months(first)))
        n = max(1, -(-a.records // per_plant))
    if n < 1:
        ap.error("--plants must be at least 1")
    if not 1 <= a.feeds <= n:
        ap.error("--feeds must be between 1 and the number of plants")
    os.makedirs(a.out, exist_ok=True)
    out = os.path.abspath(a.out)
    rng = random.Random(a.seed)
    # Attributes draw from their own generator so that the JSON and CSV
    # fleets of one seed carry identical records, however they are split.
    attr = random.Random(rng.random())
    feeds = []
    for k in range(a.feeds):
        plants = list(range(1 + n * k // a.feeds, 1 + n * (k + 1) // a.feeds))
        name = "fleet" if a.feeds == 1 else "fleet_%02d" % (k + 1)
        path = os.path.join(out, "%s.%s" % (name, a.format))
        (write_json if a.format == "json" else write_csv)(path, plants, rng, attr, first, metals)
        feeds.append((name, path, plants))
    cfg = os.path.join(out, "ingot.yaml")
    write_config(cfg, feeds, a.format, n, a.port, a.max_connections, metals, a.interval)
    print(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
