-- aws_connect.text: small string helpers shared by the protocols and the
-- command line, each linear in its input: trim (no "^%s*(.-)%s*$", which
-- is quadratic on a long run of blanks) and base64 as python's base64
-- module writes and reads it.

local M = {}

--- s without leading and trailing white space (space, \t, \n, \r, \v, \f).
function M.trim(s)
  local a = s:find("[^ \t\n\r\v\f]")
  if not a then return "" end
  local b = #s
  while b > a and s:find("^[ \t\n\r\v\f]", b) do b = b - 1 end
  return s:sub(a, b)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local DEC = {}
for i = 1, 64 do DEC[B64:byte(i)] = i - 1 end

--- Standard base64 with padding (python's base64.b64encode).
function M.b64encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64
    local c3, c4 = math.floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

--- python's base64.b64decode (not validating: other characters are
--- dropped); nil where python raises (bad padding).
function M.b64decode(s)
  local data, pad = {}, 0
  for i = 1, #s do
    local b = s:byte(i)
    if b == 61 then
      pad = pad + 1
    elseif DEC[b] and pad == 0 then
      data[#data + 1] = DEC[b]
    end
  end
  local r = #data % 4
  if r == 1 or (r ~= 0 and pad < 4 - r) then return nil end
  local out = {}
  for i = 1, #data, 4 do
    local a, b, c, d = data[i], data[i + 1], data[i + 2], data[i + 3]
    local n = a * 262144 + (b or 0) * 4096 + (c or 0) * 64 + (d or 0)
    out[#out + 1] = string.char(math.floor(n / 65536) % 256)
    if c then out[#out + 1] = string.char(math.floor(n / 256) % 256) end
    if d then out[#out + 1] = string.char(n % 256) end
  end
  return table.concat(out)
end

return M
