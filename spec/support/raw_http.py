#!/usr/bin/python3
"""A raw HTTP/1.1 stand-in for the hardening specs (spec/hardening_*_spec.lua).

Answers every request according to --mode:
  echo       200, body = the request line as received, a newline, the body
  bigheader  200 with one 200,000-byte header line (libcurl's line limit is 100 KiB)
  quoteauth  403, JSON {"message": "denied: <Authorization header>"} (a container
             endpoint quoting its token back)
  stsquote   400, an STS XML error whose Message quotes the request body
             (AssumeRoleWithWebIdentity's form, web identity token included)

Listens on 127.0.0.1 (--port 0: the OS picks), prints "LISTENING <port>",
exits when --parent-pid is gone. Standard library only.
"""
import json
import socket
import threading

import standin


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None, None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    n = int(headers.get("content-length", "0") or 0)
    while len(rest) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0], headers, rest[:n]


def respond(conn, status, reason, body, extra=b""):
    conn.sendall(b"HTTP/1.1 %d %s\r\n" % (status, reason) + extra
                 + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def handle(conn, mode):
    try:
        line, headers, body = read_request(conn)
        if line is None:
            return
        if mode == "echo":
            respond(conn, 200, b"OK", line + b"\n" + body)
        elif mode == "bigheader":
            respond(conn, 200, b"OK", b"", b"X-Big: " + b"a" * 200000 + b"\r\n")
        elif mode == "quoteauth":
            msg = json.dumps({"message": "denied: " + headers.get("authorization", "")}).encode()
            respond(conn, 403, b"Forbidden", msg, b"Content-Type: application/json\r\n")
        elif mode == "stsquote":
            quoted = body.decode("latin-1").replace("&", "&amp;").replace("<", "&lt;")
            xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                   "<Message>bad request: %s</Message></Error><RequestId>rid-1</RequestId>"
                   "</ErrorResponse>" % quoted).encode()
            respond(conn, 400, b"Bad Request", xml, b"Content-Type: text/xml\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = standin.arg_parser(host=False, verbose=False)
    ap.add_argument("--mode", default="echo")
    args = ap.parse_args()
    standin.start_parent_watch(args.parent_pid)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(16)
    standin.announce(srv.getsockname()[1])
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, args.mode), daemon=True).start()


if __name__ == "__main__":
    main()
