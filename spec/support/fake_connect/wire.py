"""The rest-json wire format for the fake server: an operation's input taken
apart from the request (uri labels, querystring, headers, JSON body under the
members' locationName or name) and its output put together (JSON body,
header-bound members as headers).

Types on the way in: querystring lists from repeated keys, integers,
booleans ("true"/"false"), timestamps as ISO-8601; header timestamps as
HTTP-date; a value that does not parse is kept as the string it was, so that
validation reports the type.  Timestamps become epoch seconds (numbers)."""

import datetime
import email.utils
import json
import re
import urllib.parse


class WireError(Exception):
    """The request could not be decoded (SerializationException)."""


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
                  r"(?:[Zz]|[+-]\d{2}:?\d{2})?$")


def parse_iso8601(text):
    """Epoch seconds (float) or None; bounded input, one regex check first."""
    if not isinstance(text, str) or len(text) > 64 or not _ISO.match(text):
        return None
    t = text.replace("z", "Z").replace("t", "T")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        dt = datetime.datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def parse_http_date(text):
    if not isinstance(text, str) or len(text) > 64:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def _number(text):
    try:
        return float(text) if len(text) <= 64 else None
    except ValueError:
        return None


def _epoch(v):
    return int(v) if v == int(v) else v


def scalar_from_text(shapes, shape_name, text, where):
    """A querystring/header/label text as the member's type (or the text)."""
    shape = shapes[shape_name]
    t = shape["type"]
    if t in ("integer", "long"):
        if re.match(r"^[+-]?\d{1,19}$", text):
            return int(text)
        return text
    if t in ("float", "double"):
        n = _number(text)
        return n if n is not None else text
    if t == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if t == "timestamp":
        fmt = shape.get("timestampFormat") or ("rfc822" if where == "header" else "iso8601")
        if fmt == "rfc822":
            v = parse_http_date(text)
            if v is None:
                v = parse_iso8601(text)
        elif fmt == "unixTimestamp":
            v = _number(text)
        else:
            v = parse_iso8601(text)
            if v is None:
                v = _number(text)
        return _epoch(v) if v is not None else text
    return text


def query_pairs(raw_query):
    """[(name, value)] percent-decoded ('+' is a space, as AWS reads it)."""
    if not raw_query:
        return []
    return urllib.parse.parse_qsl(raw_query, keep_blank_values=True)


def has_body_members(shapes, shape_name):
    if not shape_name:
        return False
    return any(not m.get("location") for m in shapes[shape_name].get("members", {}).values())


def extract_input(shapes, shape_name, labels, pairs, headers, body):
    """The operation's input as a dict of member name -> value.

    labels: {locationName: decoded text}; pairs: decoded query pairs;
    headers: [(name, value)]; body: bytes.  Raises WireError."""
    out = {}
    if not shape_name:
        return out
    shape = shapes[shape_name]
    members = shape.get("members", {})
    if has_body_members(shapes, shape_name) and body.strip():
        try:
            doc = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise WireError("Could not parse request body as JSON: %s" % exc)
        if not isinstance(doc, dict):
            raise WireError("Request body must be a JSON object")
    else:
        doc = {}
    hmap = {}
    for k, v in headers:
        hmap.setdefault(k.lower(), []).append(v)
    consumed = set()
    qmap_member = None
    for mname, mdef in members.items():
        loc = mdef.get("location")
        key = mdef.get("locationName", mname)
        mshape = shapes[mdef["shape"]]
        if loc == "uri":
            if key in labels:
                out[mname] = scalar_from_text(shapes, mdef["shape"], labels[key], "uri")
        elif loc == "querystring":
            if mshape["type"] == "map":
                qmap_member = (mname, mdef)
                continue
            values = [v for k, v in pairs if k == key]
            if not values:
                continue
            consumed.add(key)
            if mshape["type"] == "list":
                item = mshape["member"]["shape"]
                out[mname] = [scalar_from_text(shapes, item, v, "querystring") for v in values]
            else:
                out[mname] = scalar_from_text(shapes, mdef["shape"], values[0], "querystring")
        elif loc == "header":
            values = hmap.get(key.lower())
            if values is None:
                continue
            text = ",".join(values)
            if mshape["type"] == "list":
                item = mshape["member"]["shape"]
                out[mname] = [scalar_from_text(shapes, item, v.strip(), "header")
                              for v in text.split(",")]
            else:
                out[mname] = scalar_from_text(shapes, mdef["shape"], text.strip(), "header")
        elif loc == "headers":
            prefix = key.lower()
            found = {k[len(prefix):]: ",".join(v) for k, v in hmap.items()
                     if k.startswith(prefix)}
            if found:
                out[mname] = found
        elif loc is None:
            if key in doc:
                out[mname] = doc[key]
    if qmap_member is not None:
        mname, mdef = qmap_member
        rest = {}
        for k, v in pairs:
            if k not in consumed:
                rest.setdefault(k, v)
        if rest:
            out[mname] = rest
    return out


def serialize_output(shapes, shape_name, value):
    """(extra headers [(name, value)], body bytes) for an output dict."""
    if not shape_name:
        return [], b""
    members = shapes[shape_name].get("members", {})
    doc, headers = {}, []
    for mname, v in value.items():
        mdef = members.get(mname)
        if mdef is None:
            doc[mname] = v
            continue
        loc = mdef.get("location")
        key = mdef.get("locationName", mname)
        if loc == "header":
            mshape = shapes[mdef["shape"]]
            if mshape["type"] == "timestamp":
                v = email.utils.formatdate(v, usegmt=True)
            elif mshape["type"] == "boolean":
                v = "true" if v else "false"
            elif mshape["type"] == "list":
                v = ",".join(str(x) for x in v)
            headers.append((key, str(v)))
        elif loc == "headers":
            for k, x in v.items():
                headers.append((key + k, str(x)))
        elif loc == "statusCode":
            continue
        else:
            doc[key] = v
    return headers, json.dumps(doc, separators=(",", ":")).encode("utf-8")


def iso8601(epoch):
    dt = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (".%03dZ" % (dt.microsecond // 1000))

