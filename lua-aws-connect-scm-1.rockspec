rockspec_format = "3.0"
package = "lua-aws-connect"
version = "scm-1"
-- `luarocks make` builds this checkout and fetches nothing. A source rock
-- needs the sources as an archive: `make rock` writes this checkout to
-- build/rock/lua-aws-connect-scm-1.tar.gz and packs it with a copy of this
-- rockspec whose url names that file (luarocks pack, offline); the url below
-- is that archive, looked up in the folder luarocks runs in.
source = {
  url = "file://lua-aws-connect-scm-1.tar.gz",
  dir = "lua-aws-connect-scm-1",
}
description = {
  summary = "Create and manage Amazon Connect instances from Lua and OpenResty",
  detailed = [[
A C core signs requests (AWS Signature Version 4 with OpenSSL), sends them
(libcurl) and converts JSON (cJSON); a Lua layer validates parameters,
resolves configuration and credentials, retries safely and raises typed
errors. Inside nginx it sends through cosockets.
  ]],
  license = "Apache-2.0",
}
-- Only "lua" here: no LuaRocks server is assumed to be reachable.
dependencies = {
  "lua >= 5.1",
}
-- curl's header lives in the multiarch include directory on Debian, which
-- the compiler searches by itself; LuaRocks finds the libraries there too.
external_dependencies = {
  CURL = { library = "curl" },
  CJSON = { header = "cjson/cJSON.h", library = "cjson" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
}
-- The Makefile does the work. ROCK_LUA (the interpreter) and LUA_INCDIR give
-- each Lua its own build folder (build/luarocks/<lua>-<include dir>), so
-- 5.4, 5.1 and LuaJIT builds never share objects, and ROCK_LUA is written
-- into the installed aws-connect. The same variables go to both passes, so
-- the install pass finds the build up to date.
build = {
  type = "make",
  build_target = "build",
  install_target = "install",
  variables = {
    ROCK_LUA = "$(LUA)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
    DEP_CFLAGS = "-I$(CURL_INCDIR) -I$(CJSON_INCDIR) -I$(OPENSSL_INCDIR)",
    CORE_LIBS = "-L$(CJSON_LIBDIR) -L$(OPENSSL_LIBDIR) -lcjson -lcrypto",
    CURL_LIBS = "-L$(CURL_LIBDIR) -lcurl",
  },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
    INST_BINDIR = "$(BINDIR)",
  },
}
