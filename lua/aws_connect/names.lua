-- aws_connect.names: the naming rule between AWS names and Lua names.
-- snake(name) is botocore's xform_name, the rule boto3 names methods and
-- parameters by: "DescribeUser" -> "describe_user", "ListAIAgents" ->
-- "list_ai_agents", "GatewayARNs" -> "gateway_arns". A name that already
-- holds an underscore is kept as it is. Results are cached per name.

local M = {}

local cache = {}

--- botocore's xform_name with "_" as the separator.
function M.snake(name)
  local s = cache[name]
  if s then return s end
  if name:find("_", 1, true) then
    s = name
  else
    local n = name
    -- a pluralised acronym at the end ("ARNs") becomes one word
    local a = n:find("%u%u+s$")
    if a then n = n:sub(1, a - 1) .. "_" .. n:sub(a):lower() end
    n = n:gsub("(.)(%u%l+)", "%1_%2")
    n = n:gsub("([%l%d])(%u)", "%1_%2")
    s = n:lower()
  end
  cache[name] = s
  return s
end

--- "DescribeUser" -> "describe-user": the AWS CLI's command and flag names.
function M.kebab(name)
  return (M.snake(name):gsub("_", "-"))
end

return M
