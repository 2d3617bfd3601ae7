-- aws_connect.cli.format: writes a document in the output format the
-- AWS CLI was asked for (json, text, table, yaml, yaml-stream), applying
-- --query first as the AWS CLI's formatters do. Each formatter lives in its
-- own file and is loaded only when used.

local values = require("aws_connect.jmespath.values")

local M = {}

M.FORMATS = { "json", "text", "table", "yaml", "yaml-stream" }

local function empty_object(v)
  return values.jtype(v) == "object" and v ~= values.NULL and next(v) == nil
end
M.empty_object = empty_object

--- The query's result on doc (query: a compiled expression or nil);
--- raises a usage-style error for a runtime JMESPath error.
function M.apply(query, doc)
  if not query then return doc end
  local v, err = query:search(doc)
  if v == nil then error(err, 0) end
  return v
end

--- The text to print for doc. o = { format, query, title (the operation
--- name, for tables), width (terminal columns) }.
function M.render(doc, o)
  local f = o.format
  if f == "json" then
    local v = M.apply(o.query, doc)
    if empty_object(v) then return "" end
    return require("aws_connect.cli.format.json").encode(v) .. "\n"
  elseif f == "text" then
    return require("aws_connect.cli.format.text").format(M.apply(o.query, doc))
  elseif f == "table" then
    return require("aws_connect.cli.format.table").format(o.title, M.apply(o.query, doc), { width = o.width })
  elseif f == "yaml" or f == "yaml-stream" then
    local v = M.apply(o.query, doc)
    if empty_object(v) then return "" end
    if f == "yaml-stream" then v = values.new_array({ v }) end
    return require("aws_connect.cli.format.yaml").encode(v)
  end
  error("unknown output format " .. tostring(f), 0)
end

return M
