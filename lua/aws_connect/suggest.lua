-- aws_connect.suggest: "did you mean" for unknown option and parameter
-- names. One rule for every caller: the closest candidate by Levenshtein
-- distance (ASCII case-insensitive), accepted when the distance is at most
-- max(2, floor(#word / 3)) (the threshold validate.distance callers used).
--
-- Hostile input: the word may be a 100 KB key. Lengths are bounded before
-- any distance is computed (a candidate more than the threshold longer or
-- shorter cannot be within it, and no word longer than MAX_WORD is compared
-- at all), and each distance stops as soon as a row exceeds the threshold,
-- so the cost is O(#candidates * MAX_WORD * threshold) at worst.

local M = {}

M.MAX_WORD = 128   -- longer words get no suggestion (no name is this long)

--- The distance threshold for a word of length n.
function M.threshold(n)
  return math.max(2, math.floor(n / 3))
end

--- Levenshtein distance of a and b (compared as given), or nil when it is
--- more than `limit` (when given). Uses two rows and a band of width
--- 2 * limit + 1 around the diagonal.
function M.distance(a, b, limit)
  local la, lb = #a, #b
  if limit and math.abs(la - lb) > limit then return nil end
  local big = la + lb + 1
  limit = limit or big
  local prev, cur = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local lo = i - limit
    if lo < 1 then lo = 1 end
    local hi = i + limit
    if hi > lb then hi = lb end
    cur[0] = i
    if lo > 1 then cur[lo - 1] = big end
    local rowmin = (lo == 1) and i or big
    local ca = a:byte(i)
    for j = lo, hi do
      local cost = (ca == b:byte(j)) and 0 or 1
      local d = (prev[j - 1] or big) + cost
      local up = (prev[j] or big) + 1
      if up < d then d = up end
      local left = (cur[j - 1] or big) + 1
      if left < d then d = left end
      cur[j] = d
      if d < rowmin then rowmin = d end
    end
    if hi < lb then cur[hi + 1] = big end
    if rowmin > limit then return nil end
    prev, cur = cur, prev
  end
  local d = prev[lb]
  if d == nil or d > limit then return nil end
  return d
end

--- The candidate closest to word within the threshold, and its distance;
--- nil when none is close enough (or word is not a string, or too long).
--- `max` overrides the threshold.
function M.closest(word, candidates, max)
  if type(word) ~= "string" or type(candidates) ~= "table" then return nil end
  local n = #word
  if n == 0 or n > M.MAX_WORD then return nil end
  local limit = max or M.threshold(n)
  local lw = word:lower()
  local best, bestd
  for i = 1, #candidates do
    local c = candidates[i]
    if type(c) == "string" and math.abs(#c - n) <= limit then
      local d = M.distance(lw, c:lower(), bestd and math.min(limit, bestd - 1) or limit)
      if d and (not bestd or d < bestd) then
        best, bestd = c, d
        if d == 0 then break end
      end
    end
  end
  return best, bestd
end

return M
