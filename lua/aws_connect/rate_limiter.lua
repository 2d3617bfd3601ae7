-- aws_connect.rate_limiter: the client-side rate limiter of the "adaptive"
-- retry mode (README, "Retries"): a token bucket that charges one token per
-- send, switched on by the first throttling response, whose fill rate
-- follows CUBIC. Pure state and arithmetic over an injected clock; it never
-- sleeps. before_send() says how long the caller must wait (the caller
-- sleeps with its own sleep, which yields inside nginx).
--
-- The numbers are the AWS SDKs' (the same as botocore's adaptive mode):
--   measured rate  sends counted in 0.5 s buckets, smoothed 0.8 new / 0.2 old
--   throttle       W_max = the rate we were sending at (measured, or the
--                  bucket's rate if lower once on), K = cbrt(W_max*0.3/0.4),
--                  new rate = 0.7 * W_max
--   no throttle    new rate = 0.4 * (t - t_last_throttle - K)^3 + W_max
--   bucket rate    min(new rate, 2 * measured), never below 0.5/s;
--                  capacity max(rate, 1) tokens
--
-- A wait is a reservation: the token is taken at once and the capacity may
-- go below zero; the caller waits until the debt is paid. Concurrent
-- senders (coroutines in one nginx worker) thus queue behind each other
-- instead of all waking at the same moment.

local M = {}

M.MIN_RATE = 0.5          -- tokens per second, the bucket's floor
M.BETA = 0.7              -- CUBIC's multiplicative decrease
M.SCALE = 0.4             -- CUBIC's scaling constant C
M.MAX_RATE_SCALE = 2      -- the bucket never runs faster than 2 x measured
M.SMOOTHING = 0.8         -- weight of the newest measured-rate sample
M.BUCKET_SECONDS = 0.5    -- the measured rate is updated every half second

local Limiter = {}
Limiter.__index = Limiter

local floor = math.floor

local function cbrt(x)
  if x <= 0 then return 0 end
  return x ^ (1 / 3)
end

-- Tokens accrued since the last look, at the current rate (never above
-- the capacity).
local function refill(self, now)
  local last = self.last_refill
  self.last_refill = now
  if last == nil then return end
  local dt = now - last
  if dt > 0 then
    local c = self.capacity + dt * self.fill_rate
    if c > self.max_capacity then c = self.max_capacity end
    self.capacity = c
  end
end

local function set_rate(self, rate, now)
  refill(self, now)   -- what accrued so far accrued at the old rate
  self.fill_rate = rate > M.MIN_RATE and rate or M.MIN_RATE
  self.max_capacity = rate >= 1 and rate or 1
  if self.capacity > self.max_capacity then self.capacity = self.max_capacity end
end

-- Counts one response and returns the smoothed send rate.
local function measure(self, now)
  local b = floor(now / M.BUCKET_SECONDS) * M.BUCKET_SECONDS
  self.count = self.count + 1
  if b > self.last_bucket then
    local current = self.count / (b - self.last_bucket)
    self.measured = current * M.SMOOTHING + self.measured * (1 - M.SMOOTHING)
    self.count = 0
    self.last_bucket = b
  end
  return self.measured
end

local function zero_point(w_max)
  return cbrt(w_max * (1 - M.BETA) / M.SCALE)
end

--- opts.clock: seconds (a monotonic clock is best), required.
function M.new(opts)
  local clock = opts.clock
  local now = clock()
  local self = setmetatable({
    clock = clock,
    enabled = false,
    -- the bucket
    capacity = 0, last_refill = nil, fill_rate = 1, max_capacity = 1,
    -- CUBIC
    w_max = 0, k = 0, last_throttle = now,
    -- the measured send rate
    measured = 0, count = 0, last_bucket = floor(now),
  }, Limiter)
  set_rate(self, 1, now)
  return self
end

--- Takes a token for one send. Returns the seconds the caller must wait
--- before sending (0 while the bucket is off or has a token).
function Limiter:before_send()
  if not self.enabled then return 0 end
  local now = self.clock()
  refill(self, now)
  self.capacity = self.capacity - 1
  if self.capacity >= 0 then return 0 end
  return -self.capacity / self.fill_rate
end

--- After every attempt: throttled is true when the response was a throttle.
--- Returns the bucket's new rate (tokens per second).
function Limiter:after_attempt(throttled)
  local now = self.clock()
  local measured = measure(self, now)
  local rate
  if throttled then
    local w = measured
    if self.enabled and self.fill_rate < w then w = self.fill_rate end
    self.w_max = w
    self.k = zero_point(w)
    self.last_throttle = now
    rate = w * M.BETA
    self.enabled = true
  else
    local d = now - self.last_throttle - self.k
    rate = M.SCALE * d * d * d + self.w_max
  end
  local cap = M.MAX_RATE_SCALE * measured
  if rate > cap then rate = cap end
  set_rate(self, rate, now)
  return self.fill_rate
end

return M
