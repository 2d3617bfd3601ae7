-- The standard retry mode (aws-behaviour.md section 3, issue 3): what is
-- retried, backoff bounds, the retry quota and its refunds, server hints,
-- max_attempts / AWS_MAX_ATTEMPTS, and the clock-skew retry. The loop is
-- driven through a custom transport table, with an injected sleep.

local aws_connect = require("aws_connect")
local helpers = require("spec.support.helpers")
local retry = require("aws_connect.retry")
local errors = require("aws_connect.errors")
local core = require("aws_connect.core")
local cjson = require("cjson")

local OK_BODY = '{"Id":"i-1","Arn":"arn:aws:connect:us-east-1:123456789012:instance/i-1"}'

local function resp(status, body, headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[#h + 1] = { k, v } end
  return { status = status, reason = "", headers = h, body = body or "" }
end

local function throttle(extra)
  local h = { ["x-amzn-ErrorType"] = "ThrottlingException" }
  for k, v in pairs(extra or {}) do h[k] = v end
  return resp(429, '{"message":"Rate exceeded"}', h)
end

local function ok() return resp(200, OK_BODY, { ["x-amzn-RequestId"] = "req-ok" }) end

-- A transport that answers from a list; an entry { false, kind, msg } is a
-- transport failure. Records every request it was given.
local function scripted(list)
  local t = { sent = {}, discarded = 0 }
  function t.request(_, req)
    t.sent[#t.sent + 1] = req
    local r = list[#t.sent] or ok()
    if r[1] == false then return nil, r[2], r[3] end
    return r
  end
  function t.discard() t.discarded = t.discarded + 1 end
  return t
end

local header = helpers.header

local PARAMS = { identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
  outbound_calls_enabled = false }

local function client_with(transport, extra)
  local rec = { delays = {}, logs = {} }
  local opts = {
    region = "us-east-1", endpoint = "https://connect.example.test",
    credentials = { access_key_id = "AKIDRETRY", secret_access_key = "retry-secret-key-value" },
    transport = transport, getenv = {},
    sleep = function(d) rec.delays[#rec.delays + 1] = d end,
    logger = function(level, msg) rec.logs[#rec.logs + 1] = level .. " " .. msg end,
  }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return aws_connect.new(opts), rec
end

local function quota(client) return aws_connect._private(client).policy.quota end

describe("retry policy classification", function()
  local policy = retry.new{}

  local function e(code, fields) return errors.new(code, "m", fields) end

  it("retries every throttling code and the transient codes, at any status", function()
    for code in pairs(retry.THROTTLING) do
      assert.is_true(policy:retryable(e(code, { kind = "service", status = 400 })), code)
    end
    for _, code in ipairs({ "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete" }) do
      assert.is_true(policy:retryable(e(code, { kind = "service", status = 400 })), code)
    end
  end)

  it("retries HTTP 429, 500, 502, 503 and 504 whatever the code", function()
    for _, st in ipairs({ 429, 500, 502, 503, 504 }) do
      assert.is_true(policy:retryable(e("SomethingElse", { kind = "service", status = st })), tostring(st))
    end
  end)

  it("does not retry other 4xx/5xx service errors", function()
    for _, c in ipairs({ { "InvalidRequestException", 400 }, { "ServiceQuotaExceededException", 402 },
      { "AccessDeniedException", 403 }, { "ResourceNotFoundException", 404 }, { "409", 409 },
      { "501", 501 }, { "InvalidSignatureException", 403 } }) do
      assert.is_false(policy:retryable(e(c[1], { kind = "service", status = c[2] })), c[1])
    end
  end)

  it("retries transport failures and timeouts but not a refused certificate", function()
    assert.is_true(policy:retryable(e("NetworkError")))
    assert.is_true(policy:retryable(e("TimeoutError")))
    local tls = e("NetworkError"); tls.tls = true
    assert.is_false(policy:retryable(tls))
  end)

  it("retries unreadable responses (cut short, not HTTP) but not a bad 2xx shape or an oversized body", function()
    local cut = e("ResponseError"); cut.transient = true
    assert.is_true(policy:retryable(cut))
    assert.is_false(policy:retryable(e("ResponseError")))
  end)

  it("never retries validation, credentials or configuration errors", function()
    for _, c in ipairs({ "ValidationError", "CredentialsError", "ConfigError" }) do
      assert.is_false(policy:retryable(e(c)), c)
    end
  end)
end)

describe("retry backoff", function()
  it("is random in [0, min(2^(n-1), 20)) seconds", function()
    local policy = retry.new{}
    for n = 1, 8 do
      local cap = math.min(2 ^ (n - 1), 20)
      local max_seen = 0
      for _ = 1, 300 do
        local d = policy:backoff(n)
        assert.is_true(d >= 0 and d < cap, ("attempt %d: %g"):format(n, d))
        if d > max_seen then max_seen = d end
      end
      assert.is_true(max_seen > cap / 2, "the range is used: " .. max_seen)
    end
  end)

  it("uses the injected random source at both ends of its range", function()
    assert.are.equal(0, retry.new{ random = function() return 0 end }:backoff(3))
    local hi = retry.new{ random = function() return 0.999999 end }
    assert.is_true(hi:backoff(3) < 4 and hi:backoff(3) > 3.99)
    assert.is_true(hi:backoff(10) < 20 and hi:backoff(10) > 19.99)
    -- a broken random source cannot produce a negative or endless wait
    assert.are.equal(0, retry.new{ random = function() return -1 end }:backoff(2))
    assert.is_true(retry.new{ random = function() return 7 end }:backoff(2) < 2)
  end)

  it("waits at least a server hint, but never beyond the 20 s cap", function()
    local p = retry.new{ random = function() return 0.5 end }
    assert.are.equal(3, p:backoff(1, 3))            -- hint above the computed 0.5
    assert.are.equal(2, p:backoff(3, 0.2))          -- computed 2 s above the hint
    assert.are.equal(20, p:backoff(1, 3600))        -- capped
    assert.are.equal(0.5, p:backoff(1, 0 / 0))      -- NaN ignored
  end)
end)

describe("retry quota", function()
  it("starts at 500; a retry costs 5, after a timeout 10; an empty quota refuses", function()
    local p = retry.new{}
    assert.are.equal(500, p.quota)
    local ok5, c5 = p:acquire(errors.new("ThrottlingException", "", { kind = "service" }))
    assert.is_true(ok5); assert.are.equal(5, c5); assert.are.equal(495, p.quota)
    local ok10, c10 = p:acquire(errors.new("TimeoutError", ""))
    assert.is_true(ok10); assert.are.equal(10, c10); assert.are.equal(485, p.quota)
    p.quota = 9
    assert.is_false(p:acquire(errors.new("TimeoutError", "")))
    assert.are.equal(9, p.quota)
    assert.is_true(p:acquire(errors.new("NetworkError", "")))
    assert.are.equal(4, p.quota)
  end)

  it("refunds 1 after a success without retry, the last retry's cost after one with, never above 500", function()
    local p = retry.new{}
    p:success(nil); assert.are.equal(500, p.quota)
    p.quota = 480
    p:success(nil); assert.are.equal(481, p.quota)
    p:success(10); assert.are.equal(491, p.quota)
    p:success(10); assert.are.equal(500, p.quota)
  end)

  it("is charged and refunded by the request loop", function()
    local t = scripted({ throttle(), { false, "timeout", "Operation timed out" }, ok(),
      throttle(), throttle(), throttle(),
      ok() })
    local client = client_with(t)
    local _, meta = client:create_instance(PARAMS)
    assert.are.equal(3, meta.attempts)
    -- 500 - 5 - 10, then the last retry's 10 back
    assert.are.equal(495, quota(client))
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal("ThrottlingException", err.code)
    assert.are.equal(485, quota(client))   -- a failed call gets nothing back
    client:create_instance(PARAMS)
    assert.are.equal(486, quota(client))   -- success without retry: +1
  end)

  it("is per client", function()
    local c1 = client_with(scripted({ throttle(), throttle(), throttle() }))
    local c2 = client_with(scripted({}))
    pcall(c1.create_instance, c1, PARAMS)
    assert.are.equal(490, quota(c1))
    assert.are.equal(500, quota(c2))
  end)

  it("fails without retrying when it cannot pay, and says so", function()
    local t = scripted({ throttle(), throttle() })
    local client, rec = client_with(t)
    aws_connect._private(client).policy.quota = 4
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal(1, err.attempts)
    assert.is_true(err.retryable)
    assert.is_true(err.quota_exhausted)
    assert.truthy(err.message:find("retry quota exhausted", 1, true))
    assert.are.equal(1, #t.sent)
    assert.are.equal(0, #rec.delays)
  end)
end)

describe("the request loop", function()
  it("signs every attempt afresh with the same token, invocation id and body, counting attempts", function()
    local now = 1700000000
    local t = scripted({ throttle(), resp(503, ""), ok() })
    local client, rec = client_with(t, {
      clock = function() return now end,
      sleep = function() now = now + 2 end,
    })
    local _, meta = client:create_instance(PARAMS)
    assert.are.equal(3, meta.attempts)
    assert.are.equal(3, #t.sent)
    local first = t.sent[1]
    local token = cjson.decode(first.body).ClientToken
    assert.are.equal(meta.client_token, token)
    for i, req in ipairs(t.sent) do
      assert.are.equal(first.body, req.body)
      assert.are.equal(header(first, "amz-sdk-invocation-id"), header(req, "amz-sdk-invocation-id"))
      assert.are.equal(("attempt=%d; max=3"):format(i), header(req, "amz-sdk-request"))
      assert.are.equal(os.date("!%Y%m%dT%H%M%SZ", 1700000000 + 2 * (i - 1)), header(req, "X-Amz-Date"))
    end
    assert.are_not.equal(header(t.sent[1], "Authorization"), header(t.sent[2], "Authorization"))
    assert.is_table(rec)
  end)

  it("gives the final error the attempts and the last attempt's status and request id", function()
    local t = scripted({ throttle({ ["x-amzn-RequestId"] = "r1" }), resp(500, '{"message":"a"}', { ["x-amzn-RequestId"] = "r2" }),
      resp(503, '{"message":"last one"}', { ["x-amzn-RequestId"] = "r3", ["x-amzn-ErrorType"] = "ServiceUnavailable" }) })
    local client = client_with(t)
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal("ServiceUnavailable", err.code)
    assert.are.equal(503, err.status)
    assert.are.equal("r3", err.request_id)
    assert.are.equal("last one", err.message)
    assert.are.equal(3, err.attempts)
    assert.is_true(err.retryable)
    assert.truthy(tostring(err):find("3 attempts", 1, true))
  end)

  it("sleeps the backoff between attempts and logs each retry", function()
    local client, rec = client_with(scripted({ throttle(), throttle() }), { random = function() return 0.5 end })
    client:create_instance(PARAMS)
    assert.are.same({ 0.5, 1 }, rec.delays)
    local n = 0
    for _, l in ipairs(rec.logs) do if l:find("retrying in", 1, true) then n = n + 1 end end
    assert.are.equal(2, n)
  end)

  it("honours x-amz-retry-after (milliseconds) within the cap", function()
    local client, rec = client_with(scripted({ throttle({ ["x-amz-retry-after"] = "2500" }),
      throttle({ ["x-amz-retry-after"] = "600000" }) }), { random = function() return 0 end })
    client:create_instance(PARAMS)
    assert.are.same({ 2.5, 20 }, rec.delays)
  end)

  it("honours Retry-After in seconds or as an HTTP date relative to the response's Date", function()
    local client, rec = client_with(scripted({
      resp(503, "", { ["Retry-After"] = "3" }),
      resp(503, "", { ["Retry-After"] = "Wed, 21 Oct 2015 07:28:07 GMT", Date = "Wed, 21 Oct 2015 07:28:00 GMT" }),
    }), { random = function() return 0 end })
    client:create_instance(PARAMS)
    assert.are.same({ 3, 7 }, rec.delays)
  end)

  it("ignores a nonsense hint", function()
    local client, rec = client_with(scripted({ resp(503, "", { ["Retry-After"] = "soon" }),
      resp(503, "", { ["x-amz-retry-after"] = "-5" }) }), { random = function() return 0 end })
    client:create_instance(PARAMS)
    assert.are.same({ 0, 0 }, rec.delays)
  end)

  it("makes max_attempts attempts at most; max_attempts = 1 disables retries", function()
    for _, n in ipairs({ 1, 2, 5 }) do
      local list = {}
      for i = 1, 6 do list[i] = throttle() end
      local t = scripted(list)
      local client, rec = client_with(t, { max_attempts = n })
      local okc, err = pcall(client.create_instance, client, PARAMS)
      assert.is_false(okc)
      assert.are.equal(n, err.attempts)
      assert.are.equal(n, #t.sent)
      assert.are.equal(n - 1, #rec.delays)
      assert.are.equal(("attempt=%d; max=%d"):format(n, n), header(t.sent[n], "amz-sdk-request"))
    end
  end)

  it("takes max_attempts from AWS_MAX_ATTEMPTS, the option winning", function()
    local list = {}
    for i = 1, 6 do list[i] = throttle() end
    local t = scripted(list)
    local client = client_with(t, { getenv = { AWS_MAX_ATTEMPTS = "4" } })
    local _, err = pcall(client.create_instance, client, PARAMS)
    assert.are.equal(4, err.attempts)
    t = scripted(list)
    client = client_with(t, { getenv = { AWS_MAX_ATTEMPTS = "4" }, max_attempts = 2 })
    _, err = pcall(client.create_instance, client, PARAMS)
    assert.are.equal(2, err.attempts)
    t = scripted(list)
    client = client_with(t, { getenv = { AWS_MAX_ATTEMPTS = "1" } })
    _, err = pcall(client.create_instance, client, PARAMS)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, #t.sent)
  end)

  it("refuses a nonsense AWS_MAX_ATTEMPTS with a ConfigError", function()
    for _, v in ipairs({ "0", "three", "2.5" }) do
      local okc, err = pcall(aws_connect.new, { region = "us-east-1", getenv = { AWS_MAX_ATTEMPTS = v } })
      assert.is_false(okc)
      assert.are.equal("ConfigError", err.code, v)
    end
  end)

  it("retries transport failures and unreadable responses; not a certificate, an oversized body or bad config", function()
    local cases = {
      { "connect", true }, { "recv", true }, { "timeout", true }, { "protocol", true }, { "other", true },
      { "tls", false }, { "too_large", false }, { "usage", false },
    }
    for _, c in ipairs(cases) do
      local t = scripted({ { false, c[1], "simulated " .. c[1] } })
      local client = client_with(t)
      local okc, res = pcall(client.create_instance, client, PARAMS)
      if c[2] then
        assert.is_true(okc, c[1] .. ": " .. tostring(res))
        assert.are.equal(2, #t.sent, c[1])
      else
        assert.is_false(okc, c[1])
        assert.are.equal(1, #t.sent, c[1])
        assert.is_false(res.retryable, c[1])
      end
    end
  end)

  it("maps transport kinds to typed errors", function()
    local want = { connect = "NetworkError", recv = "NetworkError", timeout = "TimeoutError",
      protocol = "ResponseError", too_large = "ResponseError", tls = "NetworkError", usage = "ConfigError" }
    for kind, code in pairs(want) do
      local client = client_with(scripted({ { false, kind, "x" } }), { max_attempts = 1 })
      local _, err = pcall(client.list_instances, client)
      assert.are.equal(code, err.code, kind)
    end
  end)

  it("counts a request refused before sending (bad CA file) as no attempt", function()
    local client = client_with(scripted({ { false, "usage", "error setting certificate file: /nope" } }))
    local _, err = pcall(client.list_instances, client)
    assert.are.equal("ConfigError", err.code)
    assert.are.equal(0, err.attempts)
  end)

  it("does not retry a 2xx that is not the expected JSON, and drops the connection", function()
    local t = scripted({ resp(200, "<html>proxy</html>") })
    local client = client_with(t)
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal("ResponseError", err.code)
    assert.are.equal(200, err.status)
    assert.are.equal(1, #t.sent)
    assert.are.equal(1, t.discarded)
  end)
end)

describe("clock skew correction", function()
  local function http_date(t) return os.date("!%a, %d %b %Y %H:%M:%S GMT", t) end
  local NOW = 1700000000

  local function skew_client(list, extra)
    local t = scripted(list)
    local opts = { clock = function() return NOW end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    local client, rec = client_with(t, opts)
    return client, t, rec
  end

  it("corrects the clock from the Date header of RequestTimeTooSkewed and retries once, at once", function()
    local client, t, rec = skew_client({
      resp(403, '{"message":"too skewed"}', { ["x-amzn-ErrorType"] = "RequestTimeTooSkewed", Date = http_date(NOW + 3600) }),
    })
    aws_connect._private(client).policy.quota = 100
    local _, meta = client:create_instance(PARAMS)
    assert.are.equal(2, meta.attempts)
    assert.are.equal(0, #rec.delays)
    assert.are.equal(os.date("!%Y%m%dT%H%M%SZ", NOW + 3600), header(t.sent[2], "X-Amz-Date"))
    assert.are.equal(3600, aws_connect._private(client).clock_offset)
    assert.are.equal(101, quota(client))  -- no tokens spent on the skew retry; +1 for the success
    local warned = false
    for _, l in ipairs(rec.logs) do if l:find("^warn clock skew") then warned = true end end
    assert.is_true(warned)
    -- later calls keep the corrected clock
    client:list_instances()
    assert.are.equal(os.date("!%Y%m%dT%H%M%SZ", NOW + 3600), header(t.sent[3], "X-Amz-Date"))
  end)

  it("treats InvalidSignatureException and the other skew codes as skew only when Date is 5+ minutes away", function()
    for _, code in ipairs({ "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired",
      "RequestInTheFuture", "AuthFailure" }) do
      local client, t = skew_client({
        resp(403, '{"message":"Signature expired"}', { ["x-amzn-ErrorType"] = code, Date = http_date(NOW - 400) }),
      })
      local _, meta = client:create_instance(PARAMS)
      assert.are.equal(2, meta.attempts, code)
      assert.are.equal(os.date("!%Y%m%dT%H%M%SZ", NOW - 400), header(t.sent[2], "X-Amz-Date"))

      client, t = skew_client({
        resp(403, '{"message":"mismatch"}', { ["x-amzn-ErrorType"] = code, Date = http_date(NOW + 60) }),
      })
      local okc, err = pcall(client.create_instance, client, PARAMS)
      assert.is_false(okc, code)
      assert.are.equal(code, err.code)
      assert.are.equal(1, err.attempts)
      assert.are.equal(1, #t.sent)
    end
  end)

  it("retries for skew only once per call", function()
    local skewed = resp(403, '{"message":"x"}', { ["x-amzn-ErrorType"] = "RequestTimeTooSkewed",
      Date = http_date(NOW + 900) })
    local client, t = skew_client({ skewed, skewed, skewed })
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal("RequestTimeTooSkewed", err.code)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, #t.sent)
  end)

  it("needs a Date header to correct anything", function()
    local client, t = skew_client({ resp(403, '{"message":"x"}', { ["x-amzn-ErrorType"] = "RequestTimeTooSkewed" }) })
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, #t.sent)
  end)

  it("corrects the clock but does not retry with max_attempts = 1", function()
    local client, t = skew_client({
      resp(403, '{"message":"x"}', { ["x-amzn-ErrorType"] = "RequestTimeTooSkewed", Date = http_date(NOW + 900) }),
    }, { max_attempts = 1 })
    local okc, err = pcall(client.create_instance, client, PARAMS)
    assert.is_false(okc)
    assert.are.equal(1, err.attempts)
    assert.is_true(err.retryable)
    client:list_instances()
    assert.are.equal(os.date("!%Y%m%dT%H%M%SZ", NOW + 900), header(t.sent[2], "X-Amz-Date"))
  end)
end)

describe("the default sleep", function()
  it("is a real sleep (C nanosleep) when none is injected", function()
    local t0 = core.monotonic()
    core.sleep(0.05)
    assert.is_true(core.monotonic() - t0 >= 0.045)
    core.sleep(0)
    core.sleep(-1)
  end)
end)
