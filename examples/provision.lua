-- examples/provision.lua - a provisioning script: makes sure an Amazon
-- Connect instance with the given alias exists and is ACTIVE, and prints its
-- id and ARN. Safe to run again (after a crash, a lost response or from a
-- deployment pipeline): ensure_instance finds the instance, or creates it
-- with a token derived from the parameters, so no second instance is made
-- (each creation counts against the account's 30-day quota).
--
--   lua5.4 examples/provision.lua ALIAS [key=value ...]     (tags)
--
-- Region, credentials and endpoint come from the usual AWS settings
-- (AWS_REGION, AWS_PROFILE or AWS_ACCESS_KEY_ID..., AWS_ENDPOINT_URL_CONNECT).
-- Exit status: 0 when the instance is ACTIVE, 1 otherwise (the error on stderr).
local aws_connect = require("aws_connect")

local alias = arg[1]
if not alias or alias:sub(1, 1) == "-" then
  io.stderr:write("usage: provision.lua ALIAS [key=value ...]\n")
  os.exit(2)
end
local tags = nil
for i = 2, #arg do
  local k, v = arg[i]:match("^([^=]+)=(.*)$")
  if not k then
    io.stderr:write("provision.lua: tags are key=value, got '" .. arg[i] .. "'\n")
    os.exit(2)
  end
  tags = tags or {}
  tags[k] = v
end

local function provision()
  local client = aws_connect.new{ app_id = "provision" }
  local instance, info = client:ensure_instance{
    identity_management_type = "CONNECT_MANAGED",
    inbound_calls_enabled = true,
    outbound_calls_enabled = false,
    instance_alias = alias,
    tags = tags,
  }
  print(("%s instance %s (%s)"):format(info.created and "created" or "found", instance.id, alias))
  -- an instance takes minutes to become ACTIVE; a failed one raises
  -- InstanceCreationFailed with the service's reason
  instance = client:wait_for_instance(instance.id, {
    timeout = tonumber(os.getenv("PROVISION_TIMEOUT")) or 900,
    interval = tonumber(os.getenv("PROVISION_INTERVAL")) or 10,
    on_poll = function(inst, elapsed)
      io.stderr:write(("  %4.0f s  %s\n"):format(elapsed, tostring(inst.instance_status)))
    end,
  })
  print("id:     " .. instance.id)
  print("arn:    " .. instance.arn)
  print("status: " .. instance.instance_status)
end

local ok, err = pcall(provision)
if not ok then
  -- error objects print as one line without secrets
  io.stderr:write("provision.lua: ", tostring(err), "\n")
  os.exit(1)
end
