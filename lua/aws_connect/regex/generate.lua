-- aws_connect.regex.generate: re:example() and re:counterexample(), strings
-- that do / do not match a compiled pattern, within code-point length bounds.
--
-- Both search the pattern's lazy DFA breadth-first, one layer per length, with
-- every look-ahead taken as passing: that DFA accepts a superset of the
-- pattern's language. A string it rejects is a sure counterexample; a string
-- it accepts is checked with re:test() and the search is retried with other
-- (seeded) choices when a look-ahead turns it down. Characters are picked per
-- character class, ASCII letters and digits first; the same seed gives the
-- same string. Loaded by the first call of either method.

local engine = require("aws_connect.regex.engine")

local I = engine._internal
local ACCEPT, get_row, step_class = I.ACCEPT, I.get_row, I.step_class
local B_BOL, B_DOLLAR, B_EOI = I.B_BOL, I.B_DOLLAR, I.B_EOI

local floor, concat, sort = math.floor, table.concat, table.sort

local M = {}

local MAX_EXTRA = 1100        -- layers searched beyond min_len
local BUDGET = 400000         -- DFA transitions tried per search
local ATTEMPTS = 16

-- Park-Miller: exact in doubles and in integers, so every Lua gives the same stream
local function rng_new(seed)
  local x = floor(math.abs(tonumber(seed) or 1)) % 2147483646 + 1
  return function(n)
    x = (x * 16807) % 2147483647
    return x % n + 1
  end
end

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64, 0x80 + floor(cp / 64) % 64,
    0x80 + cp % 64)
end

local function is_alnum(b)
  return (b >= 48 and b <= 57) or (b >= 65 and b <= 90) or (b >= 97 and b <= 122)
end

local function is_terminator(cp) return cp == 10 or cp == 13 or cp == 0x85 or cp == 0x2028 or cp == 0x2029 end

-- Per class: the characters to pick from (the best tier it has) and its tier:
-- 1 ASCII letters/digits, 2 other printable ASCII, 3 non-ASCII, 4 controls,
-- 5 line terminators. Surrogates (no valid UTF-8) are never picked.
local function candidates(R)
  if R.cands then return R.cands end
  local A = R.alpha
  local tiers = {}
  for c = 1, A.nclasses do tiers[c] = { {}, {}, {}, {}, {} } end
  for b = 0, 127 do
    local t = (is_alnum(b) and 1) or ((b >= 32 and b < 127) and 2) or (is_terminator(b) and 5) or 4
    local list = tiers[A.ascii[b]][t]
    list[#list + 1] = b
  end
  for c = 1, A.nclasses do
    local r, list = A.class_ranges[c], tiers[c]
    for i = 1, #r, 2 do
      local lo, hi = math.max(r[i], 128), r[i + 1]
      local cp = lo
      while cp <= hi and #list[3] < 8 do
        if cp >= 0xD800 and cp <= 0xDFFF then
          cp = 0xE000
        else
          local t = is_terminator(cp) and 5 or 3
          if #list[t] < 8 then list[t][#list[t] + 1] = cp end
          cp = cp + 1
        end
      end
      if #list[3] >= 8 then break end
    end
  end
  local cands = { tier = {}, chars = {}, n = A.nclasses }
  for c = 1, A.nclasses do
    for t = 1, 5 do
      if #tiers[c][t] > 0 then
        cands.tier[c], cands.chars[c] = t, tiers[c][t]
        break
      end
    end
  end
  R.cands = cands
  return cands
end

-- the usable classes, best tier first, shuffled within a tier (Fisher-Yates)
local function class_order(cands, rng)
  local groups = cands.groups
  if not groups then
    groups = { {}, {}, {}, {}, {} }
    for c = 1, cands.n do
      local t = cands.tier[c]
      if t then groups[t][#groups[t] + 1] = c end
    end
    cands.groups = groups
  end
  local out = {}
  for t = 1, 5 do
    local g, base = groups[t], #out
    for i = 1, #g do out[base + i] = g[i] end
    for i = #g, 2, -1 do
      local j = rng(i)
      out[base + i], out[base + j] = out[base + j], out[base + i]
    end
  end
  return out
end

-- the generation context: ^ at length 0, $ and \z only at the end, every look-ahead passing
local function gen_ctx(st, p, at_end)
  local ctx = 0
  if p == 0 and st.bol then ctx = B_BOL end
  if at_end then
    if st.dollar then ctx = ctx + B_DOLLAR end
    if st.eoi then ctx = ctx + B_EOI end
  end
  local looks = p == 0 and st.looks0 or st.looks_mid
  if looks then
    for _, sub in ipairs(looks) do ctx = ctx + sub.bit end
  end
  return ctx
end

local ACC = { id = 0 }        -- "already matched": every continuation matches
local PAD = -1                -- a step from ACC: any letter or digit

-- Breadth-first over lengths in prog's DFA; returns the class sequence (or nil).
local function search(re, prog, lo, hi, want, rng)
  local cands = candidates(re._R)
  local maxp = lo + MAX_EXTRA
  if hi and hi < maxp then maxp = hi end
  local layers = { [0] = { nodes = { prog.initial }, par = { 0 }, via = { 0 } } }
  local budget, fallback, prevsig = BUDGET, nil, nil
  local found_p, found_i
  for p = 0, maxp do
    local L = layers[p]
    if p >= lo then
      for i, st in ipairs(L.nodes) do
        local ok
        if st == ACC then ok = want else ok = (get_row(prog, st, gen_ctx(st, p, true)) == ACCEPT) == want end
        if ok then
          if p > 0 then found_p, found_i = p, i; break end
          fallback = fallback or i
        end
      end
      if found_p then break end
    end
    if p == maxp or budget < 0 then break end
    local NL, seen = { nodes = {}, par = {}, via = {} }, {}
    local function add(st, from, via)
      if seen[st] then return end
      local k = #NL.nodes + 1
      seen[st] = k
      NL.nodes[k], NL.par[k], NL.via[k] = st, from, via
    end
    local order = class_order(cands, rng)
    for i, st in ipairs(L.nodes) do
      if st == ACC then
        add(ACC, i, PAD)
      else
        local row = get_row(prog, st, gen_ctx(st, p, false))
        if row == ACCEPT then
          if want then add(ACC, i, PAD) end
        else
          for _, cls in ipairs(order) do
            budget = budget - 1
            add(row[128 + cls] or step_class(prog, row, cls), i, cls)
          end
        end
      end
    end
    if #NL.nodes == 0 then break end
    local ids = {}
    for k, st in ipairs(NL.nodes) do ids[k] = st.id end
    sort(ids)
    local sig = concat(ids, " ")
    -- from length 1 on, a layer equal to the previous one repeats forever
    if p >= 1 and p >= lo and sig == prevsig then break end
    prevsig = sig
    layers[p + 1] = NL
  end
  if not found_p and fallback then found_p, found_i = 0, fallback end
  if not found_p then return nil end
  local seq, i = {}, found_i
  for q = found_p, 1, -1 do
    seq[q] = layers[q].via[i]
    i = layers[q].par[i]
  end
  return seq
end

local ALNUM = {}
for b = 0, 127 do if is_alnum(b) then ALNUM[#ALNUM + 1] = b end end

local function spell(re, seq, rng)
  local cands, out = candidates(re._R), {}
  for q, cls in ipairs(seq) do
    local list = cls == PAD and ALNUM or cands.chars[cls]
    out[q] = utf8_char(list[rng(#list)])
  end
  return concat(out)
end

local function bounds(min_len, max_len)
  local lo = math.max(0, floor(tonumber(min_len) or 0))
  local hi = max_len and floor(tonumber(max_len) or 0) or nil
  if hi and hi < lo then return nil end
  return lo, hi
end

local function probe(re, lo, hi, want)
  -- last resort: runs of one character per class, at the shortest lengths
  local cands = candidates(re._R)
  local top = hi and math.min(hi, lo + 3) or lo + 3
  for len = math.max(lo, 1), top do
    for c = 1, cands.n do
      local list = cands.chars[c]
      local s = list and utf8_char(list[1]):rep(len)
      if s and re:test(s) == want then return s end
    end
  end
  if lo == 0 and re:test("") == want then return "" end
  return nil
end

local function generate(re, min_len, max_len, seed, want)
  local lo, hi = bounds(min_len, max_len)
  if not lo then return nil end
  local rng = rng_new(seed)
  -- an example is first looked for as a match from position 0 (a narrow
  -- search), then anywhere; a counterexample must avoid matches anywhere
  local progs = { re._main }
  if want then
    re._R.view = re._R.view or I.anchored_view(re._main)
    progs = { re._R.view, re._main }
  end
  local pi = 1
  for _ = 1, ATTEMPTS do
    local seq = search(re, progs[pi], lo, hi, want, rng)
    while not seq and progs[pi + 1] do
      pi = pi + 1
      seq = search(re, progs[pi], lo, hi, want, rng)
    end
    if not seq then break end
    local s = spell(re, seq, rng)
    if re:test(s) == want then return s end
  end
  return probe(re, lo, hi, want)
end

function M.example(re, min_len, max_len, seed)
  return generate(re, min_len, max_len, seed, true)
end

function M.counterexample(re, min_len, max_len, seed)
  return generate(re, min_len, max_len, seed, false)
end

return M
