-- aws_connect.headers: reading a response's headers by name. A response
-- carries headers as a list of {name, value} pairs (the transport
-- contract); the first lookup builds a lower-cased index once (linear in
-- the headers), later lookups are one table read. Where a header repeats,
-- the last value wins, as the transports fold them.

local M = {}

local index_of = setmetatable({}, { __mode = "k" })

local function index(resp)
  local idx = index_of[resp]
  if idx then return idx end
  idx = {}
  local hs = type(resp) == "table" and resp.headers
  if type(hs) == "table" then
    for i = 1, #hs do
      local h = hs[i]
      if type(h) == "table" and type(h[1]) == "string" and type(h[2]) == "string" then
        idx[h[1]:lower()] = h[2]
      end
    end
  end
  index_of[resp] = idx
  return idx
end

--- The value of header name (any letter case) in resp, or nil.
function M.get(resp, name)
  return index(resp)[name:lower()]
end

return M
