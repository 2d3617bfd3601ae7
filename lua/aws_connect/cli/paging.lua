-- aws_connect.cli.paging: the AWS CLI's pagination (botocore paginate.py
-- PageIterator and build_full_result; awscli customizations/paginate.py).
-- Pages are fetched until the service stops answering a NextToken, or
-- until --max-items items: the last page is then cut, and the resume token
-- is base64 of the JSON {"NextToken": <token of that page's request>,
-- "boto_truncate_amount": <items of it already shown>} (or, cut at a page
-- end, {"NextToken": <the next token>}). --starting-token takes such a
-- token, or (as botocore's fallback) a raw service token. The full result
-- holds the result key of every page, then the non-aggregate keys of the
-- first page, then NextToken. Documents are the ordered objects of
-- cli/result.lua; fetch(params) runs one page.

local values = require("aws_connect.jmespath.values")
local jjson = require("aws_connect.jmespath.json")
local core = require("aws_connect.core")
local json = require("aws_connect.cli.format.json")

local M = {}

local NULL, jtype, new_object, new_array = values.NULL, values.jtype, values.new_object, values.new_array

M.MAX_PAGES = 100000

-- Base64 ------------------------------------------------------------------------------

local b64 = require("aws_connect.text")
M.b64encode, M.b64decode = b64.b64encode, b64.b64decode

-- Tokens --------------------------------------------------------------------------------

--- The opaque token of an ordered object (python: base64 of json.dumps).
function M.encode_token(t)
  return M.b64encode(json.compact(t))
end

--- The input token and the truncation of a --starting-token.
function M.decode_token(token, input_token)
  local text = M.b64decode(token)
  local doc = text and core.utf8_valid(text) and jjson.decode(text)
  if jtype(doc) == "object" and doc ~= NULL then
    local index = 0
    local order = {}
    local keys, n = values.keys(doc)
    for i = 1, n do
      if keys[i] ~= "boto_truncate_amount" and keys[i] ~= "boto_encoded_keys" then order[#order + 1] = keys[i] end
    end
    if doc.boto_truncate_amount ~= nil then index = tonumber(doc.boto_truncate_amount) or 0 end
    local t = {}
    for _, k in ipairs(order) do t[k] = doc[k] end
    return new_object(t, order), index
  end
  -- botocore's fallback: TOKEN or TOKEN___INDEX
  local index = 0
  local part = token
  local a, b = token:match("^(.*)___([^_]*)$")
  if a and not a:find("___", 1, true) then
    local ok = b:find("^%s*[+-]?%d+%s*$")
    if ok then part, index = a, tonumber(b) end
  end
  local t = {}
  t[input_token] = part == "None" and NULL or part
  return new_object(t, { input_token }), index
end

local function truthy_token(v)
  if v == nil or v == NULL or v == "" or v == false then return nil end
  return v
end

local function same(a, b)
  return a ~= nil and b ~= nil and values.equal(a, b)
end

local function copy_object(o)
  local keys, n = values.keys(o)
  local t, order = {}, {}
  for i = 1, n do t[keys[i]] = o[keys[i]]; order[i] = keys[i] end
  return new_object(t, order)
end

local function slice(list, from, to)
  local out = {}
  for i = from, to do out[#out + 1] = list[i] end
  return new_array(out)
end

local function len(v)
  local t = jtype(v)
  if t == "array" then return values.len(v) end
  if t == "string" then return #v end
  return 0
end

--- Runs the pages of op. params (AWS names) is copied; o = { max_items,
--- starting_token, page_size }; on_page(page) gets every page as the AWS
--- CLI yields it (cut to max_items). Returns { resume_token,
--- non_aggregate = ordered object }.
function M.run(op, fetch, params, o, on_page)
  local pg = op.paginator
  local in_tok, out_tok, rk = pg.input_token, pg.output_token, pg.result_key
  if type(rk) == "table" then rk = rk[1] end
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  local next_token = new_object({ [in_tok] = NULL }, { in_tok })
  local start_trunc = 0
  if o.starting_token ~= nil then
    next_token, start_trunc = M.decode_token(o.starting_token, in_tok)
    local tok = next_token[in_tok]
    if tok ~= nil and tok ~= NULL and tok ~= "None" then p[in_tok] = tok else p[in_tok] = nil end
  end
  if o.page_size ~= nil then p[pg.limit_key] = o.page_size end
  local state = { non_aggregate = new_object({}, {}) }
  local total, first, prev, pages = 0, true, nil, 0
  local max = o.max_items
  while true do
    pages = pages + 1
    if pages > M.MAX_PAGES then
      error(("Error during pagination: more than %d pages"):format(M.MAX_PAGES), 0)
    end
    local page = fetch(p)
    if first then
      if o.starting_token ~= nil then
        local all = page[rk]
        local t = jtype(all)
        if t == "array" then
          page[rk] = slice(all, start_trunc + 1, values.len(all))
        elseif t == "string" then
          page[rk] = all:sub(start_trunc + 1)
        else
          page[rk] = NULL
        end
      end
      first = false
      local na, order = {}, {}
      for _, k in ipairs(pg.non_aggregate_keys or {}) do
        local v = page[k]
        na[k] = v == nil and NULL or v
        order[#order + 1] = k
      end
      state.non_aggregate = new_object(na, order)
    else
      start_trunc = 0
    end
    local cur = page[rk]
    if cur == nil or cur == NULL then cur = new_array({}) end
    local n = len(cur)
    local trunc = max and (total + n) - max or 0
    if trunc > 0 then
      local keep = n - trunc
      page[rk] = slice(jtype(cur) == "array" and cur or {}, 1, keep)
      local t = copy_object(next_token)
      t.boto_truncate_amount = keep + start_trunc
      getmetatable(t).__order[#getmetatable(t).__order + 1] = "boto_truncate_amount"
      state.resume_token = M.encode_token(t)
      on_page(page, state)
      break
    end
    on_page(page, state)
    total = total + n
    local tok = truthy_token(page[out_tok])
    next_token = new_object({ [in_tok] = tok or NULL }, { in_tok })
    if tok == nil then break end
    if max and total == max then
      state.resume_token = M.encode_token(next_token)
      break
    end
    if same(prev, next_token) then
      error(("Error during pagination: The same next token was received twice: {'%s': '%s'}"):format(
        in_tok, require("aws_connect.cli.argv").shown(tok)), 0)
    end
    p[in_tok] = tok
    prev = next_token
  end
  return state
end

--- The full result of the pages (build_full_result).
function M.full_result(op, pages, state)
  local rk = op.paginator.result_key
  if type(rk) == "table" then rk = rk[1] end
  local out, order = {}, {}
  for _, page in ipairs(pages) do
    local rv = page[rk]
    if rv ~= nil and rv ~= NULL then
      local existing = out[rk]
      if existing == nil then
        out[rk] = jtype(rv) == "array" and slice(rv, 1, values.len(rv)) or rv
        order[#order + 1] = rk
      elseif jtype(rv) == "array" and jtype(existing) == "array" then
        for i = 1, values.len(rv) do existing[#existing + 1] = rv[i] end
      elseif type(rv) == "number" and type(existing) == "number" then
        out[rk] = existing + rv
      elseif type(rv) == "string" and type(existing) == "string" then
        out[rk] = existing .. rv
      end
    end
  end
  local keys, n = values.keys(state.non_aggregate)
  for i = 1, n do
    local k = keys[i]
    if out[k] == nil then order[#order + 1] = k end
    out[k] = state.non_aggregate[k]
  end
  if state.resume_token then
    if out.NextToken == nil then order[#order + 1] = "NextToken" end
    out.NextToken = state.resume_token
  end
  return new_object(out, order)
end

return M
