-- aws_connect.errors: the typed error objects every failure is raised as.
--
-- An error is a table with the fields of the contract in design.md (code,
-- kind, message, status, request_id, retryable, attempts, field) and a
-- metatable giving tostring() and :is(). errors.<Code> exists for each
-- modeled and client-side code and can stand in for the code string.

local M = {}

local Error = {}
Error.__index = Error

-- client-side codes and their kinds
local CLIENT = {
  ValidationError = "validation",
  CredentialsError = "credentials",
  ConfigError = "config",
  NetworkError = "network",
  TimeoutError = "timeout",
  ResponseError = "response",
}


local Class = {}
Class.__index = Class
Class.__tostring = function(c) return "aws_connect.errors." .. c.code end

local function code_of(x)
  if type(x) == "table" then return x.code end
  return x
end

function M.is(err, code)
  if type(err) ~= "table" or getmetatable(err) ~= Error then return false end
  return err.code == code_of(code)
end

function Error.is(self, code)
  return self.code == code_of(code)
end

-- One readable line: "ThrottlingException: Rate exceeded (HTTP 429, request
-- id abc, 3 attempts)". Never includes secrets: messages are built by us
-- from redacted material, or come from the service.
function Error.__tostring(e)
  local parts = {}
  if e.status then parts[#parts + 1] = "HTTP " .. tostring(e.status) end
  if e.field then parts[#parts + 1] = "field " .. e.field end
  if e.request_id then parts[#parts + 1] = "request id " .. e.request_id end
  if e.attempts and e.attempts > 0 then
    parts[#parts + 1] = e.attempts .. (e.attempts == 1 and " attempt" or " attempts")
  end
  local s = "aws_connect: " .. tostring(e.code)
  if e.message and e.message ~= "" then s = s .. ": " .. e.message end
  if #parts > 0 then s = s .. " (" .. table.concat(parts, ", ") .. ")" end
  return (s:gsub("[\r\n]+", " "))
end

M.Error = Error

--- Builds an error object. `fields` may carry any contract field.
function M.new(code, message, fields)
  local e = {}
  if fields then for k, v in pairs(fields) do e[k] = v end end
  e.code = code
  e.message = message or e.message or ""
  e.kind = e.kind or CLIENT[code] or "service"
  if e.retryable == nil then e.retryable = false end
  e.attempts = e.attempts or 0
  return setmetatable(e, Error)
end

function M.kind_of(code)
  return CLIENT[code] or "service"
end

--- Raises a new error at level 0 (the object carries its own message).
function M.raise(code, message, fields)
  error(M.new(code, message, fields), 0)
end

function M.validation(field, message)
  M.raise("ValidationError", message, { field = field })
end

for code in pairs(CLIENT) do
  M[code] = setmetatable({ code = code, kind = CLIENT[code] }, Class)
end
M.AccessDeniedException = setmetatable({ code = "AccessDeniedException", kind = "service" }, Class)
-- raised by wait_for_instance when the instance ends CREATION_FAILED (lifecycle.lua)
M.InstanceCreationFailed = setmetatable({ code = "InstanceCreationFailed", kind = "service" }, Class)

-- errors.<Code> for every modeled exception of the Connect model (and of
-- STS, SSO and SSO-OIDC, which the credential chain calls), made when
-- first looked up from the model's list of error shapes.
local SERVICES = { "connect", "sts", "sso", "sso_oidc" }
setmetatable(M, { __index = function(t, code)
  if type(code) ~= "string" or not code:find("^%u%w*$") then return nil end
  local model = require("aws_connect.model")
  for _, id in ipairs(SERVICES) do
    local svc = model.service(id)
    -- query services (STS) answer with the shape's error code, which may
    -- differ from its name (IDPCommunicationError)
    if svc.error_chunks[code] or (svc.metadata.protocol == "query"
        and require("aws_connect.protocol.query").code_names(svc)[code]) then
      local c = setmetatable({ code = code, kind = "service" }, Class)
      rawset(t, code, c)
      return c
    end
  end
  return nil
end })

--- Every modeled exception code of a service (default "connect").
function M.modeled(service)
  return require("aws_connect.model").service(service or "connect"):error_codes()
end

--- Adds the modeled members of an error shape (parsed, snake_case) to e
--- as fields, never over a contract field and never the message (which
--- is already set); red scrubs secrets at any depth, printable (optional)
--- cleans string values.
function M.add_fields(e, fields, red, printable)
  for k, v in pairs(fields) do
    if k ~= "message" and e[k] == nil then
      if printable and type(v) == "string" then v = printable(v, 1000) end
      e[k] = red:deep(v)
    end
  end
  return e
end

--- True when x is one of our error objects.
function M.is_error(x)
  return type(x) == "table" and getmetatable(x) == Error
end

return M
