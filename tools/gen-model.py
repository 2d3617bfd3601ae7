#!/usr/bin/python3
"""Generates the run-time service models under lua/aws_connect/model/ from the
botocore models in data/models/ (make model; no code changes needed for a newer
service-2.json).

Usage: /usr/bin/python3 tools/gen-model.py [DATA_DIR [OUT_DIR]]

For every data/models/<service>-<version>/ folder it writes
lua/aws_connect/model/<id>/ (id: connect, sts, sso, sso_oidc):
  index.lua      metadata, the sorted operation names, error shape -> chunk
  op_<Name>.lua  one operation: method, requestUri, input/output shape names,
                 errors, paginator, the shapes only it uses, the shared
                 chunks it needs
  s<N>.lua       shared shape chunks: each returns { ShapeName = definition }
  docs.lua       one-line summaries of operations and members (CLI help only)

Shape definitions keep botocore's field names where they exist, minus
documentation: type, min, max, pattern, enum, sensitive, union, box,
timestampFormat, error, exception, member/key/value (shape names), members
(an ordered list: {name, shape, location, locationName, idempotencyToken,
deprecated}) and required. Patterns written with doubled backslashes in the
JSON (\\\\S for \\S) are un-doubled here (the service means one backslash).

Chunks: the shapes only one operation uses go into that operation's own
file; shapes used by many operations share one chunk, the others are
grouped by the first operation that uses them, so the first call of an
operation loads a few small files and a client that used a few operations
holds little.
"""

import json
import os
import re
import sys

SERVICE_IDS = {"connect": "connect", "sts": "sts", "sso": "sso", "sso-oidc": "sso_oidc"}
SHARED_CHUNK = 40          # shapes per shared chunk, at most
DOUBLED = re.compile(r"\\\\(?=[^\\])")


def lua_str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 32 or o == 127:
            out.append("\\%03d" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out).encode("utf-8").decode("utf-8")


IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LUA_KEYWORDS = set("and break do else elseif end false for function goto if in local nil not or "
                   "repeat return then true until while".split())


def lua(v):
    if v is None:
        return "nil"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v == int(v) and abs(v) < 2 ** 53:
            return "%d.0" % v
        return repr(v)
    if isinstance(v, str):
        return lua_str(v)
    if isinstance(v, list):
        return "{" + ",".join(lua(x) for x in v) + "}"
    if isinstance(v, dict):
        parts = []
        for k, x in v.items():
            if isinstance(k, str) and IDENT.match(k) and k not in LUA_KEYWORDS:
                parts.append("%s=%s" % (k, lua(x)))
            else:
                parts.append("[%s]=%s" % (lua(k), lua(x)))
        return "{" + ",".join(parts) + "}"
    raise TypeError(type(v))


def first_sentence(doc, limit=240):
    if not doc:
        return None
    text = re.sub(r"<[^>]*>", " ", doc)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    text = re.sub(r"\s+", " ", text).strip()
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    if m:
        text = m.group(1)
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text or None


def compact_shape(s):
    out = {"type": s["type"]}
    for k in ("min", "max", "sensitive", "union", "box", "timestampFormat", "exception", "deprecated"):
        if k in s:
            out[k] = s[k]
    if "pattern" in s:
        out["pattern"] = DOUBLED.sub(r"\\", s["pattern"])
    if "enum" in s:
        out["enum"] = list(s["enum"])
    if "error" in s:
        out["error"] = {k: v for k, v in s["error"].items() if k in ("code", "httpStatusCode", "senderFault")}
    if "member" in s:
        out["member"] = s["member"]["shape"]
        if "locationName" in s["member"]:
            out["memberLocationName"] = s["member"]["locationName"]
    if "key" in s:
        out["key"] = s["key"]["shape"]
        out["value"] = s["value"]["shape"]
    if "flattened" in s:
        out["flattened"] = s["flattened"]
    if "members" in s:
        ms = []
        for name, md in s["members"].items():
            e = {"name": name, "shape": md["shape"]}
            for k in ("location", "locationName", "idempotencyToken", "deprecated", "hostLabel",
                      "jsonvalue", "timestampFormat", "xmlNamespace"):
                if k in md:
                    e[k] = md[k]
            ms.append(e)
        out["members"] = ms
        if s.get("required"):
            out["required"] = list(s["required"])
    return out


def closure(shapes, name, acc):
    stack = [name]
    while stack:
        n = stack.pop()
        if n in acc:
            continue
        acc.add(n)
        s = shapes[n]
        for md in s.get("members", {}).values():
            stack.append(md["shape"])
        if "member" in s:
            stack.append(s["member"]["shape"])
        if "key" in s:
            stack.append(s["key"]["shape"])
            stack.append(s["value"]["shape"])


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def generate(src, out_root):
    model = json.load(open(os.path.join(src, "service-2.json"), encoding="utf-8"))
    meta = model["metadata"]
    base = os.path.basename(src.rstrip("/"))
    svc_name = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", base)
    sid = SERVICE_IDS.get(svc_name, svc_name.replace("-", "_"))
    out = os.path.join(out_root, sid)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".lua") or f.endswith(".tmp"):
            os.remove(os.path.join(out, f))
    shapes, ops = model["shapes"], model["operations"]
    pag_path = os.path.join(src, "paginators-1.json")
    paginators = json.load(open(pag_path))["pagination"] if os.path.exists(pag_path) else {}

    users = {}
    op_closure = {}
    for oname in sorted(ops):
        o = ops[oname]
        acc = set()
        for k in ("input", "output"):
            if k in o:
                closure(shapes, o[k]["shape"], acc)
        for e in o.get("errors", []):
            closure(shapes, e["shape"], acc)
        op_closure[oname] = acc
        for n in acc:
            users.setdefault(n, set()).add(oname)

    # shared chunks: shapes used by many operations in one file; the rest
    # grouped by the first operation that uses them
    COMMON = 12
    # exceptions and every shape they use are typed from any operation's
    # error response, so they live in the common chunk
    exc = set()
    for n, sd in shapes.items():
        if sd.get("exception"):
            closure(shapes, n, exc)
    shared = [n for n in users if len(users[n]) > 1 or n in exc]
    common = sorted(n for n in shared if len(users[n]) >= COMMON or n in exc)
    rest = sorted((n for n in shared if len(users[n]) < COMMON and n not in exc),
                  key=lambda n: (sorted(users[n])[0], n))
    chunk_of = {}
    chunks = []
    if common:
        chunks.append(common)
    cur = []
    for n in rest:
        cur.append(n)
        if len(cur) >= SHARED_CHUNK:
            chunks.append(cur)
            cur = []
    if cur:
        chunks.append(cur)
    unused = sorted(n for n in shapes if n not in users)
    if unused:
        chunks.append(unused)
    for i, names in enumerate(chunks):
        for n in names:
            chunk_of[n] = i + 1

    header = "-- Generated by tools/gen-model.py from data/models/%s/ (botocore, Apache-2.0): do not edit.\n" % base
    for i, names in enumerate(chunks):
        body = {n: compact_shape(shapes[n]) for n in names}
        write(os.path.join(out, "s%d.lua" % (i + 1)), header + "return " + lua(body) + "\n")

    for oname in sorted(ops):
        o = ops[oname]
        e = {"name": oname, "method": o["http"]["method"], "uri": o["http"]["requestUri"]}
        if "responseCode" in o["http"]:
            e["code"] = o["http"]["responseCode"]
        if "input" in o:
            e["input"] = o["input"]["shape"]
        if "output" in o:
            e["output"] = o["output"]["shape"]
            if "resultWrapper" in o["output"]:
                e["resultWrapper"] = o["output"]["resultWrapper"]
        if o.get("errors"):
            e["errors"] = [x["shape"] for x in o["errors"]]
        for k in ("idempotent", "deprecated", "authtype", "auth"):
            if o.get(k):
                e[k] = o[k]
        if oname in paginators:
            p = paginators[oname]
            e["paginator"] = {k: p[k] for k in ("input_token", "output_token", "limit_key", "result_key",
                                                "non_aggregate_keys", "more_results") if k in p}
        own = sorted(n for n in op_closure[oname] if n not in chunk_of)
        rec = {"operation": e,
               "chunks": sorted(set(chunk_of[n] for n in op_closure[oname] if n in chunk_of)),
               "shapes": {n: compact_shape(shapes[n]) for n in own}}
        write(os.path.join(out, "op_%s.lua" % oname), header + "return " + lua(rec) + "\n")

    errors = sorted(n for n, s in shapes.items() if s.get("exception"))
    index = {
        "metadata": {k: meta[k] for k in ("apiVersion", "endpointPrefix", "protocol", "serviceId", "signingName",
                                          "jsonVersion", "targetPrefix", "xmlNamespace", "globalEndpoint",
                                          "serviceFullName") if k in meta},
        "operations": sorted(ops),
        "errors": {n: chunk_of.get(n, 0) for n in errors},
    }
    write(os.path.join(out, "index.lua"), header + "return " + lua(index) + "\n")

    docs = {"operations": {}, "members": {}}
    for oname, o in ops.items():
        s = first_sentence(o.get("documentation"))
        if s:
            docs["operations"][oname] = s
    for sname, sd in shapes.items():
        for mname, md in sd.get("members", {}).items():
            s = first_sentence(md.get("documentation"))
            if s:
                docs["members"][sname + "." + mname] = s
    write(os.path.join(out, "docs.lua"), header + "return " + lua(docs) + "\n")
    return sid, len(ops), len(shapes), len(chunks)


def main(argv):
    data = argv[1] if len(argv) > 1 else "data/models"
    out = argv[2] if len(argv) > 2 else "lua/aws_connect/model"
    os.makedirs(out, exist_ok=True)
    for d in sorted(os.listdir(data)):
        p = os.path.join(data, d)
        if os.path.isfile(os.path.join(p, "service-2.json")):
            sid, nops, nshapes, nchunks = generate(p, out)
            print("%s: %d operations, %d shapes, %d chunks" % (sid, nops, nshapes, nchunks))


if __name__ == "__main__":
    main(sys.argv)
