"""Model patterns for the fake Connect server: Java-flavoured regular
expressions translated to Python `re` (matching), and a small generator of
strings that match them (synthesized output).

Translation rules (each one exists because of a pattern in the Connect model):
  - a doubled backslash before a character that is a regex escape means one
    backslash (nine model patterns are written that way: `.*\\\\S.*`);
  - `/.../` around a pattern (JavaScript delimiters, the Password shape) is
    dropped: taken literally the pattern matches nothing;
  - `\\p{X}` / `\\P{X}` (X a major Unicode category: L M N P S Z C) become
    ASCII ranges plus one sentinel character per category; the subject is
    mapped the same way (every non-ASCII character to its category's
    sentinel) before matching, since `re` has no property classes;
  - an unescaped `$` outside a class is `\\Z` (no trailing-newline slack);
  - a leading or trailing `.*` of an unanchored pattern is dropped, and so
    is the `+` of a leading one-character class (same verdict under search
    semantics, linear time);
  - matching is a search (model patterns are not implicitly anchored), in
    ASCII mode (Java's `\\s`, `\\d`, `\\w` are ASCII).
Patterns are compiled lazily, once each.
"""

import re
import threading
import unicodedata

MAJOR = "LMNPSZC"
SENTINEL = {c: chr(0xE000 + i) for i, c in enumerate(MAJOR)}
# Characters that may follow a backslash in a regex (for the un-doubling).
_ESCAPABLE = set("dDsSwWpPbBtnrfvuxQE.+*?()[]{}|^$-/\\")


def _ascii_of(cat):
    return "".join(chr(i) for i in range(128)
                   if unicodedata.category(chr(i))[0] == cat)


_ASCII_CAT = {c: _ascii_of(c) for c in MAJOR}


def _class_escape(chars):
    out = []
    for ch in chars:
        o = ord(ch)
        if ch.isalnum() and o < 128:
            out.append(ch)
        else:
            out.append("\\x%02x" % o if o < 256 else "\\u%04x" % o)
    return "".join(out)


def _prop_body(cat, negated):
    cats = [c for c in MAJOR if (c == cat) != negated]
    return _class_escape("".join(_ASCII_CAT[c] for c in cats)) + \
        "".join("\\u%04x" % ord(SENTINEL[c]) for c in cats)


def undouble(pattern):
    """`\\\\X` -> `\\X` when X is a regex escape character."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "\\" and i + 2 < n and pattern[i + 2] in _ESCAPABLE \
                    and pattern[i + 2] != "\\":
                i += 1  # drop one backslash; the next turn copies `\X`
                continue
            out.append(ch + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def normalise(pattern):
    """The model pattern with the model's own quirks undone (still Java)."""
    p = undouble(pattern)
    if len(p) > 2 and p.startswith("/^") and p.endswith("/"):
        p = p[1:-1]
    return p


def _strip_dot_stars(p):
    """Under search semantics a leading `.*` (not after `^`) and a trailing
    `.*` (not before `$`) change no verdict; dropping them keeps patterns
    such as `.*\\S.*` linear on long blank input."""
    while p.startswith(".*") and not p.startswith(".*?") and p[2:3] not in ("*", "+", "?", "{"):
        p = p[2:]
    while p.endswith(".*") and not p.endswith("\\.*") and len(p) > 2:
        p = p[:-2]
    # A leading one-character class repeated with `+` may match once: if
    # `[X]+R` matches at i with k copies, `[X]R` matches at i + k - 1.
    if p.startswith("[") and "|" not in p:
        end = _class_end(p, 0)
        if end is not None and p[end:end + 1] == "+" and p[end + 1:end + 2] not in ("?", "+"):
            p = p[:end] + p[end + 1:]
    return p or ".*"


def _class_end(p, i):
    """Index just past the character class opening at p[i], or None."""
    j = i + 1
    if p[j:j + 1] == "^":
        j += 1
    if p[j:j + 1] == "]":
        j += 1
    while j < len(p):
        if p[j] == "\\":
            j += 2
            continue
        if p[j] == "[":
            return None  # nested classes: leave the pattern alone
        if p[j] == "]":
            return j + 1
        j += 1
    return None


def translate(pattern):
    """Returns (python_regex, uses_properties)."""
    p = _strip_dot_stars(normalise(pattern))
    out, i, n, in_class, props = [], 0, len(p), False, False
    while i < n:
        ch = p[i]
        if ch == "\\" and i + 1 < n:
            nxt = p[i + 1]
            if nxt in "pP" and i + 2 < n and p[i + 2] == "{":
                close = p.index("}", i + 3)
                name = p[i + 3:close]
                cat = name[:1].upper()
                if cat not in SENTINEL:
                    raise ValueError("unsupported property class \\%s{%s}" % (nxt, name))
                body = _prop_body(cat, nxt == "P")
                out.append(body if in_class else "[" + body + "]")
                props = True
                i = close + 1
                continue
            out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            # a leading ']' or '^]' is literal
            if i < n and p[i] == "^":
                out.append("^")
                i += 1
            if i < n and p[i] == "]":
                out.append("\\]")
                i += 1
            continue
        out.append("\\Z" if ch == "$" else ch)
        i += 1
    return "".join(out), props


def map_subject(value):
    """Every non-ASCII character to the sentinel of its major category."""
    if value.isascii():
        return value
    return "".join(ch if ord(ch) < 128 else SENTINEL[unicodedata.category(ch)[0]]
                   for ch in value)


_cache = {}
_cache_lock = threading.Lock()


def matcher(pattern):
    """A function value -> bool for a model pattern (compiled once)."""
    m = _cache.get(pattern)
    if m is not None:
        return m
    py, props = translate(pattern)
    rx = re.compile(py, re.ASCII)
    if props:
        def m(value):
            return rx.search(map_subject(value)) is not None
    else:
        def m(value):
            return rx.search(value) is not None
    with _cache_lock:
        _cache[pattern] = m
    return m


# --------------------------------------------------------------------------
# Generation: a parser for the subset the model uses (literals, escapes,
# classes, groups, lookarounds, alternation, greedy/lazy quantifiers,
# anchors) and a walk that picks characters and repetition counts.
# --------------------------------------------------------------------------

_PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
_UNIVERSE = _PRINTABLE + ["\t", "\n", "\r"]
_NICE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

_ESC_SETS = {
    "d": set("0123456789"),
    "s": set(" \t\n\r\f\v"),
    "w": set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
}
_SIMPLE_ESC = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}


def _esc_set(letter):
    low = letter.lower()
    base = _ESC_SETS[low]
    if letter == low:
        return set(base)
    return set(c for c in _UNIVERSE if c not in base)


def _prop_set(cat, negated):
    return set(c for c in _UNIVERSE
               if (unicodedata.category(c)[0] == cat) != negated)


class _Parser(object):
    def __init__(self, p):
        self.p, self.i = p, 0

    def peek(self):
        return self.p[self.i] if self.i < len(self.p) else None

    def take(self):
        ch = self.p[self.i]
        self.i += 1
        return ch

    def parse(self):
        node = self.alt()
        if self.i != len(self.p):
            raise ValueError("unbalanced ')' at %d" % self.i)
        return node

    def alt(self):
        branches = [self.seq()]
        while self.peek() == "|":
            self.take()
            branches.append(self.seq())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def seq(self):
        items = []
        while self.peek() not in (None, "|", ")"):
            atom = self.atom()
            atom = self.quant(atom)
            items.append(atom)
        return ("seq", items)

    def quant(self, atom):
        ch = self.peek()
        lo = hi = None
        if ch == "*":
            lo, hi = 0, None
        elif ch == "+":
            lo, hi = 1, None
        elif ch == "?":
            lo, hi = 0, 1
        elif ch == "{":
            m = re.match(r"\{(\d+)(,(\d*))?\}", self.p[self.i:])
            if not m:
                return atom
            lo = int(m.group(1))
            hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
            self.i += len(m.group(0)) - 1
        else:
            return atom
        self.take()
        if self.peek() in ("?", "+"):
            self.take()  # lazy / possessive: same strings
        return ("rep", atom, lo, hi)

    def atom(self):
        ch = self.take()
        if ch == "(":
            kind = "group"
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.p.startswith("?=", self.i) or self.p.startswith("?!", self.i):
                kind = "look"
                self.i += 2
            inner = self.alt()
            if self.peek() != ")":
                raise ValueError("missing ')'")
            self.take()
            return (kind, inner)
        if ch == "[":
            return ("set", self.cls())
        if ch == ".":
            return ("set", set(c for c in _UNIVERSE if c != "\n"))
        if ch in "^$":
            return ("anchor",)
        if ch == "\\":
            return self.escape(in_class=False)
        return ("lit", ch)

    def escape(self, in_class):
        ch = self.take()
        if ch in "dDsSwW":
            return ("set", _esc_set(ch))
        if ch in "pP" and self.peek() == "{":
            close = self.p.index("}", self.i)
            name = self.p[self.i + 1:close]
            self.i = close + 1
            return ("set", _prop_set(name[:1].upper(), ch == "P"))
        if ch == "u":
            code = self.p[self.i:self.i + 4]
            self.i += 4
            return ("lit", chr(int(code, 16)))
        if ch == "x":
            code = self.p[self.i:self.i + 2]
            self.i += 2
            return ("lit", chr(int(code, 16)))
        if ch in "bBAzZG" and not in_class:
            return ("anchor",)
        return ("lit", _SIMPLE_ESC.get(ch, ch))

    def cls(self):
        negate = False
        if self.peek() == "^":
            self.take()
            negate = True
        chars = set()
        first = True
        while True:
            ch = self.peek()
            if ch is None:
                raise ValueError("missing ']'")
            if ch == "]" and not first:
                self.take()
                break
            first = False
            self.take()
            if ch == "\\":
                item = self.escape(in_class=True)
                if item[0] == "set":
                    chars |= item[1]
                    continue
                lo = item[1]
            else:
                lo = ch
            if self.peek() == "-" and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                self.take()
                hi = self.take()
                if hi == "\\":
                    hi = self.escape(in_class=True)[1]
                for c in range(ord(lo), ord(hi) + 1):
                    if c < 128 or chr(c) in _UNIVERSE:
                        chars.add(chr(c))
                continue
            chars.add(lo)
        if negate:
            return set(c for c in _UNIVERSE if c not in chars)
        return set(c for c in chars if c in _UNIVERSE or ord(c) >= 128)


_ast_cache = {}


def _ast(pattern):
    node = _ast_cache.get(pattern)
    if node is None:
        node = _Parser(normalise(pattern)).parse()
        _ast_cache[pattern] = node
    return node


def _pick(rng, chars):
    pool = sorted(chars & _NICE) or sorted(chars)
    if not pool:
        raise ValueError("empty character class")
    return pool[rng.randrange(len(pool))]


def _gen(node, rng, grow, out):
    kind = node[0]
    if kind == "lit":
        out.append(node[1])
    elif kind == "set":
        out.append(_pick(rng, node[1]))
    elif kind == "seq":
        for item in node[1]:
            _gen(item, rng, grow, out)
    elif kind == "alt":
        _gen(node[1][rng.randrange(len(node[1]))], rng, grow, out)
    elif kind == "group":
        _gen(node[1], rng, grow, out)
    elif kind == "rep":
        _, inner, lo, hi = node
        top = lo + grow if hi is None else min(hi, lo + grow)
        count = top if hi is None else rng.randint(lo, top)
        for _ in range(count):
            _gen(inner, rng, grow, out)
    # anchors and lookarounds produce nothing; the caller verifies.


def generate(pattern, rng, min_len=None, max_len=None):
    """A string matching `pattern` with min_len <= length <= max_len, or
    None when none was found (the caller falls back and warns)."""
    lo = min_len or 0
    hi = max_len if max_len is not None else lo + 256
    ok = matcher(pattern)
    node = _ast(pattern)
    target = max(lo, min(hi, 12))
    for attempt in range(24):
        grow = max(0, target - 1) if attempt % 3 == 0 else rng.randint(0, max(1, target))
        out = []
        _gen(node, rng, grow, out)
        s = "".join(out)
        for cand in (s, s[:hi]):
            if lo <= len(cand) <= hi and ok(cand):
                return cand
        if len(s) < lo:
            target = target * 2
    return None
