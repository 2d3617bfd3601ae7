#!/usr/bin/python3
"""What botocore does with awsQuery requests and responses, for
spec/query_protocol_spec.lua (one run over all the cases).

stdin: JSON {
  "models": {"<id>": service-2 JSON text (members in order)},
  "paths": {"<id>": "path/to/service-2.json"},
  "requests": [{"model": id, "op": name, "params": {...}}],
  "responses": [{"model": id, "op": name, "status": n, "body": "..."}]
}
stdout: JSON {
  "bodies": [form body as botocore's urlencode writes it, params in model order],
  "parsed": [the parsed output (snake_case keys, timestamps as epoch seconds,
             blobs as text) or {"error": {...}} for an error response]
}
"""
import json
import sys
from urllib.parse import urlencode

from botocore import xform_name
from botocore.model import ServiceModel
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer


def ordered(shape, value):
    # botocore serialises members in the order the caller's dict has them;
    # the Lua side uses model order, so the params are put in model order
    t = shape.type_name
    if t == "structure":
        return {k: ordered(shape.members[k], value[k]) for k in shape.members if k in value}
    if t == "list":
        return [ordered(shape.member, v) for v in value]
    if t == "map":
        return {k: ordered(shape.value, value[k]) for k in sorted(value)}
    return value


def plain(shape, value):
    t = shape.type_name
    if value is None:
        return None
    if t == "structure":
        return {xform_name(k): plain(shape.members[k], v) for k, v in value.items() if k in shape.members}
    if t == "list":
        return [plain(shape.member, v) for v in value]
    if t == "map":
        return {k: plain(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return value.timestamp()
    if t == "blob":
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return value


def main():
    req = json.load(sys.stdin)
    models = {k: ServiceModel(json.loads(v)) for k, v in req.get("models", {}).items()}
    for k, path in req.get("paths", {}).items():
        with open(path, encoding="utf-8") as f:
            models[k] = ServiceModel(json.load(f))
    ser = QuerySerializer()
    bodies = []
    for r in req["requests"]:
        op = models[r["model"]].operation_model(r["op"])
        params = ordered(op.input_shape, r["params"]) if op.input_shape else {}
        d = ser.serialize_to_request(params, op)
        bodies.append(urlencode(list(d["body"].items()), doseq=True))
    parser = QueryParser()
    parsed = []
    for r in req["responses"]:
        op = models[r["model"]].operation_model(r["op"])
        resp = {"status_code": r["status"], "headers": {}, "body": r["body"].encode("utf-8")}
        if r["status"] >= 300:
            out = parser.parse(resp, None)
            parsed.append({"error": out.get("Error"), "request_id": out["ResponseMetadata"].get("RequestId")})
        else:
            out = parser.parse(resp, op.output_shape)
            out.pop("ResponseMetadata", None)
            parsed.append(plain(op.output_shape, out))
    json.dump({"bodies": bodies, "parsed": parsed}, sys.stdout)


if __name__ == "__main__":
    main()
