rockspec_format = "3.0"
package = "lua-aws-connect"
version = "scm-1"
source = {
  url = "git+file://./lua-aws-connect",
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
build = {
  type = "make",
  build_target = "build",
  build_variables = {
    BUILD = "build/luarocks",
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
    DEP_CFLAGS = "-I$(CURL_INCDIR) -I$(CJSON_INCDIR) -I$(OPENSSL_INCDIR)",
    CORE_LIBS = "-L$(CJSON_LIBDIR) -L$(OPENSSL_LIBDIR) -lcjson -lcrypto",
    CURL_LIBS = "-L$(CURL_LIBDIR) -lcurl",
  },
  install_target = "install",
  install_variables = {
    BUILD = "build/luarocks",
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
    INST_BINDIR = "$(BINDIR)",
  },
}
