#!/usr/bin/python3
"""Fake Amazon Connect (rest-json, 2017-08-08) server for the test suite.

Implements CreateInstance, DescribeInstance, ListInstances and DeleteInstance
with SigV4 verification done by botocore's own signer, plus an unsigned
control API under /_fake/.  Must run with /usr/bin/python3 (Debian's
python3-botocore).  Prints exactly one line "LISTENING <port>" on stdout once
ready; exits on SIGTERM/SIGINT or when --parent-pid is gone.

Command line:
  --host 127.0.0.1  --port 0  --access-key AKIDFAKE  --secret-key secret
  --session-token TOK  --region us-east-1  --create-delay 0.5  --quota 10
  --max-skew 300  --clock-offset 0  --tls-cert F --tls-key F
  --parent-pid PID  --verbose

Control API (unsigned, JSON, never logged, bypasses the script queue):
  POST /_fake/reset     instances, log, queue, tokens and config -> start state
  POST /_fake/script    {"responses": [ITEM, ...]} appended to a FIFO
  GET  /_fake/script    the pending queue
  GET  /_fake/requests  logged service requests
  GET  /_fake/instances all instances incl. ClientToken/DirectoryId
  GET|POST /_fake/config  merge any of: create_delay quota clock_offset
                        max_skew fail_next_create fail_aliases access_key
                        secret_key session_token region (unknown key -> 400)
  GET  /_fake/health

ITEM (served instead of normal handling, after logging + signature check,
whatever the signature verdict):
  {"status", "headers": {name: value|[values]}, "body": str|json,
   "content_length": sent as-is, "reason", "no_default_headers", "close",
   "delay": seconds, "pass": true (normal handling after the delay),
   "fault": reset | reset_mid_body | truncated | garbage | trickle | hang}
  trickle: "interval" (0.5), "headers_first" (false: whole response trickles)
  reset_mid_body: "rst_delay" (0.2 s between the half body and the RST)
  garbage: "length" (64); hang: "max_seconds" (60)
"""

import argparse
import base64
import calendar
import email.utils
import hashlib
import hmac
import http
import http.server
import itertools
import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import unicodedata
import urllib.parse
import uuid

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.compat import HTTPHeaders
    from botocore.credentials import Credentials
except ImportError as exc:  # pragma: no cover
    sys.stderr.write(
        "fake_connect.py needs botocore (run it with /usr/bin/python3): %s\n" % exc
    )
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_PATH = os.path.join(HERE, "..", "..", "data", "connect-instance-model.json")

ACCOUNT_ID = "123456789012"
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
HANG_MAX_SECONDS = 60.0

CONFIG_KEYS = (
    "create_delay", "quota", "clock_offset", "max_skew", "fail_next_create",
    "fail_aliases", "access_key", "secret_key", "session_token", "region",
)


# --------------------------------------------------------------------------
# Model-driven validation
# --------------------------------------------------------------------------

def _load_model():
    with open(MODEL_PATH, "r", encoding="utf-8") as fh:
        return json.load(fh)


MODEL = _load_model()
SHAPES = MODEL["shapes"]

# Sentinels used to emulate \p{L} \p{Z} \p{N} for non-ASCII characters with
# Python's re module (which has no Unicode property classes).
_SENT_L, _SENT_Z, _SENT_N = "\ue000", "\ue001", "\ue002"
_PROP_CLASS = {"L": "a-zA-Z" + _SENT_L, "Z": " " + _SENT_Z, "N": "0-9" + _SENT_N}


def _map_unicode_props(value):
    out = []
    for ch in value:
        if ord(ch) < 128:
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat.startswith("L"):
            out.append(_SENT_L)
        elif cat.startswith("Z"):
            out.append(_SENT_Z)
        elif cat.startswith("N"):
            out.append(_SENT_N)
        else:
            out.append("\x00")  # matches no class of ours
    return "".join(out)


_pattern_cache = {}


def _compile_pattern(pattern):
    """Translate a (Java-flavoured) model pattern into a Python matcher."""
    if pattern in _pattern_cache:
        return _pattern_cache[pattern]
    uses_props = "\\p{" in pattern
    py = re.sub(r"\\p\{([LZN])\}", lambda m: _PROP_CLASS[m.group(1)], pattern)
    if py.endswith("$") and not py.endswith("\\$"):
        py = py[:-1] + r"\Z"
    rx = re.compile(py, re.ASCII)

    def matcher(value):
        subject = _map_unicode_props(value) if uses_props else value
        return rx.search(subject) is not None

    _pattern_cache[pattern] = matcher
    return matcher


def _lower_first(name):
    return name[:1].lower() + name[1:]


def _describe_value(value, sensitive):
    if sensitive:
        return "Value"
    if value is None:
        return "Value null"
    if isinstance(value, str):
        return "Value '%s'" % value
    return "Value '%s'" % json.dumps(value)


def validate(shape_name, value, path, errors, sensitive=False):
    """Validate `value` (already JSON-decoded) against model shape."""
    shape = SHAPES[shape_name]
    stype = shape["type"]
    sensitive = sensitive or bool(shape.get("sensitive"))
    where = path or "input"

    def fail(constraint):
        errors.append(
            "%s at '%s' failed to satisfy constraint: %s"
            % (_describe_value(value, sensitive), where, constraint)
        )

    if stype == "structure":
        if not isinstance(value, dict):
            fail("Member must be a structure")
            return
        for req in shape.get("required", []):
            if value.get(req) is None:
                sub = (path + "." if path else "") + _lower_first(req)
                errors.append(
                    "Value null at '%s' failed to satisfy constraint: "
                    "Member must not be null" % sub
                )
        for mname, mdef in shape.get("members", {}).items():
            if mdef.get("location"):
                continue  # uri / querystring members are not in the body
            if mname in value and value[mname] is not None:
                sub = (path + "." if path else "") + _lower_first(mname)
                validate(mdef["shape"], value[mname], sub, errors, sensitive)
        return

    if stype == "string":
        if not isinstance(value, str):
            fail("Member must be a string")
            return
        if "min" in shape and len(value) < shape["min"]:
            fail("Member must have length greater than or equal to %d" % shape["min"])
        if "max" in shape and len(value) > shape["max"]:
            fail("Member must have length less than or equal to %d" % shape["max"])
        if "enum" in shape and value not in shape["enum"]:
            fail("Member must satisfy enum value set: [%s]" % ", ".join(shape["enum"]))
        if "pattern" in shape and not _compile_pattern(shape["pattern"])(value):
            fail("Member must satisfy regular expression pattern: %s" % shape["pattern"])
        return

    if stype == "boolean":
        if not isinstance(value, bool):
            fail("Member must be a boolean")
        return

    if stype in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            fail("Member must be an integer")
            return
        if "min" in shape and value < shape["min"]:
            fail("Member must have value greater than or equal to %d" % shape["min"])
        if "max" in shape and value > shape["max"]:
            fail("Member must have value less than or equal to %d" % shape["max"])
        return

    if stype == "map":
        if not isinstance(value, dict):
            fail("Member must be a map")
            return
        if "min" in shape and len(value) < shape["min"]:
            fail("Member must have length greater than or equal to %d" % shape["min"])
        if "max" in shape and len(value) > shape["max"]:
            fail("Member must have length less than or equal to %d" % shape["max"])
        for k, v in value.items():
            validate(shape["key"]["shape"], k, where + ".key", errors, sensitive)
            if v is None:
                errors.append(
                    "Value null at '%s.value' failed to satisfy constraint: "
                    "Member must not be null" % where
                )
            else:
                validate(shape["value"]["shape"], v, where + ".value", errors, sensitive)
        return

    if stype == "list":
        if not isinstance(value, list):
            fail("Member must be a list")
            return
        if "min" in shape and len(value) < shape["min"]:
            fail("Member must have length greater than or equal to %d" % shape["min"])
        if "max" in shape and len(value) > shape["max"]:
            fail("Member must have length less than or equal to %d" % shape["max"])
        for i, item in enumerate(value):
            validate(shape["member"]["shape"], item, "%s.%d" % (where, i + 1), errors, sensitive)
        return

    if stype == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail("Member must be a timestamp")
        return
    # Anything else: accept.


def validation_message(errors):
    n = len(errors)
    return "%d validation error%s detected: %s" % (
        n, "" if n == 1 else "s", "; ".join(errors))


# --------------------------------------------------------------------------
# Errors and SigV4 verification
# --------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, status, code, message, extra=None):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}


class _Verifier(SigV4Auth):
    """botocore's SigV4 signer, except that the headers to sign are exactly
    the ones the client listed in SignedHeaders (botocore's client-side
    blacklist, e.g. user-agent, does not apply on the server side)."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


def _fmt_ts(epoch):
    return time.strftime(SIGV4_TIMESTAMP, time.gmtime(epoch))


def _minutes(seconds):
    m = seconds / 60.0
    return ("%d" % m) if m == int(m) else ("%g" % m)


def _wire_text(s):
    """http.server decodes the request line and headers as ISO-8859-1; a
    client that sent raw UTF-8 signed the UTF-8 text, so undo that."""
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def verify_sigv4(cfg, scheme, method, raw_path, raw_query, headers, body, now):
    """Returns a dict describing the check. Raises ApiError on failure.

    headers: list of (name, value) in received order.
    """
    info = {"canonical_request": None, "string_to_sign": None}

    def first(name):
        for k, v in headers:
            if k.lower() == name:
                return v
        return None

    auth = first("authorization")
    if auth is None or auth.strip() == "":
        raise ApiError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    m = re.match(r"^\s*(\S+)\s*(.*)$", auth, re.S)
    algorithm, rest = m.group(1), m.group(2)
    if algorithm != "AWS4-HMAC-SHA256":
        raise ApiError(403, "IncompleteSignatureException",
                       "Unsupported AWS 'algorithm': '%s'" % algorithm)
    params = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        k, sep, v = part.partition("=")
        if not sep:
            raise ApiError(403, "IncompleteSignatureException",
                           "'%s' not a valid key=value pair (missing equal-sign) in "
                           "Authorization header: '%s'." % (part, auth))
        params[k.strip()] = v.strip()
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if p not in params]
    if missing:
        raise ApiError(403, "IncompleteSignatureException",
                       " ".join("Authorization header requires '%s' parameter." % p
                                for p in missing)
                       + " Authorization=%s" % auth)
    cred = params["Credential"].split("/")
    if len(cred) != 5:
        raise ApiError(403, "IncompleteSignatureException",
                       "Credential must have exactly 5 slash-delimited elements, e.g. "
                       "keyid/date/region/service/term, got '%s'" % params["Credential"])
    akid, scope_date, scope_region, scope_service, scope_term = cred
    if akid != cfg["access_key"]:
        raise ApiError(403, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    token = first("x-amz-security-token")
    signed = [h for h in params["SignedHeaders"].split(";")]
    signed_set = set(h.lower() for h in signed)
    if cfg.get("session_token"):
        if token is None or token != cfg["session_token"]:
            raise ApiError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if "x-amz-security-token" not in signed_set:
            raise ApiError(403, "InvalidSignatureException",
                           "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS "
                           "Authorization.")
    elif token is not None:
        raise ApiError(403, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    if "host" not in signed_set:
        raise ApiError(403, "InvalidSignatureException",
                       "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                       "Authorization.")
    amz_date = first("x-amz-date")
    if amz_date is None:
        raise ApiError(403, "IncompleteSignatureException",
                       "Authorization header requires existence of either a "
                       "'X-Amz-Date' or a 'Date' header. Authorization=%s" % auth)
    amz_date = amz_date.strip()
    try:
        req_epoch = calendar.timegm(time.strptime(amz_date, SIGV4_TIMESTAMP))
        if len(amz_date) != 16:
            raise ValueError(amz_date)
    except ValueError:
        raise ApiError(403, "IncompleteSignatureException",
                       "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                       "http://en.wikipedia.org/wiki/ISO_8601" % amz_date)
    if scope_region != cfg["region"]:
        raise ApiError(403, "InvalidSignatureException",
                       "Credential should be scoped to a valid region, not '%s'. "
                       % scope_region)
    service = cfg.get("service", "connect")
    if scope_service != service:
        raise ApiError(403, "InvalidSignatureException",
                       "Credential should be scoped to correct service: '%s'. " % service)
    if scope_term != "aws4_request":
        raise ApiError(403, "InvalidSignatureException",
                       "Credential should be scoped with a valid terminator: "
                       "'aws4_request', not '%s'. " % scope_term)
    if scope_date != amz_date[:8]:
        raise ApiError(403, "InvalidSignatureException",
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                       "version of date from HTTP: '%s' != '%s', from '%s'."
                       % (scope_date, amz_date[:8], amz_date))
    max_skew = float(cfg["max_skew"])
    if req_epoch < now - max_skew:
        raise ApiError(403, "InvalidSignatureException",
                       "Signature expired: %s is now earlier than %s (%s - %s min.)"
                       % (amz_date, _fmt_ts(now - max_skew), _fmt_ts(now),
                          _minutes(max_skew)))
    if req_epoch > now + max_skew:
        raise ApiError(403, "InvalidSignatureException",
                       "Signature not yet current: %s is still later than %s (%s + %s min.)"
                       % (amz_date, _fmt_ts(now + max_skew), _fmt_ts(now),
                          _minutes(max_skew)))

    # Rebuild the request exactly as received and let botocore sign it.
    host = first("host") or "localhost"
    url = "%s://%s%s" % (scheme, host, _wire_text(raw_path))
    request = AWSRequest(method=method, url=url, data=body)
    if raw_query:
        # AWS canonicalises the query by decoding each name/value and encoding
        # it again (RFC 3986 unreserved characters kept); botocore does the
        # same from request.params and then sorts the pairs.
        pairs = []
        for pair in raw_query.split("&"):
            k, _, v = pair.partition("=")
            pairs.append((urllib.parse.unquote_plus(_wire_text(k)),
                          urllib.parse.unquote_plus(_wire_text(v))))
        request.params = pairs
    present = set()
    for name, value in headers:
        if name.lower() in signed_set:
            request.headers[name] = _wire_text(value)  # appends duplicates
            present.add(name.lower())
    absent = [h for h in signed if h.lower() not in present]
    if absent:
        raise ApiError(403, "InvalidSignatureException",
                       "Signed header(s) not present in the request: %s" % ";".join(absent))
    if "X-Amz-Content-SHA256" in request.headers:
        claimed = request.headers["X-Amz-Content-SHA256"].strip()
        if claimed != hashlib.sha256(body).hexdigest():
            raise ApiError(403, "InvalidSignatureException",
                           "The provided 'x-amz-content-sha256' header does not match "
                           "what was computed.")
    request.context["timestamp"] = amz_date
    signer = _Verifier(Credentials(cfg["access_key"], cfg["secret_key"],
                                   cfg.get("session_token")),
                       service, cfg["region"])
    canonical = signer.canonical_request(request)
    sts = signer.string_to_sign(request, canonical)
    expected = signer.signature(sts, request)
    info["canonical_request"] = canonical
    info["string_to_sign"] = sts
    given = params["Signature"]
    if not hmac.compare_digest(expected.encode("utf-8"),
                               given.encode("utf-8", "replace")):
        raise ApiError(403, "InvalidSignatureException",
                       "The request signature we calculated does not match the signature "
                       "you provided. Check your AWS Secret Access Key and signing method. "
                       "Consult the service documentation for details.\n\n"
                       "The Canonical String for this request should have been\n'%s'\n\n"
                       "The String-to-Sign should have been\n'%s'\n" % (canonical, sts),
                       {"canonical_request": canonical, "string_to_sign": sts})
    return info


# --------------------------------------------------------------------------
# Service state
# --------------------------------------------------------------------------

class State(object):
    def __init__(self, defaults):
        self.lock = threading.RLock()
        self.defaults = dict(defaults)
        self.conn_ids = itertools.count(1)
        self.reset()

    def reset(self):
        with self.lock:
            self.config = dict(self.defaults)
            self.config["fail_aliases"] = dict(self.defaults.get("fail_aliases") or {})
            self.instances = {}        # id -> record
            self.order = []            # ids in creation order
            self.seq = itertools.count(1)
            self.create_tokens = {}    # ClientToken -> (Id, Arn)
            self.delete_tokens = {}    # clientToken -> Id
            self.list_tokens = {}      # NextToken -> sequence number
            self.requests = []
            self.queue = []

    def server_now(self):
        return time.time() + float(self.config.get("clock_offset") or 0)

    # -- instances -----------------------------------------------------
    def _refresh(self, rec):
        if rec["InstanceStatus"] == "CREATION_IN_PROGRESS" and \
                time.monotonic() >= rec["_ready_at"]:
            if rec["_fail_reason"] is not None:
                rec["InstanceStatus"] = "CREATION_FAILED"
                rec["StatusReason"] = {"Message": rec["_fail_reason"]}
            else:
                rec["InstanceStatus"] = "ACTIVE"

    def live(self):
        out = []
        for iid in self.order:
            rec = self.instances[iid]
            self._refresh(rec)
            out.append(rec)
        return out


def public_instance(rec, summary=False, internal=False):
    keys = ["Id", "Arn", "IdentityManagementType", "InstanceAlias", "CreatedTime",
            "ServiceRole", "InstanceStatus", "InboundCallsEnabled",
            "OutboundCallsEnabled", "InstanceAccessUrl"]
    if not summary:
        keys += ["StatusReason", "Tags"]
    if internal:
        keys += ["ClientToken", "DirectoryId"]
    out = {}
    for k in keys:
        if rec.get(k) is not None:
            out[k] = rec[k]
    return out


# --------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------

class Response(object):
    def __init__(self, status, body=b"", headers=None, reason=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = headers or []
        self.reason = reason


def json_body(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def error_response(err):
    body = {"message": err.message}
    body.update({k: v for k, v in err.extra.items() if k in ("Reason",)})
    return Response(err.status, json_body(body), [("x-amzn-ErrorType", err.code)])


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
            self.send(Response(400, json_body({"message": "Could not read body"}),
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
                elif path == "/_fake/requests" and cmd == "GET":
                    out = st.requests
                elif path == "/_fake/instances" and cmd == "GET":
                    out = [public_instance(r, internal=True) for r in st.live()]
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
                elif path == "/_fake/health":
                    out = {"ok": True, "pid": os.getpid()}
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
        st = self.state
        headers = list(self.headers.items())
        scheme = "https" if self.server.tls else "http"
        with st.lock:
            cfg = dict(st.config)
            now = st.server_now()
        auth_error = None
        info = {}
        try:
            info = verify_sigv4(cfg, scheme, self.command, raw_path, raw_query,
                                headers, body, now)
        except ApiError as err:
            auth_error = err
            info = err.extra
        except Exception as exc:  # never let the verifier kill the connection
            auth_error = ApiError(403, "InvalidSignatureException",
                                  "signature verification error: %r" % (exc,))
        entry = {
            "method": self.command,
            "path": raw_path,
            "query": raw_query,
            "headers": [[k, v] for k, v in headers],
            "body": body.decode("utf-8", "replace"),
            "body_base64": base64.b64encode(body).decode("ascii"),
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
            "outcome": None,
        }
        with st.lock:
            st.requests.append(entry)
            item = st.queue.pop(0) if st.queue else None
        if item is not None:
            entry["scripted"] = True
            if not item.get("pass"):
                entry["outcome"] = self.serve_item(item)
                return
            if item.get("delay"):
                time.sleep(float(item["delay"]))
        if auth_error is not None:
            entry["outcome"] = self.send(error_response(auth_error))
            return
        try:
            resp = self.route(raw_path, raw_query, body)
        except ApiError as err:
            resp = error_response(err)
        except Exception as exc:  # pragma: no cover - bug guard
            import traceback
            traceback.print_exc()
            resp = error_response(ApiError(500, "InternalServiceException", repr(exc)))
        entry["outcome"] = self.send(resp)

    def route(self, raw_path, raw_query, body):
        m = self.command
        if raw_path == "/instance":
            if m == "PUT":
                return self.create_instance(body)
            if m == "GET":
                return self.list_instances(raw_query)
        elif raw_path.startswith("/instance/") and "/" not in raw_path[len("/instance/"):]:
            iid = urllib.parse.unquote(raw_path[len("/instance/"):])
            if iid and m == "GET":
                return self.describe_instance(iid)
            if iid and m == "DELETE":
                return self.delete_instance(iid, raw_query)
        raise ApiError(404, "UnknownOperationException",
                       "Unknown operation %s %s" % (m, raw_path))

    @staticmethod
    def _check_instance_id(iid):
        errors = []
        validate("InstanceId", iid, "instanceId", errors)
        if errors:
            raise ApiError(400, "InvalidRequestException", validation_message(errors))

    def create_instance(self, body):
        st = self.state
        if body.strip():
            try:
                params = json.loads(body.decode("utf-8"))
            except ValueError as exc:
                raise ApiError(400, "SerializationException",
                               "Could not parse request body as JSON: %s" % exc)
        else:
            params = {}
        if not isinstance(params, dict):
            raise ApiError(400, "SerializationException",
                           "Request body must be a JSON object")
        errors = []
        validate("CreateInstanceRequest", params, "", errors)
        if errors:
            raise ApiError(400, "InvalidRequestException", validation_message(errors))
        token = params.get("ClientToken") or None
        alias = params.get("InstanceAlias")
        with st.lock:
            cfg = st.config
            if token is not None and token in st.create_tokens:
                iid, arn = st.create_tokens[token]
                return Response(200, json_body({"Id": iid, "Arn": arn}))
            live = st.live()
            if alias is not None:
                for rec in live:
                    if rec.get("InstanceAlias", "").lower() == alias.lower() and \
                            rec["InstanceStatus"] != "CREATION_FAILED":
                        raise ApiError(400, "InvalidRequestException",
                                       "Alias '%s' is already in use by instance %s."
                                       % (alias, rec["Id"]))
            quota = cfg.get("quota")
            in_use = [r for r in live if r["InstanceStatus"] != "CREATION_FAILED"]
            if quota is not None and len(in_use) >= int(quota):
                raise ApiError(402, "ServiceQuotaExceededException",
                               "The service quota has been exceeded: at most %d instances "
                               "are allowed in this account." % int(quota))
            fail_reason = None
            if cfg.get("fail_next_create") is not None:
                fail_reason = str(cfg["fail_next_create"])
                cfg["fail_next_create"] = None
            elif alias is not None and alias in (cfg.get("fail_aliases") or {}):
                fail_reason = str(cfg["fail_aliases"][alias])
            iid = str(uuid.uuid4())
            arn = "arn:aws:connect:%s:%s:instance/%s" % (cfg["region"], ACCOUNT_ID, iid)
            rec = {
                "Id": iid,
                "Arn": arn,
                "IdentityManagementType": params["IdentityManagementType"],
                "InstanceAlias": alias,
                "CreatedTime": round(st.server_now(), 3),
                "ServiceRole": "arn:aws:iam::%s:role/aws-service-role/connect.amazonaws.com/"
                               "AWSServiceRoleForAmazonConnect_%s"
                               % (ACCOUNT_ID, uuid.uuid4().hex[:20]),
                "InstanceStatus": "CREATION_IN_PROGRESS",
                "StatusReason": None,
                "InboundCallsEnabled": params["InboundCallsEnabled"],
                "OutboundCallsEnabled": params["OutboundCallsEnabled"],
                "InstanceAccessUrl": "https://%s.my.connect.aws" % (alias or iid),
                "Tags": dict(params.get("Tags") or {}),
                "ClientToken": params.get("ClientToken"),
                "DirectoryId": params.get("DirectoryId"),
                "_ready_at": time.monotonic() + float(cfg.get("create_delay") or 0),
                "_fail_reason": fail_reason,
                "_seq": next(st.seq),
            }
            st.instances[iid] = rec
            st.order.append(iid)
            if token is not None:
                st.create_tokens[token] = (iid, arn)
        return Response(200, json_body({"Id": iid, "Arn": arn}))

    def describe_instance(self, iid):
        self._check_instance_id(iid)
        st = self.state
        with st.lock:
            rec = st.instances.get(iid)
            if rec is None:
                raise ApiError(404, "ResourceNotFoundException",
                               "Instance not found: %s" % iid)
            st._refresh(rec)
            return Response(200, json_body({"Instance": public_instance(rec)}))

    def list_instances(self, raw_query):
        st = self.state
        q = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        max_results = 10
        if "maxResults" in q:
            try:
                max_results = int(q["maxResults"], 10)
            except ValueError:
                raise ApiError(400, "InvalidRequestException",
                               "1 validation error detected: Value '%s' at 'maxResults' "
                               "failed to satisfy constraint: Member must be an integer"
                               % q["maxResults"])
            errors = []
            validate("MaxResult10", max_results, "maxResults", errors)
            if errors:
                raise ApiError(400, "InvalidRequestException", validation_message(errors))
        with st.lock:
            start_seq = 0
            if "nextToken" in q:
                tok = q["nextToken"]
                if tok not in st.list_tokens:
                    raise ApiError(400, "InvalidRequestException",
                                   "Invalid NextToken: the token is invalid or has expired.")
                start_seq = st.list_tokens[tok]
            items = [r for r in st.live() if r["_seq"] >= start_seq]
            page, more = items[:max_results], items[max_results:]
            out = {"InstanceSummaryList": [public_instance(r, summary=True) for r in page]}
            if more:
                # Opaque, and deliberately full of characters that need
                # percent-encoding ('+', '/', '=').
                tok = base64.b64encode(os.urandom(31)).decode("ascii")
                st.list_tokens[tok] = more[0]["_seq"]
                out["NextToken"] = tok
        return Response(200, json_body(out))

    def delete_instance(self, iid, raw_query):
        self._check_instance_id(iid)
        st = self.state
        q = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        token = q.get("clientToken") or None
        if token is not None:
            errors = []
            validate("ClientToken", token, "clientToken", errors)
            if errors:
                raise ApiError(400, "InvalidRequestException", validation_message(errors))
        with st.lock:
            if iid not in st.instances:
                if token is not None and st.delete_tokens.get(token) == iid:
                    return Response(200, b"")
                raise ApiError(404, "ResourceNotFoundException",
                               "Instance not found: %s" % iid)
            del st.instances[iid]
            st.order.remove(iid)
            if token is not None:
                st.delete_tokens[token] = iid
        return Response(200, b"")

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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", default="AKIDFAKE")
    ap.add_argument("--secret-key", default="secret")
    ap.add_argument("--session-token", default=None)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--create-delay", type=float, default=0.5)
    ap.add_argument("--quota", type=int, default=10)
    ap.add_argument("--max-skew", type=float, default=300.0)
    ap.add_argument("--clock-offset", type=float, default=0.0)
    ap.add_argument("--tls-cert", default=None)
    ap.add_argument("--tls-key", default=None)
    ap.add_argument("--parent-pid", type=int, default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

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
    }
    server_cls = Server
    if ":" in args.host:
        server_cls = type("Server6", (Server,), {"address_family": socket.AF_INET6})
    server = server_cls((args.host, args.port), Handler)
    server.state = State(defaults)
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
