-- aws_connect.transport.curl: the blocking transport over the C libcurl
-- session. One session (one keep-alive connection) per transport object;
-- one attempt per request() call (retries are the caller's business).
--
-- Interface shared by every transport:
--   t:request{ method, url, headers = {{name, value}...}, body,
--              connect_timeout, timeout, verify_tls, ca_file, proxy, max_body }
--     -> { status, reason, headers, body, new_connections }
--     or nil, kind, message   (kind: connect|timeout|tls|recv|protocol|too_large|usage|nomem|other)
--   t:discard()   drop the connection (after an unreadable response)
--   t:close()

-- aws_connect.curl (libcurl) is loaded on the first request, not at require
-- time: mapping libcurl's libraries costs more than everything else in start-up.
local curl_module

local M = {}
local T = {}
T.__index = T
T.__tostring = function() return "aws_connect.transport.curl" end

function M.new()
  return setmetatable({ session = nil }, T)
end

function T:request(req)
  local s = self.session
  if not s then
    curl_module = curl_module or require("aws_connect.curl")
    s = curl_module.session()
    self.session = s
  end
  return s:request(req)
end

function T:discard()
  if self.session then self.session:discard() end
end

function T:close()
  if self.session then
    self.session:close()
    self.session = nil
  end
end

return M
