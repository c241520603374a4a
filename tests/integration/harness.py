"""Helpers the integration tests share: one line per check, free loopback
ports, bounded waits, plain scrapes and a feed server. Standard library
only."""

import http.server
import json
import socket
import threading
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


class FeedServer:
    """Documents a test sets and changes by path, served over HTTP on
    127.0.0.1 (404 for any other path); set() takes bytes or a JSON-able
    value."""

    def __init__(self):
        self.docs = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    body = outer.docs.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def set(self, path, doc):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        with self.lock:
            self.docs[path] = body

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
