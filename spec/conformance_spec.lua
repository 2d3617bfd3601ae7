-- Conformance over the whole Connect model: for every operation, generated
-- inputs (spec/support/examples.lua) serialise to the model's method, URI
-- and member locations (client:prepare, compared with what this file derives
-- from the model on its own), the fake server accepts the valid one and its
-- signature and decodes the input that was sent, the synthesized output
-- parses to snake_case by the output shape without losing a member, and
-- every violation of an input constraint is a ValidationError with the
-- right path that sends nothing. One fake server for the file; one `it` per
-- operation, each with one batched assertion.

package.path = "./?.lua;" .. package.path

local cjson = require("cjson")
local fake = require("spec.support.fake_server")
local examples = require("spec.support.examples")
local aws_connect = require("aws_connect")
local model = require("aws_connect.model")
local errors = aws_connect.errors

local svc = model.service("connect")
local ENDPOINT_HOST = "http://127.0.0.1"

local srv, client, recorder
local totals = { operations = 0, requests = 0, violations = 0, prepared = 0, skipped = 0 }

-- Helpers ---------------------------------------------------------------------

-- Everything but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex): RFC 3986's
-- unreserved set, what botocore and the JavaScript SDK leave as it is.
local function pct(s)
  return (s:gsub("[^A-Za-z0-9%-_.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function int_text(v)
  return ("%d"):format(v)
end

local function iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", t)
end

local function text_of(shape, v, ts)
  local t = shape.type
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "timestamp" then return ts(v) end
  if t == "integer" or t == "long" then return int_text(v) end
  return tostring(v)
end

local function show(v)
  if type(v) == "table" then
    local ok, s = pcall(cjson.encode, v)
    if ok then return s end
  end
  return tostring(v)
end

-- Deep equality of decoded JSON / Lua values (numbers by value).
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, x in pairs(a) do
    if not same(x, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function has_body_members(shape)
  if not shape then return false end
  for _, m in ipairs(shape.members) do
    if not m.location then return true end
  end
  return false
end

-- The request the model says input (AWS member names) makes.
local function expected_request(op, input)
  local uri = op.uri
  local path, fixed = uri:match("^([^?]*)%??(.*)$")
  local by_label = {}
  local query, hdrs, body = {}, {}, nil
  if fixed ~= "" then query[#query + 1] = fixed end
  local shape = op.input
  if shape then
    for _, m in ipairs(shape.members) do
      local v = input[m.name]
      if v ~= nil then
        if m.location == "uri" then
          by_label[m.wire] = text_of(m.shape, v, iso8601)
        elseif m.location == "querystring" then
          local items = m.shape.type == "list" and v or { v }
          local ms = m.shape.type == "list" and m.shape.member or m.shape
          for _, x in ipairs(items) do query[#query + 1] = pct(m.wire) .. "=" .. pct(text_of(ms, x, iso8601)) end
        elseif m.location == "header" then
          hdrs[m.wire:lower()] = text_of(m.shape, v, http_date)
        elseif not m.location then
          body = body or {}
          body[m.wire] = examples.aws(m.shape, v, true)
        end
      end
    end
  end
  path = path:gsub("{([%w_]+)(%+?)}", function(label, greedy)
    local text = by_label[label] or error("no value for the label " .. label)
    if greedy == "+" then return (text:gsub("[^/]+", pct)) end
    return pct(text)
  end)
  table.sort(query)
  return { method = op.method, path = path, query = query, headers = hdrs, body = body,
    body_members = has_body_members(shape) }
end

local function split_url(url)
  local rest = url:match("^https?://[^/]+(.*)$")
  local path, q = rest:match("^([^?]*)%??(.*)$")
  local query = {}
  for part in q:gmatch("[^&]+") do query[#query + 1] = part end
  table.sort(query)
  return path, query, q
end

local function header_of(req, name)
  name = name:lower()
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == name then return h[2] end
  end
  return nil
end

-- Compares a prepared request with the model's; appends to problems.
local function check_prepared(problems, what, op, req, input)
  local want = expected_request(op, input)
  local function bad(msg) problems[#problems + 1] = what .. ": " .. msg end
  if req.method ~= want.method then bad(("method %s, want %s"):format(req.method, want.method)) end
  local path, query = split_url(req.url)
  if path ~= want.path then bad(("path %s, want %s"):format(path, want.path)) end
  if not same(query, want.query) then
    bad(("query %s, want %s"):format(table.concat(query, "&"), table.concat(want.query, "&")))
  end
  for _, m in ipairs(op.input and op.input.members or {}) do
    if m.location == "header" then
      local got, exp = header_of(req, m.wire), want.headers[m.wire:lower()]
      if got ~= exp then bad(("header %s: %s, want %s"):format(m.wire, tostring(got), tostring(exp))) end
    end
  end
  if want.body then
    local ok, doc = pcall(cjson.decode, req.body or "")
    if not ok or type(doc) ~= "table" then
      bad("body is not a JSON object: " .. tostring(req.body))
    elseif not same(doc, want.body) then
      bad(("body %s, want %s"):format(tostring(req.body), show(want.body)))
    end
  elseif want.body_members then
    if req.body ~= "{}" then bad(("body %s, want {} (no body member given)"):format(tostring(req.body))) end
  elseif req.body ~= nil then
    bad(("body %s, want none (the input has no body member)"):format(tostring(req.body)))
  end
  return want
end

-- The parsed output against the output shape: snake_case keys only (nested
-- too), arrays marked as arrays, timestamps as numbers, and every member of
-- the raw body kept.
local function check_output(problems, shape, parsed, raw, where)
  local function bad(msg) problems[#problems + 1] = "output " .. where .. ": " .. msg end
  local t = shape.type
  if t == "structure" then
    if type(parsed) ~= "table" then return bad("not a table: " .. show(parsed)) end
    for k, x in pairs(parsed) do
      local m = shape.by_key[k]
      if not m or m.snake ~= k then
        bad("key " .. tostring(k) .. " is not a snake_case member name")
      elseif not m.location then
        check_output(problems, m.shape, x, type(raw) == "table" and raw[m.wire] or nil, where .. "." .. k)
      end
    end
    if type(raw) == "table" then
      for _, m in ipairs(shape.members) do
        if not m.location and raw[m.wire] ~= nil and raw[m.wire] ~= cjson.null and parsed[m.snake] == nil then
          bad("member " .. m.wire .. " of the response was dropped")
        end
      end
    end
  elseif t == "list" then
    local mt = getmetatable(parsed)
    if type(parsed) ~= "table" or not (mt and mt.__jsontype == "array") then return bad("not an array") end
    if type(raw) == "table" and #raw ~= #parsed then bad(("%d items, the response has %d"):format(#parsed, #raw)) end
    for i, x in ipairs(parsed) do
      check_output(problems, shape.member, x, type(raw) == "table" and raw[i] or nil, where .. "[" .. i .. "]")
    end
  elseif t == "map" then
    if type(parsed) ~= "table" then return bad("not a table") end
    for k, x in pairs(parsed) do
      check_output(problems, shape.value, x, type(raw) == "table" and raw[k] or nil, where .. "[" .. tostring(k) .. "]")
    end
  elseif t == "timestamp" then
    if type(parsed) ~= "number" then bad("timestamp is not epoch seconds: " .. show(parsed)) end
    if type(raw) == "number" and parsed ~= raw then bad(("timestamp %s, the response has %s"):format(parsed, raw)) end
  elseif t == "string" or t == "blob" then
    if type(parsed) ~= "string" then bad("not a string") end
  elseif t == "boolean" then
    if type(parsed) ~= "boolean" then bad("not a boolean") end
  elseif type(parsed) ~= "number" then
    bad("not a number")
  end
end

-- A transport that records the last request and response (over curl).
local function new_recorder()
  local inner = require("aws_connect.transport.curl").new()
  local r = { count = 0 }
  function r.request(_, req)
    r.count = r.count + 1
    r.last_req = req
    local resp, kind, msg = inner:request(req)
    r.last_resp = resp
    return resp, kind, msg
  end
  function r.discard() inner:discard() end
  function r.close() inner:close() end
  return r
end

-- What the fake needs beyond a valid input: instances it knows, tokens it
-- handed out.
local SETUP = {
  DescribeInstance = function(params)
    local inst = client:create_instance{ identity_management_type = "CONNECT_MANAGED",
      inbound_calls_enabled = true, outbound_calls_enabled = false }
    params.instance_id = inst.id
    return 1
  end,
  ListInstances = function(params)
    params.next_token = nil   -- the fake's tokens are its own
    return 0
  end,
}
SETUP.DeleteInstance = SETUP.DescribeInstance

-- Operations whose answer depends on the fake's state.
local STATEFUL = {
  CreateInstance = true, DescribeInstance = true, ListInstances = true, DeleteInstance = true,
  TagResource = true, UntagResource = true, ListTagsForResource = true,
}
local logged = 0   -- entries in the fake's log since its last reset

local function check_violations(problems, name, op, base)
  local list, skipped = examples.violations(op, base)
  totals.skipped = totals.skipped + #skipped
  local before = recorder.count
  for _, v in ipairs(list) do
    local ok, err = pcall(client.call, client, name, v.params)
    local where = ("violation %s at %s"):format(v.kind, v.field)
    if ok then
      problems[#problems + 1] = where .. ": accepted"
    elseif not errors.is_error(err) or err.code ~= "ValidationError" then
      problems[#problems + 1] = where .. ": raised " .. tostring(err)
    else
      if err.field ~= v.field then
        problems[#problems + 1] = ("%s: field %s (%s)"):format(where, tostring(err.field), err.message)
      end
      if err.attempts ~= 0 then problems[#problems + 1] = where .. ": attempts " .. tostring(err.attempts) end
      if v.suggest then
        local s = err.message:match("did you mean '([^']+)'")
        if not (s and v.suggest[s]) then problems[#problems + 1] = where .. ": no suggestion in " .. err.message end
      end
    end
  end
  if recorder.count ~= before then
    problems[#problems + 1] = ("%d violation(s) reached the transport"):format(recorder.count - before)
  end
  totals.violations = totals.violations + #list
  return #list
end

local function check_operation(name)
  local op = svc:operation(name)
  local problems = {}
  -- 1. serialisation: the required members (AWS names) and every member (snake_case)
  for _, variant in ipairs({ { seed = 1, names = "aws" }, { seed = 2, full = true } }) do
    local params = op.input and examples.valid(op.input, variant) or {}
    local what = variant.full and "full input" or "required input"
    local ok, req = pcall(client.prepare, client, name, params)
    if not ok then
      problems[#problems + 1] = what .. ": prepare raised " .. tostring(req)
    else
      local input = op.input and examples.aws(op.input, params) or {}
      if op.token and input[op.token.name] == nil then
        if not req.client_token then problems[#problems + 1] = what .. ": no idempotency token filled" end
        input[op.token.name] = req.client_token
      end
      check_prepared(problems, what, op, req, input)
      totals.prepared = totals.prepared + 1
    end
  end
  -- 2. the fake accepts the full input, decodes what was sent; the output parses
  -- resetting costs a control call: only before stateful operations and
  -- when the log has grown (the log is read after every operation)
  if STATEFUL[name] or logged >= 40 then
    srv:reset()
    logged = 0
  end
  local params = op.input and examples.valid(op.input, { seed = 3, full = true }) or {}
  local setup_requests = SETUP[name] and SETUP[name](params) or 0
  local sent_before = recorder.count
  local ok, result, meta = pcall(client.call, client, name, params)
  local want
  if not ok then
    problems[#problems + 1] = "call raised " .. tostring(result)
  else
    local input = op.input and examples.aws(op.input, params) or {}
    if op.token and input[op.token.name] == nil then input[op.token.name] = meta.client_token end
    want = expected_request(op, input)
    want.input = input
    if meta.status < 200 or meta.status > 299 or meta.attempts ~= 1 then
      problems[#problems + 1] = ("status %s after %s attempt(s)"):format(tostring(meta.status), tostring(meta.attempts))
    end
    local resp = recorder.last_resp
    local raw = resp and resp.body and resp.body:find("%S") and cjson.decode(resp.body) or nil
    if op.output then check_output(problems, op.output, result, raw, name) end
  end
  totals.requests = totals.requests + recorder.count - sent_before
  -- 3. every violation is refused before sending
  check_violations(problems, name, op, op.input and examples.valid(op.input, { seed = 1, full = true }) or {})
  -- the fake saw exactly the setup and the one valid call, as sent
  local log = srv:requests()
  local new = #log - logged
  logged = #log
  if new ~= setup_requests + (ok and 1 or 0) then
    problems[#problems + 1] = ("the fake logged %d request(s), want %d"):format(new, setup_requests + (ok and 1 or 0))
  elseif want then
    local e = log[#log]
    if e.operation ~= name then problems[#problems + 1] = "the fake routed it to " .. tostring(e.operation) end
    if not e.signature_valid then problems[#problems + 1] = "signature refused: " .. tostring(e.signature_error) end
    if e.path ~= want.path then problems[#problems + 1] = ("the fake got path %s, want %s"):format(e.path, want.path) end
    if not same(e.input or {}, want.input) then
      problems[#problems + 1] = ("the fake decoded %s, sent %s"):format(show(e.input), show(want.input))
    end
  end
  totals.operations = totals.operations + 1
  return problems
end

describe("every operation of the Connect model", function()
  setup(function()
    srv = fake.start{}
    recorder = new_recorder()
    client = aws_connect.new{
      region = "us-east-1", endpoint = srv.endpoint, getenv = {},
      credentials = { access_key_id = "AKIDFAKE", secret_access_key = "secret" },
      transport = recorder, max_attempts = 1, sleep = function() end,
    }
    assert(srv.endpoint:sub(1, #ENDPOINT_HOST) == ENDPOINT_HOST)
  end)
  teardown(function()
    if client then client:close() end
    if srv then srv:stop() end
    print(("\nconformance: %d operations, %d requests sent, %d prepared, %d violations checked, "
      .. "%d constraints without a counterexample (patterns every string matches)"):format(
      totals.operations, totals.requests, totals.prepared, totals.violations, totals.skipped))
  end)

  it("has 380 operations, all loadable", function()
    assert.are.equal(380, #svc.names)
  end)

  for _, name in ipairs(svc.names) do
    it(name .. " serialises per the model, is accepted by the fake, refuses every violation unsent", function()
      local problems = check_operation(name)
      assert.are.same({}, problems)
    end)
  end
end)
