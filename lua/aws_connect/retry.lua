-- aws_connect.retry: the "standard" retry mode of the AWS SDKs.
--
-- Decides whether a failed attempt is retried, how long to wait, and keeps
-- the per-client retry quota (500 tokens; a retry costs 5, or 10 after a
-- timeout; a call that succeeds without retrying refunds 1, one that
-- succeeds after retrying refunds its last retry's cost). One policy
-- object per client; the request loop lives in init.lua.

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

M.RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }

-- Codes that say the request's clock was off (JS v3's list plus AWS's).
M.SKEW = {
  RequestTimeTooSkewed = true, RequestExpired = true, RequestInTheFuture = true,
  InvalidSignatureException = true, SignatureDoesNotMatch = true, AuthFailure = true,
}

local INITIAL_QUOTA = 500
local RETRY_COST = 5
local TIMEOUT_COST = 10
local MAX_BACKOFF = 20

local Policy = {}
Policy.__index = Policy

function M.new(opts)
  return setmetatable({
    max_attempts = opts.max_attempts or 3,
    mode = opts.mode or "standard",
    quota = INITIAL_QUOTA,
    random = opts.random or math.random,
  }, Policy)
end

--- Is this error worth another attempt? err is an aws_connect error.
function Policy:retryable(err)
  if err.kind == "network" then return not err.tls end
  if err.kind == "timeout" then return true end
  if err.kind == "response" then return err.transient == true end
  if err.kind == "service" then
    if M.THROTTLING[err.code] or M.TRANSIENT[err.code] then return true end
    if err.status and M.RETRY_STATUS[err.status] then return true end
  end
  return false
end

function Policy:is_throttle(err)
  return err.kind == "service" and (M.THROTTLING[err.code] or err.status == 429) and true or false
end

--- Takes the tokens for a retry; false when the quota is exhausted.
function Policy:acquire(err)
  local cost = err.kind == "timeout" and TIMEOUT_COST or RETRY_COST
  if self.quota < cost then return false end
  self.quota = self.quota - cost
  return true, cost
end

--- Refund after a successful call. last_cost is the cost of the last retry,
--- nil when the call needed none.
function Policy:success(last_cost)
  self.quota = math.min(INITIAL_QUOTA, self.quota + (last_cost or 1))
end

--- Seconds to wait after failed attempt n (1-based). hint: a server's
--- Retry-After in seconds, honoured within the cap.
function Policy:backoff(n, hint)
  local base = math.min(2 ^ (n - 1), MAX_BACKOFF)
  local d = self.random() * base
  if hint and hint > d then d = math.min(hint, MAX_BACKOFF) end
  return d
end

return M
