-- aws_connect.providers.process: credentials from the profile's
-- `credential_process` command. The command runs through the shell
-- (io.popen) and must print JSON with "Version": 1, "AccessKeyId",
-- "SecretAccessKey" and optionally "SessionToken", "Expiration" (ISO 8601;
-- without it the credentials never expire) and "AccountId". A non-zero exit
-- status or bad output is a CredentialsError that never quotes the output
-- (it may hold secrets); the command's stderr goes to our stderr.

local util = require("aws_connect.providers.util")

local M = {}

local MARK = "__aws_connect_exit_status="

--- Runs `cmd` and returns its stdout and exit status (nil when the shell
--- could not run it at all). The status is printed by the wrapping shell
--- so that it is also known on Lua 5.1, whose popen close() hides it.
function M.run(cmd)
  local script = "{ " .. cmd .. "\n}; printf '\\n" .. MARK .. "%d\\n' $?"
  local p = io.popen(script, "r")
  if not p then return nil, nil end
  local out = p:read("*a") or ""
  p:close()
  local body, status = out:match("^(.*)\n" .. MARK .. "(%d+)\n$")
  if not body then return out, nil end
  return body, tonumber(status)
end

--- Credentials of profile `name` from its credential_process, or nil and
--- why it does not apply.
function M.for_profile(ctx, name)
  local profile = ctx.files.profiles[name] or {}
  local cmd = util.pv(profile, "credential_process")
  if not cmd then return nil, ("credential_process: not set in profile %q"):format(name) end
  local what = ("credential_process of profile %q"):format(name)
  local out, status = M.run(cmd)
  if status == nil then util.cred_error(what .. ": the command could not be run by the shell") end
  if status ~= 0 then util.cred_error(("%s: the command exited with status %d"):format(what, status)) end
  local doc = util.json_object(out)
  if not doc then util.cred_error(what .. ": the command did not print a JSON object") end
  if doc.Version ~= 1 then
    util.cred_error(what .. ": unsupported Version " .. util.printable(tostring(doc.Version), 20) .. " (expected 1)")
  end
  return util.creds_from_json(doc, what, "SessionToken")
end

function M.fetch(ctx)
  return M.for_profile(ctx, ctx.profile_name)
end

return M
