-- examples/game_admin.lua - a game server's admin command for the support
-- desk's Amazon Connect instance: the server's console calls
-- M.run{ "status", "support-desk" } (e.g. for "/support status support-desk")
-- and shows the lines it returns; it also runs from a shell:
--
--   lua5.4 examples/game_admin.lua status|open|list [ALIAS]
--
-- It uses aws_connect.safe, so a failure is a value (nil, err), never an
-- error raised into the game loop, and it never waits for an instance:
-- "open" asks for it (ensure_instance: safe to repeat, creates at most one)
-- and returns at once; "status" tells when it is ACTIVE.
local safe = require("aws_connect.safe")

local M = {}

local client
local function connect()
  if client then return client end
  local c, err = safe.new{ app_id = "game-admin", max_attempts = 2, timeout = 10 }
  if not c then return nil, err end
  client = c
  return client
end

-- every instance summary, page by page (nil, err when a call fails)
local function all_instances(c)
  local list, token = {}, nil
  repeat
    local page, err = c:list_instances{ max_results = 10, next_token = token }
    if not page then return nil, err end
    for _, inst in ipairs(page.instances) do list[#list + 1] = inst end
    token = page.next_token
  until not token
  return list
end

-- the instance whose alias is `alias` (compared without regard to case)
local function find(c, alias)
  local list, err = all_instances(c)
  if not list then return nil, err end
  for _, inst in ipairs(list) do
    if inst.instance_alias and inst.instance_alias:lower() == alias:lower() then return inst end
  end
  return nil
end

local commands = {}

function commands.status(c, alias)
  local inst, err = find(c, alias)
  if err then return false, { "support: " .. tostring(err) } end
  if not inst then return true, { ("support: no instance '%s' (open it with: open %s)"):format(alias, alias) } end
  return true, { ("support: %s is %s (id %s)"):format(alias, tostring(inst.instance_status), inst.id) }
end

function commands.open(c, alias)
  local inst, info = c:ensure_instance{
    identity_management_type = "CONNECT_MANAGED",
    inbound_calls_enabled = true,
    outbound_calls_enabled = false,
    instance_alias = alias,
    tags = { owner = "game-admin" },
  }
  if not inst then return false, { "support: " .. tostring(info) } end
  if info.created then
    return true, { ("support: creating %s (id %s); it takes a few minutes, see: status %s"):format(alias, inst.id, alias) }
  end
  return true, { ("support: %s already exists (id %s, %s)"):format(alias, inst.id, tostring(inst.instance_status)) }
end

function commands.list(c)
  local list, err = all_instances(c)
  if not list then return false, { "support: " .. tostring(err) } end
  local lines = {}
  for _, inst in ipairs(list) do
    lines[#lines + 1] = ("support: %-24s %s"):format(inst.instance_alias or "-", tostring(inst.instance_status))
  end
  if #lines == 0 then lines[1] = "support: no instances" end
  return true, lines
end

--- Runs one admin command: words = { "status"|"open"|"list", alias }.
--- Returns ok (boolean) and the lines to show.
function M.run(words)
  local name, alias = words[1], words[2]
  local cmd = commands[name or ""]
  if not cmd then return false, { "usage: status ALIAS | open ALIAS | list" } end
  if name ~= "list" and not alias then return false, { "usage: " .. name .. " ALIAS" } end
  local c, err = connect()
  if not c then return false, { "support: " .. tostring(err) } end
  return cmd(c, alias)
end

-- from a shell: lua5.4 examples/game_admin.lua open support-desk
if arg and arg[0] and arg[0]:match("game_admin%.lua$") then
  local ok, lines = M.run(arg)
  for _, l in ipairs(lines) do print(l) end
  os.exit(ok and 0 or 1)
end

return M
