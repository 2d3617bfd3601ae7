# mk/rock.mk - packaging with LuaRocks, offline.
#   make rock       build/rock/lua-aws-connect-scm-1.src.rock from this checkout
#                   (tools/rock.sh); `luarocks install` of that file builds and
#                   installs it for the Lua given with --lua-version
# `luarocks make` (README, Installing) needs no target here.

.PHONY: rock

rock:
	@sh tools/rock.sh build/rock
