-- The cosocket transport (transport/ngx.lua) on every Lua, against scripted
-- sockets that behave like ngx.socket.tcp (connect with a pool, receiveany,
-- settimeouts, setkeepalive, sslhandshake), and the transport choice of
-- aws_connect.new() under a stand-in `ngx` global. The real thing runs in
-- spec/nginx_spec.lua.

local ngx_transport = require("aws_connect.transport.ngx")
local aws_connect = require("aws_connect")
local errors = aws_connect.errors

-- A world of scripted peers. Each new connection takes the next entry of
-- world.peers: { responses = { "raw bytes" | { chunks... } ... },
-- send_error = ..., after = "closed" | "timeout" | "connection reset by peer" }.
-- A pooled connection answers with its peer's next response.
local function new_world(peers)
  local world = { peers = peers or {}, conns = {}, pool = {}, connects = {}, clock = 1000 }

  function world.tcp()
    local sock = { timeouts = {} }
    local conn

    function sock:settimeouts(c, s, r)
      assert(type(c) == "number" and type(s) == "number" and type(r) == "number", "settimeouts needs 3 numbers")
      self.timeouts[#self.timeouts + 1] = { c, s, r }
      return 1
    end

    function sock:connect(host, port, opts)
      assert(type(opts) == "table" and type(opts.pool) == "string", "connect without a pool name")
      world.connects[#world.connects + 1] = { host = host, port = port, pool = opts.pool }
      if world.connect_error then return nil, world.connect_error end
      local list = world.pool[opts.pool]
      if list and #list > 0 then
        conn = table.remove(list)
        conn.reused = conn.reused + 1
      else
        local peer = table.remove(world.peers, 1)
        assert(peer, "no scripted peer left for a new connection")
        conn = { peer = peer, reused = 0, sent = {}, readable = {}, pool = opts.pool }
        world.conns[#world.conns + 1] = conn
      end
      conn.closed = false
      self.conn = conn
      return 1
    end

    function sock:getreusedtimes() return conn.reused end

    function sock:sslhandshake(session, name, verify)
      conn.handshakes = (conn.handshakes or 0) + 1
      conn.sni, conn.verify, conn.session = name, verify, session
      if conn.peer.tls_error then return nil, conn.peer.tls_error end
      return {}
    end

    function sock:send(data)
      local s = type(data) == "table" and table.concat(data) or data
      if conn.peer.send_error and conn.reused >= (conn.peer.fail_from_use or 0) then
        return nil, conn.peer.send_error
      end
      conn.sent[#conn.sent + 1] = s
      local r = table.remove(conn.peer.responses or {}, 1)
      if type(r) == "string" then r = { r } end
      conn.readable = r or {}
      return #s
    end

    function sock:receiveany(max)
      assert(max > 0)
      local c = conn.readable[1]
      if c == nil then return nil, conn.peer.after or "closed" end
      if type(c) == "table" then  -- an error in the middle: { err = "timeout" }
        table.remove(conn.readable, 1)
        return nil, c.err
      end
      if #c > max then
        conn.readable[1] = c:sub(max + 1)
        return c:sub(1, max)
      end
      table.remove(conn.readable, 1)
      return c
    end

    function sock:setkeepalive(timeout, size)
      conn.keepalive = { timeout, size }
      local list = world.pool[conn.pool] or {}
      world.pool[conn.pool] = list
      list[#list + 1] = conn
      self.conn = nil
      return 1
    end

    function sock:close()
      conn.closed = true
      return 1
    end

    return sock
  end

  function world.transport(opts)
    opts = opts or {}
    opts.tcp = world.tcp
    opts.now = function() return world.clock end
    opts.sleep = function(s) world.slept = (world.slept or 0) + s end
    return ngx_transport.new(opts)
  end

  return world
end

local function ok_response(body, extra)
  body = body or '{"ok":true}'
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" .. (extra or "")
    .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
end

local function bytes(s)
  local t = {}
  for i = 1, #s do t[i] = s:sub(i, i) end
  return t
end

local function get(t, extra)
  local req = { method = "GET", url = "http://127.0.0.1:8080/instance?x=1", headers = { { "Host", "127.0.0.1:8080" } },
                timeout = 5, connect_timeout = 2 }
  for k, v in pairs(extra or {}) do req[k] = v end
  return t:request(req)
end

describe("the ngx transport", function()
  it("writes an HTTP/1.1 request with the caller's headers, Host and Content-Length", function()
    local world = new_world{ { responses = { ok_response() } } }
    local t = world.transport()
    local resp = assert(t:request{
      method = "PUT", url = "https://connect.us-east-1.amazonaws.com/instance",
      headers = { { "Host", "connect.us-east-1.amazonaws.com" }, { "X-Amz-Date", "20150830T123600Z" },
                  { "Content-Length", "999" }, { "Transfer-Encoding", "chunked" } },
      body = '{"a":1}', timeout = 5,
    })
    assert.are.equal(200, resp.status)
    assert.are.equal("PUT /instance HTTP/1.1\r\nHost: connect.us-east-1.amazonaws.com\r\n"
      .. "X-Amz-Date: 20150830T123600Z\r\nContent-Length: 7\r\n\r\n{\"a\":1}", world.conns[1].sent[1])
    assert.are.equal("connect.us-east-1.amazonaws.com", world.connects[1].host)
    assert.are.equal(443, world.connects[1].port)
  end)

  it("adds Host when missing and sends no Content-Length on a GET without body", function()
    local world = new_world{ { responses = { ok_response() } } }
    assert(world.transport():request{ method = "GET", url = "http://[::1]:9000" })
    assert.are.equal("GET / HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n", world.conns[1].sent[1])
    assert.are.equal("[::1]", world.connects[1].host)
    assert.are.equal(9000, world.connects[1].port)
  end)

  it("parses the status line and keeps headers in order, with their case", function()
    local world = new_world{ { responses = { "HTTP/1.1 404 Not Found\r\nx-amzn-RequestId: abc\r\n"
      .. "X-Amzn-ErrorType: ResourceNotFoundException\r\nContent-Length: 2\r\n\r\n{}" } } }
    local resp = assert(get(world.transport()))
    assert.are.equal(404, resp.status)
    assert.are.equal("Not Found", resp.reason)
    assert.are.same({ { "x-amzn-RequestId", "abc" }, { "X-Amzn-ErrorType", "ResourceNotFoundException" },
                      { "Content-Length", "2" } }, resp.headers)
    assert.are.equal("{}", resp.body)
    assert.are.equal("ResourceNotFoundException", require("aws_connect.headers").get(resp, "x-amzn-errortype"))
  end)

  it("reads a Content-Length body that arrives one byte at a time", function()
    local body = string.rep("x", 300)
    local world = new_world{ { responses = { bytes(ok_response(body, "Content-type: text/plain\r\n")) } } }
    local resp = assert(get(world.transport()))
    assert.are.equal(body, resp.body)
    assert.is_not_nil(world.conns[1].keepalive)
  end)

  it("reads chunked bodies with extensions and trailers, header names in any case", function()
    local raw = "HTTP/1.1 200 OK\r\ntransfer-ENCODING: Chunked\r\n\r\n"
      .. "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"
    local world = new_world{ { responses = { bytes(raw), raw } } }
    local t = world.transport()
    local resp = assert(get(t))
    assert.are.equal("hello 0123456789", resp.body)
    assert.are.equal("yes", require("aws_connect.headers").get(resp, "x-trailer"))
    local again = assert(get(t))
    assert.are.equal("hello 0123456789", again.body)
    assert.is_true(again.reused)
  end)

  it("reads a body delimited by the end of the connection and does not pool it", function()
    local world = new_world{ { responses = { "HTTP/1.1 200 OK\r\n\r\nuntil-close" } } }
    local resp = assert(get(world.transport()))
    assert.are.equal("until-close", resp.body)
    assert.is_nil(world.conns[1].keepalive)
    assert.is_true(world.conns[1].closed)
  end)

  it("skips interim 1xx responses and reads no body for 204", function()
    local world = new_world{ { responses = { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n" } } }
    local resp = assert(get(world.transport()))
    assert.are.equal(204, resp.status)
    assert.are.equal("", resp.body)
    assert.are.same({ { "X-A", "1" } }, resp.headers)
  end)

  describe("size cap", function()
    it("refuses a Content-Length over max_body before reading the body", function()
      local world = new_world{ { responses = { "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n" } } }
      local resp, kind, msg = get(world.transport(), { max_body = 100 })
      assert.is_nil(resp)
      assert.are.equal("too_large", kind)
      assert.truthy(msg:find("100 byte limit", 1, true))
      assert.is_true(world.conns[1].closed)
      assert.is_nil(world.conns[1].keepalive)
    end)

    it("refuses chunked and until-close bodies that grow past max_body", function()
      local chunk = "40\r\n" .. string.rep("y", 64) .. "\r\n"
      local world = new_world{
        { responses = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" .. chunk .. chunk .. "0\r\n\r\n" } },
        { responses = { "HTTP/1.0 200 OK\r\n\r\n" .. string.rep("z", 200) } },
      }
      local t = world.transport()
      local _, kind = get(t, { max_body = 100 })
      assert.are.equal("too_large", kind)
      _, kind = get(t, { max_body = 100 })
      assert.are.equal("too_large", kind)
      local ok = assert(new_world{ { responses = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        .. chunk .. "0\r\n\r\n" } } }.transport():request{ method = "GET", url = "http://h/", max_body = 64 })
      assert.are.equal(64, #ok.body)
    end)

    it("uses the curl transport's default of 10 MiB", function()
      local world = new_world{ { responses = { "HTTP/1.1 200 OK\r\nContent-Length: 10485761\r\n\r\n" } } }
      local _, kind, msg = get(world.transport())
      assert.are.equal("too_large", kind)
      assert.truthy(msg:find("10485760", 1, true))
    end)
  end)

  describe("keep-alive", function()
    it("pools a connection after a complete body, keyed by host, port, TLS and verification", function()
      local world = new_world{ { responses = { ok_response(), ok_response() } }, { responses = { ok_response() } },
                               { responses = { ok_response() } } }
      local t = world.transport{ pool_size = 7, keepalive_timeout = 12 }
      assert(get(t))
      assert.are.same({ 12000, 7 }, world.conns[1].keepalive)
      local second = assert(get(t))
      assert.are.equal(0, second.new_connections)
      assert.are.equal(1, #world.conns)
      assert(t:request{ method = "GET", url = "https://127.0.0.1:8080/" })
      assert(t:request{ method = "GET", url = "https://127.0.0.1:8080/", verify_tls = false })
      assert.are.equal(3, #world.conns)
      local pools = {}
      for _, c in ipairs(world.connects) do pools[c.pool] = true end
      assert.is_true(pools["127.0.0.1:8080:tcp:verify"])
      assert.is_true(pools["127.0.0.1:8080:tls:verify"])
      assert.is_true(pools["127.0.0.1:8080:tls:noverify"])
      assert.are.same({ requests = 4, connects = 3, reused = 1, pooled = 4, stale_retries = 0 }, t.stats)
    end)

    it("closes instead of pooling on Connection: close, HTTP/1.0, or bytes after the body", function()
      local world = new_world{
        { responses = { ok_response("{}", "Connection: Close\r\n") } },
        { responses = { "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}" } },
        { responses = { ok_response("{}") .. "HTTP/1.1 200 OK\r\n" } },
        { responses = { "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}" } },
      }
      local t = world.transport()
      for _ = 1, 4 do assert(get(t)) end
      assert.is_nil(world.conns[1].keepalive)
      assert.is_nil(world.conns[2].keepalive)
      assert.is_nil(world.conns[3].keepalive)
      assert.is_not_nil(world.conns[4].keepalive)
      assert.is_true(world.conns[1].closed and world.conns[2].closed and world.conns[3].closed)
    end)

    it("never pools a connection after an error", function()
      local world = new_world{ { responses = { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" } } }
      local _, kind = get(world.transport())
      assert.are.equal("protocol", kind)
      assert.is_nil(world.conns[1].keepalive)
      assert.is_true(world.conns[1].closed)
    end)
  end)

  describe("TLS", function()
    it("hands the host name to sslhandshake for SNI and verification, and skips it on a pooled connection", function()
      local world = new_world{ { responses = { ok_response(), ok_response() } } }
      local t = world.transport()
      assert(t:request{ method = "GET", url = "https://connect.eu-west-2.amazonaws.com/x" })
      assert(t:request{ method = "GET", url = "https://connect.eu-west-2.amazonaws.com/y" })
      local c = world.conns[1]
      assert.are.equal(1, c.handshakes)
      assert.are.equal("connect.eu-west-2.amazonaws.com", c.sni)
      assert.is_true(c.verify)
    end)

    it("turns verification off only when verify_tls = false", function()
      local world = new_world{ { responses = { ok_response() } } }
      assert(world.transport():request{ method = "GET", url = "https://[::1]/", verify_tls = false })
      assert.is_false(world.conns[1].verify)
      assert.are.equal("::1", world.conns[1].sni)
    end)

    it("reports certificate failures as tls and other handshake failures as connect", function()
      local world = new_world{ { tls_error = "18: self-signed certificate" }, { tls_error = "certificate host mismatch" },
                               { tls_error = "handshake failed" } }
      local t = world.transport()
      local _, k1, m1 = t:request{ method = "GET", url = "https://h/" }
      local _, k2 = t:request{ method = "GET", url = "https://h/" }
      local _, k3 = t:request{ method = "GET", url = "https://h/" }
      assert.are.same({ "tls", "tls", "connect" }, { k1, k2, k3 })
      assert.truthy(m1:find("self-signed", 1, true))
      for i = 1, 3 do assert.is_true(world.conns[i].closed) end
    end)
  end)

  describe("stale pooled connections", function()
    it("retries once on a fresh connection when a pooled one gives nothing back", function()
      local world = new_world{
        { responses = { ok_response() }, after = "connection reset by peer" },
        { responses = { ok_response('{"fresh":1}') } },
      }
      local t = world.transport()
      assert(get(t))
      local resp = assert(get(t))
      assert.are.equal('{"fresh":1}', resp.body)
      assert.are.equal(1, t.stats.stale_retries)
      assert.are.equal(2, #world.conns)
      assert.are.equal(0, world.conns[2].reused)
      assert.are_not.equal(world.connects[2].pool, world.connects[3].pool)
    end)

    it("retries when sending on a pooled connection fails", function()
      local world = new_world{
        { responses = { ok_response() }, send_error = "broken pipe", fail_from_use = 1 },
        { responses = { ok_response() } },
      }
      local t = world.transport()
      assert(get(t))
      assert(get(t))
      assert.are.equal(1, t.stats.stale_retries)
    end)

    it("does not retry a fresh connection, nor a pooled one that timed out or answered in part", function()
      local world = new_world{ { responses = {}, after = "connection reset by peer" } }
      local t = world.transport()
      local resp, kind, msg = get(t)
      assert.is_nil(resp)
      assert.are.equal("recv", kind)
      assert.truthy(msg:find("reset", 1, true))
      assert.are.equal(0, t.stats.stale_retries)

      world = new_world{ { responses = { ok_response(), { { err = "timeout" } } } } }
      t = world.transport()
      assert(get(t))
      local _, k = get(t)
      assert.are.equal("timeout", k)

      world = new_world{ { responses = { ok_response(), "HTTP/1.1 200 OK\r\nContent-Le" } } }
      t = world.transport()
      assert(get(t))
      _, k = get(t)
      assert.are.equal("protocol", k)
      assert.are.equal(0, t.stats.stale_retries)
    end)
  end)

  describe("failures", function()
    it("maps refused connections, timeouts, garbage and cut-short responses to the curl transport's kinds", function()
      local world = new_world{}
      world.connect_error = "connection refused"
      local _, kind, msg = get(world.transport())
      assert.are.equal("connect", kind)
      assert.truthy(msg:find("refused", 1, true))
      world.connect_error = "timeout"
      _, kind = get(world.transport())
      assert.are.equal("timeout", kind)
      world.connect_error = "no resolver defined to resolve \"connect.us-east-1.amazonaws.com\""
      _, kind, msg = get(world.transport())
      assert.are.equal("usage", kind)
      assert.truthy(msg:find("resolver", 1, true))

      local cases = {
        { "\0\1garbage without a line end", "protocol" },
        { "SSH-2.0-OpenSSH\r\n\r\n", "protocol" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", "protocol" },
        { "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "protocol" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "protocol" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "protocol" },
        { "HTTP/1.1 200 OK\r\nBad header line\r\n\r\n", "protocol" },
        { "HTTP/1.1 200 OK\r\nX: " .. string.rep("a", 70000), "protocol" },
        { { "HTTP/1.1 200 OK\r\n", { err = "timeout" } }, "timeout" },
        { "", "recv" },
      }
      for i, c in ipairs(cases) do
        local w = new_world{ { responses = { c[1] } } }
        local resp, k = get(w.transport())
        assert.is_nil(resp, "case " .. i)
        assert.are.equal(c[2], k, "case " .. i)
        assert.is_true(w.conns[1].closed, "case " .. i)
      end
    end)

    it("ignores ca_file (AWS_CA_BUNDLE, ca_bundle) with one warning instead of failing every call", function()
      local world = new_world{ { responses = { ok_response(), ok_response() } } }
      local lines = {}
      ngx_transport.warned_ca_file = nil
      local t = world.transport{ log = function(level, msg) lines[#lines + 1] = level .. " " .. msg end }
      for _ = 1, 2 do
        local resp, kind, msg = get(t, { ca_file = "/etc/ssl/private-ca.pem" })
        assert.is_table(resp, tostring(kind) .. " " .. tostring(msg))
        assert.are.equal(200, resp.status)
      end
      assert.are.equal(1, #lines)
      assert.truthy(lines[1]:find("^warn ca_file /etc/ssl/private%-ca%.pem is ignored inside nginx"), lines[1])
      assert.truthy(lines[1]:find("lua_ssl_trusted_certificate", 1, true))
    end)

    it("refuses bad requests as usage errors before connecting", function()
      local world = new_world{}
      local t = world.transport()
      local bad = {
        { method = "GET", url = "ftp://h/" },
        { method = "GET", url = "not a url" },
        { method = "GET", url = "http://user@h/" },
        { method = "GET", url = "http://h:99999/" },
        { method = "GET", url = "http://h/a b" },
        { method = "get", url = "http://h/" },
        { method = "GET", url = "http://h/", headers = { { "X-A", "1\r\nInjected: yes" } } },
        { method = "GET", url = "http://h/", headers = { { "Bad Name", "1" } } },
        { method = "GET", url = "http://h/", proxy = "http://proxy:3128" },
        { method = "GET", url = "http://127.0.0.1:1@other-host/" },
      }
      for i, req in ipairs(bad) do
        local resp, kind = t:request(req)
        assert.is_nil(resp, "case " .. i)
        assert.are.equal("usage", kind, "case " .. i)
      end
      assert.are.equal(0, #world.connects)
      assert(new_world{ { responses = { ok_response() } } }.transport():request{ method = "GET", url = "http://h/", proxy = "" })
    end)

    -- a socket whose every read takes `step` seconds of the fake clock
    local function slow_reads(world, t, step)
      local socks = {}
      t.tcp = function()
        local s = world.tcp()
        local recv = s.receiveany
        s.receiveany = function(self, n)
          world.clock = world.clock + step
          return recv(self, n)
        end
        socks[#socks + 1] = s
        return s
      end
      return socks
    end

    it("sets the connect timeout, then send and read timeouts to what is left of timeout", function()
      local world = new_world{ { responses = { { "HTTP/1.1 200 OK\r\n", "Content-Length: 2\r\n\r\n{}" } } } }
      local t = world.transport()
      local socks = slow_reads(world, t, 1)
      assert(get(t, { connect_timeout = 0.25, timeout = 3 }))
      local ts = socks[1].timeouts
      assert.are.same({ 250, 250, 250 }, ts[1])
      assert.are.same({ 3000, 3000, 3000 }, ts[2])
      assert.are.same({ 3000, 3000, 3000 }, ts[3])      -- before the first read
      assert.are.same({ 2000, 2000, 2000 }, ts[4])      -- after a read that took 1 s
      assert.are.equal(4, #ts)
    end)

    it("gives a timeout once the request's time is used up", function()
      local world = new_world{ { responses = { { "HTTP/1.1 200 OK\r\n", "Content-Length: 2\r\n\r\n{}" } } } }
      local t = world.transport()
      slow_reads(world, t, 10)
      local resp, kind = get(t, { timeout = 5 })
      assert.is_nil(resp)
      assert.are.equal("timeout", kind)
      assert.is_true(world.conns[1].closed)
    end)
  end)

  it("sleeps through the sleep given (ngx.sleep by default)", function()
    local world = new_world{}
    local t = world.transport()
    t:sleep(0.25)
    assert.are.equal(0.25, world.slept)
  end)
end)

describe("choosing the transport", function()
  local world, phase, slept

  local function fake_ngx()
    return {
      get_phase = function() return phase end,
      socket = { tcp = function() return world.tcp() end },
      now = function() return world.clock end,
      sleep = function(s) slept[#slept + 1] = s end,
      worker = { pid = function() return 4242 end },
    }
  end

  local function new_client(extra)
    local opts = { region = "us-east-1", endpoint = "http://127.0.0.1:1", max_attempts = 1, getenv = {},
                   credentials = { access_key_id = "AKIDTEST", secret_access_key = "secret-for-tests" } }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return aws_connect.new(opts)
  end

  local function create(client)
    return client:create_instance{ identity_management_type = "CONNECT_MANAGED",
                                   inbound_calls_enabled = true, outbound_calls_enabled = false }
  end

  before_each(function()
    slept = {}
    phase = "init"
    world = new_world{}
    rawset(_G, "ngx", fake_ngx())
  end)

  after_each(function()
    rawset(_G, "ngx", nil)
  end)

  it("uses cosockets inside nginx, for a client made in init_by_lua", function()
    local client = new_client()          -- made in the init phase: nothing chosen yet
    phase = "content"
    world.peers = { { responses = { ok_response('{"Id":"i-1","Arn":"arn:aws:connect:x"}') } } }
    local inst = create(client)
    assert.are.equal("i-1", inst.id)
    assert.are.equal(1, #world.conns)
    assert.truthy(world.conns[1].sent[1]:find("^PUT /instance HTTP/1.1\r\n"))
    assert.are.equal("aws_connect.transport.ngx", tostring(aws_connect._private(client).transport))
  end)

  for _, ph in ipairs({ "init", "init_worker", "set", "header_filter", "body_filter", "log", "balancer" }) do
    it("raises a ConfigError naming the " .. ph .. " phase, before anything is sent", function()
      local client = new_client()
      phase = ph
      local ok, err = pcall(create, client)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "ConfigError"), tostring(err))
      assert.are.equal(ph, err.phase)
      assert.are.equal(0, err.attempts)
      assert.truthy(err.message:find('"' .. ph .. '" phase', 1, true))
      assert.truthy(err.message:find("content, access or rewrite", 1, true))
      assert.are.equal(0, #world.connects)
    end)
  end

  it("lets transport = \"curl\" run in any phase", function()
    local client = new_client{ transport = "curl", connect_timeout = 0.5 }
    phase = "log"
    local ok, err = pcall(create, client)
    assert.is_false(ok)
    assert.are.equal("NetworkError", err.code)   -- nothing listens on 127.0.0.1:1
    assert.are.equal("aws_connect.transport.curl", tostring(aws_connect._private(client).transport))
  end)

  it("sleeps with ngx.sleep between retries", function()
    local client = new_client{ max_attempts = 2, random = function() return 0.5 end }
    phase = "timer"
    world.peers = { { responses = {
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
      ok_response('{"Id":"i-2","Arn":"arn:aws:connect:x"}'),
    } } }
    local inst, meta = create(client)
    assert.are.equal("i-2", inst.id)
    assert.are.equal(2, meta.attempts)
    assert.are.same({ 0.5 }, slept)
  end)

  it("gives lifecycle polling the same sleep: the option, else ngx.sleep inside nginx, else core.sleep", function()
    local core = require("aws_connect.core")
    phase = "content"
    require("aws_connect.transport").sleep_of(aws_connect._private(new_client()))(0.2)
    assert.are.same({ 0.2 }, slept)
    local mine = function() end
    assert.are.equal(mine, require("aws_connect.transport").sleep_of(aws_connect._private(new_client{ sleep = mine })))
    rawset(_G, "ngx", nil)
    assert.are.equal(core.sleep, require("aws_connect.transport").sleep_of(aws_connect._private(new_client())))
  end)

  it("offers a non-blocking yield to credential providers only where ngx.sleep works", function()
    phase = "content"
    assert.is_true(require("aws_connect.transport").yield(0.01))
    assert.are.same({ 0.01 }, slept)
    phase = "log"
    assert.is_false(require("aws_connect.transport").yield(0.01))
    rawset(_G, "ngx", nil)
    assert.is_false(require("aws_connect.transport").yield(0.01))
    assert.are.equal(1, #slept)
  end)

  it("refuses transport = \"ngx\" outside nginx", function()
    rawset(_G, "ngx", nil)
    local client = new_client{ transport = "ngx" }
    local ok, err = pcall(create, client)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ConfigError"))
    assert.truthy(err.message:find("OpenResty", 1, true))
  end)

  it("uses curl outside nginx when nothing was asked for", function()
    rawset(_G, "ngx", nil)
    local client = new_client{ connect_timeout = 0.5 }
    local ok, err = pcall(create, client)
    assert.is_false(ok)
    assert.are.equal("NetworkError", err.code)
    assert.are.equal("aws_connect.transport.curl", tostring(aws_connect._private(client).transport))
  end)
end)
