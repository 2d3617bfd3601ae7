#!/usr/bin/python3
"""Fake Amazon Connect (rest-json, 2017-08-08) server: every operation of the
Connect service model, for the test suite, `make demo` and your own tests.

Routes every operation by HTTP method + requestUri template, checks SigV4
with botocore's own signer, validates input against the model, keeps state
for instances and tags, and answers every other operation with a valid
output synthesized from its output shape.  Must run with /usr/bin/python3
(Debian's python3-botocore).  Prints exactly one line "LISTENING <port>" on
stdout once ready; exits on SIGTERM/SIGINT or when --parent-pid is gone.
The helpers live in fake_connect/ beside this file (one concern each)."""

import argparse
import base64
import email.utils
import http
import http.server
import json
import os
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# Start-up budget (< 1 s): botocore's optional accelerators are not needed to
# verify a signature and cost ~0.15 s to import; an absent module is what
# botocore and requests already handle (HAS_CRT false, stdlib ssl).
for _optional in ("awscrt", "urllib3.contrib.pyopenssl"):
    sys.modules.setdefault(_optional, None)

try:
    from fake_connect import sigv4
except ImportError as exc:  # pragma: no cover
    sys.stderr.write(
        "fake_connect.py needs botocore (run it with /usr/bin/python3): %s\n" % exc
    )
    sys.exit(2)
from fake_connect import instances
from fake_connect import model as model_mod
from fake_connect import synth as synth_mod
from fake_connect import tags
from fake_connect import validate as validation
from fake_connect import wire
from fake_connect.errors import ApiError
from fake_connect.state import State

ACCOUNT_ID = instances.ACCOUNT_ID
HANG_MAX_SECONDS = 60.0
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazonaws.connect/"

CONFIG_KEYS = (
    "create_delay", "quota", "clock_offset", "max_skew", "fail_next_create",
    "fail_aliases", "access_key", "secret_key", "session_token", "region",
    "strict_arns", "error_type_suffix",
)

# Operations with state; everything else is synthesized.
STATEFUL = dict(instances.HANDLERS)
STATEFUL.update(tags.HANDLERS)

# Keys a /_fake/respond rule may carry (the FIFO item keys, plus these).
RESPOND_KEYS = ("operation", "times", "validate", "status", "headers", "body",
                "content_length", "reason", "no_default_headers", "close", "delay",
                "fault", "interval", "headers_first", "rst_delay", "length",
                "max_seconds")

CONTROL_HELP = """\
control API (unsigned, JSON, never logged, bypasses the script queue):
  POST   /_fake/reset       instances, tags, log, queue, rules, tokens, config
                            -> start state
  POST   /_fake/script      {"responses": [ITEM, ...]} appended to a FIFO; each
                            ITEM is served for the next service request after
                            logging + signature check, whatever the verdict
  GET    /_fake/script      the pending queue
  POST   /_fake/respond     {"operation": "DescribeUser", "status": 200,
                            "body": {...}, "headers": {...}, "times": N}
                            served for that operation after the signature check
                            and input validation ("validate": false skips it);
                            times absent = until reset; any ITEM key works
  GET    /_fake/respond     the rules per operation
  DELETE /_fake/respond     drop every rule (?operation=Name: that one's)
  GET    /_fake/requests    logged service requests, each with "operation"
                            and the decoded "input"
  GET    /_fake/instances   all instances incl. ClientToken/DirectoryId
  GET    /_fake/tags        tags per ARN (instances included)
  GET    /_fake/warnings    synthesis warnings (values that could not be made
                            valid); empty when all is well
  GET    /_fake/operations  the operations served, with method and requestUri
  GET|POST /_fake/config    merge any of: create_delay quota clock_offset
                            max_skew fail_next_create fail_aliases access_key
                            secret_key session_token region strict_arns
                            error_type_suffix (unknown key -> 400)
  GET    /_fake/health

ITEM: {"status", "headers": {name: value|[values]}, "body": str|json,
       "content_length": sent as-is, "reason", "no_default_headers", "close",
       "delay": seconds, "pass": true (FIFO only: normal handling after the
       delay), "fault": reset | reset_mid_body | truncated | garbage |
       trickle | hang}
  trickle: "interval" (0.5), "headers_first" (false: whole response trickles)
  reset_mid_body: "rst_delay" (0.2 s between the half body and the RST)
  garbage: "length" (64); hang: "max_seconds" (60)

model: --model PATH, else $FAKE_CONNECT_MODEL, else
  <script dir>/../../data/models/connect-2017-08-08/service-2.json (source
  tree), else beside the script: models/connect-2017-08-08/,
  connect-2017-08-08/ or service-2.json (installed layout);
  paginators-1.json is read from the same folder.

example:
  /usr/bin/python3 spec/support/fake_connect.py --port 0
  curl -s -X POST http://127.0.0.1:PORT/_fake/respond \\
       -d '{"operation": "DescribeUser", "status": 404, "times": 1,
            "headers": {"x-amzn-ErrorType": "ResourceNotFoundException"},
            "body": {"Message": "no such user"}}'
"""


# --------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------

class Response(object):
    def __init__(self, status, body=b"", headers=None, reason=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = headers or []
        self.reason = reason


def json_body(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def error_response(err, suffix=False):
    # "Message" is the modeled member; "message" is kept for older readers.
    body = {"Message": err.message, "message": err.message}
    body.update({k: v for k, v in err.extra.items() if k in ("Reason",)})
    code = err.code + (ERROR_TYPE_SUFFIX if suffix else "")
    return Response(err.status, json_body(body), [("x-amzn-ErrorType", code)])


# --------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeConnect/1.0"
    timeout = 300

    # -- plumbing --------------------------------------------------------
    def setup(self):
        self.conn_id = next(self.server.state.conn_ids)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                self.log_message("TLS handshake failed: %s", exc)
                self.handshake_failed = True
            self.request.settimeout(None)
        http.server.BaseHTTPRequestHandler.setup(self)

    def handle(self):
        if getattr(self, "handshake_failed", False):
            return
        try:
            http.server.BaseHTTPRequestHandler.handle(self)
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError, ValueError):
            pass

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s [%s] %s\n" % (
                self.address_string(), self.log_date_time_string(), fmt % args))

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    @property
    def state(self):
        return self.server.state

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length:
            n = int(length)
            return self.rfile.read(n) if n > 0 else b""
        return b""

    def base_headers(self, content_length, content_type="application/json"):
        return [
            ("x-amzn-RequestId", str(uuid.uuid4())),
            ("Date", email.utils.formatdate(self.state.server_now(), usegmt=True)),
            ("Content-Type", content_type),
            ("Content-Length", str(content_length)),
        ]

    def head_bytes(self, status, headers, reason=None):
        if reason is None:
            try:
                reason = http.HTTPStatus(status).phrase
            except ValueError:
                reason = "Unknown"
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        for k, v in headers:
            lines.append("%s: %s" % (k, v))
        if self.close_connection and not any(k.lower() == "connection" for k, _ in headers):
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def send(self, resp):
        headers = self.base_headers(len(resp.body))
        # Extra headers override the defaults with the same name.
        names = set(k.lower() for k, _ in resp.headers)
        headers = [(k, v) for k, v in headers if k.lower() not in names] + resp.headers
        data = self.head_bytes(resp.status, headers, resp.reason)
        if self.command != "HEAD":
            data += resp.body
        self.wfile.write(data)
        self.wfile.flush()
        return resp.status

    def rst_close(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except Exception:
                pass
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                # Do not send close_notify: just drop the TCP connection.
                sock = socket.socket(fileno=self.connection.detach())
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
                sock.close()
            else:
                self.connection.close()
        except OSError:
            pass

    # -- dispatch ----------------------------------------------------------
    def dispatch(self):
        target = self.path
        if target.startswith("http://") or target.startswith("https://"):
            parts = urllib.parse.urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, raw_query = target.partition("?")
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(Response(400, json_body({"Message": "Could not read body",
                                               "message": "Could not read body"}),
                               [("x-amzn-ErrorType", "SerializationException")]))
            return
        if raw_path == "/_fake" or raw_path.startswith("/_fake/"):
            self.control(raw_path, raw_query, body)
            return
        self.service(raw_path, raw_query, body)

    # -- control API ------------------------------------------------------
    def control(self, path, query, body):
        st = self.state
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError as exc:
            self.send(Response(400, json_body({"message": "bad JSON: %s" % exc})))
            return
        cmd = self.command
        model = self.server.model
        try:
            with st.lock:
                if path == "/_fake/reset" and cmd == "POST":
                    st.reset()
                    out = {"ok": True}
                elif path == "/_fake/script" and cmd == "POST":
                    items = payload.get("responses", []) if isinstance(payload, dict) else payload
                    if isinstance(items, dict) and not items:
                        items = []  # empty Lua table encoded as {}
                    if not isinstance(items, list) or \
                            not all(isinstance(i, dict) for i in items):
                        raise ValueError("responses must be a list of objects")
                    for item in items:
                        fault = item.get("fault")
                        if fault is not None and fault not in FAULTS:
                            raise ValueError("unknown fault %r" % fault)
                    st.queue.extend(items)
                    out = {"queued": len(st.queue)}
                elif path == "/_fake/script" and cmd == "GET":
                    out = {"responses": st.queue}
                elif path == "/_fake/respond" and cmd == "POST":
                    rule = check_rule(model, payload)
                    out = {"operation": rule["operation"], "rules": st.add_responder(rule)}
                elif path == "/_fake/respond" and cmd == "GET":
                    out = {"rules": st.responders}
                elif path == "/_fake/respond" and cmd == "DELETE":
                    only = dict(wire.query_pairs(query)).get("operation")
                    if only is None:
                        st.responders.clear()
                    else:
                        st.responders.pop(only, None)
                    out = {"rules": st.responders}
                elif path == "/_fake/requests" and cmd == "GET":
                    out = st.requests
                elif path == "/_fake/instances" and cmd == "GET":
                    out = [instances.public_instance(r, internal=True) for r in st.live()]
                elif path == "/_fake/tags" and cmd == "GET":
                    out = dict(st.tags)
                    for r in st.live():
                        out[r["Arn"]] = r["Tags"]
                elif path == "/_fake/warnings" and cmd == "GET":
                    out = st.warnings
                elif path == "/_fake/operations" and cmd == "GET":
                    out = {name: {"method": op["http"]["method"],
                                  "requestUri": op["http"]["requestUri"],
                                  "stateful": name in STATEFUL}
                           for name, op in model.operations.items()}
                elif path == "/_fake/config" and cmd in ("POST", "GET"):
                    if cmd == "POST":
                        if not isinstance(payload, dict):
                            raise ValueError("config must be an object")
                        bad = [k for k in payload if k not in CONFIG_KEYS]
                        if bad:
                            raise ValueError("unknown config key(s): %s" % ", ".join(bad))
                        for k, v in payload.items():
                            if k == "fail_aliases":
                                v = dict(v or {})
                            st.config[k] = v
                    out = dict(st.config)
                    out.pop("secret_key", None)
                    out["secret_key_set"] = bool(st.config.get("secret_key"))
                    out["server_time"] = st.server_now()
                    out["model"] = model.path
                elif path == "/_fake/health":
                    out = {"ok": True, "pid": os.getpid(),
                           "operations": len(model.operations)}
                else:
                    self.send(Response(404, json_body({"message": "no such control endpoint"})))
                    return
                data = json_body(out)
        except (ValueError, TypeError, AttributeError) as exc:
            self.send(Response(400, json_body({"message": str(exc)})))
            return
        self.send(Response(200, data))

    # -- service ----------------------------------------------------------
    def service(self, raw_path, raw_query, body):
        started = time.monotonic()
        try:
            self._service(raw_path, raw_query, body)
        finally:
            entry = getattr(self, "_entry", None)
            if entry is not None:
                entry["elapsed"] = round(time.monotonic() - started, 6)
                self._entry = None

    def _service(self, raw_path, raw_query, body):
        st = self.state
        model = self.server.model
        headers = list(self.headers.items())
        scheme = "https" if self.server.tls else "http"
        with st.lock:
            cfg = dict(st.config)
            now = st.server_now()
        auth_error = None
        info = {}
        try:
            info = sigv4.verify_sigv4(cfg, scheme, self.command, raw_path, raw_query,
                                      headers, body, now)
        except ApiError as err:
            auth_error = err
            info = err.extra
        except Exception as exc:  # never let the verifier kill the connection
            auth_error = ApiError(403, "InvalidSignatureException",
                                  "signature verification error: %r" % (exc,))
        pairs = wire.query_pairs(raw_query)
        op, labels = model.route(self.command, raw_path, pairs)
        inp, wire_error = None, None
        if op is not None:
            try:
                inp = wire.extract_input(model.shapes, model.input_shape(op), labels,
                                         pairs, headers, body)
            except wire.WireError as exc:
                wire_error = ApiError(400, "SerializationException", str(exc))
        entry = {
            "method": self.command,
            "path": raw_path,
            "query": raw_query,
            "headers": [[k, v] for k, v in headers],
            "body": body.decode("utf-8", "replace"),
            "body_base64": base64.b64encode(body).decode("ascii"),
            "operation": op,
            "input": inp,
            "signature_valid": auth_error is None,
            "signature_error": (None if auth_error is None
                                else "%s: %s" % (auth_error.code, auth_error.message)),
            "error_code": None if auth_error is None else auth_error.code,
            "canonical_request": info.get("canonical_request"),
            "string_to_sign": info.get("string_to_sign"),
            "time": time.time(),
            "server_time": now,
            "connection": self.conn_id,
            "peer": "%s:%s" % self.client_address[:2],
            "scripted": False,
            "script_source": None,
            "service_error": None,
            "outcome": None,
        }
        self._entry = entry
        st.log(entry)
        with st.lock:
            item = st.queue.pop(0) if st.queue else None
        if item is not None:
            entry["scripted"] = True
            entry["script_source"] = "script"
            if not item.get("pass"):
                entry["outcome"] = self.serve_item(item)
                return
            if item.get("delay"):
                time.sleep(float(item["delay"]))
        suffix = bool(cfg.get("error_type_suffix"))
        if auth_error is not None:
            entry["outcome"] = self.send(error_response(auth_error, suffix))
            return
        try:
            if op is None:
                raise ApiError(404, "UnknownOperationException",
                               "Unknown operation %s %s" % (self.command, raw_path))
            if wire_error is not None:
                raise wire_error
            rule = st.peek_responder(op) if st.responders else None
            if rule is None or rule.get("validate", True):
                self.check_input(op, inp)
            if rule is not None:
                rule = st.take_responder(op)
            if rule is not None:
                entry["scripted"] = True
                entry["script_source"] = "respond"
                entry["outcome"] = self.serve_item(rule)
                return
            resp = self.answer(op, inp, cfg)
        except ApiError as err:
            entry["service_error"] = err.code
            resp = error_response(err, suffix)
        except Exception as exc:  # pragma: no cover - bug guard
            import traceback
            traceback.print_exc()
            resp = error_response(ApiError(500, "InternalServiceException", repr(exc)), suffix)
        entry["outcome"] = self.send(resp)

    def check_input(self, op, inp):
        model = self.server.model
        shape = model.input_shape(op)
        if not shape:
            return
        errors = []
        validation.validate(model.shapes, shape, inp, "", errors)
        if errors:
            code = model.validation_error(op)
            raise ApiError(model.error_status(code), code, validation.message(errors))

    def answer(self, op, inp, cfg):
        model = self.server.model
        st = self.state
        handler = STATEFUL.get(op)
        if handler is not None:
            out = handler(st, inp)
        else:
            out, warnings = self.server.synth.output(op, inp, cfg["region"], ACCOUNT_ID)
            if warnings:
                st.warn(warnings)
                for w in warnings:
                    sys.stderr.write("fake_connect: warning: %s\n" % w)
            arns = []
            collect_arns(out, arns)
            if arns:
                with st.lock:
                    st.arns.update(arns)
        extra, data = wire.serialize_output(model.shapes, model.output_shape(op), out)
        return Response(200, data, extra)

    # -- scripted responses ---------------------------------------------
    def serve_item(self, item):
        if item.get("delay"):
            time.sleep(float(item["delay"]))
        if item.get("close"):
            self.close_connection = True
        fault = item.get("fault")
        if fault is None:
            self.wfile.write(self.item_bytes(item))
            self.wfile.flush()
            return int(item.get("status", 200))
        return FAULTS[fault](self, item)

    def item_bytes(self, item, split=False):
        status = int(item.get("status", 200))
        body = item.get("body", "")
        if body is None:
            body = ""
        if not isinstance(body, str):
            body = json.dumps(body)
        body = body.encode("utf-8")
        extra = []
        for k, v in (item.get("headers") or {}).items():
            if isinstance(v, list):
                extra.extend((k, str(x)) for x in v)
            else:
                extra.append((k, str(v)))
        clen = item.get("content_length")
        clen = str(clen) if clen is not None else str(len(body))
        if item.get("no_default_headers"):
            headers = [("Content-Length", clen)]
        else:
            headers = self.base_headers(clen)
        names = set(k.lower() for k, _ in extra)
        headers = [(k, v) for k, v in headers if k.lower() not in names] + extra
        head = self.head_bytes(status, headers, item.get("reason"))
        if split:
            return head, body
        return head + body

    def fault_reset(self, item):
        self.rst_close()
        return "reset"

    def fault_reset_mid_body(self, item):
        item = dict(item)
        item.setdefault("body", DEFAULT_FAULT_BODY)
        head, body = self.item_bytes(item, split=True)
        self.wfile.write(head + body[: len(body) // 2])
        self.wfile.flush()
        time.sleep(float(item.get("rst_delay", 0.2)))
        self.rst_close()
        return "reset_mid_body"

    def fault_truncated(self, item):
        item = dict(item)
        item.setdefault("body", DEFAULT_FAULT_BODY)
        head, body = self.item_bytes(item, split=True)
        self.close_connection = True
        self.wfile.write(head + body[: len(body) // 2])
        self.wfile.flush()
        return "truncated"

    def fault_garbage(self, item):
        n = int(item.get("length", 64))
        data = bytearray(os.urandom(n))
        if data[:1] in (b"H", b"h"):
            data[0] = 0
        self.close_connection = True
        self.wfile.write(bytes(data))
        self.wfile.flush()
        return "garbage"

    def fault_trickle(self, item):
        interval = float(item.get("interval", 0.5))
        head, body = self.item_bytes(item, split=True)
        if item.get("close"):
            self.close_connection = True
        try:
            if item.get("headers_first"):
                self.wfile.write(head)
                self.wfile.flush()
                data = body
            else:
                data = head + body
            for i in range(len(data)):
                if i or item.get("headers_first"):
                    time.sleep(interval)
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
        except OSError:
            self.close_connection = True
        return "trickle"

    def fault_hang(self, item):
        self.close_connection = True
        limit = float(item.get("max_seconds", HANG_MAX_SECONDS))
        deadline = time.monotonic() + limit
        sock = self.connection
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                if isinstance(sock, ssl.SSLSocket) and sock.pending():
                    ready = True
                else:
                    ready = select.select([sock], [], [], min(left, 0.5))[0]
                if ready:
                    # Read through rfile: it may already hold buffered bytes.
                    chunk = self.rfile.read1(65536)
                    if not chunk:
                        break  # client closed
            except (OSError, ValueError):
                break
        return "hang"


DEFAULT_FAULT_BODY = json.dumps({
    "Id": "00000000-0000-4000-8000-000000000000",
    "Arn": "arn:aws:connect:us-east-1:%s:instance/00000000-0000-4000-8000-000000000000"
           % ACCOUNT_ID,
})

FAULTS = {
    "reset": Handler.fault_reset,
    "reset_mid_body": Handler.fault_reset_mid_body,
    "truncated": Handler.fault_truncated,
    "garbage": Handler.fault_garbage,
    "trickle": Handler.fault_trickle,
    "hang": Handler.fault_hang,
}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64  # listen backlog: bursts of concurrent connections (nginx spec)



def check_rule(model, payload):
    """A /_fake/respond rule, checked; raises ValueError."""
    if not isinstance(payload, dict):
        raise ValueError("a rule must be an object")
    bad = [k for k in payload if k not in RESPOND_KEYS]
    if bad:
        raise ValueError("unknown rule key(s): %s" % ", ".join(sorted(bad)))
    op = payload.get("operation")
    if op not in model.operations:
        raise ValueError("unknown operation %r" % (op,))
    times = payload.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                              or times < 1):
        raise ValueError("times must be a positive integer")
    status = payload.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        raise ValueError("status must be an HTTP status code")
    fault = payload.get("fault")
    if fault is not None and fault not in FAULTS:
        raise ValueError("unknown fault %r" % fault)
    headers = payload.get("headers")
    if headers is not None and not isinstance(headers, dict):
        raise ValueError("headers must be an object")
    return dict(payload)


def collect_arns(value, out):
    """Every string starting with 'arn:' in a synthesized output."""
    if isinstance(value, str):
        if value.startswith("arn:"):
            out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            collect_arns(v, out)
    elif isinstance(value, list):
        for v in value:
            collect_arns(v, out)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is as good as gone
        with open("/proc/%d/stat" % pid) as fh:
            stat = fh.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return True


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                     argparse.RawDescriptionHelpFormatter):
    """Defaults shown for every option; description and epilog kept as
    written; one width whatever the terminal (readable in logs too)."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=28, width=96)


DESCRIPTION = """\
A fake Amazon Connect endpoint (rest-json, API 2017-08-08) on a loopback port:
every operation of the Connect service model is routed, SigV4-checked by
botocore and validated against the model.  Instances (CreateInstance,
DescribeInstance, ListInstances, DeleteInstance) and tags (TagResource,
UntagResource, ListTagsForResource) keep state; every other operation answers
a valid, deterministic output synthesized from its output shape (paginated
ones in two pages).  Prints "LISTENING <port>" once ready."""


def build_parser():
    ap = argparse.ArgumentParser(
        prog="fake_connect.py", description=DESCRIPTION, epilog=CONTROL_HELP,
        formatter_class=_HelpFormatter)
    ap.add_argument("--host", metavar="ADDR", default="127.0.0.1", help="address to listen on")
    ap.add_argument("--port", metavar="N", type=int, default=0,
                    help="port to listen on (0: the OS picks one)")
    ap.add_argument("--access-key", metavar="AKID", default="AKIDFAKE",
                    help="the only access key id accepted")
    ap.add_argument("--secret-key", metavar="SECRET", default="secret",
                    help="the secret key signatures are checked with")
    ap.add_argument("--session-token", metavar="TOKEN", default=None,
                    help="if set: required, signed X-Amz-Security-Token")
    ap.add_argument("--region", metavar="NAME", default="us-east-1",
                    help="the region requests must be signed for")
    ap.add_argument("--create-delay", metavar="SECONDS", type=float, default=0.5,
                    help="seconds an instance stays CREATION_IN_PROGRESS")
    ap.add_argument("--quota", metavar="N", type=int, default=10,
                    help="instances allowed at once (then 402)")
    ap.add_argument("--max-skew", metavar="SECONDS", type=float, default=300.0,
                    help="seconds X-Amz-Date may be off the server clock")
    ap.add_argument("--clock-offset", metavar="SECONDS", type=float, default=0.0,
                    help="seconds added to the server clock")
    ap.add_argument("--tls-cert", metavar="FILE", default=None,
                    help="PEM certificate: serve HTTPS (with --tls-key)")
    ap.add_argument("--tls-key", metavar="FILE", default=None, help="PEM private key for --tls-cert")
    ap.add_argument("--model", default=None, metavar="PATH",
                    help="service-2.json or its folder (see below)")
    ap.add_argument("--strict-arns", action="store_true",
                    help="tag calls on ARNs never handed out: 404")
    ap.add_argument("--error-type-suffix", action="store_true",
                    help="x-amzn-ErrorType ends ':http://internal...'")
    ap.add_argument("--parent-pid", metavar="PID", type=int, default=None,
                    help="exit when this process is gone")
    ap.add_argument("--verbose", action="store_true",
                    help="log every HTTP request on stderr")
    return ap


def main(argv=None):
    ap = build_parser()
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    try:
        model = model_mod.Model(model_mod.find(HERE, args.model))
    except (OSError, ValueError, KeyError) as exc:
        ap.error(str(exc))

    defaults = {
        "access_key": args.access_key,
        "secret_key": args.secret_key,
        "session_token": args.session_token or None,
        "region": args.region,
        "create_delay": args.create_delay,
        "quota": args.quota,
        "clock_offset": args.clock_offset,
        "max_skew": args.max_skew,
        "fail_next_create": None,
        "fail_aliases": {},
        "strict_arns": bool(args.strict_arns),
        "error_type_suffix": bool(args.error_type_suffix),
    }
    server_cls = Server
    if ":" in args.host:
        server_cls = type("Server6", (Server,), {"address_family": socket.AF_INET6})
    server = server_cls((args.host, args.port), Handler)
    server.state = State(defaults)
    server.model = model
    server.synth = synth_mod.Synth(model)
    server.verbose = args.verbose
    server.tls = False
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
        server.tls = True

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    sys.stdout.write("LISTENING %d\n" % server.server_address[1])
    sys.stdout.flush()
    while not stop.wait(0.5):
        if args.parent_pid and not pid_alive(args.parent_pid):
            break
    server.shutdown()
    server.server_close()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
