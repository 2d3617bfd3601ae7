-- Lua side of spec/fuzz/fuzz_error.c: turns one fuzz input into an HTTP
-- response and runs it through what the client does with responses:
-- mode 0, the error path (aws_connect._service_error, aws-behaviour.md
-- section 2); modes 1-4, a 2xx body through core.json_decode and each
-- operation's parse. Raises (and so makes the harness abort) when a
-- contract is broken: the error path must always give a typed service
-- error with a non-empty code, a one-line tostring and no trace of the
-- secret; a parser must return a table or raise a typed ResponseError.

local aws_connect = require("aws_connect")
local errors = require("aws_connect.errors")
local operations = require("aws_connect.operations")
local core = require("aws_connect.core")

local SECRET = "fuzz-secret-key-0123456789"
local OPS = { operations.create_instance, operations.describe_instance, operations.list_instances,
  operations.delete_instance }

return function(mode, status, head, body)
  local headers = {}
  for line in head:gmatch("[^\n]+") do
    local k, v = line:match("^([^:]*):%s*(.-)%s*$")
    if k then headers[#headers + 1] = { k, v } end
  end
  local resp = { status = status, reason = "Some Reason", headers = headers, body = body }
  if mode == 0 then
    local e = aws_connect._service_error(resp, { SECRET })
    assert(errors.is_error(e), "not an error object")
    assert(e.kind == "service" and e.status == status)
    assert(type(e.code) == "string" and e.code ~= "", "empty code")
    assert(type(e.message) == "string")
    local line = tostring(e)
    assert(not line:find("[\r\n]"), "tostring is not one line")
    local hay = (head .. body)
    if not hay:find(SECRET, 1, true) then return end
    assert(not line:find(SECRET, 1, true), "the secret leaked into tostring")
    assert(not e.code:find(SECRET, 1, true) and not e.message:find(SECRET, 1, true), "the secret leaked")
  else
    local doc = core.json_decode(body)
    if doc == nil then return end
    local op = OPS[mode]
    local ok, r = pcall(op.parse, doc)
    assert(ok or errors.is_error(r), "parse raised a non-typed error: " .. tostring(r))
    if ok then assert(type(r) == "table") end
  end
end
