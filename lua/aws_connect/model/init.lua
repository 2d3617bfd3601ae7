-- aws_connect.model: the service models as data, loaded lazily.
--
-- The files under aws_connect/model/<service>/ are generated from the
-- botocore models in data/models/ by tools/gen-model.py (make model). Nothing
-- is read at require time; model.service(id) reads the small index, and
-- service:operation(name) reads that operation's own file and the shared
-- shape chunks it needs, once per process. Shapes are resolved in place into
-- linked tables the validator and the protocols walk:
--
--   shape.type        structure | list | map | string | integer | long | float |
--                     double | boolean | timestamp | blob
--   shape.name        the shape's model name
--   string/number     min, max, pattern, enum (+ enum_set), sensitive
--   list              member (shape), min, max
--   map               key, value (shapes), min, max
--   structure         members (ordered list of member), by_key (AWS name and
--                     snake_case name -> member), required (list of names),
--                     union, exception, error = { code, httpStatusCode }
--   member            name, snake, shape, location (uri | querystring |
--                     header | nil for the body), wire (locationName or name),
--                     idempotencyToken, required
--
-- An operation: name, snake, method, uri, input, output (shapes or nil),
-- errors (names), paginator, idempotent, token (the idempotency-token
-- member of the input, if any).

local names = require("aws_connect.names")

local M = {}

local Service = {}
Service.__index = Service
Service.__tostring = function(self) return "aws_connect.model service " .. self.id end

local services = {}

local function load(modname)
  local ok, v = pcall(require, modname)
  if not ok then
    error(("aws_connect.model: cannot load %s: %s"):format(modname, tostring(v)), 0)
  end
  return v
end

--- The model of a service ("connect", "sts", "sso", "sso_oidc").
function M.service(id)
  local s = services[id]
  if s then return s end
  local prefix = "aws_connect.model." .. id .. "."
  local index = load(prefix .. "index")
  s = setmetatable({
    id = id,
    prefix = prefix,
    metadata = index.metadata,
    names = index.operations,      -- sorted operation names
    error_chunks = index.errors,   -- error shape name -> shared chunk (0: own)
    raw = {},                      -- shape name -> unresolved definition
    shapes = {},                   -- shape name -> resolved shape
    ops = {},                      -- operation name -> operation
    loaded_chunks = {},
  }, Service)
  services[id] = s
  return s
end

function Service:_chunk(n)
  if self.loaded_chunks[n] then return end
  local defs = load(self.prefix .. "s" .. n)
  local raw = self.raw
  for k, v in pairs(defs) do raw[k] = v end
  self.loaded_chunks[n] = true
end

-- Checks that every shape name reachable from name is loaded, before
-- resolve() links anything (a missing one would leave a half-linked shape).
local function check_loaded(self, name, seen)
  if self.shapes[name] or seen[name] then return end
  seen[name] = true
  local def = self.raw[name]
  if not def then error("aws_connect.model: shape " .. name .. " is not loaded", 0) end
  local refs = {}
  for _, m in ipairs(def.members or {}) do refs[#refs + 1] = m.shape end
  refs[#refs + 1] = def.member
  refs[#refs + 1] = def.key
  refs[#refs + 1] = def.value
  for _, r in ipairs(refs) do
    if type(r) == "string" then check_loaded(self, r, seen) end
  end
end

local link

local function resolve(self, name)
  if not self.shapes[name] then check_loaded(self, name, {}) end
  return link(self, name)
end

link = function(self, name)
  local done = self.shapes[name]
  if done then return done end
  local def = self.raw[name]
  if not def then error("aws_connect.model: shape " .. name .. " is not loaded", 0) end
  def.name = name
  self.shapes[name] = def
  local t = def.type
  if t == "structure" then
    local by_key, req = {}, {}
    for _, r in ipairs(def.required or {}) do req[r] = true end
    for _, m in ipairs(def.members or {}) do
      m.snake = names.snake(m.name)
      m.wire = m.locationName or m.name
      m.required = req[m.name] or nil
      m.shape_name = m.shape
      m.shape = link(self, m.shape)
      by_key[m.name] = m
      by_key[m.snake] = m
    end
    def.members = def.members or {}
    def.by_key = by_key
    def.required = def.required or {}
  elseif t == "list" then
    def.member = link(self, def.member)
  elseif t == "map" then
    def.key = link(self, def.key)
    def.value = link(self, def.value)
  end
  if def.enum then
    local set = {}
    for _, v in ipairs(def.enum) do set[v] = true end
    def.enum_set = set
  end
  return def
end

--- The operation called name (its AWS name), or nil when the model has none.
function Service:operation(name)
  local op = self.ops[name]
  if op then return op end
  if type(name) ~= "string" or not name:find("^%u[%w]*$") then return nil end
  if not self:has(name) then return nil end
  local rec = load(self.prefix .. "op_" .. name)
  for _, n in ipairs(rec.chunks) do self:_chunk(n) end
  local raw = self.raw
  for k, v in pairs(rec.shapes) do raw[k] = v end
  op = rec.operation
  op.snake = names.snake(op.name)
  op.service = self
  if op.input then op.input = resolve(self, op.input) end
  if op.output then op.output = resolve(self, op.output) end
  if op.input then
    for _, m in ipairs(op.input.members) do
      if m.idempotencyToken then op.token = m end
    end
  end
  self.ops[name] = op
  return op
end

--- True when the model has an operation of that AWS name.
function Service:has(name)
  local set = self.name_set
  if not set then
    set = {}
    for _, n in ipairs(self.names) do set[n] = true end
    self.name_set = set
  end
  return set[name] == true
end

--- The AWS operation name for a method name ("describe_user"), or nil.
function Service:method(snake)
  local map = self.methods
  if not map then
    map = {}
    for _, n in ipairs(self.names) do map[names.snake(n)] = n end
    self.methods = map
  end
  return map[snake]
end

--- The resolved error shape of a modeled exception code, or nil.
function Service:error_shape(code)
  local done = self.shapes[code]
  if done and done.exception then return done end
  local chunk = self.error_chunks[code]
  if chunk == nil then return nil end
  if chunk == 0 then
    -- only one operation uses it: it lives in that operation's file
    if not self.raw[code] then return nil end
  else
    self:_chunk(chunk)
  end
  return resolve(self, code)
end

--- Every modeled exception code (sorted).
function Service:error_codes()
  local list = {}
  for code in pairs(self.error_chunks) do list[#list + 1] = code end
  table.sort(list)
  return list
end

--- One-line summaries (CLI help): { operations = {Op = text},
--- members = {["Shape.Member"] = text} }; loaded on demand.
function Service:docs()
  if not self.doc_table then self.doc_table = load(self.prefix .. "docs") end
  return self.doc_table
end

return M
