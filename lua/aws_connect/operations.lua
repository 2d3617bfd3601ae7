-- aws_connect.operations: the Connect instance operations (model
-- 2017-08-08): their members and constraints, how parameters become an
-- HTTP request, and how a 2xx body becomes a snake_case result table.
--
-- Each operation is a table:
--   name        the AWS operation name
--   method      HTTP method
--   members     list of { name, aws, required, check } (see validate.members)
--   token       snake_case member filled with a UUIDv4 when absent
--   serialize   function(input) -> { path, query, body }   (path/query encoded)
--   parse       function(doc) -> result  (raises ResponseError on a bad shape)

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local validate = require("aws_connect.validate")
local times = require("aws_connect.times")

local M = {}

local function encode(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end
M.encode = encode

local function bad_shape(what)
  errors.raise("ResponseError", "unexpected response shape: " .. what)
end

local function opt_type(doc, key, ty, where)
  local v = doc[key]
  if v == nil or v == core.null then return nil end
  if type(v) ~= ty then bad_shape(("%s.%s should be a %s, got %s"):format(where, key, ty, type(v))) end
  return v
end

local function expect_object(doc, where)
  local mt = type(doc) == "table" and getmetatable(doc)
  if type(doc) ~= "table" or doc[1] ~= nil or (mt and mt.__jsontype == "array") then
    bad_shape(where .. " should be a JSON object")
  end
  return doc
end

local IDENTITY_TYPES = { "SAML", "CONNECT_MANAGED", "EXISTING_DIRECTORY" }

local function member(name, aws, required, check)
  return { name = name, aws = aws, required = required, check = check }
end

local function check_token(f, v) return validate.string(f, v, 0, 500) end
local function check_instance_id(f, v) return validate.string(f, v, 1, 100) end

-- CreateInstance -----------------------------------------------------------

M.create_instance = {
  name = "CreateInstance",
  method = "PUT",
  token = "client_token",
  members = {
    member("client_token", "ClientToken", false, check_token),
    member("identity_management_type", "IdentityManagementType", true,
      function(f, v) return validate.enum(f, v, IDENTITY_TYPES) end),
    member("instance_alias", "InstanceAlias", false, validate.instance_alias),
    member("directory_id", "DirectoryId", false, validate.directory_id),
    member("inbound_calls_enabled", "InboundCallsEnabled", true, validate.boolean),
    member("outbound_calls_enabled", "OutboundCallsEnabled", true, validate.boolean),
    member("tags", "Tags", false, validate.tags),
  },
}

function M.create_instance.serialize(input)
  local body = {}
  for _, m in ipairs(M.create_instance.members) do
    if input[m.name] ~= nil then body[m.aws] = input[m.name] end
  end
  local text, err = core.json_encode(body)
  if not text then errors.raise("ValidationError", "cannot encode the request: " .. err) end
  return { path = "/instance", query = "", body = text }
end

function M.create_instance.parse(doc)
  expect_object(doc, "CreateInstance response")
  local id = opt_type(doc, "Id", "string", "CreateInstance")
  local arn = opt_type(doc, "Arn", "string", "CreateInstance")
  if not id then bad_shape("CreateInstance response has no Id") end
  return { id = id, arn = arn }
end

-- DescribeInstance -----------------------------------------------------------

local function parse_tags(t, where)
  if t == nil or t == core.null then return nil end
  if type(t) ~= "table" then bad_shape(where .. ".Tags should be an object") end
  local out = {}
  for k, v in pairs(t) do
    if type(k) ~= "string" or type(v) ~= "string" then bad_shape(where .. ".Tags should map strings to strings") end
    out[k] = v
  end
  return out
end

-- A Timestamp member as epoch seconds. rest-json sends a JSON number;
-- like botocore, an ISO 8601 string (as some Connect emulators send) is
-- accepted too.
local function timestamp(doc, key, where)
  local v = doc[key]
  if v == nil or v == core.null or type(v) == "number" then return opt_type(doc, key, "number", where) end
  if type(v) == "string" then
    local t = times.parse_iso8601(v)
    if t and not v:find("^%s*%d+%s*$") then return t end
  end
  bad_shape(("%s.%s should be a timestamp (epoch seconds), got %s"):format(where, key,
    type(v) == "string" and ("%q"):format(v:sub(1, 40)) or type(v)))
end

local function parse_instance(doc, where, summary)
  expect_object(doc, where)
  local inst = {
    id = opt_type(doc, "Id", "string", where),
    arn = opt_type(doc, "Arn", "string", where),
    identity_management_type = opt_type(doc, "IdentityManagementType", "string", where),
    instance_alias = opt_type(doc, "InstanceAlias", "string", where),
    created_time = timestamp(doc, "CreatedTime", where),
    service_role = opt_type(doc, "ServiceRole", "string", where),
    instance_status = opt_type(doc, "InstanceStatus", "string", where),
    inbound_calls_enabled = opt_type(doc, "InboundCallsEnabled", "boolean", where),
    outbound_calls_enabled = opt_type(doc, "OutboundCallsEnabled", "boolean", where),
    instance_access_url = opt_type(doc, "InstanceAccessUrl", "string", where),
  }
  if not summary then
    local sr = opt_type(doc, "StatusReason", "table", where)
    if sr then inst.status_reason = { message = opt_type(sr, "Message", "string", where .. ".StatusReason") } end
    inst.tags = parse_tags(doc.Tags, where)
  end
  return inst
end

local function parse_replication(doc)
  if doc == nil or doc == core.null then return nil end
  expect_object(doc, "ReplicationConfiguration")
  local out = {
    source_region = opt_type(doc, "SourceRegion", "string", "ReplicationConfiguration"),
    global_sign_in_endpoint = opt_type(doc, "GlobalSignInEndpoint", "string", "ReplicationConfiguration"),
    replication_status_summary_list = {},
  }
  local list = opt_type(doc, "ReplicationStatusSummaryList", "table", "ReplicationConfiguration") or {}
  for i, s in ipairs(list) do
    expect_object(s, "ReplicationStatusSummary")
    out.replication_status_summary_list[i] = {
      region = opt_type(s, "Region", "string", "ReplicationStatusSummary"),
      replication_status = opt_type(s, "ReplicationStatus", "string", "ReplicationStatusSummary"),
      replication_status_reason = opt_type(s, "ReplicationStatusReason", "string", "ReplicationStatusSummary"),
    }
  end
  return out
end

M.describe_instance = {
  name = "DescribeInstance",
  method = "GET",
  members = { member("instance_id", "InstanceId", true, check_instance_id) },
}

function M.describe_instance.serialize(input)
  return { path = "/instance/" .. encode(input.instance_id), query = "" }
end

function M.describe_instance.parse(doc)
  expect_object(doc, "DescribeInstance response")
  local inst = opt_type(doc, "Instance", "table", "DescribeInstance")
  if not inst then bad_shape("DescribeInstance response has no Instance") end
  local out = parse_instance(inst, "Instance")
  out.replication_configuration = parse_replication(doc.ReplicationConfiguration)
  return out
end

-- ListInstances --------------------------------------------------------------

M.list_instances = {
  name = "ListInstances",
  method = "GET",
  members = {
    member("next_token", "NextToken", false, function(f, v) return validate.string(f, v, 0, nil) end),
    member("max_results", "MaxResults", false, function(f, v) return validate.integer(f, v, 1, 10) end),
  },
}

function M.list_instances.serialize(input)
  local q = {}
  if input.max_results then q[#q + 1] = "maxResults=" .. ("%d"):format(input.max_results) end
  if input.next_token then q[#q + 1] = "nextToken=" .. encode(input.next_token) end
  return { path = "/instance", query = table.concat(q, "&") }
end

function M.list_instances.parse(doc)
  expect_object(doc, "ListInstances response")
  local list = opt_type(doc, "InstanceSummaryList", "table", "ListInstances") or {}
  local out = { instances = {}, next_token = opt_type(doc, "NextToken", "string", "ListInstances") }
  for i, s in ipairs(list) do out.instances[i] = parse_instance(s, "InstanceSummary", true) end
  return out
end

-- DeleteInstance -------------------------------------------------------------

M.delete_instance = {
  name = "DeleteInstance",
  method = "DELETE",
  token = "client_token",
  members = {
    member("instance_id", "InstanceId", true, check_instance_id),
    member("client_token", "ClientToken", false, check_token),
  },
}

function M.delete_instance.serialize(input)
  return {
    path = "/instance/" .. encode(input.instance_id),
    query = "clientToken=" .. encode(input.client_token),
  }
end

function M.delete_instance.parse()
  return {}
end

return M
