-- aws_connect.regex.engine: parser, NFA compiler and lazy-DFA matcher behind
-- aws_connect.regex (the semantics are documented there). Loaded on the first
-- compile, so that require("aws_connect.regex") stays cheap.

local byte, char, match, concat, sort, floor = string.byte, string.char, string.match, table.concat, table.sort, math.floor

local M = {}

local MAX_CP = 0x10FFFF
local MAX_REPEAT = 1000       -- largest n or m in {n,m}
local MAX_INSTR = 40000       -- NFA size after expanding repetitions
local MAX_PATTERN = 8192      -- pattern length in bytes
local MAX_DEPTH = 100         -- group nesting
local MAX_LOOKS = 16
local MAX_STATES = 1500       -- DFA cache per program; flushed (never unbounded) when full
local MAX_MEMO = 4096         -- code point -> class memo for non-ASCII input
local MAX_SETS = 1024         -- distinct character sets (the alphabet is built in O(sets * cuts))

-- NFA opcodes
local CHAR, SPLIT, JMP, BOL, DOLLAR, EOI, LOOK, MATCH = 1, 2, 3, 4, 5, 6, 7, 8
-- context bits: the assertion passes at this position; look-ahead k has bit 4 * 2^k
local B_BOL, B_DOLLAR, B_EOI = 1, 2, 4

local function has(bits, bit) return floor(bits / bit) % 2 == 1 end

---------------------------------------------------------------------------
-- Code point sets: flat sorted arrays {lo1, hi1, lo2, hi2, ...}, disjoint.

local function normalize(r)
  local n = #r / 2
  local idx = {}
  for i = 1, n do idx[i] = i end
  sort(idx, function(a, b) return r[2 * a - 1] < r[2 * b - 1] end)
  local out, m = {}, 0
  for k = 1, n do
    local i = idx[k]
    local lo, hi = r[2 * i - 1], r[2 * i]
    if m > 0 and lo <= out[m] + 1 then
      if hi > out[m] then out[m] = hi end
    else
      out[m + 1], out[m + 2] = lo, hi
      m = m + 2
    end
  end
  return out
end

local function complement(r)
  local out, prev = {}, 0
  for i = 1, #r, 2 do
    if r[i] > prev then out[#out + 1] = prev; out[#out + 1] = r[i] - 1 end
    prev = r[i + 1] + 1
  end
  if prev <= MAX_CP then out[#out + 1] = prev; out[#out + 1] = MAX_CP end
  return out
end

local function append(dst, src)
  for i = 1, #src do dst[#dst + 1] = src[i] end
  return dst
end

local function ranges(...) return normalize({ ... }) end

local DIGIT = ranges(48, 57)
local SPACE = ranges(32, 32, 9, 13)                                  -- [ \t\n\x0B\f\r]
local WORD = ranges(48, 57, 65, 90, 95, 95, 97, 122)
local DOT = complement(ranges(10, 10, 13, 13, 0x85, 0x85, 0x2028, 0x2029))

-- Java's POSIX character classes (US-ASCII only without UNICODE_CHARACTER_CLASS)
local POSIX = {
  Lower = ranges(97, 122), Upper = ranges(65, 90), ASCII = ranges(0, 127),
  Alpha = ranges(65, 90, 97, 122), Digit = DIGIT, Alnum = ranges(48, 57, 65, 90, 97, 122),
  Punct = ranges(0x21, 0x2F, 0x3A, 0x40, 0x5B, 0x60, 0x7B, 0x7E),
  Graph = ranges(0x21, 0x7E), Print = ranges(0x20, 0x7E), Blank = ranges(9, 9, 32, 32),
  Cntrl = ranges(0, 0x1F, 0x7F, 0x7F), XDigit = ranges(48, 57, 65, 70, 97, 102), Space = SPACE,
  all = ranges(0, MAX_CP),
}

local MAJOR = {
  L = { "Lu", "Ll", "Lt", "Lm", "Lo" }, LC = { "Lu", "Ll", "Lt" }, M = { "Mn", "Mc", "Me" },
  N = { "Nd", "Nl", "No" }, P = { "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po" },
  S = { "Sm", "Sc", "Sk", "So" }, Z = { "Zs", "Zl", "Zp" }, C = { "Cc", "Cf", "Cs", "Co", "Cn" },
}

local ucd          -- the generated tables, required on first \p{category}
local ucd_sets = {}

local function category(name)
  local r = ucd_sets[name]
  if r then return r end
  if MAJOR[name] then
    r = {}
    for _, sub in ipairs(MAJOR[name]) do append(r, category(sub)) end
    r = normalize(r)
  else
    if not ucd then ucd = require("aws_connect.regex.unicode") end
    local text = name:match("^%u%l$") and ucd[name]
    if type(text) ~= "string" then return nil end
    r = {}
    local prev, lo = 0, nil
    for tok in text:gmatch("%w+") do
      local v = tonumber(tok, 36)
      if not lo then
        lo = prev + v
      else
        r[#r + 1] = lo; r[#r + 1] = lo + v
        prev, lo = lo + v + 1, nil
      end
    end
  end
  ucd_sets[name] = r
  return r
end

---------------------------------------------------------------------------
-- Parser: pattern text -> AST. Nodes: {k="set", id}, {k="cat", ...},
-- {k="alt", ...}, {k="rep", body, min, max}, {k="bol"}, {k="dollar"},
-- {k="eoi"}, {k="look", body, neg=bool, off}, {k="empty"}.

local function fail(_, i, msg)
  error({ regex_error = ("%s at offset %d"):format(msg, i - 1) }, 0)
end

local function add_set(P, r)
  local key = concat(r, ",")
  local id = P.setkeys[key]
  if not id then
    id = #P.sets + 1
    if id > MAX_SETS then fail(P, P.i, ("more than %d distinct character sets"):format(MAX_SETS)) end
    P.sets[id] = r
    P.setkeys[key] = id
  end
  return { k = "set", id = id }
end

-- one UTF-8 code point of the pattern at P.i
local function pattern_cp(P)
  local s, i = P.s, P.i
  local b = byte(s, i)
  if b < 0x80 then P.i = i + 1; return b end
  local len = (b >= 0xF0 and 4) or (b >= 0xE0 and 3) or (b >= 0xC2 and 2) or 0
  local cp = len == 2 and b - 0xC0 or len == 3 and b - 0xE0 or b - 0xF0
  for j = 1, len - 1 do
    local c = byte(s, i + j)
    if not c or c < 0x80 or c >= 0xC0 then cp = nil; break end
    cp = cp * 64 + c - 0x80
  end
  if len == 0 or not cp or cp > MAX_CP or (len == 3 and cp < 0x800) or (len == 4 and cp < 0x10000) then
    fail(P, i, "invalid UTF-8 in pattern")
  end
  P.i = i + len
  return cp
end

local function hex_at(P, i, count)
  local h = P.s:sub(i, i + count - 1)
  if #h ~= count or not h:match("^%x+$") then return nil end
  return tonumber(h, 16)
end

local SIMPLE_ESC = { t = 9, n = 10, r = 13, f = 12, a = 7, e = 27 }
local PREDEF = {
  d = DIGIT, D = complement(DIGIT), s = SPACE, S = complement(SPACE), w = WORD, W = complement(WORD),
}
local UNSUPPORTED_ESC = {
  b = "word boundary \\b", B = "non-word boundary \\B", G = "end-of-previous-match \\G",
  k = "named back-reference \\k", R = "linebreak matcher \\R", X = "grapheme cluster \\X",
  N = "named character \\N", h = "\\h", H = "\\H", v = "\\v", V = "\\V",
}

local function property(P, i0, name, negate)
  local r
  local base = name:gsub("^general_category=", ""):gsub("^gc=", "")
  if POSIX[name] then
    r = POSIX[name]
  else
    r = category(base) or (base:sub(1, 2) == "Is" and category(base:sub(3)))
  end
  if not r then fail(P, i0, ("unsupported property \\%s{%s}"):format(negate and "P" or "p", name)) end
  if negate then r = complement(r) end
  return r
end

-- An escape at P.i (the backslash). Returns "cp", code point | "set", ranges |
-- "node", AST node (outside classes only).
local function parse_escape(P, in_class)
  local s, i0 = P.s, P.i
  local c = byte(s, i0 + 1)
  if not c then fail(P, i0, "trailing backslash") end
  local ch = char(c)
  P.i = i0 + 2
  if PREDEF[ch] then return "set", PREDEF[ch] end
  if SIMPLE_ESC[ch] then return "cp", SIMPLE_ESC[ch] end
  if ch == "p" or ch == "P" then
    local name
    if byte(s, P.i) == 123 then                       -- {
      local close = s:find("}", P.i, true)
      if not close then fail(P, i0, "unclosed property name \\" .. ch .. "{") end
      name = s:sub(P.i + 1, close - 1)
      P.i = close + 1
    else
      name = s:sub(P.i, P.i)
      if name == "" then fail(P, i0, "property name expected after \\" .. ch) end
      P.i = P.i + 1
    end
    return "set", property(P, i0, name, ch == "P")
  end
  if ch == "u" then
    local v = hex_at(P, P.i, 4)
    if not v then fail(P, i0, "\\u needs exactly 4 hex digits") end
    P.i = P.i + 4
    if v >= 0xD800 and v <= 0xDBFF and s:sub(P.i, P.i + 1) == "\\u" then
      local lo = hex_at(P, P.i + 2, 4)
      if lo and lo >= 0xDC00 and lo <= 0xDFFF then
        v = 0x10000 + (v - 0xD800) * 0x400 + (lo - 0xDC00)
        P.i = P.i + 6
      end
    end
    return "cp", v
  end
  if ch == "x" then
    if byte(s, P.i) == 123 then
      local close = s:find("}", P.i, true)
      local h = close and s:sub(P.i + 1, close - 1)
      local v = h and h:match("^%x+$") and #h <= 8 and tonumber(h, 16)
      if not v or v > MAX_CP then fail(P, i0, "bad hexadecimal escape \\x{...}") end
      P.i = close + 1
      return "cp", v
    end
    local v = hex_at(P, P.i, 2)
    if not v then fail(P, i0, "\\x needs 2 hex digits") end
    P.i = P.i + 2
    return "cp", v
  end
  if ch == "0" then
    local d = s:match("^[0-7][0-7]?[0-7]?", P.i)
    if not d then fail(P, i0, "octal escape \\0 needs a digit") end
    if #d == 3 and d:sub(1, 1) > "3" then d = d:sub(1, 2) end
    P.i = P.i + #d
    return "cp", tonumber(d, 8)
  end
  if ch == "c" then
    local x = byte(s, P.i)
    if not x or x >= 128 then fail(P, i0, "\\c needs an ASCII control letter") end
    P.i = P.i + 1
    return "cp", x >= 64 and x - 64 or x + 64
  end
  if c >= 49 and c <= 57 then fail(P, i0, "back-reference \\" .. ch .. " is not supported") end
  if ch == "A" or ch == "z" or ch == "Z" or ch == "Q" then
    if in_class then fail(P, i0, "\\" .. ch .. " is not allowed in a character class") end
    if ch == "A" then return "node", { k = "bol" } end
    if ch == "z" then return "node", { k = "eoi" } end
    if ch == "Z" then return "node", { k = "dollar" } end
    local stop = s:find("\\E", P.i, true)
    local text = s:sub(P.i, (stop or #s + 1) - 1)
    P.i = stop and stop + 2 or #s + 1
    local node, Q = { k = "cat" }, { s = text, i = 1 }
    while Q.i <= #text do
      local cp = pattern_cp(Q)
      node[#node + 1] = add_set(P, { cp, cp })
    end
    return "node", node
  end
  if UNSUPPORTED_ESC[ch] then fail(P, i0, UNSUPPORTED_ESC[ch] .. " is not supported") end
  if ch:match("%w") then fail(P, i0, "unknown escape \\" .. ch) end
  P.i = i0 + 1
  return "cp", pattern_cp(P)
end

local parse_alt

local function parse_class(P)
  local s, start = P.s, P.i
  P.i = P.i + 1
  local neg = false
  if byte(s, P.i) == 94 then neg = true; P.i = P.i + 1 end             -- ^
  local acc, first = {}, true
  while true do
    local c = byte(s, P.i)
    if not c then fail(P, start, "unclosed character class") end
    if c == 93 and not first then P.i = P.i + 1; break end              -- ]
    if c == 91 then                                                     -- [ nested: union
      append(acc, parse_class(P))
    elseif c == 38 and byte(s, P.i + 1) == 38 then                      -- &&
      fail(P, P.i, "character class intersection && is not supported")
    else
      local kind, v
      if c == 92 then kind, v = parse_escape(P, true) else kind, v = "cp", pattern_cp(P) end
      if kind == "set" then
        append(acc, v)
      else
        local nx = byte(s, P.i + 1)
        if byte(s, P.i) == 45 and nx and nx ~= 93 and nx ~= 91 then      -- a range lo-hi
          local at = P.i
          P.i = P.i + 1
          local k2, hi
          if nx == 92 then k2, hi = parse_escape(P, true) else k2, hi = "cp", pattern_cp(P) end
          if k2 ~= "cp" or hi < v then fail(P, at, "illegal character range") end
          acc[#acc + 1] = v; acc[#acc + 1] = hi
        else
          acc[#acc + 1] = v; acc[#acc + 1] = v
        end
      end
    end
    first = false
  end
  local r = normalize(acc)
  if neg then r = complement(r) end
  return r
end

local function parse_group(P)
  local s, start = P.s, P.i
  P.i = P.i + 1
  local look, neg
  if byte(s, P.i) == 63 then                                            -- ?
    local c2 = s:sub(P.i + 1, P.i + 1)
    if c2 == ":" then
      P.i = P.i + 2
    elseif c2 == "=" or c2 == "!" then
      look, neg = true, c2 == "!"
      P.i = P.i + 2
    elseif c2 == "<" then
      local c3 = s:sub(P.i + 2, P.i + 2)
      if c3 == "=" or c3 == "!" then fail(P, start, "look-behind (?<" .. c3 .. " is not supported") end
      local name = s:match("^%a%w*>", P.i + 2)
      if not name then fail(P, start, "bad group name in (?<") end
      P.i = P.i + 2 + #name
    elseif c2 == ">" then
      fail(P, start, "atomic group (?> is not supported")
    else
      fail(P, start, "inline flags or group construct (?" .. c2 .. " is not supported")
    end
  end
  P.depth = P.depth + 1
  if P.depth > MAX_DEPTH then fail(P, start, "groups nested too deeply") end
  if look then
    if P.in_look then fail(P, start, "look-ahead inside a look-ahead is not supported") end
    P.in_look = true
  end
  local body = parse_alt(P)
  if byte(s, P.i) ~= 41 then fail(P, start, "unclosed group (") end
  P.i = P.i + 1
  P.depth = P.depth - 1
  if look then
    P.in_look = false
    return { k = "look", body, neg = neg, off = start }
  end
  return body
end

local function parse_atom(P)
  local s, i = P.s, P.i
  local c = byte(s, i)
  if c == 40 then return parse_group(P) end                             -- (
  if c == 91 then return add_set(P, parse_class(P)) end                 -- [
  if c == 46 then P.i = i + 1; return add_set(P, DOT) end               -- .
  if c == 94 then P.i = i + 1; return { k = "bol" } end                 -- ^
  if c == 36 then P.i = i + 1; return { k = "dollar" } end              -- $
  if c == 92 then
    local kind, v = parse_escape(P, false)
    if kind == "cp" then return add_set(P, { v, v }) end
    if kind == "set" then return add_set(P, v) end
    return v
  end
  if c == 42 or c == 43 or c == 63 then fail(P, i, "dangling quantifier " .. char(c)) end
  if c == 123 then fail(P, i, "dangling repetition {") end
  local cp = pattern_cp(P)
  return add_set(P, { cp, cp })
end

local function parse_quant(P, atom)
  local s, i = P.s, P.i
  local c = byte(s, i)
  local min, max
  if c == 42 then min, max = 0, nil; P.i = i + 1
  elseif c == 43 then min, max = 1, nil; P.i = i + 1
  elseif c == 63 then min, max = 0, 1; P.i = i + 1
  elseif c == 123 then
    local a, comma, b, close = s:match("^{(%d*)(,?)(%d*)()}", i)
    if not a or a == "" then fail(P, i, "illegal repetition {") end
    if #a > 6 or #b > 6 then fail(P, i, "repetition count too large") end
    min = tonumber(a)
    if comma == "" then max = min elseif b == "" then max = nil else max = tonumber(b) end
    if max and max < min then fail(P, i, "illegal repetition range {" .. a .. "," .. b .. "}") end
    if min > MAX_REPEAT or (max and max > MAX_REPEAT) then
      fail(P, i, ("repetition {%s%s%s} exceeds the limit of %d"):format(a, comma, b, MAX_REPEAT))
    end
    P.i = close + 1
  else
    return atom
  end
  local c2 = byte(s, P.i)
  if c2 == 63 then P.i = P.i + 1                                        -- lazy: same language
  elseif c2 == 43 then fail(P, P.i, "possessive quantifier " .. s:sub(i, P.i) .. " is not supported") end
  return { k = "rep", atom, min = min, max = max }
end

local function parse_seq(P)
  local node = { k = "cat" }
  while true do
    local c = byte(P.s, P.i)
    if not c or c == 124 or c == 41 then break end                      -- | )
    node[#node + 1] = parse_quant(P, parse_atom(P))
  end
  if #node == 1 then return node[1] end
  if #node == 0 then return { k = "empty" } end
  return node
end

function parse_alt(P)
  local first = parse_seq(P)
  if byte(P.s, P.i) ~= 124 then return first end
  local node = { k = "alt", first }
  while byte(P.s, P.i) == 124 do
    P.i = P.i + 1
    node[#node + 1] = parse_seq(P)
  end
  return node
end

---------------------------------------------------------------------------
-- Static checks: the longest match of a node, and where look-aheads sit.

local INF = math.huge

local function maxlen(node)
  local k = node.k
  if k == "set" then return 1 end
  if k == "cat" then
    local t = 0
    for _, x in ipairs(node) do t = t + maxlen(x) end
    return t
  end
  if k == "alt" then
    local t = 0
    for _, x in ipairs(node) do t = math.max(t, maxlen(x)) end
    return t
  end
  if k == "rep" then
    local m = maxlen(node[1])
    if m == 0 then return 0 end
    if not node.max then return INF end
    return m * node.max
  end
  return 0
end

-- "Z": this point is only ever reached at position 0; "A": anywhere.
-- A look-ahead with an unbounded body must sit at a "Z" point, so it runs once.
local function check_looks(P, node, at)
  local k = node.k
  if k == "set" then return "A" end
  if k == "bol" then return "Z" end
  if k == "look" then
    if at ~= "Z" and maxlen(node[1]) == INF then
      fail(P, node.off, "look-ahead (?" .. (node.neg and "!" or "=") ..
        " with an unbounded body is only supported at the start of an anchored pattern (^(?...)")
    end
    check_looks(P, node[1], at)
    return at
  end
  if k == "cat" then
    for _, x in ipairs(node) do at = check_looks(P, x, at) end
    return at
  end
  if k == "alt" then
    local out = "Z"
    for _, x in ipairs(node) do
      if check_looks(P, x, at) == "A" then out = "A" end
    end
    return out
  end
  if k == "rep" then
    local body = node[1]
    local entry = at
    if (node.max or INF) > 1 and maxlen(body) > 0 then entry = "A" end
    local out = check_looks(P, body, entry)
    if node.min == 0 and at == "A" then out = "A" end
    return out
  end
  return at
end

---------------------------------------------------------------------------
-- Code generation: AST -> program (parallel arrays op/x/y; pc 1 is the start).

local function emit(prog, o, a, b)
  local pc = prog.n + 1
  if pc > MAX_INSTR then
    error({ regex_error = ("pattern too large after expanding repetitions (over %d states)"):format(MAX_INSTR) }, 0)
  end
  prog.n = pc
  prog.op[pc], prog.x[pc], prog.y[pc] = o, a, b
  return pc
end

local new_program

local function gen(prog, node, R)
  local k = node.k
  if k == "set" then
    emit(prog, CHAR, node.id, prog.n + 2)
  elseif k == "cat" then
    for _, x in ipairs(node) do gen(prog, x, R) end
  elseif k == "alt" then
    local jumps = {}
    for j = 1, #node - 1 do
      local split = emit(prog, SPLIT, prog.n + 2, 0)
      gen(prog, node[j], R)
      jumps[j] = emit(prog, JMP, 0, 0)
      prog.y[split] = prog.n + 1
    end
    gen(prog, node[#node], R)
    for _, pc in ipairs(jumps) do prog.x[pc] = prog.n + 1 end
  elseif k == "rep" then
    local body, min, max = node[1], node.min, node.max
    for _ = 1, (max == nil and min > 0) and min - 1 or min do gen(prog, body, R) end
    if max == nil then
      if min > 0 then                                   -- last copy loops: L: body; SPLIT L, next
        local top = prog.n + 1
        gen(prog, body, R)
        emit(prog, SPLIT, top, prog.n + 2)
      else                                              -- L: SPLIT body, next; body; JMP L
        local split = emit(prog, SPLIT, prog.n + 2, 0)
        gen(prog, body, R)
        emit(prog, JMP, split, 0)
        prog.y[split] = prog.n + 1
      end
    else
      local splits = {}
      for j = 1, max - min do                           -- nested optionals: (x(x(x)?)?)?
        splits[j] = emit(prog, SPLIT, prog.n + 2, 0)
        gen(prog, body, R)
      end
      for _, pc in ipairs(splits) do prog.y[pc] = prog.n + 1 end
    end
  elseif k == "bol" then
    emit(prog, BOL, prog.n + 2, 0)
  elseif k == "dollar" then
    emit(prog, DOLLAR, prog.n + 2, 0)
  elseif k == "eoi" then
    emit(prog, EOI, prog.n + 2, 0)
  elseif k == "look" then
    local looks = R.looks
    if #looks >= MAX_LOOKS then error({ regex_error = "too many look-aheads" }, 0) end
    local sub = new_program(R, false)
    gen(sub, node[1], R)
    emit(sub, MATCH, 0, 0)
    looks[#looks + 1] = sub
    sub.bit = 8 * 2 ^ (#looks - 1)
    sub.neg = node.neg
    emit(prog, LOOK, prog.n + 2, #looks)
  end
end

---------------------------------------------------------------------------
-- Alphabet: the code point space cut into classes that every set of the
-- pattern either contains wholly or not at all.

local function build_alphabet(sets)
  local cuts = { 0, MAX_CP + 1 }
  for _, r in ipairs(sets) do
    for i = 1, #r, 2 do cuts[#cuts + 1] = r[i]; cuts[#cuts + 1] = r[i + 1] + 1 end
  end
  sort(cuts)
  local bounds = {}
  for _, v in ipairs(cuts) do
    if v ~= bounds[#bounds] then bounds[#bounds + 1] = v end
  end
  -- signature of each elementary interval [bounds[j], bounds[j+1]-1]
  local nint = #bounds - 1
  local sig = {}
  for j = 1, nint do sig[j] = {} end
  for id, r in ipairs(sets) do
    local ri = 1
    for j = 1, nint do
      local v = bounds[j]
      while r[ri + 1] and r[ri + 1] < v do ri = ri + 2 end
      sig[j][id] = (r[ri] and r[ri] <= v) and "1" or "0"
    end
  end
  local ids, starts, cls_of_sig, nclasses, last = {}, {}, {}, 0, nil
  local class_ranges = {}
  for j = 1, nint do
    local key = concat(sig[j])
    local c = cls_of_sig[key]
    if not c then
      nclasses = nclasses + 1
      c = nclasses
      cls_of_sig[key] = c
      class_ranges[c] = {}
    end
    local cr = class_ranges[c]
    cr[#cr + 1] = bounds[j]; cr[#cr + 1] = bounds[j + 1] - 1
    if c ~= last then
      starts[#starts + 1] = bounds[j]
      ids[#ids + 1] = c
      last = c
    end
  end
  local member = {}
  for id = 1, #sets do member[id] = {} end
  for key, c in pairs(cls_of_sig) do
    for id = 1, #sets do
      if key:sub(id, id) == "1" then member[id][c] = true end
    end
  end
  local ascii = {}
  local j = 1
  for b = 0, 127 do
    while starts[j + 1] and starts[j + 1] <= b do j = j + 1 end
    ascii[b] = ids[j]
  end
  return {
    starts = starts, ids = ids, nclasses = nclasses, member = member, ascii = ascii,
    class_ranges = class_ranges, memo = {}, nmemo = 0,
  }
end

local function classify(A, cp)
  local c = A.memo[cp]
  if c then return c end
  local starts = A.starts
  local lo, hi = 1, #starts
  while lo < hi do
    local mid = floor((lo + hi + 1) / 2)
    if starts[mid] <= cp then lo = mid else hi = mid - 1 end
  end
  c = A.ids[lo]
  if A.nmemo < MAX_MEMO then
    A.memo[cp] = c
    A.nmemo = A.nmemo + 1
  end
  return c
end

---------------------------------------------------------------------------
-- The lazy DFA. A state is a set of NFA pcs (the "kernel": where threads
-- stand after consuming a character); for the main program the start pc is
-- added at every position (find semantics). A state's row for a context
-- (which assertions pass here) holds its epsilon closure and, filled on
-- demand, the next state per ASCII byte (row[b]) and per class (row[128+c]).
-- A closure that reaches MATCH is the ACCEPT row.

local ACCEPT = { chars = {} }

local function closure_bits(prog, kernel, bol_pass)
  -- the assertions a closure may consult (all taken as passing, ^ as told)
  local op, x, y, lookbit = prog.op, prog.x, prog.y, prog.lookbit
  prog.stamp = prog.stamp + 1
  local stamp, mark = prog.stamp, prog.mark
  local stack = {}
  for i = 1, #kernel do stack[i] = kernel[i] end
  if prog.inject then stack[#stack + 1] = 1 end
  local seen, bits = {}, 0
  local function add(b) if not seen[b] then seen[b] = true; bits = bits + b end end
  while #stack > 0 do
    local pc = stack[#stack]
    stack[#stack] = nil
    if mark[pc] ~= stamp then
      mark[pc] = stamp
      local o = op[pc]
      if o == SPLIT then stack[#stack + 1] = y[pc]; stack[#stack + 1] = x[pc]
      elseif o == JMP then stack[#stack + 1] = x[pc]
      elseif o == BOL then if bol_pass then add(B_BOL); stack[#stack + 1] = x[pc] end
      elseif o == DOLLAR then add(B_DOLLAR); stack[#stack + 1] = x[pc]
      elseif o == EOI then add(B_EOI); stack[#stack + 1] = x[pc]
      elseif o == LOOK then add(lookbit[y[pc]]); stack[#stack + 1] = x[pc]
      end
    end
  end
  return bits
end

-- Drop the cache; the initial and dead states stay (emptied), so that nothing
-- of the old graph stays reachable and early exits keep working.
local function flush(prog)
  prog.states, prog.nstates = {}, 0
  local keep = { prog.initial }
  if prog.dead and prog.dead ~= prog.initial then keep[2] = prog.dead end
  for _, st in ipairs(keep) do
    st.rows, st.r0, st.canon = {}, nil, nil
    prog.states[concat(st.kernel, " ")] = st
    prog.nstates = prog.nstates + 1
  end
end

local function intern(prog, kernel)
  local key = concat(kernel, " ")
  local st = prog.states[key]
  if st then return st end
  if prog.nstates >= MAX_STATES then flush(prog) end
  local needs_mid = closure_bits(prog, kernel, false)
  local needs = closure_bits(prog, kernel, true)
  prog.nextid = prog.nextid + 1
  st = {
    id = prog.nextid, kernel = kernel, rows = {},
    needs = needs, needs_mid = needs_mid,
    fast = needs_mid < 8,           -- no look-ahead to run at positions > 0
    bol = has(needs, B_BOL), dollar = has(needs, B_DOLLAR), eoi = has(needs, B_EOI),
  }
  if needs >= 8 then
    local l0, lm = {}, {}
    for _, sub in ipairs(prog.R.looks) do
      if has(needs, sub.bit) then l0[#l0 + 1] = sub end
      if has(needs_mid, sub.bit) then lm[#lm + 1] = sub end
    end
    st.looks0, st.looks_mid = l0, lm[1] and lm or nil
  end
  prog.states[key] = st
  prog.nstates = prog.nstates + 1
  return st
end

local function build_row(prog, st, ctx)
  local op, x, y, lookbit = prog.op, prog.x, prog.y, prog.lookbit
  prog.stamp = prog.stamp + 1
  local stamp, mark = prog.stamp, prog.mark
  local stack, kernel = {}, st.kernel
  for i = 1, #kernel do stack[i] = kernel[i] end
  if prog.inject then stack[#stack + 1] = 1 end
  local chars = {}
  while #stack > 0 do
    local pc = stack[#stack]
    stack[#stack] = nil
    if mark[pc] ~= stamp then
      mark[pc] = stamp
      local o = op[pc]
      if o == CHAR then chars[#chars + 1] = pc
      elseif o == SPLIT then stack[#stack + 1] = y[pc]; stack[#stack + 1] = x[pc]
      elseif o == JMP then stack[#stack + 1] = x[pc]
      elseif o == MATCH then return ACCEPT
      else
        local bit = (o == BOL and B_BOL) or (o == DOLLAR and B_DOLLAR) or (o == EOI and B_EOI) or lookbit[y[pc]]
        if has(ctx, bit) then stack[#stack + 1] = x[pc] end
      end
    end
  end
  return { chars = chars }
end

-- rows are shared between the contexts of a state that give the same closure,
-- so that "does this look-ahead matter here?" is an identity test
local function get_row(prog, st, ctx)
  local row = st.rows[ctx]
  if not row then
    row = build_row(prog, st, ctx)
    if row ~= ACCEPT then
      local chars = {}
      for i, pc in ipairs(row.chars) do chars[i] = pc end
      sort(chars)
      local key = concat(chars, " ")
      local canon = st.canon
      if not canon then canon = {}; st.canon = canon end
      if canon[key] then row = canon[key] else canon[key] = row end
    end
    st.rows[ctx] = row
  end
  return row
end

local function step_class(prog, row, cls)
  local chars, member, x, y = row.chars, prog.R.alpha.member, prog.x, prog.y
  local k = {}
  for i = 1, #chars do
    local pc = chars[i]
    if member[x[pc]][cls] then k[#k + 1] = y[pc] end
  end
  sort(k)
  local out = {}
  for i = 1, #k do if k[i] ~= out[#out] then out[#out + 1] = k[i] end end
  local st = intern(prog, out)
  row[128 + cls] = st
  return st
end

local function step_ascii(prog, row, b)
  local cls = prog.R.alpha.ascii[b]
  local st = row[128 + cls] or step_class(prog, row, cls)
  row[b] = st
  return st
end

-- Java's `$` without MULTILINE: end of input, or before a final line terminator.
local function dollar_ok(s, n, pos)
  local r = n - pos
  if r == 0 then return true end
  if r > 3 then return false end
  local a, b, c = byte(s, pos + 1, n)
  if r == 1 then return a == 13 or (a == 10 and byte(s, pos) ~= 13) end
  if r == 2 then return (a == 13 and b == 10) or (a == 0xC2 and b == 0x85) end
  return a == 0xE2 and b == 0x80 and (c == 0xA8 or c == 0xA9)
end

local run

-- the context at pos: the sum of the bits of the assertions that pass there
-- (only those the state's closure can reach; the rest count as failing)
local function context(prog, st, s, n, pos)
  local ctx = 0
  if pos == 0 and st.bol then ctx = B_BOL end
  if st.dollar and dollar_ok(s, n, pos) then ctx = ctx + B_DOLLAR end
  if st.eoi and pos == n then ctx = ctx + B_EOI end
  local looks = pos == 0 and st.looks0 or st.looks_mid
  if looks then
    -- one look-ahead that cannot change the closure here (other threads
    -- already cover where it leads) is not run at all
    if #looks == 1 and get_row(prog, st, ctx) == get_row(prog, st, ctx + looks[1].bit) then
      if ctx == 0 and pos ~= 0 then st.fast = true end    -- so for every 0 < pos < lim
      return ctx
    end
    for i = 1, #looks do
      local sub = looks[i]
      local hit
      if pos < n and sub.nofirst[byte(s, pos + 1)] then hit = false else hit = run(sub, s, n, pos) end
      if hit ~= sub.neg then ctx = ctx + sub.bit end
    end
  end
  return ctx
end

-- A Lua pattern "^[bytes]*()" over the ASCII bytes that lead from a state
-- back to itself, so that a run of them is skipped by string.match in C.
local function lua_class_byte(b)
  if (b >= 48 and b <= 57) or (b >= 65 and b <= 90) or (b >= 97 and b <= 122) then return char(b) end
  return "%" .. char(b)
end

local function raw_ok(b) return b ~= 37 and b ~= 93 and b ~= 94 and b ~= 45 end   -- % ] ^ -

local function self_loop_skip(prog, st, row)
  local loop = {}
  for b = 1, 127 do                                        -- NUL stays on the slow path (Lua 5.1 patterns)
    if (row[b] or step_ascii(prog, row, b)) == st then loop[#loop + 1] = b end
  end
  if #loop == 0 then return nil end
  local out, i = {}, 1
  while i <= #loop do
    local j = i
    while loop[j + 1] == loop[j] + 1 do j = j + 1 end
    local lo, hi = loop[i], loop[j]
    while lo <= hi do
      if hi - lo >= 2 and raw_ok(lo) and raw_ok(hi) then
        out[#out + 1] = char(lo) .. "-" .. char(hi)
        break
      elseif not raw_ok(lo) or hi - lo < 2 then
        out[#out + 1] = lua_class_byte(lo)
        lo = lo + 1
      else
        out[#out + 1] = lua_class_byte(hi)
        hi = hi - 1
      end
    end
    i = j + 1
  end
  sort(out, function(a, b)               -- wide ranges first: Lua scans a class in order
    local wa, wb = #a == 3 and byte(a, 3) - byte(a, 1) or 0, #b == 3 and byte(b, 3) - byte(b, 1) or 0
    if wa ~= wb then return wa > wb end
    return a < b
  end)
  return "^[" .. concat(out) .. "]*()"
end

local function slow_row(prog, st, s, n, pos)
  local ctx = context(prog, st, s, n, pos)
  local row = st.rows[ctx] or get_row(prog, st, ctx)
  if ctx == 0 and st.fast and not st.r0 and row ~= ACCEPT then
    row.skip = self_loop_skip(prog, st, row) or false
    st.r0 = row
  end
  return row
end

-- one UTF-8 code point at s[i] (lead byte b >= 0x80): cp, index of its last byte
local function decode(s, i, b)
  if b >= 0xC2 and b < 0xE0 then
    local b2 = byte(s, i + 1)
    if b2 and b2 >= 0x80 and b2 < 0xC0 then return (b - 0xC0) * 64 + b2 - 0x80, i + 1 end
  elseif b >= 0xE0 and b < 0xF0 then
    local b2, b3 = byte(s, i + 1, i + 2)
    if b3 and b2 >= 0x80 and b2 < 0xC0 and b3 >= 0x80 and b3 < 0xC0 then
      local cp = ((b - 0xE0) * 64 + b2 - 0x80) * 64 + b3 - 0x80
      if cp >= 0x800 and (cp < 0xD800 or cp > 0xDFFF) then return cp, i + 2 end
    end
  elseif b >= 0xF0 and b < 0xF5 then
    local b2, b3, b4 = byte(s, i + 1, i + 3)
    if b4 and b2 >= 0x80 and b2 < 0xC0 and b3 >= 0x80 and b3 < 0xC0 and b4 >= 0x80 and b4 < 0xC0 then
      local cp = (((b - 0xF0) * 64 + b2 - 0x80) * 64 + b3 - 0x80) * 64 + b4 - 0x80
      if cp >= 0x10000 and cp <= MAX_CP then return cp, i + 3 end
    end
  end
  return 0xFFFD, i
end

-- Does prog match (main: anywhere; look-ahead: starting at pos)? pos is the
-- number of bytes already consumed.
function run(prog, s, n, pos)
  local st, dead = prog.initial, prog.dead
  -- before lim, neither $ nor \z can pass: lim is n unless the input ends
  -- with a line terminator
  local lim = n
  local final = byte(s, n)
  if final == 10 or final == 13 or final == 0x85 or final == 0xA8 or final == 0xA9 then lim = n - 3 end
  local A = prog.R.alpha
  while pos < n do
    local row = (pos ~= 0 and pos < lim and st.r0) or slow_row(prog, st, s, n, pos)
    if row == ACCEPT then return true end
    local skip = row.skip
    if skip then                         -- a run of self-loop bytes (the row is r0: 0 < pos < lim)
      local last = match(s, skip, pos + 1) - 1
      if last >= lim then last = lim - 1 end
      if last > pos then pos = last end
    end
    pos = pos + 1
    local b = byte(s, pos)
    if b < 128 then
      st = row[b] or step_ascii(prog, row, b)
    else
      local cp
      cp, pos = decode(s, pos, b)
      local cls = classify(A, cp)
      st = row[128 + cls] or step_class(prog, row, cls)
    end
    if st == dead then return false end
  end
  return slow_row(prog, st, s, n, pos) == ACCEPT
end

function new_program(R, inject)
  return {
    R = R, inject = inject, op = {}, x = {}, y = {}, n = 0,
    mark = {}, stamp = 0, states = {}, nstates = 0, nextid = 0,
  }
end

local function finish_program(prog)
  local R = prog.R
  prog.lookbit = {}
  for k, sub in ipairs(R.looks) do prog.lookbit[k] = sub.bit end
  prog.initial = intern(prog, prog.inject and {} or { 1 })
  if prog.inject then
    -- anchored: with ^ failing (any position > 0) and everything else
    -- passing, the start reaches nothing: an empty kernel is then dead
    local others = B_DOLLAR + B_EOI + 8 * (2 ^ #R.looks - 1)
    local row = build_row(prog, { kernel = {} }, others)
    prog.dead = (row ~= ACCEPT and #row.chars == 0) and prog.initial or false
  else
    prog.dead = intern(prog, {})
    -- bytes that cannot start a match of this look-ahead body (skips the run)
    local row = build_row(prog, { kernel = { 1 } }, 8 * 2 ^ #R.looks - 1)
    local nofirst = {}
    if row ~= ACCEPT then
      local A = R.alpha
      for b = 0, 255 do
        local cls = b < 128 and A.ascii[b]
        local any = b >= 128
        for _, pc in ipairs(row.chars) do
          if any or A.member[prog.x[pc]][cls] then any = true; break end
        end
        if not any then nofirst[b] = true end
      end
    end
    prog.nofirst = nofirst
  end
end

---------------------------------------------------------------------------
-- Public API

local Regex = {}
Regex.__index = Regex

function Regex:test(s)
  if type(s) ~= "string" then return false end
  return run(self._main, s, #s, 0)
end

function Regex:example(min_len, max_len, seed)
  return require("aws_connect.regex.generate").example(self, min_len, max_len, seed)
end

function Regex:counterexample(min_len, max_len, seed)
  return require("aws_connect.regex.generate").counterexample(self, min_len, max_len, seed)
end

local function compile(pattern)
  if type(pattern) ~= "string" then error({ regex_error = "pattern must be a string" }, 0) end
  if #pattern > MAX_PATTERN then error({ regex_error = ("pattern longer than %d bytes"):format(MAX_PATTERN) }, 0) end
  local P = { s = pattern, i = 1, sets = {}, setkeys = {}, depth = 0 }
  local ast = parse_alt(P)
  if P.i <= #pattern then fail(P, P.i, "unmatched )") end
  check_looks(P, ast, "A")
  local R = { looks = {} }
  local main = new_program(R, true)
  gen(main, ast, R)
  emit(main, MATCH, 0, 0)
  R.alpha = build_alphabet(P.sets)
  finish_program(main)
  for _, sub in ipairs(R.looks) do finish_program(sub) end
  return setmetatable({ pattern = pattern, _main = main, _R = R }, Regex)
end

function M.compile(pattern)
  local ok, re = pcall(compile, pattern)
  if ok then return re end
  if type(re) == "table" and re.regex_error then
    return nil, "regex: " .. re.regex_error .. (type(pattern) == "string" and
      " in pattern " .. ("%q"):format(pattern:sub(1, 200)) or "")
  end
  error(re, 0)
end

-- the same program matched from position 0 only (no find): its own DFA cache
local function anchored_view(prog)
  local v = new_program(prog.R, false)
  v.op, v.x, v.y, v.n = prog.op, prog.x, prog.y, prog.n
  finish_program(v)
  return v
end

-- for aws_connect.regex.generate only
M._internal = {
  ACCEPT = ACCEPT, get_row = get_row, step_class = step_class, has = has, anchored_view = anchored_view,
  B_BOL = B_BOL, B_DOLLAR = B_DOLLAR, B_EOI = B_EOI,
}

return M
