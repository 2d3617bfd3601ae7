-- aws_connect.jmespath: JMESPath (--query) as the AWS CLI v2 evaluates it.
--
--   local expr, err = jmespath.compile("reservations[].instances[].id")
--   local value, err = expr:search(data)
--   local value, err = jmespath.search("a.b", data)   -- compiled once, memoized
--
-- The behaviour is python jmespath's (the AWS CLI's), checked by the whole
-- JMESPath compliance suite (spec/jmespath_spec.lua). Data follows the JSON
-- decoder's convention (values.lua). Nothing raises for user input: errors
-- come back as nil, err with err.kind "syntax" (err.offset, 0-based),
-- "invalid-type", "invalid-value", "invalid-arity" or "unknown-function"
-- (and "internal" for a fault of this engine, which a test should catch).
-- The pieces: lexer.lua, parser.lua, interpreter.lua, functions.lua,
-- json.lua (literals, to_string), values.lua (the data model).

local values = require("aws_connect.jmespath.values")
local parser = require("aws_connect.jmespath.parser")
local interpreter = require("aws_connect.jmespath.interpreter")

local M = {}

local type, pcall, setmetatable = type, pcall, setmetatable
local NULL = values.NULL

M.null = NULL
M.MAX_EXPRESSION_LENGTH = 65536
M.CACHE_SIZE = 256

local Expression = {}
Expression.__index = Expression

local function run(fn, data)
  return fn(data)
end

--- Evaluates the expression against data; returns the result (values.NULL
-- for null) or nil, err.
function Expression:search(data)
  if data == nil then data = NULL end
  local ok, result = pcall(run, self.fn, data)
  if ok then
    if result == nil then return NULL end
    return result
  end
  if values.is_error(result) then return nil, result end
  -- not a JMESPath error (a bug, or memory): still an error object, never a raise
  return nil, values.new_error("internal", "jmespath: " .. (tostring(result):gsub("[\r\n]+", " ")))
end

local function syntax_error(offset, message)
  return values.new_error("syntax", "invalid JMESPath expression at offset " .. offset .. ": " .. message,
    { offset = offset })
end

--- Compiles an expression; returns the compiled expression or nil, err.
function M.compile(expression)
  if type(expression) ~= "string" then
    return nil, values.new_error("invalid-value", "a JMESPath expression must be a string, got " .. type(expression))
  end
  if expression == "" then return nil, syntax_error(0, "empty expression") end
  if #expression > M.MAX_EXPRESSION_LENGTH then
    return nil, syntax_error(M.MAX_EXPRESSION_LENGTH, "expression longer than " .. M.MAX_EXPRESSION_LENGTH .. " bytes")
  end
  local ok, ast, offset, message = pcall(parser.parse, expression)
  if not ok then
    return nil, values.new_error("internal", "jmespath: " .. (tostring(ast):gsub("[\r\n]+", " ")))
  end
  if not ast then return nil, syntax_error(offset, message) end
  local fn
  ok, fn = pcall(interpreter.compile, ast)
  if not ok then
    return nil, values.new_error("internal", "jmespath: " .. (tostring(fn):gsub("[\r\n]+", " ")))
  end
  return setmetatable({ expression = expression, fn = fn }, Expression)
end

-- memoized compiles: bounded, dropped whole when full
local cache, cached = {}, 0

--- compile (memoized) + search.
function M.search(expression, data)
  local expr = cache[expression]
  if not expr then
    local err
    expr, err = M.compile(expression)
    if not expr then return nil, err end
    if cached >= M.CACHE_SIZE then cache, cached = {}, 0 end
    cache[expression] = expr
    cached = cached + 1
  end
  return expr:search(data)
end

return M
