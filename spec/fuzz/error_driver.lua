-- Lua side of spec/fuzz/fuzz_error.c: turns one fuzz input into an HTTP
-- response and runs it through what the client does with responses:
-- mode 0, the error path (protocol.rest_json.error, aws-behaviour.md
-- section 2); modes 1-4, a 2xx body through each instance operation's
-- model-driven output parser (protocol.rest_json.parse_response). Raises (and so makes the harness abort) when a
-- contract is broken: the error path must always give a typed service
-- error with a non-empty code, a one-line tostring and no trace of the
-- secret; a parser must return a table or raise a typed ResponseError.

local errors = require("aws_connect.errors")
local rest_json = require("aws_connect.protocol.rest_json")
local redact = require("aws_connect.redact")
local svc = require("aws_connect.model").service("connect")

local SECRET = "fuzz-secret-key-0123456789"
local RED = redact.new({ SECRET })
local OPS = { svc:operation("CreateInstance"), svc:operation("DescribeInstance"), svc:operation("ListInstances"),
  svc:operation("DeleteInstance") }

return function(mode, status, head, body)
  local headers = {}
  for line in head:gmatch("[^\n]+") do
    local k, v = line:match("^([^:]*):%s*(.-)%s*$")
    if k then headers[#headers + 1] = { k, v } end
  end
  local resp = { status = status, reason = "Some Reason", headers = headers, body = body }
  if mode == 0 then
    local e = rest_json.error(resp, svc, RED)
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
    local op = OPS[mode]
    resp.status = 200
    local ok, r = pcall(rest_json.parse_response, op, resp)
    assert(ok or errors.is_error(r), "parse raised a non-typed error: " .. tostring(r))
    if ok then assert(type(r) == "table") end
  end
end
