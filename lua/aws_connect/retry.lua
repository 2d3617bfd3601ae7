-- aws_connect.retry: the retry modes of the AWS SDKs (README, "Retries"),
-- one policy object per client: what is retried, how long to wait, the
-- retry quota, and (adaptive) the client-side rate limiter.
--
--   standard  3 attempts; backoff rand * min(2^(n-1), 20) s, at least a
--             server hint (also capped at 20 s); quota per client: 500
--             tokens, a retry costs 5, or 10 after a timeout; a call that
--             succeeds without retrying refunds 1, one that succeeds after
--             retrying refunds its last retry's cost (never above 500); a
--             call that fails refunds nothing.
--   adaptive  standard, plus a token bucket charged once per send that
--             switches on at the first throttle and follows CUBIC
--             (aws_connect.rate_limiter).
--   legacy    botocore's default: 5 attempts; backoff rand * 2^(n-1) s,
--             uncapped, server hints ignored; no quota; retries HTTP 429,
--             500, 502, 503, 504, 509, the throttling codes of its list only
--             with HTTP 400, and transport failures.
--
-- The interface with the request loop:
--   policy = retry.new{ mode, max_attempts, random, clock }
--   policy.mode, policy.max_attempts (given, else the mode's default)
--   policy:before_send()       -> seconds to wait before this attempt
--   policy:after_attempt(err)  after every attempt (err nil on success)
--   policy:retryable(err), policy:is_throttle(err)
--   policy:acquire(err)        -> ok, cost (quota for one retry)
--   policy:backoff(n, hint)    -> seconds after failed attempt n
--   policy:success(last_cost)  refund after a successful call
-- Clock-skew retries are decided by the loop and cost no tokens.

local M = {}

M.THROTTLING = {}
for _, c in ipairs({
  "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
  "TooManyRequestsException", "ProvisionedThroughputExceededException",
  "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
  "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
  "EC2ThrottledException",
}) do M.THROTTLING[c] = true end

M.TRANSIENT = {
  RequestTimeout = true, RequestTimeoutException = true, PriorRequestNotComplete = true,
}

-- Statuses retried whatever the code. 429 is here although botocore's
-- standard mode retries it only by code: a bare 429 from a proxy or load
-- balancer is a throttle too.
M.RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }

-- Legacy mode (botocore's _retry.json): statuses retried whatever the code,
-- and codes retried only when the status is 400.
M.LEGACY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true, [509] = true }
M.LEGACY_THROTTLING = {
  Throttling = true, ThrottlingException = true, ThrottledException = true,
  RequestThrottledException = true, ProvisionedThroughputExceededException = true,
}

-- Codes that say the request's clock was off (JS v3's list plus AWS's).
M.SKEW = {
  RequestTimeTooSkewed = true, RequestExpired = true, RequestInTheFuture = true,
  InvalidSignatureException = true, SignatureDoesNotMatch = true, AuthFailure = true,
}

M.INITIAL_QUOTA = 500
M.RETRY_COST = 5
M.TIMEOUT_COST = 10
M.MAX_BACKOFF = 20

-- Attempts (the first one included) when max_attempts is not set.
M.DEFAULT_ATTEMPTS = { standard = 3, adaptive = 3, legacy = 5 }

local Policy = {}
Policy.__index = Policy
Policy.__tostring = function(self)
  local q = self.quota and tostring(self.quota) or "none"
  return ("aws_connect.retry policy (%s, max_attempts %d, quota %s)"):format(self.mode, self.max_attempts, q)
end

--- opts: mode ("standard", "adaptive" or "legacy"; default "standard"),
--- max_attempts (total attempts; default 3, legacy 5), random (function
--- returning [0, 1), default math.random), clock (seconds, for the adaptive
--- rate limiter; default the C core's monotonic clock).
function M.new(opts)
  opts = opts or {}
  local mode = opts.mode or "standard"
  local default = M.DEFAULT_ATTEMPTS[mode]
  if not default then
    require("aws_connect.errors").raise("ConfigError",
      ("retry_mode must be \"standard\", \"legacy\" or \"adaptive\", got %q"):format(tostring(mode)),
      { field = "retry_mode" })
  end
  local self = setmetatable({
    max_attempts = opts.max_attempts or default,
    mode = mode,
    legacy = mode == "legacy",
    quota = mode ~= "legacy" and M.INITIAL_QUOTA or nil,
    random = opts.random or math.random,
  }, Policy)
  if mode == "adaptive" then
    self.limiter = require("aws_connect.rate_limiter").new{
      clock = opts.clock or require("aws_connect.core").monotonic,
    }
  end
  return self
end

local function legacy_retryable(err)
  if err.kind == "network" then return not err.tls end
  if err.kind == "timeout" then return true end
  if err.kind == "response" then return err.transient == true end
  if err.kind == "service" then
    if err.modeled_retryable then return true end  -- a protocol's per-service special case
    if err.status and M.LEGACY_STATUS[err.status] then return true end
    return err.status == 400 and M.LEGACY_THROTTLING[err.code] == true
  end
  return false
end

--- Is this error worth another attempt? err is an aws_connect error.
function Policy:retryable(err)
  if self.legacy then return legacy_retryable(err) end
  if err.kind == "network" then return not err.tls end   -- a refused certificate stays refused
  if err.kind == "timeout" then return true end
  if err.kind == "response" then return err.transient == true end  -- cut short or not HTTP
  if err.kind == "service" then
    if M.THROTTLING[err.code] or M.TRANSIENT[err.code] or err.modeled_retryable then return true end
    if err.status and M.RETRY_STATUS[err.status] then return true end
  end
  return false
end

function Policy:is_throttle(err)
  return err ~= nil and err.kind == "service" and (M.THROTTLING[err.code] or err.status == 429) and true or false
end

--- Seconds to wait before sending an attempt: 0, except in adaptive mode
--- once the rate limiter is on and its bucket is empty. The token is
--- taken now; the caller sleeps (yielding inside nginx), then sends.
function Policy:before_send()
  if not self.limiter then return 0 end
  return self.limiter:before_send()
end

--- After every attempt (err nil on success): feeds the adaptive rate
--- limiter's measured rate, CUBIC and bucket.
function Policy:after_attempt(err)
  if self.limiter then self.limiter:after_attempt(self:is_throttle(err)) end
end

--- What a retry after err costs.
function Policy:cost(err)
  if self.legacy then return 0 end
  return err.kind == "timeout" and M.TIMEOUT_COST or M.RETRY_COST
end

--- Takes the tokens for a retry; returns true and the cost, or false when
--- the quota cannot pay for it (the call then fails without retrying).
--- Legacy mode has no quota: always true, cost 0.
function Policy:acquire(err)
  if self.legacy then return true, 0 end
  local cost = self:cost(err)
  if self.quota < cost then return false end
  self.quota = self.quota - cost
  return true, cost
end

--- Refund after a successful call. last_cost is the cost of the call's
--- last retry, nil when the call needed none.
function Policy:success(last_cost)
  if self.legacy then return end
  self.quota = math.min(M.INITIAL_QUOTA, self.quota + (last_cost or 1))
end

--- Seconds to wait after failed attempt n (1-based). standard/adaptive:
--- random in [0, min(2^(n-1), 20)); hint (the server's Retry-After /
--- x-amz-retry-after in seconds) is a floor, never beyond the 20 s cap.
--- legacy: random in [0, 2^(n-1)), uncapped, no hint.
function Policy:backoff(n, hint)
  local r = self.random()
  if type(r) ~= "number" or r ~= r or r < 0 then r = 0 elseif r >= 1 then r = 0.999999 end
  if self.legacy then return r * 2 ^ (n - 1) end
  local d = r * math.min(2 ^ (n - 1), M.MAX_BACKOFF)
  if type(hint) == "number" and hint == hint and hint > d then d = math.min(hint, M.MAX_BACKOFF) end
  return d
end

return M
