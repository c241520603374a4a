#!/usr/bin/python3
"""ingotctl against a real ingotd and the snapshots it writes.

Usage:
    python3 test_ingotctl.py --ingotctl build/ingotctl --ingotd build/ingotd --source-dir .

Standard library only; everything on 127.0.0.1 with bounded waits. It runs
ingotd on a copy of conf/ingot.yaml whose feeds are the demo files of
conf/demo read through file:// URLs, with its state beside the config (never
/var/lib/ingot) and a snapshot every second, evaluated as of a fixed
instant, and checks:
  - `snapshot dump --format=json` of the URL, of the newest state_dir file,
    of a saved raw payload and of stdin: valid JSON with the same records;
    national figures equal to what /metrics says;
  - the text dump: the national table first, then feeds and plants with
    their record counts, not the records;
  - `snapshot verify`: exit 0 on sound files; exit 1 with "FILE: reason" on
    stderr, the exact reason, for truncated, empty, garbage and flipped-bit
    files, framed or raw;
  - `check-config`: the same stdout, stderr and exit status as
    `ingotd --check-config`, on the shipped config and a broken one;
  - every --help exits 0 with a SYNOPSIS; unknown commands and options
    exit 2 with the usage on stderr.
The last line is "N passed, M failed".
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

from harness import check, free_port, results, scrape, summary, wait_until

NOW = "2025-07-15T00:00:00Z"  # the demo's data runs to 2025-06
METALS = ("copper", "zinc", "aluminum")

BROKEN_CONFIG = """\
web:
  listen_address: 127.0.0.1:18467
metals: [copper, zinc]
feeds:
  - name: plant_a
    url: http://127.0.0.1:1/a.json
    format: json
    intervall: 5m
    plants: [kz-a]
  - name: plant_b
    url: http://127.0.0.1:1/b.json
    format: xml
    interval: 5m
    plants: [kz-b]
"""


def run(argv, stdin=None, timeout=60):
    """(exit status, stdout, stderr) of argv, stdin given as bytes."""
    p = subprocess.run(argv, input=stdin if stdin is not None else b"",
                       capture_output=True, timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def sample(text, name, labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search("^" + re.escape(f"{name}{{{want}}}") + r" (\S+)$", text or "", re.M)
    return float(m.group(1)) if m else None


def dump_json(ctl, source, stdin=None):
    """The JSON dump of source, parsed, or None (the failure is a check)."""
    rc, out, err = run([ctl, "snapshot", "dump", "--format=json", source], stdin)
    if not check(f"dump --format=json {os.path.basename(source)} exits 0", rc == 0,
                 f"exit {rc}: {err[:500]}"):
        return None
    try:
        return json.loads(out)
    except ValueError as e:
        check(f"dump of {source} is JSON", False, f"{e}: {out[:500]}")
        return None


def newest_snapshot(state):
    names = sorted(n for n in os.listdir(state) if re.fullmatch(r"snapshot-.*\.pb", n)) \
        if os.path.isdir(state) else []
    return os.path.join(state, names[-1]) if names else None


def varint(buf, pos):
    """The varint at buf[pos:] and the position after it."""
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def last_field(payload):
    """(offset of its tag, number, offset of its value, length) of the last
    length-delimited top-level field of a sound payload."""
    pos, last = 0, None
    while pos < len(payload):
        start = pos
        tag, pos = varint(payload, pos)
        if tag & 7 == 0:
            _, pos = varint(payload, pos)
        elif tag & 7 == 1:
            pos += 8
        elif tag & 7 == 5:
            pos += 4
        else:
            n, pos = varint(payload, pos)
            last = (start, tag >> 3, pos, n)
            pos += n
    return last


def year_of(doc, year):
    for y in doc.get("national", {}).get("years", []):
        if y.get("year") == year:
            return y
    return None


def check_dumps(args, port, state, tmp):
    url = f"http://127.0.0.1:{port}/snapshot"
    from_url = dump_json(args.ingotctl, url)
    if from_url is None:
        return
    plants = from_url.get("plants", [])
    records = sum(len(s["records"]) for p in plants for s in p.get("series", []))
    check("the URL dump has the six demo plants", len(plants) == 6, [p.get("id") for p in plants])
    check("the URL dump has every record", records > 100, records)
    check("top-level keys in the .proto's order",
          list(from_url) == ["taken_at_unix_ms", "ingot_version", "ingot_revision", "metals",
                             "targets", "plants", "national", "feeds"], list(from_url))
    check("absent fields are left out, never null", "null" not in json.dumps(from_url))

    # The newest file in state_dir holds the same records, once written after the fetches.
    def same_records():
        path = newest_snapshot(state)
        if not path:
            return None
        rc, out, _ = run([args.ingotctl, "snapshot", "dump", "--format=json", path])
        return path if rc == 0 and json.loads(out)["plants"] == plants else None
    newest = wait_until(same_records, 15, step=0.2)
    check("dump of the newest state_dir file gives the URL's records", newest is not None,
          os.listdir(state) if os.path.isdir(state) else "no state dir")

    # One raw payload, saved like `curl -o`: from a file and from stdin, the same bytes.
    with urllib.request.urlopen(url, timeout=10) as r:
        payload = r.read()
    raw = os.path.join(tmp, "raw.pb")
    with open(raw, "wb") as f:
        f.write(payload)
    rc1, file_json, _ = run([args.ingotctl, "snapshot", "dump", "--format=json", raw])
    rc2, stdin_json, _ = run([args.ingotctl, "snapshot", "dump", "--format=json", "-"], payload)
    check("a raw payload dumps the same from a file and from stdin",
          rc1 == 0 and rc2 == 0 and file_json == stdin_json)
    check("the same snapshot dumps to the same bytes",
          file_json == run([args.ingotctl, "snapshot", "dump", "--format=json", raw])[1])
    if newest:
        with open(newest, "rb") as f:
            framed = f.read()
        rc, out, err = run([args.ingotctl, "snapshot", "dump", "--format=json", "-"], framed)
        check("a snapshot file on stdin is unwrapped",
              rc == 0 and json.loads(out)["plants"] == plants, f"exit {rc}: {err[:300]}")

    # JSON values are /metrics' values, exactly.
    metrics = scrape(port)
    y2025 = year_of(from_url, 2025)
    check("the national table has 2025", y2025 is not None)
    if y2025 and metrics:
        by_metal = {m["metal"]: m for m in y2025["metals"]}
        for metal in METALS:
            labels = {"metal": metal, "year": "2025"}
            for key, family in (("production_tonnes", "ingot_national_production_tonnes"),
                                ("target_production_tonnes", "ingot_target_production_tonnes"),
                                ("target_progress_ratio", "ingot_target_progress_ratio"),
                                ("growth_ratio", "ingot_national_production_growth_ratio")):
                want = sample(metrics, family, labels)
                got = by_metal.get(metal, {}).get(key)
                check(f"{metal} 2025 {key} is {family}'s value", want is not None and got == want,
                      f"json {got!r}, metrics {want!r}")
        for key, family in (("output_vs_baseline", "ingot_national_output_vs_baseline_ratio"),
                            ("co2_intensity_tonnes_per_tonne",
                             "ingot_national_co2_intensity_tonnes_per_tonne"),
                            ("waste_recycling_ratio", "ingot_national_waste_recycling_ratio")):
            want = sample(metrics, family, {"year": "2025"})
            check(f"2025 {key} is {family}'s value", want is not None and y2025.get(key) == want,
                  f"json {y2025.get(key)!r}, metrics {want!r}")
        for status in from_url["national"]["initiatives"]:
            want = sample(metrics, "ingot_initiative_value", {"initiative": status["name"]})
            check(f"initiative {status['name']} value is /metrics'", status.get("value") == want,
                  f"json {status.get('value')!r}, metrics {want!r}")

    # Text: the national table first, then feeds, then plants with counts.
    rc, text, err = run([args.ingotctl, "snapshot", "dump", raw])
    check("dump (text by default) exits 0", rc == 0, f"exit {rc}: {err[:500]}")
    check("text starts with the national table", text.startswith("NATIONAL, evaluated at "
                                                                 "2025-07-15T00:00:00Z\n"),
          text[:200])
    order = [text.find(s) for s in ("\n2025 (current year, target year)\n", "\ninitiatives\n",
                                    "\nFEEDS (4)\n", f"\nPLANTS (6 plants, {records} records)\n",
                                    "\nSNAPSHOT\n")]
    check("national years, initiatives, feeds, plants, snapshot in that order",
          -1 not in order and order == sorted(order), f"{order}\n{text[:3000]}")
    if y2025:
        copper = next(m for m in y2025["metals"] if m["metal"] == "copper")
        row = re.search(r"^  copper +(\S+) +280,000 +(\S+) %", text, re.M)
        check("the 2025 copper row shows production against the 280,000 t target",
              row is not None and row.group(1) == f"{copper['production_tonnes']:,.0f}" and
              row.group(2) == f"{copper['target_progress_ratio'] * 100:.1f}", text[:1500])
    for plant in plants:
        counts = [f"    {s['metal']:<12} {len(s['records']):>8} record" for s in plant["series"]]
        check(f"plant {plant['id']} is listed with its record counts",
              f"\n  {plant['id']}: " in text and all(c in text for c in counts), counts)
    check("text lists no single record", "2024-03" not in text)


def check_verify(args, state, tmp):
    ctl = args.ingotctl
    good = newest_snapshot(state)
    if not check("a snapshot file was written into state_dir", good is not None):
        return
    with open(good, "rb") as f:
        framed = f.read()
    raw = os.path.join(tmp, "raw.pb")
    with open(raw, "rb") as f:
        payload = f.read()

    rc, out, err = run([ctl, "snapshot", "verify", good, raw])
    check("verify exits 0 on a snapshot file and a raw payload", rc == 0 and err == "",
          f"exit {rc}: {err}")
    check("verify says ok with the plant count",
          re.fullmatch(re.escape(good) + r": ok, taken \S+Z by ingot [\d.]+, 6 plants, "
                       r"\d+ records\n" + re.escape(raw) + r": ok, .*\n", out) is not None, out)
    rc, out, _ = run([ctl, "snapshot", "verify", "-"], framed)
    check("verify - reads stdin", rc == 0 and out.startswith("-: ok, "), out)

    length = len(framed) - 20
    flipped = bytearray(framed)
    flipped[len(framed) // 2] ^= 0x04
    # The first record's period (Record field 1, 7 bytes) made impossible.
    first_period = b"\x0a\x072023-01"
    raw_bad_period = payload.replace(first_period, b"\x0a\x072023-13", 1)
    start, number, _, length_of_last = last_field(payload)
    cut = 7
    cases = [  # (name, bytes, the exact reason or a pattern)
        ("truncated.pb", framed[:100], f"truncated: 80 of {length} payload bytes"),
        ("empty.pb", b"", "empty file"),
        ("garbage.pb", b"this is not a snapshot\n", "byte 0: field 14: unsupported wire type 4"),
        ("flipped.pb", bytes(flipped), "checksum mismatch"),
        ("extended.pb", framed + b"\0\0\0", "3 trailing bytes after the payload"),
        ("header.pb", framed[:12], "too short for a snapshot header"),
        # Plants come last in a payload ingotd wrote.
        ("raw-truncated.pb", payload[:len(payload) - cut],
         f"byte {start}: field {number} (plants) truncated: {length_of_last} bytes of value, "
         f"{length_of_last - cut} left"),
        ("raw-bad-period.pb", raw_bad_period,
         'plant kz-balkhash-cu, metal "copper": record 1: invalid period "2023-13"'),
    ]
    for name, data, reason in cases:
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        rc, out, err = run([ctl, "snapshot", "verify", path])
        check(f"verify {name}: exit 1 and \"FILE: {reason}\"",
              rc == 1 and err == f"{path}: {reason}\n" and out == "", f"exit {rc}, stderr {err!r}")
        rc, out, err2 = run([ctl, "snapshot", "dump", path])
        check(f"dump {name}: exit 1, the same reason, nothing printed",
              rc == 1 and err2 == err and out == "", f"exit {rc}, stderr {err2!r}")
    missing = os.path.join(tmp, "missing.pb")
    rc, _, err = run([ctl, "snapshot", "verify", good, missing])
    check("verify of several files exits 1 when one fails, naming it",
          rc == 1 and err == f"{missing}: cannot open: No such file or directory\n", err)


def check_config(args, tmp):
    ctl, ingotd = args.ingotctl, args.ingotd
    shipped = os.path.join(args.source_dir, "conf", "ingot.yaml")
    ours = run([ctl, "check-config", shipped])
    theirs = run([ingotd, "--check-config", f"--config.file={shipped}"])
    check("check-config conf/ingot.yaml exits 0", ours[0] == 0, ours)
    check("check-config prints what ingotd --check-config prints", ours == theirs,
          f"ingotctl {ours!r}\ningotd {theirs!r}")
    check("the summary names every feed",
          all(n in ours[1] for n in re.findall(r"^  - name: (\w+)", open(shipped).read(), re.M)))

    broken = os.path.join(tmp, "broken.yaml")
    with open(broken, "w") as f:
        f.write(BROKEN_CONFIG)
    ours = run([ctl, "check-config", broken])
    theirs = run([ingotd, "--check-config", f"--config.file={broken}"])
    check("check-config on a broken config exits 1", ours[0] == 1, ours)
    check("the unknown key is reported at file:8:5", f"{broken}:8:5: " in ours[2], ours[2])
    check("the bad format is reported at file:12:column in the same pass",
          re.search(re.escape(broken) + r":12:\d+: ", ours[2]) is not None, ours[2])
    # Log lines carry their time: compare the rest.
    def untimed(result):
        return result[0], result[1], re.sub(r"^\S+Z level=", "level=", result[2], flags=re.M)
    check("the same errors and exit status as ingotd --check-config",
          untimed(ours) == untimed(theirs), f"ingotctl {ours!r}\ningotd {theirs!r}")
    rc, _, err = run([ctl, "check-config", os.path.join(tmp, "absent.yaml")])
    check("check-config on a missing file exits 1", rc == 1 and "absent.yaml" in err, err)


def check_cli(args):
    ctl = args.ingotctl
    for argv in (["--help"], ["snapshot", "--help"], ["snapshot", "dump", "--help"],
                 ["snapshot", "verify", "--help"], ["check-config", "--help"]):
        rc, out, err = run([ctl] + argv)
        check(f"ingotctl {' '.join(argv)} exits 0 with a SYNOPSIS",
              rc == 0 and "SYNOPSIS\n" in out and "EXIT STATUS" in out and err == "",
              f"exit {rc}: {out[:200]} {err[:200]}")
    rc, out, _ = run([ctl, "--version"])
    check("--version exits 0 and prints a version", rc == 0 and re.match(r"ingotctl \d+\.\d+", out),
          out)
    for argv in ([], ["frobnicate"], ["--frobnicate"], ["snapshot"], ["snapshot", "frob"],
                 ["snapshot", "dump"], ["snapshot", "dump", "--bogus", "x.pb"],
                 ["snapshot", "dump", "--format=xml", "x.pb"], ["snapshot", "dump", "a", "b"],
                 ["snapshot", "verify"], ["check-config"], ["check-config", "a", "b"]):
        rc, out, err = run([ctl] + argv)
        check(f"ingotctl {' '.join(argv) or '(nothing)'} exits 2 with the usage on stderr",
              rc == 2 and "usage: ingotctl" in err and out == "", f"exit {rc}: {err[:300]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotctl", required=True)
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    demo = os.path.join(os.path.abspath(args.source_dir), "conf", "demo")
    with open(os.path.join(args.source_dir, "conf", "ingot.yaml")) as f:
        shipped = f.read()
    config, n = re.subn(r"http://127\.0\.0\.1:8468/", f"file://{demo}/", shipped)
    # State beside the config, never /var/lib/ingot; a snapshot every second.
    config += "state_dir: state\nsnapshot: {interval: 1s}\n"
    feeds = re.findall(r"^  - name: (\w+)", config, re.M)
    tmp = tempfile.mkdtemp(prefix="ingot-ctl-")
    path = os.path.join(tmp, "ingot.yaml")
    with open(path, "w") as f:
        f.write(config)
    state = os.path.join(tmp, "state")
    port = free_port()
    log_path = os.path.join(tmp, "ingotd.log")
    log = open(log_path, "w")
    daemon = subprocess.Popen([args.ingotd, f"--config.file={path}",
                               f"--web.listen-address=127.0.0.1:{port}", f"--time.now={NOW}"],
                              stderr=log)
    try:
        check("the demo config's feed URLs became file:// URLs", n >= 1 and len(feeds) == 4)

        def all_up():
            text = scrape(port)
            return text if text and all(sample(text, "ingot_feed_up", {"feed": f}) == 1
                                        for f in feeds) else None
        if check(f"all {len(feeds)} demo feeds up", wait_until(all_up, 30) is not None,
                 open(log_path).read()[-2000:]):
            check_dumps(args, port, state, tmp)
            check_verify(args, state, tmp)
            rc, _, err = run([args.ingotctl, "snapshot", "dump",
                              f"http://127.0.0.1:{port}/nowhere"])
            check("dump of a URL that answers 404 exits 1 with the status",
                  rc == 1 and err == f"http://127.0.0.1:{port}/nowhere: HTTP 404\n", err)
        check_config(args, tmp)
        check_cli(args)

        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        check("ingotd exits 0 on SIGTERM", rc == 0, rc)
        final = newest_snapshot(state)
        rc, out, err = run([args.ingotctl, "snapshot", "verify", final or state])
        check("the snapshot written at shutdown verifies", rc == 0, err)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()

    failed = results.count(False)
    if failed:
        print(open(log_path).read()[-4000:])
    if failed or args.keep:
        print(f"files kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
