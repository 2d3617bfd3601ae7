"""Synthesized answers for the operations the fake server does not keep state
for: a valid output built from the operation's output shape, deterministic
(seeded by the operation and its input, idempotency tokens left out).

Every required member is present; strings meet min/max/enum/pattern (pattern
strings come from patterns.generate and are checked with the compiled
pattern; when that fails a short literal is tried, and a warning is logged);
timestamps are epoch seconds; lists and maps have 1-2 entries; a union has
exactly one member; ids given in the input are echoed into output members of
the same name (`UserId`, and `Id` of a `User` structure); paginated
operations answer two pages (NextToken on the first only).  The finished
output is validated against its shape: any violation becomes a warning."""

import base64
import hashlib
import json
import random
import re
import threading

from . import patterns
from . import validate as validation
from . import wire

OPTIONAL_DEPTH = 4   # optional members are included down to this depth
MAX_DEPTH = 16       # beyond it a member is left out (and warned about)
CACHE_SIZE = 1024
EPOCH_BASE = 1700000000


def _kebab(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


class _Ctx(object):
    def __init__(self, rng, echo, region, account):
        self.rng = rng
        self.echo = echo
        self.region = region
        self.account = account
        self.warnings = []
        iid = echo.get("InstanceId")
        if not (isinstance(iid, str) and re.match(r"^[0-9a-f-]{36}$", iid)):
            iid = None
        self.instance_id = iid or self.uuid()

    def uuid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16],
                                      "89ab"[int(h[16], 16) % 4], h[17:20], h[20:32])


class Synth(object):
    def __init__(self, model):
        self.model = model
        self.shapes = model.shapes
        self._cache = {}
        self._reach = {}  # shape -> every shape reachable from it
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------
    def output(self, op, inp, region, account):
        """(output dict, warnings list) for a validated input."""
        out_shape = self.model.output_shape(op)
        if not out_shape:
            return {}, []
        seed_doc = self._seed_input(op, inp)
        key = hashlib.sha256((op + "\n" + seed_doc + "\n" + region).encode("utf-8")).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return json.loads(hit[0]), list(hit[1])
        rng = random.Random(key)
        echo = {k: v for k, v in inp.items()
                if isinstance(v, (str, int)) and not isinstance(v, bool)
                and (k.endswith("Id") or k.endswith("Arn"))}
        ctx = _Ctx(rng, echo, region, account)
        out = self._structure(out_shape, None, 0, (), ctx, top=True)
        self._paginate(op, inp, out, ctx)
        errors = []
        validation.validate(self.shapes, out_shape, out, "", errors)
        for e in errors:
            ctx.warnings.append("%s output: %s" % (op, e))
        doc = json.dumps(out, separators=(",", ":"))
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (doc, tuple(ctx.warnings))
        return out, ctx.warnings

    def _seed_input(self, op, inp):
        members = self.shapes[self.model.input_shape(op)].get("members", {}) \
            if self.model.input_shape(op) else {}
        kept = {k: v for k, v in inp.items()
                if not members.get(k, {}).get("idempotencyToken")}
        return json.dumps(kept, sort_keys=True, default=str)

    def _paginate(self, op, inp, out, ctx):
        pag = self.model.paginators.get(op)
        members = self.shapes[self.model.output_shape(op)].get("members", {})
        if not pag:
            for name in list(out):
                if name == "NextToken":
                    del out[name]
            return
        in_tok, out_tok = pag.get("input_token"), pag.get("output_token")
        if isinstance(out_tok, list) or isinstance(in_tok, list):
            return
        first_page = inp.get(in_tok) in (None, "")
        if not first_page or out_tok not in members:
            out.pop(out_tok, None)
            return
        shape = self.shapes[members[out_tok]["shape"]]
        token = "page-2-" + ("%016x" % ctx.rng.getrandbits(64))
        if not self._string_ok(members[out_tok]["shape"], token):
            token = self._string(members[out_tok]["shape"], out_tok, None, ctx)
        if shape["type"] == "string":
            out[out_tok] = token

    # -- shapes --------------------------------------------------------------
    def _value(self, shape_name, name, owner, depth, stack, ctx):
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "structure":
            return self._structure(shape_name, name, depth, stack, ctx)
        if t == "list":
            return self._list(shape_name, name, owner, depth, stack, ctx)
        if t == "map":
            return self._map(shape_name, name, owner, depth, stack, ctx)
        if t == "string":
            return self._string(shape_name, name, owner, ctx)
        if t == "boolean":
            return ctx.rng.random() < 0.5
        if t in ("integer", "long"):
            lo = int(shape.get("min", 0))
            hi = int(shape.get("max", lo + 100))
            v = ctx.echo.get(name)
            if isinstance(v, int) and lo <= v <= hi:
                return v
            return ctx.rng.randint(lo, min(hi, lo + 100))
        if t in ("float", "double"):
            lo = float(shape.get("min", 0))
            hi = float(shape.get("max", lo + 100))
            return round(ctx.rng.uniform(lo, min(hi, lo + 100)), 2)
        if t == "timestamp":
            v = EPOCH_BASE + ctx.rng.randrange(0, 3 * 10 ** 7)
            if shape.get("timestampFormat") == "iso8601":
                return wire.iso8601(v)
            return v
        if t == "blob":
            return base64.b64encode(bytes(ctx.rng.getrandbits(8) for _ in range(8))).decode()
        return {}  # document

    def _structure(self, shape_name, name, depth, stack, ctx, top=False):
        shape = self.shapes[shape_name]
        members = shape.get("members", {})
        required = set(shape.get("required", []))
        recursive = shape_name in stack
        stack = stack + (shape_name,)
        out = {}
        if shape.get("union"):
            names = sorted(members)
            simple = [m for m in names if not self._recursive(members[m]["shape"], stack)]
            pool = simple or names
            choice = pool[ctx.rng.randrange(len(pool))]
            v = self._member(members[choice], choice, shape_name, depth, stack, ctx)
            if v is not None:
                out[choice] = v
            return out
        for mname in sorted(members):
            mdef = members[mname]
            if mdef.get("location") == "statusCode":
                continue
            if mname not in required:
                if not top and (depth > OPTIONAL_DEPTH or recursive
                                or self._recursive(mdef["shape"], stack)):
                    continue
            v = self._member(mdef, mname, shape_name, depth, stack, ctx)
            if v is not None:
                out[mname] = v
        return out

    def _member(self, mdef, mname, owner, depth, stack, ctx):
        if depth + 1 > MAX_DEPTH:
            ctx.warnings.append("member %s.%s left out: nesting deeper than %d"
                                % (owner, mname, MAX_DEPTH))
            return None
        return self._value(mdef["shape"], mname, owner, depth + 1, stack, ctx)

    def _recursive(self, shape_name, stack):
        """True when shape_name leads back to a shape on the stack."""
        if shape_name in stack:
            return True
        reach = self._reach.get(shape_name)
        if reach is None:
            reach, todo = set(), [shape_name]
            while todo:
                shape = self.shapes[todo.pop()]
                refs = [m["shape"] for m in shape.get("members", {}).values()]
                refs += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
                for r in refs:
                    if r not in reach:
                        reach.add(r)
                        todo.append(r)
            self._reach[shape_name] = reach
        return any(s in reach for s in stack)

    def _count(self, shape, depth, ctx):
        lo = int(shape.get("min", 0))
        hi = int(shape.get("max", 2))
        want = ctx.rng.randint(1, 2) if depth <= 3 else 1
        return max(lo, min(want, hi))

    def _list(self, shape_name, name, owner, depth, stack, ctx):
        shape = self.shapes[shape_name]
        item = shape["member"]["shape"]
        out = []
        for _ in range(self._count(shape, depth, ctx)):
            v = self._value(item, name, owner, depth + 1, stack, ctx)
            if v is not None:
                out.append(v)
        return out

    def _map(self, shape_name, name, owner, depth, stack, ctx):
        shape = self.shapes[shape_name]
        out = {}
        n = self._count(shape, depth, ctx)
        for _ in range(n * 4):
            if len(out) >= n:
                break
            k = self._value(shape["key"]["shape"], "Key", owner, depth + 1, stack, ctx)
            if k in out:
                continue
            v = self._value(shape["value"]["shape"], "Value", owner, depth + 1, stack, ctx)
            if v is not None:
                out[k] = v
        return out

    # -- strings ---------------------------------------------------------------
    def _string_ok(self, shape_name, value):
        errors = []
        validation.validate(self.shapes, shape_name, value, "x", errors)
        return not errors

    def _string(self, shape_name, name, owner, ctx):
        shape = self.shapes[shape_name]
        if "enum" in shape:
            return shape["enum"][ctx.rng.randrange(len(shape["enum"]))]
        name = name or ""
        candidates = []
        echo = ctx.echo.get(name)
        if echo is None and name == "Id" and owner:
            echo = ctx.echo.get(owner + "Id")
        if isinstance(echo, str):
            candidates.append(echo)
        lo = int(shape.get("min", 0))
        hi = int(shape["max"]) if "max" in shape else None
        if "pattern" in shape:
            candidates.append(self._heuristic(name, owner, ctx))
            g = patterns.generate(shape["pattern"], ctx.rng, lo, hi)
            if g is not None:
                candidates.append(g)
        else:
            candidates.append(self._heuristic(name, owner, ctx))
        for c in candidates:
            c = self._fit(c, lo, hi)
            if self._string_ok(shape_name, c):
                return c
        for c in ("a", "0", "a" * max(lo, 1), "0" * max(lo, 1), " " * max(lo, 1)):
            if self._string_ok(shape_name, c):
                ctx.warnings.append("%s (%s): pattern generation failed, using literal %r"
                                    % (shape_name, name, c))
                return c
        c = self._fit(candidates[-1], lo, hi)
        ctx.warnings.append("%s (%s): no valid value found, emitting %r"
                            % (shape_name, name, c))
        return c

    @staticmethod
    def _fit(value, lo, hi):
        if hi is not None and len(value) > hi:
            value = value[:hi]
        if len(value) < lo:
            value = value + "x" * (lo - len(value))
        return value

    def _heuristic(self, name, owner, ctx):
        rng = ctx.rng
        if name.endswith("Arn") or name == "Arn":
            return self._arn(name, owner, ctx)
        if name == "Id" or name.endswith("Id") or name.endswith("Token"):
            return ctx.uuid()
        low = name.lower()
        if "url" in low or "uri" in low:
            return "https://example.com/%s/%06x" % (_kebab(name) or "item", rng.getrandbits(24))
        if "email" in low:
            return "user-%06x@example.com" % rng.getrandbits(24)
        if "region" in low:
            return ctx.region
        return "%s-%06x" % (name or "value", rng.getrandbits(24))

    def _arn(self, name, owner, ctx):
        base = "arn:aws:connect:%s:%s:instance/%s" % (ctx.region, ctx.account, ctx.instance_id)
        kind = name[:-3] if name != "Arn" else (owner or "")
        if kind in ("Instance", "") or kind.endswith("Instance"):
            return base
        ident = ctx.echo.get(kind + "Id")
        if not isinstance(ident, str):
            ident = ctx.uuid()
        return "%s/%s/%s" % (base, _kebab(kind), ident)
