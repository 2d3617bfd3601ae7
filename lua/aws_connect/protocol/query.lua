-- aws_connect.protocol.query: the awsQuery protocol (STS), as botocore's
-- QuerySerializer and QueryParser do it.
--
-- build(op, input) turns a normalised input (aws_connect.shape) into a POST
-- to "/" with a form body: Action and Version, then the members in model
-- order under their wire names: nested structures as A.B, lists as
-- Name.member.N (Name.N when flattened; the member's locationName when it
-- has one), maps as Name.entry.N.key / .value, an empty list as "Name=",
-- booleans true/false, timestamps ISO 8601 (UTC, microseconds when there
-- are any), blobs base64. Keys and values are form-encoded as botocore's
-- urlencode does (unreserved characters kept, blank as "+", the rest %XX).
--
-- parse_response(op, resp) reads the XML answer (aws_connect.xml) under
-- <OpResponse><OpResult> (the operation's resultWrapper) by the output
-- shape into snake_case keys, as rest_json does: lists are arrays with the
-- array metatable (also when empty), timestamps epoch seconds.
--
-- error(resp, svc, red) reads <ErrorResponse><Error><Type/><Code/>
-- <Message/></Error><RequestId/></ErrorResponse> (and the EC2-style
-- <Response><Errors><Error>) into the typed error object, with the members
-- of the model's error shape for that code as snake_case fields; the
-- request id is the body's, else the x-amzn-RequestId header. Everything
-- taken from the server goes through the redactor and redact.printable.

local errors = require("aws_connect.errors")
local headers = require("aws_connect.headers")
local times = require("aws_connect.times")
local redact = require("aws_connect.redact")
local xml = require("aws_connect.xml")

local M = {}

M.CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

local ARRAY_MT = { __jsontype = "array" }
local printable = redact.printable

-- botocore's special case (retries/special.py): STS's IDPCommunicationError
-- is worth another attempt although no retry list names it.
local RETRYABLE = { sts = { IDPCommunicationError = true } }

-- Form encoding -------------------------------------------------------------------

local function pct(c)
  if c == " " then return "+" end
  return ("%%%02X"):format(c:byte())
end

local function form_encode(s)
  return (s:gsub("[^%w%-_.~]", pct))
end
M.form_encode = form_encode

local base64 = require("aws_connect.text").b64encode
M.base64 = base64

-- The shortest decimal text that reads back as the same number (what
-- Python's str(float) prints); integers without a fraction.
local function number_text(v)
  if v == math.floor(v) and v >= -2 ^ 53 and v <= 2 ^ 53 then return ("%d"):format(v) end
  for digits = 15, 17 do
    local s = ("%." .. digits .. "g"):format(v)
    if tonumber(s) == v then return s end
  end
  return ("%.17g"):format(v)
end

local function timestamp_text(fmt, v)
  if fmt == "unixTimestamp" then return number_text(v) end
  if fmt == "rfc822" then return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(v)) end
  return require("aws_connect.protocol.rest_json").iso8601(v)
end

local function scalar_text(shape, v, fmt)
  local t = shape.type
  if t == "boolean" then return v and "true" or "false" end
  if t == "timestamp" then return timestamp_text(fmt or shape.timestampFormat, v) end
  if t == "blob" then return base64(v) end
  if type(v) == "number" then return number_text(v) end
  return v
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local serialize

local function serialize_list(out, shape, v, prefix)
  if #v == 0 then
    out[#out + 1] = form_encode(prefix) .. "="   -- the query protocol sends empty lists
    return
  end
  local list_prefix
  local mname = shape.memberLocationName
  if shape.flattened then
    list_prefix = prefix
    if mname then
      -- botocore replaces the member's own name (the last part) by it
      local parent = prefix:match("^(.*)%.[^.]*$")
      list_prefix = parent and (parent .. "." .. mname) or mname
    end
  else
    list_prefix = prefix .. "." .. (mname or "member")
  end
  local ms = shape.member
  for i = 1, #v do serialize(out, ms, v[i], list_prefix .. "." .. i) end
end

local function serialize_map(out, shape, v, prefix)
  local base = shape.flattened and prefix or (prefix .. ".entry")
  local ks, vs = shape.key, shape.value
  for i, k in ipairs(sorted_keys(v)) do
    serialize(out, ks, k, base .. "." .. i .. ".key")
    serialize(out, vs, v[k], base .. "." .. i .. ".value")
  end
end

serialize = function(out, shape, v, prefix, fmt)
  local t = shape.type
  if t == "structure" then
    local members = shape.members
    for i = 1, #members do
      local m = members[i]
      local x = v[m.name]
      if x ~= nil then
        serialize(out, m.shape, x, prefix == "" and m.wire or (prefix .. "." .. m.wire), m.timestampFormat)
      end
    end
  elseif t == "list" then
    serialize_list(out, shape, v, prefix)
  elseif t == "map" then
    serialize_map(out, shape, v, prefix)
  else
    out[#out + 1] = form_encode(prefix) .. "=" .. form_encode(scalar_text(shape, v, fmt))
  end
end

--- The request of one operation: { path = "/", query = "", headers = {},
--- body, content_type }.
function M.build(op, input, ctx)
  local svc = (ctx and ctx.svc) or op.service
  local out = { "Action=" .. form_encode(op.name), "Version=" .. form_encode(svc.metadata.apiVersion) }
  if op.input then serialize(out, op.input, input or {}, "") end
  return { path = "/", query = "", headers = {}, body = table.concat(out, "&"), content_type = M.CONTENT_TYPE }
end

-- Responses -------------------------------------------------------------------

local function bad(where, msg)
  errors.raise("ResponseError", ("unexpected response shape: %s %s"):format(where, msg))
end

local trim = require("aws_connect.text").trim

local FLOATS = { NaN = 0 / 0, Infinity = math.huge, ["-Infinity"] = -math.huge }

local parse_node

-- The child elements of node by name: the first of each, and the list of
-- all of them where a name repeats (flattened lists and maps).
local function by_name(node)
  local first, many = {}, {}
  for i = 1, #node do
    local c = node[i]
    local name = c.name
    local f = first[name]
    if f == nil then
      first[name] = c
    else
      local l = many[name]
      if not l then l = { f }; many[name] = l end
      l[#l + 1] = c
    end
  end
  return first, many
end

local function parse_entries(shape, entries, where)
  local out, ks, vs = {}, shape.key, shape.value
  for i = 1, #entries do
    local first = by_name(entries[i])
    local k, v = first.key, first.value
    if k then
      local key = parse_node(ks, k, where .. ".key")
      out[key] = v and parse_node(vs, v, where .. "[" .. key .. "]") or nil
    end
  end
  return out
end

local function parse_items(shape, items, where)
  local out = setmetatable({}, ARRAY_MT)
  local ms = shape.member
  for i = 1, #items do out[i] = parse_node(ms, items[i], where .. "[" .. i .. "]") end
  return out
end

local function parse_structure(shape, node, where)
  local first, many = by_name(node)
  local out = {}
  local members = shape.members
  for i = 1, #members do
    local m = members[i]
    if not m.location then
      local ms = m.shape
      local flat = ms.flattened and (ms.type == "list" or ms.type == "map")
      local key = m.wire
      if flat and ms.type == "list" and ms.memberLocationName then key = ms.memberLocationName end
      local c = first[key]
      if c then
        local here = where .. "." .. key
        if not flat then
          out[m.snake] = parse_node(ms, c, here)
        elseif ms.type == "list" then
          out[m.snake] = parse_items(ms, many[key] or { c }, here)
        else
          out[m.snake] = parse_entries(ms, many[key] or { c }, here)
        end
      end
    end
  end
  return out
end

parse_node = function(shape, node, where)
  local t = shape.type
  if t == "structure" then return parse_structure(shape, node, where) end
  if t == "list" then return parse_items(shape, node, where) end
  if t == "map" then return parse_entries(shape, node, where) end
  local text = node.text or ""
  if t == "string" then return text end
  if t == "boolean" then return trim(text) == "true" end
  if t == "timestamp" then
    local v = times.parse_iso8601(text)
    if not v then v = times.parse_http_date(trim(text)) end
    if not v then bad(where, "should be a timestamp") end
    return v
  end
  if t == "blob" then return text end
  local s = trim(text)
  if t == "integer" or t == "long" then
    if not s:find("^%-?%d+$") or #s > 20 then bad(where, "should be an integer") end
    return tonumber(s)
  end
  local v = FLOATS[s] or (s:find("^[%d.eE+%-]+$") and tonumber(s))
  if not v then bad(where, "should be a number") end
  return v
end
M.parse_node = parse_node

--- The result of a 2xx response: the output shape (under the operation's
--- result wrapper) with snake_case keys.
function M.parse_response(op, resp)
  local shape = op.output
  if not shape then return {} end
  local body = resp.body or ""
  if not body:find("[^ \t\r\n]") then
    errors.raise("ResponseError", ("HTTP %d response has an empty body"):format(tonumber(resp.status) or 0))
  end
  local root = xml.parse(body)
  local start = root
  local wrapper = op.resultWrapper
  if wrapper then
    start = xml.child(root, wrapper)
    if not start then
      errors.raise("ResponseError", ("the %s response has no <%s> element"):format(op.name, wrapper))
    end
  end
  return parse_structure(shape, start, op.name)
end

-- Errors ------------------------------------------------------------------------

-- code (as on the wire, e.g. "IDPCommunicationError") -> error shape name,
-- per service: the shape's error.code, else its name. Read from the
-- unresolved definitions, so no shape is resolved before it is needed.
local code_names = setmetatable({}, { __mode = "k" })

local function definition(svc, name)
  local done = svc.shapes[name]
  if done then return done end
  local chunk = svc.error_chunks[name]
  if chunk and chunk ~= 0 then svc:_chunk(chunk) end
  return svc.raw[name]
end

-- True when every member shape of an unresolved definition is at hand (an
-- error shape whose message shape lives in another operation's file is
-- used by code only).
local function resolvable(svc, def)
  if svc.shapes[def.name or false] == def then return true end
  for _, m in ipairs(def.members or {}) do
    local sn = m.shape
    if type(sn) == "string" and not (svc.raw[sn] or svc.shapes[sn]) then return false end
  end
  return true
end

--- The codes a query service answers with: wire code (and shape name) ->
--- error shape name.
function M.code_names(svc)
  local map = code_names[svc]
  if not map then
    map = {}
    for _, name in ipairs(svc:error_codes()) do
      local def = definition(svc, name)
      if def then
        map[name] = map[name] or name
        if type(def.error) == "table" and type(def.error.code) == "string" then map[def.error.code] = name end
      end
    end
    code_names[svc] = map
  end
  return map
end

local function shape_of_code(svc, code)
  local name = M.code_names(svc)[code]
  if not name then return nil end
  local def = definition(svc, name)
  if not def or not resolvable(svc, def) then return nil end
  local ok, shape = pcall(svc.error_shape, svc, name)
  return ok and shape or nil
end

local function error_node(root)
  if root.name == "Error" then return root end
  local e = xml.child(root, "Error")
  if e then return e end
  local list = xml.child(root, "Errors")
  return list and xml.child(list, "Error") or nil
end

local function text_of(node, name)
  local c = node and xml.child(node, name)
  return c and c.text or nil
end

--- The error object of an error response (status >= 300).
function M.error(resp, svc, red)
  red = red or redact.new({})
  local body = resp.body or ""
  local status = tonumber(resp.status) or 0
  local trimmed = trim(body)
  local code, message, request_id, enode
  local head = trimmed:sub(1, 9):lower()
  if status >= 500 and (trimmed == "" or head:sub(1, 5) == "<html" or head == "<!doctype") then
    -- a generic 5xx page (load balancer, proxy): the reason phrase
    message = type(resp.reason) == "string" and resp.reason or ""
  else
    local root
    if trimmed:sub(1, 1) == "<" and #body <= xml.MAX_BYTES then
      local ok, r = pcall(xml.parse, body, { max_nodes = 1000 })
      if ok then root = r end
    end
    enode = root and error_node(root)
    if enode then
      code = text_of(enode, "Code")
      message = text_of(enode, "Message") or text_of(enode, "message")
      request_id = text_of(root, "RequestId") or text_of(root, "RequestID")
    else
      message = #trimmed > 65536 and trimmed:sub(1, 65536) or trimmed
    end
  end
  request_id = request_id and trim(request_id)
  if not request_id or request_id == "" then request_id = headers.get(resp, "x-amzn-RequestId") end
  if code then code = printable(red:string(trim(code)), 200) end
  if not code or code == "" or not code:find("^[%w_.%-]+$") then
    if code and code ~= "" then
      message = (message and message ~= "" and message .. " " or "") .. "(error code " .. code .. ")"
    end
    code = tostring(status)
  end
  local e = errors.new(code, printable(red:string(message or ""), 1000), {
    kind = "service",
    status = status,
    request_id = request_id and printable(red:string(request_id), 200) or nil,
  })
  local special = svc and RETRYABLE[svc.id]
  if special and special[code] then e.modeled_retryable = true end
  local shape = enode and svc and shape_of_code(svc, code)
  if shape then
    local ok, fields = pcall(parse_structure, shape, enode, code)
    if ok then errors.add_fields(e, fields, red, printable) end
  end
  return e
end

return M
