"""The Connect service model for the fake server: where it is found, loading
it once, and the route index (HTTP method + requestUri template -> operation).

Search order for service-2.json (the first that exists wins):
  1. --model PATH (a file, or a folder holding service-2.json);
  2. $FAKE_CONNECT_MODEL (same forms);
  3. the source tree: <script dir>/../../data/models/connect-2017-08-08/;
  4. an installed layout beside the script: <script dir>/models/connect-2017-08-08/,
     <script dir>/connect-2017-08-08/, then <script dir>/service-2.json.
paginators-1.json is read from the same folder when present.
"""

import json
import os
import urllib.parse

SERVICE_DIR = "connect-2017-08-08"


def candidates(script_dir, explicit=None):
    out = []
    if explicit:
        out.append(explicit)
    env = os.environ.get("FAKE_CONNECT_MODEL")
    if env:
        out.append(env)
    out += [
        os.path.join(script_dir, "..", "..", "data", "models", SERVICE_DIR),
        os.path.join(script_dir, "models", SERVICE_DIR),
        os.path.join(script_dir, SERVICE_DIR),
        os.path.join(script_dir, "service-2.json"),
    ]
    return out


def find(script_dir, explicit=None):
    """Path of service-2.json; raises FileNotFoundError listing the places tried."""
    tried = []
    for c in candidates(script_dir, explicit):
        path = os.path.join(c, "service-2.json") if os.path.isdir(c) else c
        tried.append(os.path.normpath(path))
        if os.path.isfile(path):
            return os.path.normpath(path)
        if c is explicit:
            break  # an explicit path that does not exist is an error, not a hint
    raise FileNotFoundError("Connect model (service-2.json) not found; tried: "
                            + ", ".join(tried))


class Route(object):
    __slots__ = ("op", "segments", "literals", "query")

    def __init__(self, op, uri):
        path, _, query = uri.partition("?")
        self.op = op
        # each segment: ("lit", text) or ("label", name)
        self.segments = []
        for seg in path.split("/")[1:]:
            if seg.startswith("{") and seg.endswith("}"):
                self.segments.append(("label", seg[1:-1].rstrip("+")))
            else:
                self.segments.append(("lit", seg))
        self.literals = sum(1 for k, _ in self.segments if k == "lit")
        # literal query parts of the template ("?type=x" or "?flag")
        self.query = []
        for part in query.split("&") if query else []:
            k, sep, v = part.partition("=")
            if k and not k.startswith("{"):
                self.query.append((k, v if sep else None))

    def match(self, segs, query_pairs):
        labels = {}
        for (kind, text), raw in zip(self.segments, segs):
            value = urllib.parse.unquote(raw)
            if kind == "lit":
                if value != text:
                    return None
            else:
                if value == "":
                    return None
                labels[text] = value
        for k, v in self.query:
            if not any(qk == k and (v is None or qv == v) for qk, qv in query_pairs):
                return None
        return labels


class Model(object):
    def __init__(self, service_path):
        self.path = service_path
        with open(service_path, "r", encoding="utf-8") as fh:
            data = json.load(fh)
        self.metadata = data.get("metadata", {})
        self.operations = data["operations"]
        self.shapes = data["shapes"]
        pag = os.path.join(os.path.dirname(service_path), "paginators-1.json")
        self.paginators = {}
        if os.path.isfile(pag):
            with open(pag, "r", encoding="utf-8") as fh:
                self.paginators = json.load(fh).get("pagination", {})
        self.routes = {}  # (method, number of segments) -> [Route], most literal first
        for name, op in self.operations.items():
            http = op.get("http", {})
            r = Route(name, http.get("requestUri", "/"))
            self.routes.setdefault((http.get("method", "POST"), len(r.segments)), []).append(r)
        for lst in self.routes.values():
            lst.sort(key=lambda r: (-r.literals, [k != "lit" for k, _ in r.segments]))

    def route(self, method, raw_path, query_pairs):
        """(operation name, {label: decoded value}) or (None, None)."""
        segs = raw_path.split("/")[1:] if raw_path.startswith("/") else [raw_path]
        for r in self.routes.get((method, len(segs)), ()):
            labels = r.match(segs, query_pairs)
            if labels is not None:
                return r.op, labels
        return None, None

    def input_shape(self, op):
        ref = self.operations[op].get("input")
        return ref["shape"] if ref else None

    def output_shape(self, op):
        ref = self.operations[op].get("output")
        return ref["shape"] if ref else None

    def error_names(self, op):
        return [e["shape"] for e in self.operations[op].get("errors", [])]

    def validation_error(self, op):
        """The error this operation answers for invalid input (its model
        allows InvalidRequestException or InvalidParameterException)."""
        names = self.error_names(op)
        for code in ("InvalidRequestException", "InvalidParameterException"):
            if code in names:
                return code
        return "InvalidRequestException"

    def error_status(self, code, default=400):
        shape = self.shapes.get(code) or {}
        return int((shape.get("error") or {}).get("httpStatusCode", default))
