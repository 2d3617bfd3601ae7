-- Cross-check with the AWS SDK for JavaScript v3: for every operation of the
-- model, the generated inputs (spec/support/examples.lua, AWS member names;
-- every member, and the required ones only, with the idempotency token given
-- since each SDK makes its own) give the same method, path, query (decoded, sorted), modeled
-- headers and body (as data) from client:prepare as from
-- @aws-sdk/client-connect (spec/support/js_prepare.js, which never sends).
-- Pending when build/js is not installed: `make js-conformance` installs it
-- (npm) and runs this spec.

package.path = "./?.lua;" .. package.path

local cjson = require("cjson")
local fake = require("spec.support.fake_server")
local examples = require("spec.support.examples")
local aws_connect = require("aws_connect")
local model = require("aws_connect.model")

local svc = model.service("connect")
local JS_DIR = os.getenv("JS_CONFORMANCE_DIR") or "build/js"
local SCRIPT = "spec/support/js_prepare.js"
local VARIANTS = { "full", "required" }
local TOKEN = "0b7a7e4c-5a4f-4c1e-9d0a-3f2b1c0d9e8f"

local function installed()
  local f = io.open(JS_DIR .. "/node_modules/@aws-sdk/client-connect/package.json", "rb")
  if f then f:close() end
  return f ~= nil
end

local function unpct(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Timestamps tagged for the script ({"$epoch": seconds}).
local function tagged(shape, v)
  local t = shape.type
  if t == "timestamp" then return { ["$epoch"] = v } end
  if t == "structure" then
    local out = {}
    for k, x in pairs(v) do out[k] = tagged(shape.by_key[k].shape, x) end
    return out
  elseif t == "list" then
    local out = {}
    for i = 1, #v do out[i] = tagged(shape.member, v[i]) end
    return out
  elseif t == "map" then
    local out = {}
    for k, x in pairs(v) do out[k] = tagged(shape.value, x) end
    return out
  end
  return v
end

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, x in pairs(a) do if not same(x, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function decoded_query(url)
  local q = url:match("%?(.*)$") or ""
  local out = {}
  for part in q:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    out[#out + 1] = { unpct(k), unpct(v) }
  end
  table.sort(out, function(a, b) return a[1] .. "=" .. a[2] < b[1] .. "=" .. b[2] end)
  return out
end

local function pairs_text(list)
  local parts = {}
  for i, p in ipairs(list) do parts[i] = p[1] .. "=" .. p[2] end
  return table.concat(parts, "&")
end

local function header_of(req, name)
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == name then return h[2] end
  end
  return nil
end

local function body_data(text)
  if text == nil or text == cjson.null or text == "" then return nil end
  local ok, v = pcall(cjson.decode, text)
  if ok then return v end
  return "not JSON: " .. text
end

local inputs, js

-- Runs the node script once over every operation's input.
local function run_js()
  if js then return js end
  inputs = {}
  local list = {}
  for _, name in ipairs(svc.names) do
    local op = svc:operation(name)
    for _, variant in ipairs(VARIANTS) do
      local params = op.input and examples.valid(op.input, { seed = 3, full = variant == "full", names = "aws" }) or {}
      if op.token and params[op.token.name] == nil then params[op.token.name] = TOKEN end
      local id = name .. " " .. variant
      inputs[id] = params
      list[#list + 1] = { id = id, operation = name, input = op.input and tagged(op.input, params) or {} }
    end
  end
  cjson.encode_number_precision(14)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(cjson.encode(list))
  f:close()
  local p = assert(io.popen(("HOME=%s AWS_EC2_METADATA_DISABLED=true node %s %s %s"):format(
    fake.shell_quote(os.getenv("HOME") or "/tmp"), fake.shell_quote(SCRIPT), fake.shell_quote(JS_DIR),
    fake.shell_quote(tmp))))
  local out = p:read("*a")
  p:close()
  os.remove(tmp)
  local ok, results = pcall(cjson.decode, out)
  assert(ok and type(results) == "table", "js_prepare.js printed no results: " .. out:sub(1, 500))
  js = {}
  for _, r in ipairs(results) do js[r.id] = r end
  return js
end

-- Our prepared request against the JavaScript SDK's; appends to problems.
local function compare(client, name, variant, problems)
  local op = svc:operation(name)
  local id = name .. " " .. variant
  local theirs = js[id]
  local function bad(msg) problems[#problems + 1] = variant .. ": " .. msg end
  if type(theirs) ~= "table" then return bad("no result from the JavaScript SDK") end
  if theirs.error then return bad("the JavaScript SDK failed: " .. tostring(theirs.error)) end
  local req = client:prepare(name, inputs[id])
  if req.method ~= theirs.method then bad(("method %s, JS %s"):format(req.method, theirs.method)) end
  local path = req.url:match("^https?://[^/]+([^?]*)")
  if path ~= theirs.path then bad(("path %s, JS %s"):format(path, theirs.path)) end
  local q = decoded_query(req.url)
  if not same(q, theirs.query) then
    bad(("query %s, JS %s"):format(pairs_text(q), pairs_text(theirs.query)))
  end
  for _, m in ipairs(op.input and op.input.members or {}) do
    if m.location == "header" then
      local ours, js_value = header_of(req, m.wire:lower()), theirs.headers[m.wire:lower()]
      if ours ~= js_value then bad(("header %s: %s, JS %s"):format(m.wire, tostring(ours), tostring(js_value))) end
    end
  end
  if not same(body_data(req.body), body_data(theirs.body)) then
    bad(("body %s, JS %s"):format(tostring(req.body), tostring(theirs.body)))
  end
end

describe("requests as the AWS SDK for JavaScript v3 makes them", function()
  if not installed() then
    it("need @aws-sdk/client-connect under " .. JS_DIR, function()
      pending(JS_DIR .. " is not installed: `make js-conformance` installs @aws-sdk/client-connect with npm")
    end)
    return
  end

  local client
  setup(function()
    client = aws_connect.new{ region = "us-east-1", endpoint = "http://127.0.0.1:1", getenv = {},
      credentials = { access_key_id = "AKIDFAKE", secret_access_key = "secret" } }
    run_js()
  end)

  for _, name in ipairs(svc.names) do
    it(name .. ": method, path, query, modeled headers and body as the JavaScript SDK", function()
      local problems = {}
      for _, variant in ipairs(VARIANTS) do compare(client, name, variant, problems) end
      assert.are.same({}, problems)
    end)
  end
end)
