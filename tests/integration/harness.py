"""Helpers the integration tests share: one line per check, free loopback
ports, bounded waits and plain scrapes. Standard library only."""

import socket
import time
import urllib.request

results = []


def check(name, ok, detail=""):
    """Records one check and prints it: "ok   name" or "FAIL name: detail".
    Returns ok."""
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)), flush=True)
    return ok


def summary():
    """Prints "N passed, M failed" and returns the exit status."""
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, step=0.05):
    """The first truthy value of predicate() within timeout seconds, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def scrape(port, path="/metrics"):
    """The text at http://127.0.0.1:port/path, or None when it cannot be had."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return None
