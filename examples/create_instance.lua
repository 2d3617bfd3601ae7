-- Creates an Amazon Connect instance with an alias and tags, and prints its
-- id and ARN. Region, endpoint and credentials come from the usual AWS
-- environment variables (make demo points them at the bundled fake server).
local aws_connect = require("aws_connect")

local client = aws_connect.new{ app_id = "demo" }

local ok, instance, meta = pcall(client.create_instance, client, {
  identity_management_type = "CONNECT_MANAGED",
  inbound_calls_enabled = true,
  outbound_calls_enabled = false,
  instance_alias = arg[1] or "game-support",
  tags = { team = "ops", env = "demo" },
})
if not ok then
  io.stderr:write(tostring(instance), "\n")
  os.exit(1)
end

print("created instance " .. instance.id)
print("arn:          " .. instance.arn)
print("request id:   " .. tostring(meta.request_id))
print("client token: " .. meta.client_token)
