-- aws_connect.retry: the "standard" retry mode of the AWS SDKs
-- (aws-behaviour.md section 3), one policy object per client.
--
-- Decides whether a failed attempt is retried, how long to wait, and keeps
-- the per-client retry quota: 500 tokens; a retry costs 5, or 10 after a
-- timeout; a call that succeeds without retrying refunds 1, one that
-- succeeds after retrying refunds its last retry's cost (never above 500);
-- a call that fails refunds nothing. The request loop is Client:_call in
-- init.lua; clock-skew retries are decided there and cost no tokens.

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

-- Codes that say the request's clock was off (JS v3's list plus AWS's).
M.SKEW = {
  RequestTimeTooSkewed = true, RequestExpired = true, RequestInTheFuture = true,
  InvalidSignatureException = true, SignatureDoesNotMatch = true, AuthFailure = true,
}

M.INITIAL_QUOTA = 500
M.RETRY_COST = 5
M.TIMEOUT_COST = 10
M.MAX_BACKOFF = 20

local Policy = {}
Policy.__index = Policy
Policy.__tostring = function(self)
  return ("aws_connect.retry policy (%s, max_attempts %d, quota %d)"):format(self.mode, self.max_attempts, self.quota)
end

--- opts: max_attempts (total attempts, default 3), mode ("standard"),
--- random (function returning [0, 1), default math.random).
function M.new(opts)
  opts = opts or {}
  return setmetatable({
    max_attempts = opts.max_attempts or 3,
    mode = opts.mode or "standard",
    quota = M.INITIAL_QUOTA,
    random = opts.random or math.random,
  }, Policy)
end

--- Is this error worth another attempt? err is an aws_connect error.
function Policy:retryable(err)
  if err.kind == "network" then return not err.tls end   -- a refused certificate stays refused
  if err.kind == "timeout" then return true end
  if err.kind == "response" then return err.transient == true end  -- cut short or not HTTP
  if err.kind == "service" then
    if M.THROTTLING[err.code] or M.TRANSIENT[err.code] then return true end
    if err.status and M.RETRY_STATUS[err.status] then return true end
  end
  return false
end

function Policy:is_throttle(err)
  return err.kind == "service" and (M.THROTTLING[err.code] or err.status == 429) and true or false
end

--- What a retry after err costs.
function Policy:cost(err)
  return err.kind == "timeout" and M.TIMEOUT_COST or M.RETRY_COST
end

--- Takes the tokens for a retry; returns true and the cost, or false when
--- the quota cannot pay for it (the call then fails without retrying).
function Policy:acquire(err)
  local cost = self:cost(err)
  if self.quota < cost then return false end
  self.quota = self.quota - cost
  return true, cost
end

--- Refund after a successful call. last_cost is the cost of the call's
--- last retry, nil when the call needed none.
function Policy:success(last_cost)
  self.quota = math.min(M.INITIAL_QUOTA, self.quota + (last_cost or 1))
end

--- Seconds to wait after failed attempt n (1-based): random in
--- [0, min(2^(n-1), 20)). hint: the server's Retry-After /
--- x-amz-retry-after in seconds; the wait is at least the hint, but
--- never more than the 20 s cap.
function Policy:backoff(n, hint)
  local base = math.min(2 ^ (n - 1), M.MAX_BACKOFF)
  local r = self.random()
  if type(r) ~= "number" or r ~= r or r < 0 then r = 0 elseif r >= 1 then r = 0.999999 end
  local d = r * base
  if type(hint) == "number" and hint == hint and hint > d then d = math.min(hint, M.MAX_BACKOFF) end
  return d
end

return M
