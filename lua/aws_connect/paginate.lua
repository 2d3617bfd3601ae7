-- aws_connect.paginate: client:pages and client:items for every paginator
-- of the model (paginators-1.json, carried in each operation's model
-- record): the input token, the output token, the limit key, the result
-- key and non_aggregate_keys.
--
--   for page, meta in client:pages("list_users", { instance_id = id }) do ... end
--   for user, page in client:items("list_users", { instance_id = id }) do ... end
--
-- A service that repeats a token, or answers new tokens without end,
-- raises ResponseError instead of looping: at most max_pages pages
-- (default 10,000) and max_seconds seconds (default 3,600) per iteration.

local errors = require("aws_connect.errors")
local names = require("aws_connect.names")

local M = {}

M.MAX_PAGES = 10000
M.MAX_SECONDS = 3600

local function option(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v <= 0 then
    errors.validation(name, ("%s must be a positive number, got %s"):format(name, tostring(v)))
  end
  return v
end

--- Page iterator. call(params) -> result, meta runs the operation; clock
--- is the client's. params are copied, never changed.
function M.pages(op, call, clock, params, opts)
  local pg = op.paginator
  if not pg then
    errors.raise("ValidationError", op.snake .. " has no paginator (it answers in one page)", { field = "operation" })
  end
  if params ~= nil and type(params) ~= "table" then
    errors.raise("ValidationError", op.snake .. " expects a table of parameters, got " .. type(params), { field = "params" })
  end
  opts = opts or {}
  if type(opts) ~= "table" then errors.validation("options", "pagination options must be a table") end
  local max_pages = option(opts, "max_pages", M.MAX_PAGES)
  local max_seconds = option(opts, "max_seconds", M.MAX_SECONDS)
  local in_tok, out_tok = pg.input_token, names.snake(pg.output_token)
  local in_snake = names.snake(in_tok)
  local base = {}
  for k, v in next, params or {} do base[k] = v end
  local token = base[in_tok]
  if token == nil then token = base[in_snake] end
  base[in_tok] = nil
  local seen, pages, done = {}, 0, false
  local start = clock()
  return function()
    if done then return nil end
    if pages >= max_pages then
      errors.raise("ResponseError", ("%s: stopped after %d pages (max_pages); the service keeps answering a %s"):format(
        op.name, pages, pg.output_token))
    end
    if pages > 0 and clock() - start > max_seconds then
      errors.raise("ResponseError", ("%s: stopped after %d pages and %.0f s (max_seconds)"):format(
        op.name, pages, clock() - start))
    end
    local p = {}
    for k, v in pairs(base) do p[k] = v end
    p[in_snake] = token
    local res, meta = call(p)
    pages = pages + 1
    meta.page = pages
    local nxt = res[out_tok]
    if nxt == nil or nxt == "" then
      done = true
    elseif nxt == token or seen[nxt] then
      errors.raise("ResponseError", ("%s returned the same %s twice; stopping the pagination"):format(
        op.name, pg.output_token), { request_id = meta.request_id, status = meta.status })
    else
      if pages <= max_pages then seen[nxt] = true end
      token = nxt
    end
    return res, meta
  end
end

--- Item iterator over the result key of every page; yields item, page
--- (page = { number, request_id }).
function M.items(op, call, clock, params, opts)
  local pg = op.paginator
  local next_page = M.pages(op, call, clock, params, opts)
  local key = names.snake(type(pg.result_key) == "table" and pg.result_key[1] or pg.result_key)
  local list, i, info = nil, 0, nil
  return function()
    while true do
      if list and i < #list then
        i = i + 1
        return list[i], info
      end
      local res, meta = next_page()
      if res == nil then return nil end
      list, i = res[key] or {}, 0
      info = { number = meta.page, request_id = meta.request_id }
    end
  end
end

return M
