#!/bin/sh
# tools/gen-bin.sh LUA_BIN LUADIR LIBDIR OUT - writes the aws-connect command
# that `make install` installs: a Lua script for one interpreter (LUA_BIN,
# written into its first line, as LuaRocks' wrappers do), which finds the
# modules in LUADIR and LIBDIR (the install folders, which need not be on
# the interpreter's default path) and runs aws_connect.cli. Under LuaRocks
# the rock's wrapper runs it and sets the paths itself; the folders are then
# gone (the files were deployed) and the script leaves package.path alone.
set -eu
lua_bin="$1"; luadir="$2"; libdir="$3"; out="$4"
case "$lua_bin" in
  /usr/bin/env\ *|/*) ;;
  *) echo "gen-bin: the interpreter '$lua_bin' is not an absolute path" >&2; exit 1 ;;
esac
for v in "$luadir" "$libdir"; do
  case "$v" in *"]==]"*) echo "gen-bin: unusable folder name: $v" >&2; exit 1 ;; esac
done
mkdir -p "$(dirname "$out")"
cat >"$out" <<EOF
#!$lua_bin
-- aws-connect, installed by \`make install\` for $lua_bin: the command-line
-- tool (the aws_connect.cli module) run with the interpreter its C modules
-- were built for.
local luadir, libdir = [==[$luadir]==], [==[$libdir]==]
local f = io.open(luadir .. "/aws_connect/cli/init.lua", "r")
if f then
  f:close()
  package.path = luadir .. "/?.lua;" .. luadir .. "/?/init.lua;" .. package.path
  package.cpath = libdir .. "/?.so;" .. package.cpath
end
os.exit(require("aws_connect.cli").main(arg))
EOF
chmod 755 "$out"
