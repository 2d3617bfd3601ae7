-- aws_connect.jmespath.parser: tokens -> AST, a top-down operator precedence parser.
--
-- The grammar, binding powers and the leniencies are python jmespath's (the
-- AWS CLI's), so an expression the AWS CLI accepts is accepted here and means
-- the same. Nodes are { k = kind, v = value, [1..n] = children, d = depth }.
-- Both the parser's recursion (MAX_NESTING) and the depth of the tree it
-- builds (MAX_DEPTH) are bounded: deeper expressions are syntax errors, never
-- a stack overflow in the parser or the interpreter.

local lexer = require("aws_connect.jmespath.lexer")

local M = {}

M.MAX_NESTING = 256
M.MAX_DEPTH = 512

local error, setmetatable, getmetatable = error, setmetatable, getmetatable

local BP = {
  eof = 0, unquoted_identifier = 0, quoted_identifier = 0, literal = 0, rbracket = 0, rparen = 0,
  comma = 0, rbrace = 0, number = 0, current = 0, expref = 0, colon = 0,
  pipe = 1, ["or"] = 2, ["and"] = 3,
  eq = 5, gt = 5, lt = 5, gte = 5, lte = 5, ne = 5,
  flatten = 9,
  -- everything above stops a projection
  star = 20, filter = 21, dot = 40, ["not"] = 45, lbrace = 50, lbracket = 55, lparen = 60,
}
local PROJECTION_STOP = 10

local SYNTAX_MT = {}

-- parser state (one parse at a time; reset by parse())
local toks, k, nesting

local function fail(offset, message)
  error(setmetatable({ offset = offset, message = message }, SYNTAX_MT), 0)
end

local function describe(tok)
  local t = tok.t
  if t == "eof" then return "end of expression" end
  if t == "unquoted_identifier" or t == "quoted_identifier" then return "identifier '" .. tok.v .. "'" end
  if t == "number" then return "number " .. tostring(tok.v) end
  return t
end

local function fail_token(tok, why)
  if tok.t == "eof" then fail(tok.p, "incomplete expression") end
  fail(tok.p, (why and (why .. ": ") or "") .. "unexpected " .. describe(tok))
end

local function node(kind, value, ...)
  local n = { k = kind, v = value, ... }
  local d = 0
  for i = 1, #n do
    local cd = n[i].d
    if cd > d then d = cd end
  end
  n.d = d + 1
  if n.d > M.MAX_DEPTH then fail(toks[k].p, "expression nested too deeply") end
  return n
end

local function append(parent, child)
  parent[#parent + 1] = child
  if child.d + 1 > parent.d then
    parent.d = child.d + 1
    if parent.d > M.MAX_DEPTH then fail(toks[k].p, "expression nested too deeply") end
  end
  return parent
end

local function identity() return node("identity") end

local function current() return toks[k].t end
local function lookahead(n) return toks[k + n].t end

local function match(t)
  if toks[k].t ~= t then fail_token(toks[k], "expected " .. t) end
  k = k + 1
end

local NUD, LED = {}, {}

local function expression(rbp)
  nesting = nesting + 1
  if nesting > M.MAX_NESTING then fail(toks[k].p, "expression nested too deeply") end
  local tok = toks[k]
  k = k + 1
  local nud = NUD[tok.t]
  if not nud then fail_token(tok, "invalid token") end
  local left = nud(tok)
  local t = toks[k].t
  while rbp < BP[t] do
    local led = LED[t]
    if not led then fail_token(toks[k], "invalid token") end
    k = k + 1
    left = led(left)
    t = toks[k].t
  end
  nesting = nesting - 1
  return left
end

local parse_dot_rhs

local function projection_rhs(rbp)
  local t = current()
  if BP[t] < PROJECTION_STOP then return identity() end
  if t == "lbracket" or t == "filter" then return expression(rbp) end
  if t == "dot" then
    k = k + 1
    return parse_dot_rhs(rbp)
  end
  fail_token(toks[k], "syntax error")
end

local function multi_select_list()
  local n = node("multi_select_list")
  while true do
    append(n, expression(0))
    if current() == "rbracket" then break end
    match("comma")
  end
  match("rbracket")
  return n
end

local function multi_select_hash()
  local n = node("multi_select_hash")
  local keys = {}
  n.keys = keys
  while true do
    local tok = toks[k]
    if tok.t ~= "quoted_identifier" and tok.t ~= "unquoted_identifier" then
      fail_token(tok, "expected an identifier")
    end
    k = k + 1
    match("colon")
    append(n, expression(0))
    keys[#keys + 1] = tok.v
    local t = current()
    if t == "comma" then
      k = k + 1
    elseif t == "rbrace" then
      k = k + 1
      break
    end
    -- anything else: the next pair (python jmespath is this lenient)
  end
  return n
end

parse_dot_rhs = function(rbp)
  local t = current()
  if t == "quoted_identifier" or t == "unquoted_identifier" or t == "star" then return expression(rbp) end
  if t == "lbracket" then
    k = k + 1
    return multi_select_list()
  end
  if t == "lbrace" then
    k = k + 1
    return multi_select_hash()
  end
  fail_token(toks[k], "expected an identifier, '[' or '{' after '.'")
end

local function slice_expression()
  -- [start:stop:step], every part optional
  local parts, index = {}, 1
  local t = current()
  while t ~= "rbracket" and index <= 3 do
    if t == "colon" then
      index = index + 1
      if index > 3 then fail_token(toks[k], "syntax error") end
      k = k + 1
    elseif t == "number" then
      parts[index] = toks[k].v
      k = k + 1
    else
      fail_token(toks[k], "syntax error")
    end
    t = current()
  end
  match("rbracket")
  local n = node("slice")
  n.start, n.stop, n.step = parts[1], parts[2], parts[3]
  return n
end

local function index_expression()
  if lookahead(0) == "colon" or lookahead(1) == "colon" then return slice_expression() end
  local n = node("index", toks[k].v)
  k = k + 1
  match("rbracket")
  return n
end

local function project_if_slice(left, right)
  local ie = node("index_expression", nil, left, right)
  if right.k == "slice" then return node("projection", nil, ie, projection_rhs(BP.star)) end
  return ie
end

-- ---- nud: a token at the start of an expression ---------------------------

NUD.literal = function(tok)
  local n = node("literal")
  n.v = tok.v
  return n
end

NUD.unquoted_identifier = function(tok) return node("field", tok.v) end

NUD.quoted_identifier = function(tok)
  if current() == "lparen" then fail(toks[k].p, "quoted identifiers cannot name a function") end
  return node("field", tok.v)
end

NUD.star = function()
  local right
  if current() == "rbracket" then right = identity() else right = projection_rhs(BP.star) end
  return node("value_projection", nil, identity(), right)
end

NUD.filter = function() return LED.filter(identity()) end

NUD.lbrace = function() return multi_select_hash() end

NUD.lparen = function()
  local e = expression(0)
  match("rparen")
  return e
end

NUD.flatten = function()
  return node("projection", nil, node("flatten", nil, identity()), projection_rhs(BP.flatten))
end

NUD["not"] = function() return node("not", nil, expression(BP["not"])) end

NUD.lbracket = function()
  local t = current()
  if t == "number" or t == "colon" then return project_if_slice(identity(), index_expression()) end
  if t == "star" and lookahead(1) == "rbracket" then
    k = k + 2
    return node("projection", nil, identity(), projection_rhs(BP.star))
  end
  return multi_select_list()
end

NUD.current = function() return node("current") end

NUD.expref = function() return node("expref", nil, expression(BP.expref)) end

-- ---- led: a token after an expression -------------------------------------

LED.dot = function(left)
  if current() ~= "star" then
    local right = parse_dot_rhs(BP.dot)
    if left.k == "subexpression" then return append(left, right) end
    return node("subexpression", nil, left, right)
  end
  k = k + 1
  return node("value_projection", nil, left, projection_rhs(BP.dot))
end

LED.pipe = function(left) return node("pipe", nil, left, expression(BP.pipe)) end
LED["or"] = function(left) return node("or", nil, left, expression(BP["or"])) end
LED["and"] = function(left) return node("and", nil, left, expression(BP["and"])) end

LED.lparen = function(left)
  if left.k ~= "field" then fail(toks[k - 1].p, "invalid function name") end
  local n = node("function", left.v)
  while current() ~= "rparen" do
    local arg = expression(0)
    if current() == "comma" then k = k + 1 end
    append(n, arg)
  end
  k = k + 1
  return n
end

LED.filter = function(left)
  local condition = expression(0)
  match("rbracket")
  local right
  if current() == "flatten" then right = identity() else right = projection_rhs(BP.filter) end
  return node("filter_projection", nil, left, right, condition)
end

for _, op in ipairs({ "eq", "ne", "lt", "gt", "lte", "gte" }) do
  LED[op] = function(left) return node("comparator", op, left, expression(BP[op])) end
end

LED.flatten = function(left)
  return node("projection", nil, node("flatten", nil, left), projection_rhs(BP.flatten))
end

LED.lbracket = function(left)
  local t = current()
  if t == "number" or t == "colon" then
    local right = index_expression()
    if left.k == "index_expression" then return append(left, right) end
    return project_if_slice(left, right)
  end
  match("star")
  match("rbracket")
  return node("projection", nil, left, projection_rhs(BP.star))
end

--- Returns the AST of an expression, or nil, offset (0-based), message.
function M.parse(s)
  local tokens, offset, message = lexer.tokenize(s)
  if not tokens then return nil, offset, message end
  toks, k, nesting = tokens, 1, 0
  local ok, ast = pcall(function()
    local e = expression(0)
    if current() ~= "eof" then fail_token(toks[k]) end
    return e
  end)
  toks = nil
  if ok then return ast end
  if getmetatable(ast) == SYNTAX_MT then return nil, ast.offset, ast.message end
  error(ast, 0)
end

return M
