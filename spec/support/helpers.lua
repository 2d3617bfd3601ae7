-- Shared spec scaffolding: shell quoting, running a command, file I/O,
-- scratch directories (HOME with ~/.aws), environment tables for clients,
-- client builders, recording transports and error expectations.
--
-- Standard library only at load time (support modules such as
-- fake_server.lua use it too and stay independent of the code under test);
-- aws_connect is required only by the builders that need it.
--
--   local h = require("spec.support.helpers")
--   local q, capture, write, read = h.q, h.capture, h.write, h.read
--   local dir = h.tmpdir("sso", ".aws/sso/cache")   -- /tmp/awsc-sso.XXXXXX
--   local c = h.client{ endpoint = srv.endpoint }   -- us-east-1, AKIDFAKE/secret, getenv = {}
--   local t = h.recording_transport(function(req, n) return { status = 200, body = "{}" } end)
--   local err = h.expect_error("ValidationError", client.create_instance, client, {})

local M = {}

--- A shell word: s in single quotes.
function M.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Runs a shell command and returns its stdout (trailing newline kept).
function M.capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

--- Writes text to path (binary), raising when the file cannot be opened.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- The content of path, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("*a")
  f:close()
  return data
end

--- A new table: the keys of each argument in turn (later ones win).
function M.merge(...)
  local out = {}
  for i = 1, select("#", ...) do
    for k, v in pairs(select(i, ...) or {}) do out[k] = v end
  end
  return out
end

--- A fresh directory /tmp/awsc-<name>.XXXXXX (mktemp -d); with sub, the
--- folder dir/sub is created too (e.g. ".aws").
function M.tmpdir(name, sub)
  local dir = (M.capture("mktemp -d /tmp/awsc-" .. name .. ".XXXXXX"):gsub("%s+$", ""))
  assert(dir:find("^/tmp/awsc%-") and not dir:find("%.%.", 1, true), "mktemp failed: " .. dir)
  if sub then assert(os.execute("mkdir -p " .. M.q(dir .. "/" .. sub))) end
  return dir
end

--- Removes a scratch directory (only one below /tmp).
function M.rmdir(dir)
  if dir and dir:find("^/tmp/[^/]") and not dir:find("..", 1, true) then
    os.execute("rm -rf " .. M.q(dir))
  end
end

--- A scratch HOME with ~/.aws and the given files ({ [".aws/config"] = text }).
function M.home(files, name)
  local dir = M.tmpdir(name or "home", ".aws")
  for path, text in pairs(files or {}) do M.write(dir .. "/" .. path, text) end
  return dir
end

--- An environment table for a client or a subprocess: instance metadata off
--- unless t says otherwise; a value false removes the variable.
function M.envt(t)
  local e = M.merge({ AWS_EC2_METADATA_DISABLED = "true" }, t)
  for k, v in pairs(e) do if v == false then e[k] = nil end end
  return e
end

--- The credentials the fake servers accept by default.
function M.creds()
  return { access_key_id = "AKIDFAKE", secret_access_key = "secret" }
end

--- aws_connect.new with region us-east-1, the default fake credentials and
--- an empty environment, overridden by each argument in turn.
function M.client(...)
  local aws_connect = require("aws_connect")
  return aws_connect.new(M.merge({ region = "us-east-1", credentials = M.creds(), getenv = {} }, ...))
end

--- A transport that records every request in t.requests and answers with
--- answer(req, n) (n: this request's number), or with a table as it is.
function M.recording_transport(answer)
  local t = { requests = {} }
  function t.request(_, req)
    t.requests[#t.requests + 1] = req
    if type(answer) == "function" then return answer(req, #t.requests) end
    return answer
  end
  return t
end

--- Calls f(...), which must raise an error object of the given code;
--- returns that error (busted's assertions).
function M.expect_error(code, f, ...)
  local errors = require("aws_connect.errors")
  local check = require("luassert")
  local ok, e = pcall(f, ...)
  check.is_false(ok, "expected a " .. code)
  check.is_true(errors.is_error(e), "not an error object: " .. tostring(e))
  check.are.equal(code, e.code, tostring(e))
  return e
end

--- The parameters of a minimal valid CreateInstance, with extra's keys.
function M.instance_params(extra)
  return M.merge({
    identity_management_type = "CONNECT_MANAGED",
    inbound_calls_enabled = true,
    outbound_calls_enabled = false,
  }, extra)
end

--- The value of a request's or response's header (any case), or nil.
function M.header(msg, name)
  name = name:lower()
  for _, h in ipairs(msg.headers) do
    if h[1]:lower() == name then return h[2] end
  end
  return nil
end

--- Inside a describe block (or at the top of a spec): the fake Connect
--- server (spec/support/fake_server.lua) started with opts before the
--- block's tests and stopped after them, also when one fails; reset before
--- each test and then given the settings each, when there are. set(srv)
--- receives the server when it has started.
function M.fake_server(opts, set, each)
  local busted = require("busted")
  local srv
  busted.setup(function()
    srv = require("spec.support.fake_server").start(opts)
    set(srv)
  end)
  busted.teardown(function()
    if srv then srv:stop() end
  end)
  busted.before_each(function()
    srv:reset()
    if each then srv:config(each) end
  end)
end

--- package.cpath with every relative entry made absolute (for a child
--- process that runs in another folder).
function M.absolute_cpath()
  local pwd = (M.capture("pwd"):gsub("%s+$", ""))
  local cpath = {}
  for entry in package.cpath:gmatch("[^;]+") do
    if entry:sub(1, 1) ~= "/" then entry = pwd .. "/" .. entry:gsub("^%./", "") end
    cpath[#cpath + 1] = entry
  end
  return table.concat(cpath, ";")
end

--- The credential resolver behind a client.
function M.resolver_of(c)
  return require("aws_connect")._private(c).resolver
end

--- A client for opts (region us-east-1 unless set) and the credentials its
--- resolver finds; returns them and the client.
function M.creds_of(opts)
  opts.region = opts.region or "us-east-1"
  local c = require("aws_connect").new(opts)
  return M.resolver_of(c):get(), c
end

--- As creds_of, but resolving must raise a CredentialsError; returns it.
function M.cred_error(opts)
  opts.region = opts.region or "us-east-1"
  local r = M.resolver_of(require("aws_connect").new(opts))
  return M.expect_error("CredentialsError", r.get, r)
end

return M
