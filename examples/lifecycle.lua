-- The life of an instance: create it, wait until it is ACTIVE, describe
-- it, list every instance of the account, and show that ensure_instance
-- finds it again instead of creating a second one. Region, endpoint and
-- credentials come from the usual AWS environment variables (make demo
-- points them at the bundled fake server).
local aws_connect = require("aws_connect")

local client = aws_connect.new{ app_id = "demo" }
local alias = arg[1] or "lifecycle-demo"

local params = {
  identity_management_type = "CONNECT_MANAGED",
  inbound_calls_enabled = true,
  outbound_calls_enabled = false,
  instance_alias = alias,
  tags = { team = "ops", env = "demo" },
}

local function main()
  local created = client:create_instance(params)
  print(("created instance %s (alias %s)"):format(created.id, alias))

  local instance = client:wait_for_instance(created.id, {
    timeout = 120,
    interval = 0.5,
    on_poll = function(inst, elapsed)
      print(("  %5.1f s  %s"):format(elapsed, inst.instance_status))
    end,
  })
  print("instance is " .. instance.instance_status)

  local d = client:describe_instance(created.id)
  print("describe:")
  print("  arn:         " .. d.arn)
  print("  identity:    " .. d.identity_management_type)
  print("  inbound:     " .. tostring(d.inbound_calls_enabled) .. ", outbound: " .. tostring(d.outbound_calls_enabled))
  print("  created:     " .. os.date("!%Y-%m-%d %H:%M:%S UTC", math.floor(d.created_time)))
  print("  access url:  " .. d.instance_access_url)
  local tags = {}
  for k, v in pairs(d.tags or {}) do tags[#tags + 1] = k .. "=" .. v end
  table.sort(tags)
  print("  tags:        " .. table.concat(tags, ", "))

  print("instances of the account:")
  local n = 0
  for inst in client:instances{ max_results = 10 } do
    n = n + 1
    print(("  %s  %-16s %s"):format(inst.id, inst.instance_alias or "-", inst.instance_status))
  end
  print(n .. " instance(s)")

  local again, meta = client:ensure_instance(params)
  print(("ensure_instance(%s): %s %s"):format(alias, again.id, meta.created and "(created)" or "(already there)"))
end

local ok, err = pcall(main)
if not ok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
