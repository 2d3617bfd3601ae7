#!/usr/bin/python3
"""A small HTTP forward proxy for tests (standard library only).

Forwards absolute-URI requests (GET http://host:port/path ...) and tunnels
CONNECT host:port, but only to loopback addresses: anything else is refused
with 403, so a test can never reach the outside world through it. Every
request line it receives is printed as "PROXY <METHOD> <target>" (flushed)
so that the test can read its log; the Proxy-Authorization header, when
present, is printed as "PROXY-AUTH <value>".

Flags: --port (0 = the OS picks), --parent-pid (exit when that process is
gone). Prints "LISTENING <port>" when ready.
"""

import http.client
import select
import socket
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standin

LOOPBACK = ("127.0.0.1", "localhost", "::1")
HOP = {"proxy-connection", "proxy-authorization", "connection", "keep-alive", "te", "trailer",
       "transfer-encoding", "upgrade"}


def log(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self):
        log("PROXY %s %s" % (self.command, self.path))
        auth = self.headers.get("Proxy-Authorization")
        if auth:
            log("PROXY-AUTH %s" % auth)

    def refuse(self, status, msg):
        body = msg.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_CONNECT(self):
        self.note()
        host, _, port = self.path.rpartition(":")
        host = host.strip("[]")
        if host not in LOOPBACK or not port.isdigit():
            return self.refuse(403, "only loopback targets")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError as e:
            return self.refuse(502, str(e))
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        client = self.connection
        socks = [client, upstream]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 30)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True

    def forward(self):
        self.note()
        u = urllib.parse.urlsplit(self.path)
        if u.scheme != "http" or (u.hostname or "") not in LOOPBACK:
            return self.refuse(403, "only http to loopback targets")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP]
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        try:
            path = u.path or "/"
            if u.query:
                path += "?" + u.query
            conn.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if body is not None and not any(k.lower() == "content-length" for k, _ in headers):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return self.refuse(502, str(e))
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


def main():
    args = standin.arg_parser(host=False, verbose=False).parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    srv.daemon_threads = True
    standin.start_parent_watch(args.parent_pid)
    log("LISTENING %d" % srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
