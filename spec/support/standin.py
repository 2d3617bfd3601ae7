"""Server boilerplate shared by the Python stand-ins in spec/support
(fake_metadata.py, fake_sso.py, proxy.py, raw_http.py): flags, the
parent-pid watch, loopback-only listening, the "LISTENING <port>" line, and
for the HTTP fakes their state (settings, scripted answers, request log),
answers and unsigned control API. Standard library only; each stand-in
imports it from its own folder (python3 puts a script's folder first on
sys.path).
"""

import argparse
import copy
import json
import os
import sys
import threading
import time
from http.server import ThreadingHTTPServer

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def watch_parent(pid):
    """Exit this process as soon as process pid is gone."""
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)


def start_parent_watch(pid):
    if pid:
        threading.Thread(target=watch_parent, args=(pid,), daemon=True).start()


def arg_parser(description=None, host=True, verbose=True):
    """--port (0: the OS picks) and --parent-pid; --host and --verbose too
    unless asked not to."""
    ap = argparse.ArgumentParser(description=description)
    if host:
        ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--parent-pid", type=int)
    if verbose:
        ap.add_argument("--verbose", action="store_true")
    return ap


def announce(port):
    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()


def serve_http(handler, args, name):
    """A threaded HTTP server for handler on args.host (loopback only) and
    args.port; watches args.parent_pid, announces the port, serves until
    interrupted."""
    if args.host not in LOOPBACK:
        sys.exit("%s: listens on loopback only" % name)
    srv = ThreadingHTTPServer((args.host, args.port), handler)
    srv.daemon_threads = True
    srv.verbose = getattr(args, "verbose", False)
    start_parent_watch(args.parent_pid)
    announce(srv.server_address[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


class State:
    """Settings (a copy of defaults), the requests seen and queued scripted
    answers per channel, behind one lock."""

    def __init__(self, defaults):
        self.defaults = defaults
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.config = copy.deepcopy(self.defaults)
        self.requests = []
        self.scripts = {}

    def pop_script(self, channel):
        with self.lock:
            q = self.scripts.get(channel)
            if q:
                return q.pop(0)
        return None


class HandlerMixin:
    """Request helpers for a BaseHTTPRequestHandler whose class sets
    STATE (a State), NAME (the log prefix) and CONTENT_TYPE (the default of
    send and of scripted answers); extra_headers() adds headers to every
    answer."""

    STATE = None
    NAME = "standin"
    CONTENT_TYPE = "text/plain"

    def extra_headers(self):
        return {}

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write(self.NAME + ": " + (fmt % args) + "\n")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def record(self, channel, body, **extra):
        entry = {
            "method": self.command, "path": self.path, "channel": channel,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        entry.update(extra)
        with self.STATE.lock:
            self.STATE.requests.append(entry)
        return entry

    def send(self, status, body, ctype=None, headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype or self.CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        for k, v in self.extra_headers().items():
            self.send_header(k, v)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, doc, headers=None):
        self.send(status, json.dumps(doc), "application/json", headers)

    def control(self, body):
        """The unsigned control API: POST /_fake/reset, GET/POST
        /_fake/config, POST /_fake/script {channel, responses}, GET
        /_fake/requests."""
        state = self.STATE
        path = self.path.split("?")[0]
        if path == "/_fake/reset" and self.command == "POST":
            with state.lock:
                state.reset()
            return self.send_json(200, {"ok": True})
        if path == "/_fake/config":
            if self.command == "POST":
                try:
                    doc = json.loads(body or b"{}")
                except ValueError:
                    return self.send_json(400, {"message": "bad JSON"})
                with state.lock:
                    state.config.update(doc)
            return self.send_json(200, state.config)
        if path == "/_fake/script" and self.command == "POST":
            doc = json.loads(body or b"{}")
            responses = doc.get("responses") or []
            if isinstance(responses, dict):
                responses = []
            with state.lock:
                state.scripts.setdefault(doc.get("channel"), []).extend(responses)
            return self.send_json(200, {"ok": True})
        if path == "/_fake/requests":
            with state.lock:
                return self.send_json(200, list(state.requests))
        return self.send_json(404, {"message": "unknown control path"})

    def scripted(self, channel):
        """Answers with the channel's next scripted answer ({status, body,
        content_type, headers, delay, close}); False when there is none."""
        item = self.STATE.pop_script(channel)
        if item is None:
            return False
        if item.get("delay"):
            time.sleep(float(item["delay"]))
        if item.get("close"):
            self.close_connection = True
            self.wfile.flush()
            return True
        self.send(int(item.get("status", 200)), item.get("body", ""),
                  item.get("content_type", self.CONTENT_TYPE), item.get("headers"))
        return True
