-- aws_connect.headers: reading a response's headers by name. A response
-- carries headers as a list of {name, value} pairs (the transport
-- contract). The first lookup builds a lower-cased index once (linear in
-- the headers) and keeps it in the response under a private key; later
-- lookups are one table read. Where a header repeats, the last value wins,
-- as the transports fold them.

local M = {}

local KEY = {}   -- the private key of the index inside a response table

local function index(resp)
  local idx = resp[KEY]
  if idx then return idx end
  idx = {}
  local hs = resp.headers
  if type(hs) == "table" then
    for i = 1, #hs do
      local h = hs[i]
      if type(h) == "table" and type(h[1]) == "string" and type(h[2]) == "string" then
        idx[h[1]:lower()] = h[2]
      end
    end
  end
  resp[KEY] = idx
  return idx
end

--- The value of header name (any letter case) in resp, or nil. name must
--- be lower case for the fast path; other spellings are lowered.
function M.get(resp, name)
  if type(resp) ~= "table" then return nil end
  local idx = resp[KEY] or index(resp)
  local v = idx[name]
  if v == nil then v = idx[name:lower()] end
  return v
end

return M
