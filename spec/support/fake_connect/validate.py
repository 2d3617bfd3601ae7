"""Input validation against the model's shapes, with the service's messages
("N validation errors detected: Value 'x' at 'path' failed to satisfy
constraint: ..."): required members, types, min/max (string lengths in code
points, list and map entries, number values), enums, patterns, unions
(exactly one member set).  Values are JSON-decoded already; timestamps are
epoch numbers (or ISO-8601 strings for shapes declared iso8601)."""

import json

from . import patterns
from . import wire


def lower_first(name):
    return name[:1].lower() + name[1:]


def _describe(value, sensitive):
    if sensitive:
        return "Value"
    if value is None:
        return "Value null"
    if isinstance(value, str):
        return "Value '%s'" % value
    return "Value '%s'" % json.dumps(value)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def member_path(path, mname, mdef):
    key = mdef.get("locationName", mname) if mdef.get("location") else mname
    return (path + "." if path else "") + lower_first(key)


def validate(shapes, shape_name, value, path, errors, sensitive=False):
    """Appends one message per violated constraint to `errors`."""
    shape = shapes[shape_name]
    stype = shape["type"]
    sensitive = sensitive or bool(shape.get("sensitive"))
    where = path or "input"

    def fail(constraint):
        errors.append("%s at '%s' failed to satisfy constraint: %s"
                      % (_describe(value, sensitive), where, constraint))

    def bounds(size, what):
        if "min" in shape and size < shape["min"]:
            fail("Member must have %s greater than or equal to %s" % (what, _fmt(shape["min"])))
        if "max" in shape and size > shape["max"]:
            fail("Member must have %s less than or equal to %s" % (what, _fmt(shape["max"])))

    if stype == "structure":
        if not isinstance(value, dict):
            fail("Member must be a structure")
            return
        members = shape.get("members", {})
        for req in shape.get("required", []):
            if value.get(req) is None:
                errors.append("Value null at '%s' failed to satisfy constraint: "
                              "Member must not be null"
                              % member_path(path, req, members.get(req, {})))
        present = []
        for mname, mdef in members.items():
            if value.get(mname) is not None:
                present.append(mname)
                validate(shapes, mdef["shape"], value[mname],
                         member_path(path, mname, mdef), errors, sensitive)
        if shape.get("union") and len(present) != 1:
            errors.append("Value at '%s' failed to satisfy constraint: Union must have "
                          "exactly one member set, got %d (%s)"
                          % (where, len(present), ", ".join(present) or "none"))
        return

    if stype == "string":
        if not isinstance(value, str):
            fail("Member must be a string")
            return
        bounds(len(value), "length")
        if "enum" in shape and value not in shape["enum"]:
            fail("Member must satisfy enum value set: [%s]" % ", ".join(shape["enum"]))
        # A string already too long is not also run through the pattern:
        # bounded work for hostile input (Python's re can backtrack).
        if "pattern" in shape and len(value) <= shape.get("max", len(value)) and \
                not patterns.matcher(shape["pattern"])(value):
            fail("Member must satisfy regular expression pattern: %s" % shape["pattern"])
        return

    if stype == "boolean":
        if not isinstance(value, bool):
            fail("Member must be a boolean")
        return

    if stype in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            fail("Member must be an integer")
            return
        bounds(value, "value")
        return

    if stype in ("float", "double"):
        if not _number(value):
            fail("Member must be a number")
            return
        bounds(value, "value")
        return

    if stype == "timestamp":
        if _number(value):
            return
        if isinstance(value, str) and wire.parse_iso8601(value) is not None:
            return
        fail("Member must be a timestamp")
        return

    if stype == "blob":
        if not isinstance(value, str):
            fail("Member must be a blob (base64 string)")
        return

    if stype == "map":
        if not isinstance(value, dict):
            fail("Member must be a map")
            return
        bounds(len(value), "length")
        for k, v in value.items():
            validate(shapes, shape["key"]["shape"], k, where + ".key", errors, sensitive)
            if v is None:
                errors.append("Value null at '%s.value' failed to satisfy constraint: "
                              "Member must not be null" % where)
            else:
                validate(shapes, shape["value"]["shape"], v, where + ".value", errors, sensitive)
        return

    if stype == "list":
        if not isinstance(value, list):
            fail("Member must be a list")
            return
        bounds(len(value), "length")
        for i, item in enumerate(value):
            if item is None:
                errors.append("Value null at '%s.%d' failed to satisfy constraint: "
                              "Member must not be null" % (where, i + 1))
                continue
            validate(shapes, shape["member"]["shape"], item, "%s.%d" % (where, i + 1),
                     errors, sensitive)
        return
    # document and anything newer: accepted as is


def _fmt(n):
    return "%d" % n if float(n) == int(n) else "%g" % n


def message(errors):
    n = len(errors)
    return "%d validation error%s detected: %s" % (n, "" if n == 1 else "s", "; ".join(errors))
