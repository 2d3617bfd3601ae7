-- aws_connect.jmespath.lexer: JMESPath expression text -> tokens, in one scan.
--
-- Tokens and their rules follow python jmespath's lexer (the AWS CLI's):
-- identifiers are ASCII, `...` literals are JSON (or, failing that, the
-- deprecated bare string form), '...' raw strings only unescape \', "..."
-- identifiers are JSON strings. Each token is { t = type, v = value, p =
-- 0-based byte offset }. Delimited tokens are found with find(), so the scan
-- is linear in the length of the expression.

local json = require("aws_connect.jmespath.json")

local M = {}

local byte, sub, find, gsub = string.byte, string.sub, string.find, string.gsub
local tonumber = tonumber

local SIMPLE = {
  [46] = "dot", [42] = "star", [93] = "rbracket", [44] = "comma", [58] = "colon", [64] = "current",
  [40] = "lparen", [41] = "rparen", [123] = "lbrace", [125] = "rbrace",
}

local WHITESPACE = { [32] = true, [9] = true, [10] = true, [13] = true }

local IDENT_START = {}
for c = 65, 90 do IDENT_START[c] = true end
for c = 97, 122 do IDENT_START[c] = true end
IDENT_START[95] = true

-- python's str.lstrip() (ASCII whitespace and the separators \28-\31)
local function lstrip(s)
  local i = find(s, "[^ \t\n\r\v\f\28-\31]")
  if not i then return "" end
  return sub(s, i)
end

-- The body of a token delimited by `delim` starting at i (s[i] is the opening
-- delimiter), backslash pairs kept as written; returns body, index of the
-- closing delimiter. Nil when the token is never closed.
local function until_delim(s, i, pattern)
  local scan = i + 1
  while true do
    local j = find(s, pattern, scan)
    if not j then return nil end
    if byte(s, j) == 92 then
      if j + 1 > #s then return nil end
      scan = j + 2
    else
      return sub(s, i + 1, j - 1), j
    end
  end
end

--- Returns the token list (ending with an "eof" token), or nil, offset, message.
function M.tokenize(s)
  local toks, nt = {}, 0
  local n = #s
  local i = 1
  local function push(t, v, at)
    nt = nt + 1
    toks[nt] = { t = t, v = v, p = at - 1 }
  end
  while i <= n do
    local c = byte(s, i)
    local simple = SIMPLE[c]
    if simple then
      push(simple, nil, i)
      i = i + 1
    elseif IDENT_START[c] then
      local _, e = find(s, "^[A-Za-z0-9_]*", i + 1)
      push("unquoted_identifier", sub(s, i, e), i)
      i = e + 1
    elseif WHITESPACE[c] then
      i = (find(s, "[^ \t\n\r]", i + 1)) or n + 1
    elseif c == 91 then  -- [
      local d = byte(s, i + 1)
      if d == 93 then
        push("flatten", nil, i)
        i = i + 2
      elseif d == 63 then
        push("filter", nil, i)
        i = i + 2
      else
        push("lbracket", nil, i)
        i = i + 1
      end
    elseif c == 39 then  -- 'raw string'
      local body, j = until_delim(s, i, "[\\']")
      if not body then return nil, i - 1, "unclosed ' delimiter" end
      push("literal", (gsub(body, "\\'", "'")), i)
      i = j + 1
    elseif c == 96 then  -- `json literal`
      local body, j = until_delim(s, i, "[\\`]")
      if not body then return nil, i - 1, "unclosed ` delimiter" end
      body = gsub(body, "\\`", "`")
      local v, why = json.decode(body)
      if v == nil and why == "too-deep" then
        return nil, i - 1, "JSON literal nested deeper than " .. json.MAX_DEPTH .. " levels"
      end
      if v == nil then
        -- the deprecated form: `foo` is the string "foo"
        v = json.decode('"' .. lstrip(body) .. '"')
        if v == nil then return nil, i - 1, "invalid JSON literal" end
      end
      push("literal", v, i)
      i = j + 1
    elseif c == 34 then  -- "quoted identifier"
      local body, j = until_delim(s, i, '[\\"]')
      if not body then return nil, i - 1, 'unclosed " delimiter' end
      local v = json.decode('"' .. body .. '"')
      if type(v) ~= "string" then return nil, i - 1, "invalid quoted identifier" end
      push("quoted_identifier", v, i)
      i = j + 1
    elseif (c >= 48 and c <= 57) or c == 45 then  -- number, maybe negative
      local _, e = find(s, "^%d*", i + 1)
      if c == 45 and e == i then return nil, i - 1, "unknown token '-'" end
      push("number", tonumber(sub(s, i, e)), i)
      i = e + 1
    elseif c == 124 then  -- | ||
      if byte(s, i + 1) == 124 then push("or", nil, i); i = i + 2
      else push("pipe", nil, i); i = i + 1 end
    elseif c == 38 then   -- & &&
      if byte(s, i + 1) == 38 then push("and", nil, i); i = i + 2
      else push("expref", nil, i); i = i + 1 end
    elseif c == 60 then   -- < <=
      if byte(s, i + 1) == 61 then push("lte", nil, i); i = i + 2
      else push("lt", nil, i); i = i + 1 end
    elseif c == 62 then   -- > >=
      if byte(s, i + 1) == 61 then push("gte", nil, i); i = i + 2
      else push("gt", nil, i); i = i + 1 end
    elseif c == 33 then   -- ! !=
      if byte(s, i + 1) == 61 then push("ne", nil, i); i = i + 2
      else push("not", nil, i); i = i + 1 end
    elseif c == 61 then   -- ==
      if byte(s, i + 1) ~= 61 then return nil, i - 1, "unknown token '='" end
      push("eq", nil, i)
      i = i + 2
    else
      if c > 32 and c < 127 then return nil, i - 1, "unknown token '" .. sub(s, i, i) .. "'" end
      return nil, i - 1, string.format("unknown token (byte 0x%02X)", c)
    end
  end
  push("eof", nil, n + 1)
  return toks
end

return M
