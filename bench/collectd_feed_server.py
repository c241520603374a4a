#!/usr/bin/env python3
"""Local feed server for bench/collectd.sh: python3's http.server serving a
directory on 127.0.0.1, with two changes so that every poll is a full
fetch-and-ingest for every client:

  * no Last-Modified header (so ingotd never sends If-Modified-Since and never
    gets a 304 that would skip the parse; collectd's curl_json never sends
    conditional requests anyway);
  * one log line per finished GET, written after the last body byte:
      <start epoch s> <end epoch s> <status> <bytes> <User-Agent>
    which is how collectd.sh counts completed polls per client without
    scraping the pollers.

Usage: collectd_feed_server.py --dir DIR --port PORT --log FILE
"""
import argparse
import http.server
import os
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_file = None

    def send_header(self, keyword, value):
        if keyword.lower() == "last-modified":
            return
        super().send_header(keyword, value)

    def do_GET(self):
        start = time.time()
        f = self.send_head()
        sent = 0
        if f:
            try:
                while True:
                    buf = f.read(1 << 16)
                    if not buf:
                        break
                    self.wfile.write(buf)
                    sent += len(buf)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                f.close()
        end = time.time()
        ua = self.headers.get("User-Agent", "-").replace(" ", "_")
        self.log_file.write("%.3f %.3f %s %d %s\n" % (start, end, self.path, sent, ua))
        self.log_file.flush()

    def log_message(self, fmt, *args):  # quiet: the poll log is enough
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    os.chdir(a.dir)
    Handler.log_file = open(a.log, "a", buffering=1)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
