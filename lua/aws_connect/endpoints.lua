-- aws_connect.endpoints: resolves the service endpoint URL by evaluating a
-- service's endpoint rule set against the partition data
-- (data/partitions.json), as the AWS SDKs do. The rule set is a file name
-- under the data directory: Connect's (data/connect-endpoint-rule-set-1.json)
-- unless a caller names another (models/<service>/endpoint-rule-set-1.json).
--
-- The data files are read on first use (never at require time), from
-- `aws_connect/data/` next to this file (installed layout), else from the
-- repository's `data/` (../../data relative to lua/aws_connect/), else from
-- M.data_dir when set. The evaluator implements the rule-set functions the
-- AWS rule sets use (isSet, not, booleanEquals, stringEquals, getAttr,
-- substring, isValidHostLabel, uriEncode, parseURL, aws.partition); the
-- partition regular expressions are matched by a small regex engine below,
-- since Lua patterns have no alternation.

local errors = require("aws_connect.errors")

local M = {}

--- Directory holding the JSON files; nil means "search the defaults".
M.data_dir = nil

local function config_error(msg, fields)
  errors.raise("ConfigError", msg, fields)
end

-- Data files ---------------------------------------------------------------

local function module_dir()
  local src = debug.getinfo(1, "S").source
  if type(src) == "string" and src:sub(1, 1) == "@" then
    return src:sub(2):match("^(.*)[/\\][^/\\]*$") or "."
  end
  return nil
end

local function readable(path)
  local f = io.open(path, "rb")
  if not f then return false end
  f:close()
  return true
end

function M.candidate_dirs()
  local dirs = {}
  if M.data_dir then dirs[#dirs + 1] = M.data_dir end
  local dir = module_dir()
  if dir then
    dirs[#dirs + 1] = dir .. "/data"
    dirs[#dirs + 1] = dir .. "/../../data"
  end
  return dirs
end

local function find_file(name)
  local tried = {}
  for _, d in ipairs(M.candidate_dirs()) do
    local p = d .. "/" .. name
    if readable(p) then return p end
    tried[#tried + 1] = p
  end
  config_error(("endpoint data file %s not found (looked in %s); set aws_connect.endpoints.data_dir "
    .. "or pass an endpoint"):format(name, table.concat(tried, ", ")))
end

local function load_json(name)
  local core = require("aws_connect.core")
  local path = find_file(name)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  local doc, err = core.json_decode(text)
  if type(doc) ~= "table" then config_error(("%s is not valid JSON: %s"):format(path, tostring(err))) end
  return doc
end

--- Connect's rule set: the default of data(), evaluate() and resolve().
M.CONNECT_RULES = "connect-endpoint-rule-set-1.json"

local data = {} -- rule-set file -> { ruleset, partitions } once loaded
local partitions -- the partition list once loaded

local function partition_list()
  if not partitions then
    local parts = load_json("partitions.json")
    if type(parts.partitions) ~= "table" then config_error("endpoint data files have an unexpected shape") end
    partitions = parts.partitions
  end
  return partitions
end

--- The rule set in file rules (default Connect's) and the partitions.
function M.data(rules)
  rules = rules or M.CONNECT_RULES
  local d = data[rules]
  if not d then
    local ruleset = load_json(rules)
    local parts = partition_list()
    if type(ruleset.rules) ~= "table" then
      config_error("endpoint data files have an unexpected shape")
    end
    d = { ruleset = ruleset, partitions = parts }
    data[rules] = d
  end
  return d
end

--- Forgets loaded data (after changing data_dir).
function M.reset()
  data, partitions = {}, nil
end

-- A small regex engine ------------------------------------------------------
-- Supports ^ $ literals, escapes (\- \. \w \d \s ...), [classes], ., groups
-- with alternation (a|b), and the quantifiers * + ? — enough for the
-- partition regexes (e.g. ^(us|eu|ap)\-\w+\-\d+$). Matching backtracks.

local CLASS = {
  w = function(c) return c:find("^[%w_]$") ~= nil end,
  d = function(c) return c:find("^%d$") ~= nil end,
  s = function(c) return c:find("^%s$") ~= nil end,
}
CLASS.W = function(c) return not CLASS.w(c) end
CLASS.D = function(c) return not CLASS.d(c) end
CLASS.S = function(c) return not CLASS.s(c) end

local function compile_regex(re)
  local pos = 1
  local parse_alt

  local function parse_class()
    -- at '[' ; returns a predicate
    pos = pos + 1
    local negate = false
    if re:sub(pos, pos) == "^" then negate = true; pos = pos + 1 end
    local items = {}
    local first = true
    while true do
      local c = re:sub(pos, pos)
      if c == "" then error("unterminated [class] in regex " .. re) end
      if c == "]" and not first then pos = pos + 1; break end
      first = false
      local pred
      if c == "\\" then
        local e = re:sub(pos + 1, pos + 1)
        pos = pos + 2
        if CLASS[e] then
          pred = CLASS[e]
        else
          pred = function(x) return x == e end
        end
      elseif re:sub(pos + 1, pos + 1) == "-" and re:sub(pos + 2, pos + 2) ~= "]" and re:sub(pos + 2, pos + 2) ~= "" then
        local lo, hi = c, re:sub(pos + 2, pos + 2)
        pos = pos + 3
        pred = function(x) return x >= lo and x <= hi end
      else
        pos = pos + 1
        pred = function(x) return x == c end
      end
      items[#items + 1] = pred
    end
    return function(x)
      local hit = false
      for _, p in ipairs(items) do if p(x) then hit = true; break end end
      if negate then return not hit end
      return hit
    end
  end

  local function parse_atom()
    local c = re:sub(pos, pos)
    if c == "(" then
      pos = pos + 1
      if re:sub(pos, pos + 1) == "?:" then pos = pos + 2 end
      local alts = parse_alt()
      if re:sub(pos, pos) ~= ")" then error("unbalanced ( in regex " .. re) end
      pos = pos + 1
      return { group = alts }
    elseif c == "[" then
      return { pred = parse_class() }
    elseif c == "." then
      pos = pos + 1
      return { pred = function(x) return x ~= "\n" end }
    elseif c == "^" then
      pos = pos + 1
      return { anchor = "^" }
    elseif c == "$" then
      pos = pos + 1
      return { anchor = "$" }
    elseif c == "\\" then
      local e = re:sub(pos + 1, pos + 1)
      pos = pos + 2
      if CLASS[e] then return { pred = CLASS[e] } end
      return { pred = function(x) return x == e end }
    else
      pos = pos + 1
      return { pred = function(x) return x == c end }
    end
  end

  local function parse_seq()
    local seq = {}
    while pos <= #re do
      local c = re:sub(pos, pos)
      if c == "|" or c == ")" then break end
      local atom = parse_atom()
      local q = re:sub(pos, pos)
      if q == "*" or q == "+" or q == "?" then
        atom.min = (q == "+") and 1 or 0
        atom.max = (q == "?") and 1 or math.huge
        pos = pos + 1
      else
        atom.min, atom.max = 1, 1
      end
      seq[#seq + 1] = atom
    end
    return seq
  end

  parse_alt = function()
    local alts = { parse_seq() }
    while re:sub(pos, pos) == "|" do
      pos = pos + 1
      alts[#alts + 1] = parse_seq()
    end
    return alts
  end

  local alts = parse_alt()
  if pos <= #re then error("unbalanced ) in regex " .. re) end

  local match_alts
  -- matches seq[i..] at position p, then calls k(p2); returns true on success
  local function match_seq(s, seq, i, p, k)
    local atom = seq[i]
    if not atom then return k(p) end
    if atom.anchor == "^" then
      if p ~= 1 then return false end
      return match_seq(s, seq, i + 1, p, k)
    elseif atom.anchor == "$" then
      if p ~= #s + 1 then return false end
      return match_seq(s, seq, i + 1, p, k)
    end
    -- one repetition of the atom from p, continuation k1
    local function one(pp, k1)
      if atom.pred then
        local ch = s:sub(pp, pp)
        if ch ~= "" and atom.pred(ch) then return k1(pp + 1) end
        return false
      end
      return match_alts(s, atom.group, pp, k1)
    end
    -- greedy repetition with backtracking
    local function rep(count, pp)
      if count < atom.max then
        local ok = one(pp, function(np)
          if np == pp then return false end -- no progress: stop looping
          return rep(count + 1, np)
        end)
        if ok then return true end
      end
      if count >= atom.min then return match_seq(s, seq, i + 1, pp, k) end
      return false
    end
    return rep(0, p)
  end

  match_alts = function(s, as, p, k)
    for _, seq in ipairs(as) do
      if match_seq(s, seq, 1, p, k) then return true end
    end
    return false
  end

  -- unanchored search, like re.search / std::regex_search
  return function(s)
    for start = 1, #s + 1 do
      if match_alts(s, alts, start, function() return true end) then return true end
    end
    return false
  end
end

local regex_cache = {}
function M.regex_match(re, s)
  local m = regex_cache[re]
  if not m then
    m = compile_regex(re)
    regex_cache[re] = m
  end
  return m(s)
end

-- Partitions ----------------------------------------------------------------

local function copy(t)
  local r = {}
  for k, v in pairs(t) do r[k] = v end
  return r
end

--- The partition outputs for a region (name, dnsSuffix,
--- dualStackDnsSuffix, supportsFIPS, supportsDualStack, ...): a region
--- listed by a partition, else the partition whose regex matches, else aws.
function M.partition(region)
  local parts = partition_list()
  for _, p in ipairs(parts) do
    local r = p.regions and p.regions[region]
    if r then
      local out = copy(p.outputs)
      for k, v in pairs(r) do if k ~= "description" then out[k] = v end end
      return out
    end
  end
  for _, p in ipairs(parts) do
    if p.regionRegex and M.regex_match(p.regionRegex, region) then return copy(p.outputs) end
  end
  for _, p in ipairs(parts) do
    if p.id == "aws" then return copy(p.outputs) end
  end
  return nil
end

-- Rule-set functions ----------------------------------------------------------

local function is_valid_host_label(v, allow_sub)
  if type(v) ~= "string" then return false end
  local labels = {}
  if allow_sub then
    for l in (v .. "."):gmatch("([^.]*)%.") do labels[#labels + 1] = l end
  else
    labels[1] = v
  end
  for _, l in ipairs(labels) do
    if #l < 1 or #l > 63 or not l:find("^[%w][%w%-]*$") then return false end
  end
  return true
end

local function uri_encode(s)
  return (s:gsub("[^%w%-_.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- The rule set's parseURL, over the one URL parser (aws_connect.url): a URL
-- with user information, a query or a fragment is not a valid endpoint.
local function parse_url(u)
  if type(u) ~= "string" then return nil end
  local p = require("aws_connect.url").parse(u)
  if not p or (p.scheme ~= "http" and p.scheme ~= "https") then return nil end
  if p.has_userinfo or p.query or p.fragment then return nil end
  local path = p.path
  local normalized = path
  if normalized:sub(-1) ~= "/" then normalized = normalized .. "/" end
  return { scheme = p.scheme, authority = p.authority, path = path, normalizedPath = normalized,
           isIp = (p.ipv4 ~= nil) or p.ipv6 == true }
end

local function get_attr(obj, path)
  for part in path:gmatch("[^.]+") do
    local name, idx = part:match("^([^%[]*)%[(%d+)%]$")
    if name then
      if name ~= "" then
        if type(obj) ~= "table" then return nil end
        obj = obj[name]
      end
      if type(obj) ~= "table" then return nil end
      obj = obj[tonumber(idx) + 1]
    else
      if type(obj) ~= "table" then return nil end
      obj = obj[part]
    end
  end
  return obj
end

local FUNCTIONS
FUNCTIONS = {
  isSet = function(x) return x ~= nil end,
  ["not"] = function(x) return not x end,
  booleanEquals = function(a, b) return a == b end,
  stringEquals = function(a, b) return a == b end,
  getAttr = get_attr,
  substring = function(s, start, stop, reverse)
    if type(s) ~= "string" or stop > #s or start >= stop or s:find("[\128-\255]") then return nil end
    if reverse then start, stop = #s - stop, #s - start end
    return s:sub(start + 1, stop)
  end,
  isValidHostLabel = is_valid_host_label,
  uriEncode = uri_encode,
  parseURL = parse_url,
  ["aws.partition"] = function(region)
    if type(region) ~= "string" then return nil end
    return M.partition(region)
  end,
}

local eval

-- "{Region}" and "{PartitionResult#dnsSuffix}" placeholders; {{ and }} are braces
local function template(s, scope)
  s = s:gsub("{{", "\1"):gsub("}}", "\2")
  s = s:gsub("{([^}]+)}", function(ref)
    local name, path = ref:match("^([^#]+)#(.+)$")
    local v
    if name then v = get_attr(scope[name], path) else v = scope[ref] end
    return tostring(v)
  end)
  return (s:gsub("\1", "{"):gsub("\2", "}"))
end

eval = function(e, scope)
  local t = type(e)
  if t == "string" then return template(e, scope) end
  if t ~= "table" then return e end
  if e.ref then return scope[e.ref] end
  if e.fn then
    local f = FUNCTIONS[e.fn]
    if not f then config_error("endpoint rule set uses an unsupported function " .. tostring(e.fn)) end
    local args = {}
    local argv = e.argv or {}
    for i = 1, #argv do args[i] = eval(argv[i], scope) end
    return f((table.unpack or unpack)(args, 1, #argv))
  end
  return e
end

local function conditions_hold(conds, scope)
  for _, c in ipairs(conds or {}) do
    local v = eval(c, scope)
    if v == nil or v == false then return false end
    if c.assign then scope[c.assign] = v end
  end
  return true
end

-- An endpoint's properties and headers: templates and expressions
-- evaluated at any depth ("signingRegion": "{Region}").
local function eval_tree(v, scope)
  if type(v) ~= "table" then return eval(v, scope) end
  if v.fn or v.ref then return eval(v, scope) end
  local out = {}
  for k, x in pairs(v) do out[k] = eval_tree(x, scope) end
  return out
end

local function evaluate_rules(rules, scope)
  for _, rule in ipairs(rules) do
    local s = copy(scope)
    if conditions_hold(rule.conditions, s) then
      if rule.type == "endpoint" then
        local ep = rule.endpoint
        return { url = eval(ep.url, s), headers = ep.headers and eval_tree(ep.headers, s),
                 properties = ep.properties and eval_tree(ep.properties, s) }
      elseif rule.type == "error" then
        return nil, eval(rule.error, s)
      elseif rule.type == "tree" then
        local r, err = evaluate_rules(rule.rules, s)
        if r or err then return r, err end
        return nil, "endpoint rules exhausted in a matching tree rule"
      end
    end
  end
  return nil
end

--- Evaluates the rule set in file rules (default Connect's). params: {
--- Region, UseFIPS, UseDualStack, Endpoint, and any other parameter of that
--- rule set }. Returns { url, headers, properties } or nil and the rule
--- set's message.
function M.evaluate(params, rules)
  local d = M.data(rules)
  local scope = {}
  for name, spec in pairs(d.ruleset.parameters or {}) do
    local v = params[name]
    if v == nil then v = spec.default end
    if v == nil and spec.required then
      return nil, "Invalid Configuration: missing required parameter " .. name
    end
    scope[name] = v
  end
  local r, err = evaluate_rules(d.ruleset.rules, scope)
  if not r and not err then err = "no endpoint rule matched" end
  return r, err
end

--- Resolves the endpoint or raises ConfigError with the rule set's
--- message. opts: { region, use_fips, use_dualstack, endpoint, rules (the
--- rule-set file, default Connect's), params (further rule parameters,
--- e.g. { UseGlobalEndpoint = false }) }. Returns { url, headers,
--- properties }.
function M.resolve_endpoint(opts)
  if type(opts) == "string" then opts = { region = opts } end
  local params = {
    Region = opts.region, UseFIPS = opts.use_fips or false,
    UseDualStack = opts.use_dualstack or false, Endpoint = opts.endpoint,
  }
  for k, v in pairs(opts.params or {}) do params[k] = v end
  local r, err = M.evaluate(params, opts.rules)
  if not r then config_error(err, { field = "endpoint" }) end
  return r
end

--- Resolves the endpoint URL (resolve_endpoint's url).
function M.resolve(opts)
  return M.resolve_endpoint(opts).url
end

return M
