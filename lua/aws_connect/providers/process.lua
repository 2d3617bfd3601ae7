-- aws_connect.providers.process: credentials from the profile's
-- `credential_process` command. The command runs through the shell
-- (io.popen) and must print JSON with "Version": 1, "AccessKeyId",
-- "SecretAccessKey" and optionally "SessionToken", "Expiration" (ISO 8601;
-- without it the credentials never expire) and "AccountId". A non-zero exit
-- status or bad output is a CredentialsError that never quotes the output
-- (it may hold secrets); the command's stderr goes to our stderr.
--
-- Bounds: the command is killed (with everything it started: GNU timeout
-- signals its process group) after M.timeout seconds (60) when `timeout`
-- is installed, and at most M.max_output bytes (1 MiB) of its output are
-- read. It runs blocking: inside nginx it stalls the worker for as long as
-- it runs (a warning is logged; README "Safety").

local util = require("aws_connect.providers.util")

local M = {}

M.timeout = 60
M.max_output = 1024 * 1024

local MARK = "__aws_connect_exit_status="
local TIMED_OUT = 124   -- GNU timeout's status when the time ran out

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Runs `cmd` and returns its stdout and exit status (nil when the shell
--- could not run it at all). The status is printed by the wrapping shell
--- so that it is also known on Lua 5.1, whose popen close() hides it.
--- timeout (seconds, optional) bounds the run; a third result is true
--- when it ran out. At most max_output bytes are kept.
function M.run(cmd, timeout, max_output)
  max_output = max_output or M.max_output
  local inner = "{ " .. cmd .. "\n}"
  local body_cmd = inner
  if timeout and timeout > 0 then
    local secs = ("%d"):format(math.max(1, math.ceil(timeout)))
    body_cmd = "if command -v timeout >/dev/null 2>&1; then timeout -k 2 " .. secs .. " sh -c " .. sh_quote(cmd)
      .. "; else " .. inner .. "; fi"
  end
  local script = body_cmd .. "; printf '\\n" .. MARK .. "%d\\n' $?"
  local p = io.popen(script, "r")
  if not p then return nil, nil end
  local parts, got, tail, over = {}, 0, "", false
  while true do
    local chunk = p:read(65536)
    if not chunk then break end
    if not over and got + #chunk <= max_output + 64 then
      parts[#parts + 1] = chunk
      got = got + #chunk
    else
      over = true
    end
    tail = (tail .. chunk):sub(-128)   -- the status line is the last thing printed
  end
  p:close()
  local at = tail:find("\n" .. MARK, 1, true)
  local status = at and tonumber(tail:match("^(%d+)\n$", at + 1 + #MARK))
  if over then return nil, status, false, true end
  local out = table.concat(parts)
  at = out:find("\n" .. MARK, math.max(1, #out - 64), true)
  if not at or not status then return out, nil end
  local body = out:sub(1, at - 1)
  if #body > max_output then return nil, status, false, true end
  if timeout and status == TIMED_OUT then return body, status, true end
  return body, status
end

--- Credentials of profile `name` from its credential_process, or nil and
--- why it does not apply.
function M.for_profile(ctx, name)
  local profile = ctx.files.profiles[name] or {}
  local cmd = util.pv(profile, "credential_process")
  if not cmd then return nil, ("credential_process: not set in profile %q"):format(name) end
  local what = ("credential_process of profile %q"):format(name)
  if type(ngx) == "table" and type(ngx.get_phase) == "function" and ctx.log then  -- luacheck: globals ngx
    ctx.log("warn", what .. " runs blocking: it stalls this nginx worker while it runs")
  end
  local out, status, timed_out, too_big = M.run(cmd, M.timeout, M.max_output)
  if too_big then util.cred_error(("%s: the command printed more than %d bytes"):format(what, M.max_output)) end
  if timed_out then util.cred_error(("%s: the command did not finish within %d s"):format(what, M.timeout)) end
  if status == nil then util.cred_error(what .. ": the command could not be run by the shell") end
  if status ~= 0 then util.cred_error(("%s: the command exited with status %d"):format(what, status)) end
  local doc = util.json_object(out)
  if not doc then util.cred_error(what .. ": the command did not print a JSON object") end
  if doc.Version ~= 1 then
    util.cred_error(what .. ": unsupported Version " .. util.printable(tostring(doc.Version), 20) .. " (expected 1)")
  end
  return util.creds_from_json(doc, what, "SessionToken", ctx.clock)
end

function M.fetch(ctx)
  return M.for_profile(ctx, ctx.profile_name)
end

return M
