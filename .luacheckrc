-- luacheck configuration (Debian's lua-check)
std = "max"
max_line_length = 130
codes = true
files["spec"] = { std = "+busted" }
files["bench"] = { std = "+busted" }
globals = {}
self = false
read_globals = { "ngx", "jit" }
exclude_files = { "build/", "spec/vectors/", "lua/aws_connect/model/*/*.lua" }  -- generated data
-- directories give only *.lua files; the command-line tool has no extension
include_files = { "**/*.lua", "bin/aws-connect" }
