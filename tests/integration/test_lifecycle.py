#!/usr/bin/python3
"""Lifecycle test of ingotd: reload, failed reload, clean exit, no leaks.

Usage:
    python3 test_lifecycle.py --ingotd build/ingotd --source-dir . [--valgrind]

Standard library only; everything on 127.0.0.1 with bounded waits. It serves
the shipped demo feeds (conf/demo) from a real HTTP server on a free port,
runs ingotd on a copy of conf/ingot.yaml pointed at it, and checks:
  - every feed comes up and a snapshot is written, and the families in the
    scrape are exactly those of the README's metrics reference;
  - SIGHUP with a valid new config (one feed removed): the feed's series
    disappear, the other feeds keep their counters;
  - SIGHUP with an invalid config: the errors are logged with
    file:line:column, the running config keeps serving unchanged;
  - SIGTERM: exit status 0 within 1 s (10 s under valgrind);
  - with --valgrind: ingotd runs under valgrind's memcheck, and any error or
    definite/indirect leak makes the exit status non-zero.
The last line is "N passed, M failed".
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import check, free_port, scrape, summary, wait_until


def sample(text, name, labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search("^" + re.escape(f"{name}{{{want}}}") + r" (\S+)$", text or "", re.M)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--valgrind", action="store_true")
    args = ap.parse_args()
    slow = 10 if args.valgrind else 1

    demo = os.path.join(args.source_dir, "conf", "demo")
    with open(os.path.join(args.source_dir, "conf", "ingot.yaml")) as f:
        shipped = f.read()
    feed_port, port = free_port(), free_port()
    # State beside the config, never /var/lib/ingot; written every second, so
    # the snapshot families the README lists appear.
    config = (shipped.replace("127.0.0.1:8468", f"127.0.0.1:{feed_port}")
              + "state_dir: state\nsnapshot: {interval: 1s}\n")
    feeds = re.findall(r"^  - name: (\w+)", config, re.M)

    tmp = tempfile.mkdtemp(prefix="ingot-lifecycle-")
    path = os.path.join(tmp, "ingot.yaml")
    with open(path, "w") as f:
        f.write(config)
    log_path = os.path.join(tmp, "ingotd.log")

    server = subprocess.Popen([sys.executable, "-m", "http.server", str(feed_port), "--bind",
                               "127.0.0.1", "--directory", demo],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cmd = [args.ingotd, f"--config.file={path}", f"--web.listen-address=127.0.0.1:{port}"]
    if args.valgrind:
        cmd = ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite,indirect",
               "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99"] + cmd
    def serving():
        try:
            socket.create_connection(("127.0.0.1", feed_port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_until(serving, 10)
    log = open(log_path, "w")
    daemon = subprocess.Popen(cmd, stderr=log)
    try:

        def all_up():
            text = scrape(port)
            return text if text and all(
                sample(text, "ingot_feed_up", {"feed": n}) == 1 for n in feeds) and \
                "ingot_snapshot_last_write_bytes " in text else None
        text = wait_until(all_up, 30 * slow)
        check(f"all {len(feeds)} demo feeds up", text is not None)

        # The README's metrics reference and the scrape name the same families.
        with open(os.path.join(args.source_dir, "README.md")) as f:
            documented = set(re.findall(r"^\| `(ingot_\w+)`", f.read(), re.M))
        exported = set(re.findall(r"^# TYPE (ingot_\w+) ", text or "", re.M))
        check("every metric in the README exists in a scrape", documented <= exported,
              f"missing: {sorted(documented - exported)}")
        check("every exported family is in the README", exported <= documented,
              f"undocumented: {sorted(exported - documented)}")
        accepted = sample(text, "ingot_feed_records_accepted_total", {"feed": feeds[0]})

        # A valid reload without the last feed.
        last = feeds[-1]
        trimmed = re.sub(rf"^  # [^\n]*\n(?:  #[^\n]*\n)*(?=  - name: {last}\n)", "", config,
                         flags=re.M)
        trimmed = re.sub(rf"^  - name: {last}\n(?:    [^\n]*\n|      [^\n]*\n)*", "", trimmed,
                         flags=re.M)
        with open(path, "w") as f:
            f.write(trimmed)
        daemon.send_signal(signal.SIGHUP)
        text = wait_until(lambda: (t := scrape(port)) and f'feed="{last}"' not in t and t, 10 * slow)
        check(f"reload drops feed {last}", text is not None)
        kept = sample(text, "ingot_feed_records_accepted_total", {"feed": feeds[0]})
        check("reload keeps the other feeds' counters", kept is not None and kept >= accepted,
              f"{kept} < {accepted}")

        # An invalid reload: logged with a position, old config kept.
        before = scrape(port)
        with open(path, "w") as f:
            f.write(trimmed.replace("metals:", "metalz:", 1))
        daemon.send_signal(signal.SIGHUP)
        logged = wait_until(lambda: "reload failed" in open(log_path).read(), 10 * slow)
        check("failed reload is logged", logged is not None)
        check("failed reload names file:line:column",
              re.search(re.escape(path) + r":\d+:\d+: ", open(log_path).read()) is not None)
        after = scrape(port)
        check("failed reload keeps serving the running config",
              after is not None and f'feed="{feeds[0]}"' in after and
              sample(after, "ingot_national_production_tonnes",
                     {"metal": "copper", "year": "2023"}) ==
              sample(before, "ingot_national_production_tonnes",
                     {"metal": "copper", "year": "2023"}))

        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(timeout=slow + 1)
        except subprocess.TimeoutExpired:
            rc = None
        elapsed = time.monotonic() - started
        check(f"SIGTERM exits 0 within {slow}s", rc == 0 and elapsed <= slow,
              f"rc={rc} after {elapsed:.2f}s")
        if args.valgrind:
            check("valgrind: no memory errors, no definite or indirect leak", rc == 0,
                  open(log_path).read()[-2000:])
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        server.kill()
        server.wait()
        log.close()

    failed = summary()
    if failed:
        print(open(log_path).read()[-4000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
