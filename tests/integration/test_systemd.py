#!/usr/bin/python3
"""systemd integration test of ingotd: notify protocol, watchdog, socket
activation, journal and JSON log formats, and log flood control.

Usage:
    python3 test_systemd.py --ingotd build/ingotd

Standard library only; everything on 127.0.0.1 or in a temporary directory,
every wait bounded. The test plays systemd's side: it binds a NOTIFY_SOCKET
datagram socket, sets WATCHDOG_USEC, and checks the exact sequence
READY=1 -> (SIGHUP) RELOADING=1 with a plausible MONOTONIC_USEC -> READY=1
-> (bad config, SIGHUP) RELOADING=1 -> READY=1 with the failure in STATUS=
-> (SIGTERM) STOPPING=1, the watchdog cadence, the gap while SIGSTOP'd and
the pings after SIGCONT. Then it passes a bound socket as fd 3 with
LISTEN_FDS=1/LISTEN_PID and scrapes through it. Logs: the journal format's
<N> fallback, JSON lines, a failing feed logged once; and, as root where no
journal runs, a real systemd-journald that `journalctl FEED=...` and
`journalctl -p warning` query. The last line is "N passed, M failed".
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import check, free_port, scrape, summary, wait_until

WATCHDOG_USEC = 400_000  # ingotd pings every 200 ms


def write_config(path, port, feed_url=None, broken=False):
    feeds = "feeds: []\n"
    if feed_url:
        feeds = (f"feeds:\n  - name: gone\n    url: {feed_url}\n    format: json\n"
                 "    interval: 1s\n    plants: [kz-a]\n")
    with open(path, "w") as f:
        f.write("state_dir: state\n"  # beside the config, never /var/lib/ingot
                f"web: {{listen_address: \"127.0.0.1:{port}\"}}\n"
                + ("metalz" if broken else "metals") + ": [copper]\n" + feeds)


class Notifications:
    """systemd's end of NOTIFY_SOCKET: every datagram with its arrival time."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic seconds, {key: value})
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def since(self, index):
        with self.lock:
            return self.messages[index:]

    def count(self):
        with self.lock:
            return len(self.messages)

    def wait_for(self, key, start, timeout=10):
        def found():
            for i, (_, m) in enumerate(self.since(start)):
                if key in m:
                    return start + i + 1
            return None
        return wait_until(found, timeout)

    def pings(self, start=0):
        return [t for t, m in self.since(start) if m.get("WATCHDOG") == "1"]

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def notify_protocol(ingotd, tmp):
    port = free_port()
    config = os.path.join(tmp, "notify.yaml")
    write_config(config, port)
    notes = Notifications(os.path.join(tmp, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notes.sock.getsockname(),
               WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    log = open(os.path.join(tmp, "notify.log"), "w")
    daemon = subprocess.Popen([ingotd, f"--config.file={config}", "--log.format=plain"],
                              env=env, stderr=log)
    try:
        at = notes.wait_for("READY", 0)
        check("READY=1 once started", at is not None)
        ready = notes.since(at - 1)[0][1] if at else {}
        check("READY=1 carries a STATUS= line", "feeds up 0/0" in ready.get("STATUS", ""),
              ready)
        check("scrape works once READY=1 was sent", scrape(port) is not None)

        start = notes.count()
        time.sleep(1.2)
        pings = notes.pings(start)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # The median gap, so one late wakeup on a loaded machine is no failure.
        median = sorted(gaps)[len(gaps) // 2] if gaps else 0
        check("watchdog pings at half of WATCHDOG_USEC",
              len(pings) >= 4 and 0.15 <= median <= 0.3, gaps)

        daemon.send_signal(signal.SIGSTOP)
        stopped = notes.count()
        time.sleep(1.0)
        check("a stopped loop stops pinging", len(notes.pings(stopped)) == 0)
        daemon.send_signal(signal.SIGCONT)
        resumed = notes.count()
        check("pings resume after SIGCONT",
              wait_until(lambda: len(notes.pings(resumed)) >= 2, 2) is not None)

        start = notes.count()
        daemon.send_signal(signal.SIGHUP)
        at = notes.wait_for("READY", start)
        sequence = [m for _, m in notes.since(start) if "WATCHDOG" not in m]
        check("SIGHUP: RELOADING=1 then READY=1",
              at is not None and "RELOADING" in sequence[0] and "READY" in sequence[-1],
              sequence)
        usec = int(sequence[0].get("MONOTONIC_USEC", "0")) if sequence else 0
        check("RELOADING=1 carries a plausible MONOTONIC_USEC",
              abs(usec / 1e6 - time.monotonic()) < 5, usec)

        write_config(config, port, broken=True)
        start = notes.count()
        daemon.send_signal(signal.SIGHUP)
        at = notes.wait_for("READY", start)
        sequence = [m for _, m in notes.since(start) if "WATCHDOG" not in m]
        check("failed reload: RELOADING=1 then READY=1 with the failure in STATUS=",
              at is not None and "RELOADING" in sequence[0] and
              "reload failed" in sequence[-1].get("STATUS", "") and
              f"{config}:" in sequence[-1].get("STATUS", ""), sequence)
        text = scrape(port) or ""
        check("failed reload: ingot_config_last_reload_successful 0",
              "\ningot_config_last_reload_successful 0\n" in text)

        start = notes.count()
        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(timeout=5)
        check("SIGTERM: STOPPING=1 and exit 0",
              rc == 0 and any("STOPPING" in m for _, m in notes.since(start)), rc)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        notes.close()
        log.close()


def socket_activation(ingotd, tmp):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    config = os.path.join(tmp, "activation.yaml")
    write_config(config, free_port())  # the config's own address must not be used

    def as_systemd_would():
        if listener.fileno() != 3:
            os.dup2(listener.fileno(), 3)
        os.set_inheritable(3, True)
        os.putenv("LISTEN_FDS", "1")
        os.putenv("LISTEN_PID", str(os.getpid()))

    daemon = subprocess.Popen([ingotd, f"--config.file={config}", "--web.systemd-socket"],
                              preexec_fn=as_systemd_would, close_fds=False,
                              stderr=subprocess.DEVNULL)
    listener.close()
    try:
        text = wait_until(lambda: scrape(port), 10)
        check("socket activation: scrape through the passed socket",
              text is not None and "ingot_build_info" in text)
    finally:
        daemon.send_signal(signal.SIGTERM)
        check("socket activation: exit 0", daemon.wait(timeout=5) == 0)

    plain = subprocess.run([ingotd, f"--config.file={config}", "--web.systemd-socket"],
                           capture_output=True, text=True, timeout=10)
    check("--web.systemd-socket without a socket: exit 1 with the reason",
          plain.returncode == 1 and "passed no listening socket" in plain.stderr, plain.stderr)


def log_formats(ingotd, tmp):
    """A feed that fails every second, in the journal and JSON formats."""
    port = free_port()
    config = os.path.join(tmp, "logs.yaml")
    write_config(config, port, feed_url=f"http://127.0.0.1:{free_port()}/gone.json")
    for fmt in ("journal", "json"):
        log_path = os.path.join(tmp, f"{fmt}.log")
        with open(log_path, "w") as log:
            daemon = subprocess.Popen([ingotd, f"--config.file={config}", f"--log.format={fmt}"],
                                      stderr=log, env=dict(os.environ, JOURNAL_STREAM=""))
            try:
                ok = wait_until(lambda: (s := scrape(port)) and
                                'ingot_feed_fetches_total{feed="gone",result="connect_error"} 4'
                                in s, 15)
                check(f"{fmt}: the failing feed was fetched 4 times", ok is not None)
            finally:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(timeout=5)
        lines = open(log_path).read().splitlines()
        if fmt == "journal":
            # No journald here: the stream fallback keeps the priority.
            down = [ln for ln in lines if "feed down" in ln]
            check("journal: a warning is prefixed <4> with feed=", len(down) == 1 and
                  down[0].startswith("<4>feed=gone "), lines)
            check("journal: every line carries a priority prefix",
                  lines and all(ln[:1] == "<" and ln[2:3] == ">" for ln in lines), lines)
        else:
            records = [json.loads(ln) for ln in lines]
            down = [r for r in records if r["msg"].startswith("feed down")]
            check("json: one warning with level and feed fields, not one per failure",
                  len(down) == 1 and down[0]["level"] == "warn" and down[0]["feed"] == "gone",
                  records)
            check("json: every line is an object with ts, level and msg",
                  all({"ts", "level", "msg"} <= set(r) for r in records))


JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_DIRS = ("/run/systemd/journal", "/run/log/journal")


def journald(ingotd, tmp):
    """A real systemd-journald: native fields reach it and journalctl filters on them.

    Runs only as root on a machine without a live journal (CI here); the
    journald it starts and the directories it creates are removed after."""
    if os.geteuid() != 0 or not os.path.exists(JOURNALD) or \
            any(os.path.exists(d) for d in JOURNAL_DIRS):
        print("skip journald: needs root, systemd-journald and no journal running", flush=True)
        return
    port = free_port()
    config = os.path.join(tmp, "journald.yaml")
    write_config(config, port, feed_url=f"http://127.0.0.1:{free_port()}/gone.json")
    jd = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        up = wait_until(lambda: os.path.exists("/run/systemd/journal/socket"), 10)
        check("journald: started", up is not None)
        daemon = subprocess.Popen([ingotd, f"--config.file={config}", "--log.format=journal"],
                                  stderr=subprocess.PIPE, text=True)

        def journal(*match):
            out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"_PID={daemon.pid}",
                                  *match], capture_output=True, text=True, timeout=10).stdout
            return [json.loads(ln) for ln in out.splitlines() if ln.strip()]
        entries = wait_until(lambda: journal("FEED=gone"), 10) or []
        down = [e for e in entries if e.get("MESSAGE", "").startswith("feed down")]
        check("journald: journalctl FEED=gone finds the failure with PRIORITY 4",
              len(down) == 1 and down[0].get("PRIORITY") == "4" and
              down[0].get("SYSLOG_IDENTIFIER") == "ingotd", entries)
        warnings = journal("-p", "warning")
        check("journald: journalctl -p warning keeps warnings and drops info",
              any(e.get("MESSAGE", "").startswith("feed down") for e in warnings) and
              all(int(e.get("PRIORITY", 9)) <= 4 for e in warnings), warnings)
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=5)
        check("journald: nothing goes to stderr", err == "", err)
    finally:
        if daemon and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        jd.terminate()
        jd.wait(timeout=10)
        for d in JOURNAL_DIRS:
            shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ingot-systemd-")
    for scenario in (notify_protocol, socket_activation, log_formats, journald):
        try:
            scenario(args.ingotd, tmp)
        except Exception as e:  # a scenario that crashes is a failure, not an abort
            check(f"{scenario.__name__} ran to the end", False, repr(e))
    failed = summary()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
