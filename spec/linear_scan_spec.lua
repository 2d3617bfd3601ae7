-- Issue 12, item 4: every parser of attacker- or user-controlled text is
-- linear. Each case feeds 1 MiB of blanks (or the worst shape for that
-- parser: a long run that a backtracking pattern rescans from every
-- position) and bounds the CPU time generously: 2 s, where a quadratic scan
-- of 1 MiB takes minutes. The cosocket transport is fed through a fake
-- socket (the same receiveany/settimeouts interface nginx gives).

local MiB = 1024 * 1024
local BLANKS = (" "):rep(MiB)
local LIMIT = 2.0   -- CPU seconds

local function cpu(f)
  local t0 = os.clock()
  local ok, err = pcall(f)
  local dt = os.clock() - t0
  if not ok and type(err) == "string" and not err:find("aws_connect") then error(err, 0) end
  return dt
end

local function linear(name, f)
  it(name .. " in linear time", function()
    local dt = cpu(f)
    assert.is_true(dt < LIMIT, ("%s took %.2f s of CPU for 1 MiB"):format(name, dt))
  end)
end

describe("linear scans", function()
  describe("the INI reader", function()
    local ini = require("aws_connect.ini")
    linear("a value of 1 MiB of blanks then a character", function()
      assert(ini.parse("[default]\nregion = " .. BLANKS .. "x\n"))
      assert(ini.parse("[default]\nregion = x" .. BLANKS .. "y\n"))
    end)
    linear("a line of 1 MiB of blanks then a character", function()
      ini.parse("[default]\n" .. BLANKS .. "x = y\n")
    end)
    linear("a section name padded with 1 MiB of blanks", function()
      ini.parse("[" .. BLANKS .. "default" .. BLANKS .. "]\nregion = us-east-1\n")
    end)
    linear("1 MiB of CR-only line ends", function()
      ini.parse("[default]" .. ("\r"):rep(MiB) .. "region = us-east-1\r")
    end)
    linear("an indented sub-section of blanks", function()
      ini.parse("[services x]\nconnect =\n  endpoint_url = " .. BLANKS .. "x\n")
    end)
  end)

  describe("dates", function()
    local times = require("aws_connect.times")
    linear("an ISO 8601 time padded with 1 MiB of blanks", function()
      times.parse_iso8601(BLANKS .. "2024-05-01T12:00:00Z" .. BLANKS .. "x")
      times.parse_iso8601("x" .. BLANKS .. "y")
      times.parse_iso8601("2024-05-01T12:00:00" .. BLANKS .. "Z")
    end)
    linear("an HTTP date of 1 MiB", function()
      times.parse_http_date("Mon, 01 Jan 2024 00:00:00" .. BLANKS .. "GMT")
      times.parse_http_date(("Mon"):rep(math.floor(MiB / 3)))
    end)
  end)

  describe("the STS answer", function()
    local xml_ok, xml = pcall(require, "aws_connect.xml")
    local sts = require("aws_connect.providers.sts")
    local function parse(body)
      if sts.parse_credentials then return sts.parse_credentials(body) end
      return pcall(xml.parse, body)
    end
    assert(sts.parse_credentials or xml_ok, "no STS XML reader")
    linear("a text of 1 MiB of blanks", function()
      parse("<AssumeRoleResponse><Credentials><AccessKeyId>x" .. BLANKS .. "y" .. BLANKS
        .. "</AccessKeyId></Credentials></AssumeRoleResponse>")
    end)
    linear("a tag name of 1 MiB that never closes", function()
      parse("<" .. ("a"):rep(MiB) .. " ")
    end)
    linear("1 MiB of '<' (tags that never close)", function()
      parse(("<a"):rep(MiB / 2) .. ">")
    end)
    linear("1 MiB of unclosed comments", function()
      parse(("<!--"):rep(MiB / 4))
    end)
    linear("an end tag padded with 1 MiB of blanks", function()
      parse("<Credentials><AccessKeyId>x</AccessKeyId" .. BLANKS .. "x</Credentials>")
    end)
  end)

  describe("did-you-mean", function()
    local suggest = require("aws_connect.suggest")
    linear("a 100 KB unknown key against every option name (1,000 times)", function()
      local key = ("k"):rep(100 * 1024)
      local names = { "region", "profile", "credentials", "endpoint", "use_fips", "timeout", "max_attempts" }
      for _ = 1, 1000 do assert.is_nil(suggest.closest(key, names)) end
    end)
  end)

  describe("the URL parser", function()
    local url = require("aws_connect.url")
    linear("1 MiB URLs of every shape (refused, never rescanned)", function()
      url.parse("http://" .. ("a"):rep(MiB))
      url.parse("http://" .. ("1."):rep(MiB / 2))
      url.parse("http://[" .. (":"):rep(MiB) .. "]/")
      url.parse("http://h/" .. ("/"):rep(MiB))
      url.display("http://" .. ("@"):rep(MiB))
      url.encode_segment(BLANKS)
    end)
  end)

  describe("redaction", function()
    local redact = require("aws_connect.redact")
    linear("1 MiB of text with many occurrences and near-misses of each secret", function()
      local r = redact.new{ "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ("a"):rep(200) .. "b", "token-xyz" }
      r:string(BLANKS)
      r:string(("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "):rep(math.floor(MiB / 41)))
      r:string(("a"):rep(MiB))            -- a periodic secret: KMP, not memcmp per position
      r:string(("token-xy"):rep(MiB / 8))
      redact.printable(("\r\n\1"):rep(math.floor(MiB / 3)), MiB)
      local deep = {}
      local cur = deep
      for _ = 1, 20000 do cur.next = { v = "token-xyz" }; cur = cur.next end
      r:deep(deep)
    end)
  end)

  describe("the cosocket transport", function()
    local ngx_transport = require("aws_connect.transport.ngx")
    -- one connection that answers `raw` in pieces of at most `piece` bytes
    local function transport(raw, piece)
      local sock = {}
      local pos = 1
      function sock.settimeouts() return 1 end
      function sock.connect() return 1 end
      function sock.getreusedtimes() return 0 end
      function sock.send(_, data) return #(type(data) == "table" and table.concat(data) or data) end
      function sock.receiveany(_, max)
        if pos > #raw then return nil, "closed" end
        local n = math.min(max, piece)
        local s = raw:sub(pos, pos + n - 1)
        pos = pos + #s
        return s
      end
      function sock.setkeepalive() return 1 end
      function sock.close() return 1 end
      local clock = 0
      return ngx_transport.new{ tcp = function() return sock end, now = function() clock = clock + 1e-6; return clock end }
    end
    local function get(t, max_body)
      return t:request{ method = "GET", url = "http://127.0.0.1:1/", timeout = 30, max_body = max_body }
    end

    linear("a header value with 60,000 blanks inside", function()
      local raw = "HTTP/1.1 200 OK\r\nX-A: x" .. (" "):rep(60000) .. "y\r\nX-B: " .. (" "):rep(60000)
        .. "z\r\nContent-Length: 0\r\n\r\n"
      local resp = assert(get(transport(raw, 16384)))
      assert.are.equal("x" .. (" "):rep(60000) .. "y", resp.headers[1][2])
      assert.are.equal("z", resp.headers[2][2])
    end)
    linear("a folded header line with 60,000 blanks inside", function()
      local raw = "HTTP/1.1 200 OK\r\nX-A: a\r\n x" .. (" "):rep(60000) .. "y\r\nContent-Length: 0\r\n\r\n"
      assert(get(transport(raw, 16384)))
    end)
    linear("a Transfer-Encoding of 60,000 characters", function()
      local raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: " .. ("a"):rep(60000) .. " \r\n\r\n"
      get(transport(raw, 16384))
    end)
    linear("a 24 MiB Content-Length body in 16 KiB reads", function()
      local body = ("b"):rep(24 * MiB)
      local resp = assert(get(transport("HTTP/1.1 200 OK\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body, 16384),
        32 * MiB))
      assert.are.equal(#body, #resp.body)
    end)
    linear("a 24 MiB read-until-close body", function()
      local body = ("c"):rep(24 * MiB)
      local resp = assert(get(transport("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" .. body, 16384), 32 * MiB))
      assert.are.equal(#body, #resp.body)
    end)
    linear("a 24 MiB chunked body in 8 MiB chunks", function()
      local chunk = ("d"):rep(8 * MiB)
      local parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" }
      for _ = 1, 3 do parts[#parts + 1] = ("%x\r\n"):format(#chunk) .. chunk .. "\r\n" end
      parts[#parts + 1] = "0\r\n\r\n"
      local resp = assert(get(transport(table.concat(parts), 16384), 32 * MiB))
      assert.are.equal(24 * MiB, #resp.body)
    end)
    it("refuses an 11 MiB body with the size-cap error, not a timeout", function()
      local body = ("e"):rep(11 * MiB)
      local t = transport("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" .. body, 16384)
      local resp, kind = get(t)
      assert.is_nil(resp)
      assert.are.equal("too_large", kind)
    end)
  end)
end)
