-- aws_connect.transport.ngx: the non-blocking transport for OpenResty, a
-- small HTTP/1.1 client over ngx.socket.tcp (cosockets). Same interface and
-- error kinds as transport/curl.lua:
--   t:request{ method, url, headers, body, connect_timeout, timeout,
--              verify_tls, ca_file, proxy, max_body }
--     -> { status, reason, headers = {{name, value}...}, body, new_connections }
--     or nil, kind, message   (kind: connect|timeout|tls|recv|protocol|too_large|usage|other)
--   t:discard(), t:close(), t:sleep(seconds)
--
-- Owns: request writing, response framing (status line, headers,
-- Content-Length, chunked, read-until-close), the size cap, and the use of
-- nginx's per-worker keep-alive pool. A socket belongs to the nginx request
-- that made it, so the transport object keeps no connection between calls:
-- a connection goes back to the pool (keyed by host, port, TLS and
-- verification) only after a complete, well-framed body without
-- "Connection: close"; anything else closes it. A pooled connection that
-- turns out to be dead (the send fails or nothing at all comes back) is
-- retried once on a fresh one. TLS trust comes from nginx's
-- lua_ssl_trusted_certificate; ca_file is ignored with one warning per
-- worker (M.warned_ca_file). Every scan of the response is linear (headers,
-- chunked and whole bodies: pieces are joined once).
--
-- Must be called from Lua code in a phase with cosockets (rewrite, access,
-- content, timer, ssl_*): yielding through a C frame (a sort or gsub
-- callback) fails in ngx_lua.

local url_lib = require("aws_connect.url")

local M = {}
local T = {}
T.__index = T
T.__tostring = function() return "aws_connect.transport.ngx" end

local DEFAULT_MAX_BODY = 10 * 1024 * 1024
local MAX_HEADER_BYTES = 64 * 1024
local MAX_HEADERS = 200
local MAX_INTERIM = 5
local READ_SIZE = 16384

M.DEFAULT_POOL_SIZE = 32
M.DEFAULT_KEEPALIVE = 30  -- seconds a pooled connection may stay idle

--- opts (all optional): pool_size, keepalive_timeout (seconds), log
--- (function(level, msg); default ngx.log); for tests: tcp (a function
--- returning a socket), now (seconds), sleep.
function M.new(opts)
  opts = opts or {}
  return setmetatable({
    log = opts.log,
    pool_size = opts.pool_size or M.DEFAULT_POOL_SIZE,
    keepalive_ms = math.floor((opts.keepalive_timeout or M.DEFAULT_KEEPALIVE) * 1000),
    tcp = opts.tcp,
    now = opts.now,
    sleep_fn = opts.sleep,
    -- counters for this worker (diagnostics and tests)
    stats = { requests = 0, connects = 0, reused = 0, pooled = 0, stale_retries = 0 },
  }, T)
end

local function new_socket(self)
  if self.tcp then return self.tcp() end
  return ngx.socket.tcp()
end

-- One warning line: opts.log, else nginx's error log.
local function warn(self, msg)
  if self.log then return pcall(self.log, "warn", msg) end
  if type(ngx) == "table" and ngx.log and ngx.WARN then pcall(ngx.log, ngx.WARN, "aws_connect: ", msg) end
end

local function now(self)
  if self.now then return self.now() end
  return ngx.now()
end

function T:sleep(seconds)
  if self.sleep_fn then return self.sleep_fn(seconds) end
  return ngx.sleep(seconds)
end

-- Connections live in nginx's pool between calls; a socket never outlives
-- the call that opened it, so there is nothing to drop or close here.
function T:discard() end
function T:close() end

-- URL and request ---------------------------------------------------------

-- The target through the one URL parser (aws_connect.url): what is
-- connected to is what every other check saw.
local function parse_url(url)
  local u, why = url_lib.parse(url)
  if not u then return nil, "the URL " .. why end
  if u.scheme ~= "http" and u.scheme ~= "https" then return nil, "unsupported URL scheme " .. u.scheme end
  if u.has_userinfo then return nil, "user information in the URL is not supported" end
  local target = u.path
  if target == "" then target = "/" end
  if u.query then target = target .. "?" .. u.query end
  return {
    tls = u.scheme == "https", host = u.host, port = u.effective_port, authority = u.authority, target = target,
    server_name = u.hostname,  -- SNI and the name the certificate must match
  }
end
M._parse_url = parse_url

local function bad_text(s)
  return s:find("[%z\r\n]") ~= nil
end

-- The request head and body as a list of strings for one send().
local function build(req, u)
  local method = req.method
  if type(method) ~= "string" or not method:match("^[A-Z]+$") then
    return nil, "method must be an upper-case token"
  end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then return nil, "body must be a string" end
  local out = { method, " ", u.target, " HTTP/1.1\r\n" }
  local have_host = false
  for i, h in ipairs(req.headers or {}) do
    local name, value = h[1], h[2]
    if type(name) ~= "string" or name == "" or not name:match("^[!#$%%&'*+.^_`|~%w-]+$") then
      return nil, ("headers[%d] has an invalid name"):format(i)
    end
    if type(value) == "number" then value = tostring(value) end
    if type(value) ~= "string" or bad_text(value) then
      return nil, ("header %s contains a control character"):format(name)
    end
    local lname = name:lower()
    -- framing is ours: the caller's own length or coding would lie
    if lname ~= "content-length" and lname ~= "transfer-encoding" then
      if lname == "host" then have_host = true end
      out[#out + 1] = name
      out[#out + 1] = ": "
      out[#out + 1] = value
      out[#out + 1] = "\r\n"
    end
  end
  if not have_host then
    out[#out + 1] = "Host: " .. u.authority .. "\r\n"
  end
  if body or method == "PUT" or method == "POST" or method == "PATCH" then
    out[#out + 1] = "Content-Length: " .. #(body or "") .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  if body and body ~= "" then out[#out + 1] = body end
  return out
end
M._build = build

-- Buffered reading ----------------------------------------------------------

-- A reader keeps what receiveany() returned beyond what was consumed.
-- arm() runs before every read (it sets the read timeout to the time left
-- and returns false once none is).
local function reader(sock, arm)
  return { sock = sock, arm = arm, buf = "", pos = 1, got = 0 }
end

local function fill(r)
  if not r.arm() then return nil, "timeout" end
  local data, err = r.sock:receiveany(READ_SIZE)
  if not data then return nil, err end
  r.got = r.got + #data
  if r.pos > #r.buf then
    r.buf = data
  else
    r.buf = r.buf:sub(r.pos) .. data
  end
  r.pos = 1
  return true
end

local function buffered(r)
  return #r.buf - r.pos + 1
end

-- One line without its CRLF (a bare LF is accepted); nil, err when the
-- socket fails; nil, "too long" past limit bytes.
local function read_line(r, limit)
  local from = r.pos
  while true do
    local i = r.buf:find("\n", from, true)
    if i then
      local line = r.buf:sub(r.pos, i - 1)
      r.pos = i + 1
      if line:sub(-1) == "\r" then line = line:sub(1, -2) end
      return line
    end
    if buffered(r) > limit then return nil, "too long" end
    from = #r.buf + 1 - (r.pos - 1)
    local ok, err = fill(r)
    if not ok then return nil, err end
  end
end

-- Takes what is buffered as the first part of a long read; resets the buffer.
local function take_buffered(r)
  local parts, have = {}, 0
  if r.pos <= #r.buf then
    parts[1] = r.pos == 1 and r.buf or r.buf:sub(r.pos)
    have = #parts[1]
  end
  r.buf, r.pos = "", 1
  return parts, have
end

-- Exactly n bytes. The pieces are joined once at the end (appending each
-- piece to a growing string is quadratic: 8 MiB took seconds).
local function read_n(r, n)
  if buffered(r) >= n then
    local s = r.buf:sub(r.pos, r.pos + n - 1)
    r.pos = r.pos + n
    return s
  end
  local parts, have = take_buffered(r)
  while have < n do
    if not r.arm() then return nil, "timeout" end
    local data, err = r.sock:receiveany(math.min(math.max(READ_SIZE, n - have), 1024 * 1024))
    if not data then return nil, err end
    r.got = r.got + #data
    parts[#parts + 1] = data
    have = have + #data
  end
  local s = table.concat(parts)
  if #s > n then
    r.buf, r.pos = s:sub(n + 1), 1
    s = s:sub(1, n)
  end
  return s
end

-- Everything until the peer closes, at most limit bytes (linear, as read_n).
local function read_all(r, limit)
  local parts, have = take_buffered(r)
  while true do
    if have > limit then return nil, "too_large" end
    if not r.arm() then return nil, "timeout" end
    local data, err = r.sock:receiveany(READ_SIZE * 4)
    if not data then
      if err == "closed" then break end
      return nil, err
    end
    r.got = r.got + #data
    parts[#parts + 1] = data
    have = have + #data
  end
  return table.concat(parts)
end

local trim = require("aws_connect.text").trim  -- linear
M._trim = trim

-- Response ------------------------------------------------------------------

local function header_tokens(headers, name)
  local set = {}
  for _, h in ipairs(headers) do
    if h[1]:lower() == name then
      for tok in h[2]:gmatch("[^,%s]+") do set[tok:lower()] = true end
    end
  end
  return set
end

local function header_values(headers, name)
  local list = {}
  for _, h in ipairs(headers) do
    if h[1]:lower() == name then list[#list + 1] = h[2] end
  end
  return list
end

-- Reads one header block into resp.headers (appending).
local function read_headers(r, headers, budget)
  while true do
    local line, err = read_line(r, budget)
    if not line then return nil, err end
    budget = budget - #line - 2
    if budget < 0 then return nil, "too long" end
    if line == "" then return budget end
    if #headers >= MAX_HEADERS then return nil, "too many" end
    local c = line:sub(1, 1)
    if c == " " or c == "\t" then
      -- obsolete line folding: continues the previous value
      local last = headers[#headers]
      if not last then return nil, "malformed" end
      last[2] = last[2] .. " " .. trim(line)
    else
      local name, value = line:match("^([!#$%%&'*+.^_`|~%w-]+):(.*)$")
      if not name then return nil, "malformed" end
      headers[#headers + 1] = { name, trim(value) }
    end
  end
end

-- Decides how the body is delimited: "none", "length", "chunked" or "close".
local function framing(method, status, headers)
  if method == "HEAD" or status == 204 or status == 304 or (status >= 100 and status < 200) then
    return "none"
  end
  local te = header_values(headers, "transfer-encoding")
  if #te > 0 then
    local codings = trim(table.concat(te, ","):lower())
    local last = codings:match("^.*[,%s]([^,%s]*)$") or codings   -- the last coding (linear)
    if last == "chunked" then return "chunked" end
    return "close"
  end
  local cl = header_values(headers, "content-length")
  if #cl > 0 then
    local n
    for _, v in ipairs(cl) do
      for part in v:gmatch("[^,]+") do
        local digits = part:match("^%s*(%d+)%s*$")
        if not digits or #digits > 15 then return nil, "invalid Content-Length " .. v end
        local x = tonumber(digits)
        if n and x ~= n then return nil, "conflicting Content-Length values" end
        n = x
      end
    end
    return "length", n
  end
  return "close"
end

local function read_chunked(r, max_body, headers)
  local parts, total = {}, 0
  while true do
    local line, err = read_line(r, 1024)
    if not line then return nil, err == "too long" and "malformed chunk size" or err end
    local hex, ext = line:match("^(%x+)[ \t]*(.*)$")
    if not hex or #hex > 12 or (ext ~= "" and ext:sub(1, 1) ~= ";") then return nil, "malformed chunk size" end
    local size = tonumber(hex, 16)
    if size == 0 then break end
    total = total + size
    if total > max_body then return nil, "too_large" end
    local data
    data, err = read_n(r, size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    local crlf
    crlf, err = read_line(r, 2)
    if not crlf then return nil, err == "too long" and "malformed chunk" or err end
    if crlf ~= "" then return nil, "malformed chunk" end
  end
  -- trailers end with an empty line; they join the headers
  local ok, err = read_headers(r, headers, MAX_HEADER_BYTES)
  if not ok then return nil, err == "too long" and "malformed trailer" or err end
  return table.concat(parts)
end

-- Failure kinds ----------------------------------------------------------------

local function io_kind(err, seen_status)
  if err == "timeout" then return "timeout" end
  if seen_status then return "protocol" end
  return "recv"
end

local function tls_kind(err)
  err = tostring(err)
  if err:find("certificate", 1, true) or err:find("verify", 1, true) or err:match("^%d+: ") then
    return "tls"
  end
  if err == "timeout" then return "timeout" end
  return "connect"
end

-- One exchange ---------------------------------------------------------------

local function ms(seconds, default)
  local v = tonumber(seconds)
  if not v or v <= 0 then return default end
  local m = math.floor(v * 1000 + 0.5)
  if m < 1 then m = 1 end
  return m
end

-- Sets send and read timeouts to what is left of the request's time (a
-- slow trickle cannot stretch a request past its timeout).
local function arm(self, sock, deadline)
  local left = math.floor((deadline - now(self)) * 1000)
  if left < 1 then return false end
  sock:settimeouts(left, left, left)
  return true
end

-- Returns resp, or nil, kind, message, retry_fresh (true when a pooled
-- connection died before anything of the response arrived).
local function exchange(self, req, u, head, deadline, fresh_only)
  local sock = new_socket(self)
  if not sock then return nil, "other", "could not create a cosocket" end
  local verify = req.verify_tls ~= false
  local pool = ("%s:%d:%s:%s"):format(u.host, u.port, u.tls and "tls" or "tcp", verify and "verify" or "noverify")
  if fresh_only then pool = pool .. ":fresh" end
  local connect_ms = ms(req.connect_timeout, 60000)
  local left = math.floor((deadline - now(self)) * 1000)
  if left < connect_ms then connect_ms = left end
  if connect_ms < 1 then return nil, "timeout", "no time left to connect" end
  sock:settimeouts(connect_ms, connect_ms, connect_ms)
  local ok, err = sock:connect(u.host, u.port, { pool = pool, pool_size = self.pool_size })
  if not ok then
    err = tostring(err)
    if err:find("no resolver defined", 1, true) then
      return nil, "usage", "cannot resolve " .. u.host .. ": nginx has no resolver (add a resolver directive)"
    end
    if err == "timeout" then return nil, "timeout", "connect to " .. u.host .. " timed out" end
    return nil, "connect", ("connect to %s:%d failed: %s"):format(u.host, u.port, err)
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  if reused then
    self.stats.reused = self.stats.reused + 1
  else
    self.stats.connects = self.stats.connects + 1
    if u.tls then
      -- lua-resty-core can raise (an assert after a failed verification
      -- on some timings) instead of returning nil, err: both are a
      -- refused handshake here
      local done, sess, herr = pcall(sock.sslhandshake, sock, nil, u.server_name, verify)
      if not done then
        sess, err = nil, "the handshake was refused; certificate verification failed? (" .. tostring(sess) .. ")"
      else
        err = herr
      end
      if not sess then
        sock:close()
        local kind = tls_kind(err)
        local msg = "TLS handshake with " .. u.host .. " failed: " .. tostring(err)
        if kind == "tls" then msg = msg .. " (nginx trusts the CAs in lua_ssl_trusted_certificate)" end
        return nil, kind, msg
      end
    end
  end
  local function fail(kind, msg, stale)
    sock:close()
    return nil, kind, msg, stale
  end

  if not arm(self, sock, deadline) then return fail("timeout", "no time left to send the request") end
  local sent
  sent, err = sock:send(head)
  if not sent then
    return fail(err == "timeout" and "timeout" or "recv", "sending the request failed: " .. tostring(err),
      reused and err ~= "timeout")
  end

  local r = reader(sock, function() return arm(self, sock, deadline) end)
  local max_body = tonumber(req.max_body)
  if not max_body or max_body <= 0 then max_body = DEFAULT_MAX_BODY end
  local status, reason, version, headers
  local interim = 0
  while true do
    local line
    line, err = read_line(r, 1024)
    if not line then
      if err == "too long" then return fail("protocol", "status line too long (not HTTP)") end
      if r.got > 0 then
        -- bytes came, but no status line: not HTTP, or cut short
        return fail(io_kind(err, true), "unreadable response (no status line): " .. tostring(err))
      end
      return fail(io_kind(err, false), "no response: " .. tostring(err), reused and err ~= "timeout")
    end
    local v, code, why = line:match("^HTTP/(%d%.%d) (%d%d%d)[ ]?(.*)$")
    if not v then return fail("protocol", "not an HTTP status line") end
    status, reason, version = tonumber(code), why, v
    headers = {}
    local ok2, herr = read_headers(r, headers, MAX_HEADER_BYTES)
    if not ok2 then
      if herr == "too long" then return fail("protocol", "response headers exceed " .. MAX_HEADER_BYTES .. " bytes") end
      if herr == "too many" then return fail("protocol", "more than " .. MAX_HEADERS .. " response headers") end
      if herr == "malformed" then return fail("protocol", "malformed response header") end
      return fail(io_kind(herr, true), "response cut short: " .. tostring(herr))
    end
    if status >= 200 or status == 101 then break end
    interim = interim + 1
    if interim > MAX_INTERIM then return fail("protocol", "too many interim (1xx) responses") end
  end
  if status == 101 then return fail("protocol", "unexpected protocol switch (HTTP 101)") end

  local how, n = framing(req.method, status, headers)
  if not how then return fail("protocol", n) end
  local body
  if how == "none" then
    body = ""
  elseif how == "length" then
    if n > max_body then
      return fail("too_large", ("response body exceeds the %d byte limit"):format(max_body))
    end
    body, err = read_n(r, n)
  elseif how == "chunked" then
    body, err = read_chunked(r, max_body, headers)
  else
    body, err = read_all(r, max_body)
  end
  if not body then
    if err == "too_large" then
      return fail("too_large", ("response body exceeds the %d byte limit"):format(max_body))
    end
    if err == "malformed chunk size" or err == "malformed chunk" or err == "malformed trailer" then
      return fail("protocol", err)
    end
    return fail(io_kind(err, true), "response cut short: " .. tostring(err))
  end

  local conn = header_tokens(headers, "connection")
  local keep = how ~= "close" and not conn.close and buffered(r) == 0
    and (version == "1.1" or conn["keep-alive"]) and not fresh_only
  if keep then
    local pooled = sock:setkeepalive(self.keepalive_ms, self.pool_size)
    if pooled then self.stats.pooled = self.stats.pooled + 1 end
  else
    sock:close()
  end
  return {
    status = status,
    reason = reason,
    headers = headers,
    body = body,
    new_connections = reused and 0 or 1,
    reused = reused,
  }
end

function T:request(req)
  if type(req) ~= "table" then return nil, "usage", "request expects a table" end
  if type(req.url) ~= "string" then return nil, "usage", "request url must be a string" end
  local u, uerr = parse_url(req.url)
  if not u then return nil, "usage", uerr end
  if req.proxy ~= nil and req.proxy ~= "" and req.proxy ~= false then
    return nil, "usage", "the ngx transport does not use proxies; unset the proxy (or use transport = \"curl\")"
  end
  if req.ca_file ~= nil and req.ca_file ~= "" and not M.warned_ca_file then
    -- ca_file / AWS_CA_BUNDLE / ca_bundle cannot apply to cosockets: ignored
    -- (nginx trusts lua_ssl_trusted_certificate), with one warning per worker
    M.warned_ca_file = true
    warn(self, "ca_file " .. tostring(req.ca_file) .. " is ignored inside nginx; "
      .. "TLS is verified against lua_ssl_trusted_certificate (nginx.conf)")
  end
  local head, berr = build(req, u)
  if not head then return nil, "usage", berr end
  self.stats.requests = self.stats.requests + 1
  local deadline = now(self) + ms(req.timeout, 60000) / 1000
  local resp, kind, msg, stale = exchange(self, req, u, head, deadline, false)
  if not resp and stale then
    -- the pooled connection had died while idle: once more on a fresh one
    self.stats.stale_retries = self.stats.stale_retries + 1
    resp, kind, msg = exchange(self, req, u, head, deadline, true)
  end
  if not resp then return nil, kind, msg end
  return resp
end

return M
