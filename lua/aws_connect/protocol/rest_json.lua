-- aws_connect.protocol.rest_json: the rest-json protocol (Connect, SSO,
-- SSO-OIDC), as botocore's RestJSONSerializer and RestJSONParser do it.
--
-- build(op, input) turns a normalised input (aws_connect.shape) into
-- { path, query, headers, body }: uri labels percent-encoded as one segment
-- each ("/" -> %2F; "." and ".." stay as they are and reach the wire as
-- is), querystring members in member order (lists as repeated keys,
-- booleans true/false, timestamps ISO 8601), header members (timestamps as
-- HTTP dates, lists comma-joined), and the JSON body of the other members
-- under their wire names: "{}" when the input has body members but none is
-- set, no body when it has none.
--
-- parse(op, resp, doc) turns a 2xx response into the output shape with
-- snake_case keys; error(resp, svc, redactor) turns an error response into
-- the typed error object (aws-behaviour.md sections 2 and 8).

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local headers = require("aws_connect.headers")
local times = require("aws_connect.times")
local url = require("aws_connect.url")
local redact = require("aws_connect.redact")

local M = {}

local null = core.null
local encode_segment = url.encode_segment

-- url.encode_segment, remembered for the strings it saw last (ids repeat
-- from call to call; a Lua pattern costs ~100 instructions a byte):
-- bounded, reset after 256 strings of at most 256 bytes.
local seg_cache, seg_n = {}, 0
local function encode(s)
  local e = seg_cache[s]
  if e then return e end
  e = encode_segment(s)
  if type(s) == "string" and #s <= 256 then
    if seg_n >= 256 then seg_cache, seg_n = {}, 0 end
    seg_cache[s], seg_n = e, seg_n + 1
  end
  return e
end
local ARRAY_MT = { __jsontype = "array" }
local json_encode, json_decode = core.json_encode, core.json_decode

-- Timestamps ------------------------------------------------------------------

local function iso8601(t)
  local whole = math.floor(t)
  local frac = t - whole
  if frac > 0 then
    local us = math.floor(frac * 1e6 + 0.5)
    if us >= 1000000 then whole, us = whole + 1, 0 end
    if us > 0 then return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. (".%06dZ"):format(us) end
  end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", whole)
end
M.iso8601 = iso8601

local function http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(t))
end

local function number_text(v)
  if v == math.floor(v) and v >= -2 ^ 53 and v <= 2 ^ 53 then return ("%d"):format(v) end
  return ("%.17g"):format(v)
end

local function timestamp_text(shape, v, default)
  local fmt = shape.timestampFormat or default
  if fmt == "iso8601" then return iso8601(v) end
  if fmt == "rfc822" then return http_date(v) end
  return number_text(v)
end

local function scalar_text(shape, v, ts_default)
  local t = shape.type
  if t == "boolean" then return v and "true" or "false" end
  if t == "timestamp" then return timestamp_text(shape, v, ts_default) end
  if type(v) == "number" then return number_text(v) end
  return v
end

-- Is a shape's normalised value already its JSON form? (no member renamed
-- on the wire, no timestamp written as text, at any depth). Such values are
-- encoded as they are, without a second walk. Computed once per shape.
local function plain(shape)
  local p = shape.plain
  if p ~= nil then return p end
  shape.plain = false   -- a recursive shape in progress counts as not plain
  local t = shape.type
  if t == "structure" then
    p = true
    for _, m in ipairs(shape.members) do
      if m.wire ~= m.name or m.location or not plain(m.shape) then p = false end
    end
  elseif t == "list" then
    p = plain(shape.member)
  elseif t == "map" then
    p = plain(shape.value)
  elseif t == "timestamp" then
    p = shape.timestampFormat == nil or shape.timestampFormat == "unixTimestamp"
  else
    p = true
  end
  shape.plain = p
  return p
end

-- Body values: normalised input -> a JSON-ready tree under wire names.
local function body_value(shape, v)
  if plain(shape) then return v end
  local t = shape.type
  if t == "structure" then
    local out = {}
    for _, m in ipairs(shape.members) do
      local x = v[m.name]
      if x ~= nil then out[m.wire] = body_value(m.shape, x) end
    end
    return out
  elseif t == "list" then
    local out = setmetatable({}, ARRAY_MT)
    local ms = shape.member
    for i = 1, #v do out[i] = body_value(ms, v[i]) end
    return out
  elseif t == "map" then
    local out, vs = {}, shape.value
    for k, x in pairs(v) do out[k] = body_value(vs, x) end
    return out
  elseif t == "timestamp" then
    if shape.timestampFormat == "iso8601" then return iso8601(v) end
    if shape.timestampFormat == "rfc822" then return http_date(v) end
    return v
  end
  return v
end
M.body_value = body_value

-- Requests ----------------------------------------------------------------------

--- Splits an operation's requestUri into literal parts and labels, once.
local function uri_parts(op)
  local parts = op.uri_parts
  if parts then return parts end
  local uri = op.uri
  local path, fixed_query = uri:match("^([^?]*)%??(.*)$")
  parts = { fixed_query = fixed_query ~= "" and fixed_query or nil }
  local pos = 1
  while true do
    local a, b, name = path:find("{([%w_]+%+?)}", pos)
    if not a then break end
    if a > pos then parts[#parts + 1] = path:sub(pos, a - 1) end
    local greedy = name:sub(-1) == "+"
    parts[#parts + 1] = { name = greedy and name:sub(1, -2) or name, greedy = greedy }
    pos = b + 1
  end
  if pos <= #path then parts[#parts + 1] = path:sub(pos) end
  op.uri_parts = parts
  return parts
end

local function label_value(op, name)
  for _, m in ipairs(op.input.members) do
    if m.location == "uri" and m.wire == name then return m end
  end
  errors.raise("ConfigError", ("model: %s's URI names {%s}, which no member binds"):format(op.name, name))
end

-- An operation's input members by location, once: labels resolved, and
-- the querystring, header and body members in member order.
local function plan_of(op)
  local plan = op.build_plan
  if plan then return plan end
  local parts = uri_parts(op)
  for i = 1, #parts do
    local p = parts[i]
    if type(p) ~= "string" and not p.member then p.member = label_value(op, p.name) end
  end
  plan = { parts = parts, query = {}, header = {}, headers = {}, body = {}, has_body = false }
  local shape = op.input
  if shape then
    for _, m in ipairs(shape.members) do
      local loc = m.location
      if loc == "querystring" then
        plan.query[#plan.query + 1] = m
      elseif loc == "header" then
        plan.header[#plan.header + 1] = m
      elseif loc == "headers" then
        plan.headers[#plan.headers + 1] = m
      elseif loc == nil then
        plan.has_body = true
        plan.body[#plan.body + 1] = m
      end
    end
  end
  op.build_plan = plan
  return plan
end

--- The request of one operation: { path, query, headers = {{n, v}}, body }.
--- path and query are encoded as they go on the wire.
function M.build(op, input)
  local plan = op.build_plan or plan_of(op)
  local parts = plan.parts
  local path
  if #parts == 1 and type(parts[1]) == "string" then
    path = parts[1]
  else
    local segs = {}
    for i = 1, #parts do
      local p = parts[i]
      if type(p) == "string" then
        segs[i] = p
      else
        local m = p.member
        local v = input[m.name]
        if v == nil then
          errors.raise("ValidationError", m.snake .. " is required (it is part of the request path)",
            { field = m.snake })
        end
        local text = scalar_text(m.shape, v, "iso8601")
        if text == "" then
          errors.raise("ValidationError", m.snake .. " must not be empty (it is part of the request path)",
            { field = m.snake })
        end
        if p.greedy then
          segs[i] = (text:gsub("[^/]+", encode))
        else
          segs[i] = encode(text)
        end
      end
    end
    path = table.concat(segs)
  end
  local q, hs = {}, {}
  if parts.fixed_query then q[1] = parts.fixed_query end
  local list = plan.query
  for j = 1, #list do
    local m = list[j]
    local v = input[m.name]
    if v ~= nil then
      local ms = m.shape
      if ms.type == "list" then
        local key = encode(m.wire)
        for i = 1, #v do q[#q + 1] = key .. "=" .. encode(scalar_text(ms.member, v[i], "iso8601")) end
      elseif ms.type == "map" then
        for k, x in pairs(v) do
          if type(x) == "table" then
            for i = 1, #x do q[#q + 1] = encode(k) .. "=" .. encode(x[i]) end
          else
            q[#q + 1] = encode(k) .. "=" .. encode(x)
          end
        end
      else
        q[#q + 1] = encode(m.wire) .. "=" .. encode(scalar_text(ms, v, "iso8601"))
      end
    end
  end
  list = plan.header
  for j = 1, #list do
    local m = list[j]
    local v = input[m.name]
    if v ~= nil then
      local ms = m.shape
      local text
      if ms.type == "list" then
        local items = {}
        for i = 1, #v do items[i] = scalar_text(ms.member, v[i], "rfc822") end
        text = table.concat(items, ",")
      else
        text = scalar_text(ms, v, "rfc822")
      end
      hs[#hs + 1] = { m.wire, text }
    end
  end
  list = plan.headers
  for j = 1, #list do
    local m = list[j]
    local v = input[m.name]
    if v ~= nil then
      for k, x in pairs(v) do hs[#hs + 1] = { m.wire .. k, x } end
    end
  end
  local body, has_body_members = nil, plan.has_body
  list = plan.body
  for j = 1, #list do
    local m = list[j]
    local v = input[m.name]
    if v ~= nil then
      body = body or {}
      local ms = m.shape
      local p = ms.plain
      if p == nil then p = plain(ms) end
      body[m.wire] = p and v or body_value(ms, v)
    end
  end
  local text
  if body then
    local err
    text, err = json_encode(body)
    if not text then errors.raise("ValidationError", "cannot encode the request body: " .. tostring(err)) end
  elseif has_body_members then
    text = "{}"
  end
  return { path = path, query = table.concat(q, "&"), headers = hs, body = text }
end

-- Responses -------------------------------------------------------------------

-- The path of the value being parsed, kept as a stack (the string is built
-- only when a value is refused): the root (operation or error code), then
-- ".Wire" member parts, list indexes and map keys.
local WROOT, WPART, WKIND, wdepth = "", {}, {}, 0
local W_MEMBER, W_INDEX, W_KEY = 1, 2, 3

local function where_now()
  local out = { WROOT }
  for i = 1, wdepth do
    local kind, part = WKIND[i], WPART[i]
    if kind == W_MEMBER then
      out[i + 1] = part
    elseif kind == W_INDEX then
      out[i + 1] = "[" .. part .. "]"
    else
      out[i + 1] = "." .. tostring(part)
    end
  end
  return table.concat(out)
end

local function bad(msg)
  errors.raise("ResponseError", ("unexpected response shape: %s %s"):format(where_now(), msg))
end

local function is_array(v)
  local mt = getmetatable(v)
  if mt and mt.__jsontype == "array" then return true end
  return v[1] ~= nil
end

local parse_value

-- The body members of a structure, once: { member, ".Wire" } pairs.
local function body_members(shape)
  local list = shape.body_members
  if list then return list end
  list = {}
  for _, m in ipairs(shape.members) do
    if not m.location then list[#list + 1] = { m, "." .. m.wire } end
  end
  shape.body_members = list
  return list
end

-- A structure's member reads, compiled once per shape into one function
-- (one read per member under its wire name, no loop, no lookup of member
-- fields). Names come from the model and enter the source only as %q
-- constants; the values are never in it. The result is what the loop of
-- parse_members gives: the same keys, set in member order.
local load_text = loadstring or load   -- luacheck: ignore 113 (loadstring: 5.1 and LuaJIT)

local function compile_members(shape)
  local list = body_members(shape)
  local src, shapes = { "local parse_value, null, WPART, SH, type = ...\nreturn function(v, out, d)\nlocal x\n" }, {}
  for i = 1, #list do
    local m, dot = list[i][1], list[i][2]
    shapes[i] = m.shape
    src[#src + 1] = ("x = v[%q]\nif x ~= nil and x ~= null then\n"):format(m.wire)
    if m.shape.type == "string" then
      src[#src + 1] = ("if type(x) == \"string\" then out[%q] = x else WPART[d] = %q; out[%q] = parse_value(SH[%d], x) end\n")
        :format(m.snake, dot, m.snake, i)
    else
      src[#src + 1] = ("WPART[d] = %q; out[%q] = parse_value(SH[%d], x)\n"):format(dot, m.snake, i)
    end
    src[#src + 1] = "end\n"
  end
  src[#src + 1] = "end\n"
  local text = table.concat(src)
  local chunk
  if setfenv then   -- luacheck: ignore 113 (5.1 and LuaJIT)
    chunk = load_text(text, "=rest_json members")
    if chunk then setfenv(chunk, {}) end   -- luacheck: ignore 113
  else
    chunk = load_text(text, "=rest_json members", "t", {})
  end
  if not chunk then return false end
  return chunk(parse_value, null, WPART, shapes, type)
end

local function parse_structure(shape, v)
  if type(v) ~= "table" or (is_array(v) and next(v) ~= nil) then bad("should be a JSON object") end
  local out = {}
  local read = shape.parse_members
  if read == nil then
    read = compile_members(shape)
    shape.parse_members = read
  end
  local d = wdepth + 1
  wdepth = d
  WKIND[d] = W_MEMBER
  if read then
    read(v, out, d)
    wdepth = d - 1
    return out
  end
  local list = shape.body_members or body_members(shape)
  for i = 1, #list do
    local e = list[i]
    local m = e[1]
    local x = v[m.wire]
    if x ~= nil and x ~= null then
      WPART[d] = e[2]
      local ms = m.shape
      local t = ms.type
      if t == "string" and type(x) == "string" then
        out[m.snake] = x
      else
        out[m.snake] = parse_value(ms, x)
      end
      wdepth = d
    end
  end
  wdepth = d - 1
  return out
end

parse_value = function(shape, v)
  local t = shape.type
  if t == "structure" then
    return parse_structure(shape, v)
  elseif t == "list" then
    if type(v) ~= "table" then bad("should be a JSON array, got " .. type(v)) end
    local mt = getmetatable(v)
    if not (mt and mt.__jsontype == "array") and next(v) ~= nil and v[1] == nil then
      bad("should be a JSON array")
    end
    local out = setmetatable({}, ARRAY_MT)
    local ms = shape.member
    local d = wdepth + 1
    wdepth = d
    WKIND[d] = W_INDEX
    local n = 0
    for i = 1, #v do
      local x = v[i]
      if x ~= null then
        WPART[d] = i
        n = n + 1
        out[n] = parse_value(ms, x)
        wdepth = d
      end
    end
    wdepth = d - 1
    return out
  elseif t == "map" then
    if type(v) ~= "table" or (is_array(v) and next(v) ~= nil) then bad("should be a JSON object") end
    local out, vs = {}, shape.value
    local d = wdepth + 1
    wdepth = d
    WKIND[d] = W_KEY
    for k, x in pairs(v) do
      if x ~= null then
        WPART[d] = k
        out[k] = parse_value(vs, x)
        wdepth = d
      end
    end
    wdepth = d - 1
    return out
  elseif t == "timestamp" then
    if type(v) == "number" then return v end
    if type(v) == "string" then
      local n = times.parse_iso8601(v)
      if n then return n end
    end
    bad("should be a timestamp")
  elseif t == "string" or t == "blob" then
    if type(v) ~= "string" then bad("should be a string, got " .. type(v)) end
    return v
  elseif t == "boolean" then
    if type(v) ~= "boolean" then bad("should be a boolean, got " .. type(v)) end
    return v
  else
    if type(v) ~= "number" then bad("should be a number, got " .. type(v)) end
    return v
  end
end

--- Parses v (decoded JSON) as shape; where names it in errors.
function M.parse_value(shape, v, where)
  WROOT, wdepth = where or "", 0
  return parse_value(shape, v)
end

local function parse_root(shape, v, where)
  WROOT, wdepth = where, 0
  return parse_structure(shape, v)
end

local function header_value(shape, text, where)
  local t = shape.type
  if t == "timestamp" then
    local n = times.parse_http_date(text) or times.parse_iso8601(text)
    if not n then WROOT, wdepth = where, 0; bad("should be a date") end
    return n
  elseif t == "boolean" then
    return text == "true"
  elseif t == "integer" or t == "long" or t == "float" or t == "double" then
    local n = tonumber(text)
    if not n then WROOT, wdepth = where, 0; bad("should be a number") end
    return n
  elseif t == "list" then
    local out = setmetatable({}, ARRAY_MT)
    for item in text:gmatch("[^,]+") do out[#out + 1] = (item:gsub("^%s+", ""):gsub("%s+$", "")) end
    return out
  end
  return text
end

--- The result of a 2xx response: the output shape with snake_case keys.
--- doc is the decoded body (nil when the body was empty).
function M.parse(op, resp, doc)
  local shape = op.output
  if not shape then return {} end
  local out
  if doc == nil then
    out = {}
  else
    out = parse_root(shape, doc, op.name)
  end
  for _, m in ipairs(shape.members) do
    if m.location == "header" then
      local text = headers.get(resp, m.wire)
      if text then out[m.snake] = header_value(m.shape, text, m.wire) end
    elseif m.location == "statusCode" then
      out[m.snake] = resp.status
    end
  end
  return out
end

--- Does a 2xx body need decoding for this operation? (false when the
--- output has no body members: an empty body is then fine)
function M.wants_body(op)
  local shape = op.output
  if not shape then return false end
  local w = op.wants_body
  if w == nil then
    w = false
    for _, m in ipairs(shape.members) do if not m.location then w = true end end
    op.wants_body = w
  end
  return w
end

--- The result of a 2xx response (decodes the body; a body that is not
--- JSON is a ResponseError).
function M.parse_response(op, resp)
  local body = resp.body or ""
  local doc
  if body:find("%S") then
    local err
    doc, err = json_decode(body)
    if doc == nil then
      errors.raise("ResponseError", ("HTTP %d response is not JSON: %s"):format(tonumber(resp.status) or 0,
        tostring(err)))
    end
  elseif M.wants_body(op) and op.method ~= "DELETE" then
    errors.raise("ResponseError", ("HTTP %d response has an empty body"):format(tonumber(resp.status) or 0))
  end
  return M.parse(op, resp, doc)
end

-- Errors ------------------------------------------------------------------------

local trim = require("aws_connect.text").trim

local function clean_code(code)
  code = code:match("^[^:]*")
  return (code:match("([^#]*)$"))
end

--- The error object of an error response (status >= 300), as botocore's
--- rest-json parser reads it, with the JavaScript SDK's two refinements:
--- x-amzn-RequestId is kept on every response, and x-amzn-ErrorType names
--- the code even when the body is not JSON. svc (a model service) types
--- modeled exceptions and adds their members as snake_case fields; red (a
--- redactor) scrubs secrets from everything taken from the response.
function M.error(resp, svc, red)
  red = red or redact.new({})
  local body = resp.body or ""
  if #body > 65536 then body = body:sub(1, 65536) end
  local status = tonumber(resp.status) or 0
  local code = headers.get(resp, "x-amzn-ErrorType")
  local request_id = headers.get(resp, "x-amzn-RequestId")
  local message
  local doc
  local trimmed = trim(body)
  if trimmed:sub(1, 1) == "{" then
    local d = json_decode(trimmed)
    if type(d) == "table" then doc = d end
  end
  local head = trimmed:sub(1, 9):lower()
  if status >= 500 and not doc and (trimmed == "" or head:sub(1, 5) == "<html" or head == "<!doctype") then
    -- a generic 5xx page (load balancer, proxy): the reason phrase
    message = type(resp.reason) == "string" and resp.reason or ""
  elseif doc then
    if not code then
      local c = doc.code
      if type(c) ~= "string" then c = doc.Code end
      if type(c) ~= "string" then c = doc.__type end
      if type(c) == "string" then code = c end
    end
    local m = doc.message
    if type(m) ~= "string" then m = doc.Message end
    if type(m) == "string" then message = m end
  else
    message = trimmed
  end
  if code then code = redact.printable(red:string(clean_code(code)), 200) end
  if not code or code == "" or not code:find("^[%w_.%-]+$") then
    if code and code ~= "" then
      message = (message and message ~= "" and message .. " " or "") .. "(error type " .. code .. ")"
    end
    code = tostring(status)
  end
  local e = errors.new(code, redact.printable(red:string(message or ""), 1000), {
    kind = "service",
    status = status,
    request_id = request_id and redact.printable(red:string(request_id), 200) or nil,
  })
  local shape = doc and svc and svc:error_shape(code)
  if shape then
    local ok, fields = pcall(parse_root, shape, doc, code)
    if ok then errors.add_fields(e, fields, red, redact.printable) end
  end
  return e
end

return M
