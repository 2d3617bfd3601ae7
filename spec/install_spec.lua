-- Installing and building as the README's Installing section shows it, and
-- the newcomer's first run (issue 10): flags resolved when the build runs
-- (a missing pkg-config module stops it with the package to install, a
-- change of flags rebuilds), `make deps` where there is no dpkg, the
-- aws-connect command with whatever `lua` points at (from the checkout,
-- after `make install`, after `luarocks make` for 5.4 and for 5.1/LuaJIT in
-- either order), `luarocks pack` and the packed rocks installed offline,
-- `make test` ending with its count line when a spec fails, `make help`.
-- Builds go to scratch folders under /tmp; nothing is installed outside them.

local fake = require("spec.support.fake_server")
local nginx = require("spec.support.nginx")
local helpers = require("spec.support.helpers")

local LUA = os.getenv("AWSC_LUA") or "lua5.4"
local q = fake.shell_quote
-- make as a user runs it, also when this runs inside `make test`
local MAKE = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u EXTRA_COUNTS -u EVERY_LUA -u SANITIZE make --no-print-directory "
local root = nginx.root()

local capture, write = helpers.capture, helpers.write

local function have(cmd)
  return capture("command -v " .. q(cmd) .. " 2>/dev/null") ~= ""
end

local function mktemp_dir()
  local d = helpers.tmpdir("install")
  os.execute("chmod 755 " .. q(d))
  return d
end

local rm = helpers.rmdir

-- Runs cmd with sh in dir (default: the repository) with env as its whole
-- environment (nil: the current one); returns exit code, stdout, stderr.
local function run(cmd, env, dir)
  local parts = {}
  if env then
    parts[1] = "env -i"
    for k, v in pairs(env) do parts[#parts + 1] = q(k .. "=" .. v) end
  end
  parts[#parts + 1] = "sh -c " .. q(cmd)
  local tmp = os.tmpname()
  local p = io.popen("cd " .. q(dir or root) .. " && " .. table.concat(parts, " ") .. " >" .. q(tmp .. ".out")
    .. " 2>" .. q(tmp .. ".err") .. "; echo $?")
  local rc = tonumber(p:read("*a"):match("(%d+)"))
  p:close()
  local out, err = fake.read_file(tmp .. ".out") or "", fake.read_file(tmp .. ".err") or ""
  os.remove(tmp); os.remove(tmp .. ".out"); os.remove(tmp .. ".err")
  return rc, out, err
end

local function must(cmd, env, dir)
  local rc, out, err = run(cmd, env, dir)
  assert(rc == 0, ("`%s` exited %s:\n%s\n%s"):format(cmd, tostring(rc), out, err))
  return out, err
end

local function files_under(dir, pattern)
  local list = {}
  for l in capture("cd " .. q(dir) .. " && find . -type f " .. (pattern or "") .. " | sed 's|^\\./||' | sort")
      :gmatch("[^\n]+") do
    list[#list + 1] = l
  end
  return list
end

-- the other Luas of this machine, each as a folder whose `lua` is that Lua
local function lua_dirs(scratch)
  local dirs = {}
  for _, l in ipairs({ "lua5.1", "lua5.3", "lua5.4", "luajit" }) do
    if have(l) then
      local d = scratch .. "/as-" .. l
      os.execute("mkdir -p " .. q(d) .. " && ln -sf \"$(command -v " .. l .. ")\" " .. q(d .. "/lua"))
      dirs[#dirs + 1] = { name = l, dir = d }
    end
  end
  return dirs
end

describe("installing", function()
  local srv, scratch

  local function env(path, extra)
    local e = {
      PATH = path .. ":" .. (os.getenv("PATH") or "/usr/bin:/bin"), HOME = scratch,
      AWS_REGION = "us-east-1", AWS_ACCESS_KEY_ID = "AKIDFAKE", AWS_SECRET_ACCESS_KEY = "secret",
      AWS_ENDPOINT_URL_CONNECT = srv.endpoint, AWS_EC2_METADATA_DISABLED = "true",
      AWS_CONFIG_FILE = scratch .. "/no-config", AWS_SHARED_CREDENTIALS_FILE = scratch .. "/no-credentials",
    }
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end

  -- aws-connect (cmd) can call the fake server: it lists one instance it made
  local function calls_fake(cmd, path, alias)
    local out = must(cmd .. " create-instance --identity-management-type CONNECT_MANAGED --inbound-calls-enabled "
      .. "--no-outbound-calls-enabled --instance-alias " .. alias, env(path), scratch)
    assert.truthy(out:find("arn:aws:connect:", 1, true), out)
    local found = false
    for _, i in ipairs(srv:instances()) do found = found or i.InstanceAlias == alias end
    assert.is_true(found, alias)
  end

  setup(function()
    scratch = mktemp_dir()
    srv = fake.start{ create_delay = 0, quota = 1000 }
  end)
  teardown(function()
    if srv then srv:stop() end
    rm(scratch)
  end)

  describe("the build", function()
    it("stops with the package to install when pkg-config lacks a module, and builds nothing", function()
      local b = scratch .. "/nopkg"
      local rc, out, err = run(MAKE .. "LUA=" .. LUA .. " BUILD=" .. q(b) .. " PKG=false build")
      assert.are_not.equal(0, rc)
      local pkg = capture("sh tools/deps.sh --package build pc:libcjson"):gsub("%s+$", "")
      assert.truthy(err:find("cannot find libcjson: install " .. pkg, 1, true), out .. err)
      assert.truthy(err:find("finds no Lua headers for " .. LUA, 1, true), err)
      assert.is_nil(io.open(b .. "/aws_connect/core.so", "rb"))
    end)

    it("rebuilds when a flag changes, and only then", function()
      local b = scratch .. "/flags"
      local make = MAKE .. "LUA=" .. LUA .. " BUILD=" .. q(b) .. " build"
      must(make)
      local out = must(make)
      assert.is_nil(out:find("-c src/", 1, true), out)
      out = must(make .. " CFLAGS='-O1 -g'")
      assert.truthy(out:find("%-O1 %-g .*%-c src/core%.c"), out)
      assert.truthy(fake.read_file(b .. "/config.mk"):find("\nCFLAGS := -O1 -g\n", 1, true))
      out = must(make .. " CFLAGS='-O1 -g'")
      assert.is_nil(out:find("-c src/", 1, true), out)
    end)
  end)

  describe("make deps without dpkg", function()
    it("is quiet and succeeds when everything is there", function()
      local rc, out, err = run("AWSC_DEPS_SYSTEM=fedora sh tools/deps.sh --lua " .. LUA .. " build " .. LUA)
      assert.are.equal(0, rc, out .. err)
      assert.are.equal("", out)
    end)

    it("lists what is missing with that system's package names and fails", function()
      local rc, out = run("AWSC_DEPS_SYSTEM=alpine PKG=false sh tools/deps.sh build lua5.4")
      assert.are.equal(1, rc)
      assert.truthy(out:find("missing on alpine", 1, true), out)
      assert.truthy(out:find("pc:libcjson\tcjson-dev", 1, true), out)
      assert.truthy(out:find("deps: install with: apk add curl-dev cjson-dev openssl-dev lua5.4-dev", 1, true), out)
      rc, out = run("AWSC_DEPS_SYSTEM=fedora PKG=false sh tools/deps.sh build lua5.4")
      assert.are.equal(1, rc)
      assert.truthy(out:find("dnf install libcurl-devel cjson-devel openssl-devel lua-devel", 1, true), out)
    end)

    it("names in the README every Debian package it installs", function()
      local readme = assert(fake.read_file(root .. "/README.md"))
      local list = must("sh tools/deps.sh --list build lua5.1 lua5.3 lua5.4 luajit demo test nginx rocks sanitize fuzz bench")
      for pkg in list:gmatch("%S+") do
        assert.truthy(readme:find(pkg, 1, true), pkg .. " is not in the README's package table")
      end
    end)
  end)

  describe("bin/aws-connect in a checkout", function()
    it("runs as a command whatever `lua` points at, with a Lua that has a build", function()
      must(MAKE .. "LUA=" .. LUA .. " build")
      for _, l in ipairs(lua_dirs(scratch)) do
        local out = must("lua -v >&2; bin/aws-connect --help", env(l.dir), root)
        assert.truthy(out:find("^usage: aws%-connect "), l.name .. ": " .. out)
        calls_fake(root .. "/bin/aws-connect", l.dir, "checkout-" .. l.name:gsub("%.", ""))
      end
    end)

    it("says which build is missing", function()
      local copy = scratch .. "/bare"
      must(("mkdir -p %s && cp -r bin lua %s/"):format(q(copy), q(copy)))
      local rc, out, err = run("bin/aws-connect --help", env(scratch), copy)
      assert.are.equal(255, rc)
      assert.are.equal("", out)
      assert.truthy(err:find("^aws%-connect: no build in .*/build/ for lua5%.4, lua5%.3, lua5%.1 or luajit: run 'make'"), err)
      rc, out, err = run(LUA .. " bin/aws-connect --help", env(scratch), copy)
      assert.are.equal(255, rc)
      assert.are.equal("", out)
      local name = LUA == "luajit" and "luajit" or LUA
      assert.truthy(err:find("has no build for " .. name .. " (", 1, true), err)
      assert.truthy(err:find("run 'make LUA=" .. name .. "'", 1, true), err)
    end)
  end)

  describe("make install", function()
    local prefix

    setup(function()
      prefix = scratch .. "/prefix"
      must(MAKE .. "LUA=" .. LUA .. " install PREFIX=" .. q(prefix))
    end)

    it("installs every Lua file under lua/ and every data file, beside the C modules", function()
      local abi = LUA == "luajit" and "5.1" or LUA:match("%d+%.%d+")
      local luadir = prefix .. "/share/lua/" .. abi
      assert.are.same(files_under(root .. "/lua", "-name '*.lua'"), files_under(luadir, "-name '*.lua'"))
      assert.are.same(files_under(root .. "/data"), files_under(luadir .. "/aws_connect/data"))
      assert.truthy(io.open(prefix .. "/lib/lua/" .. abi .. "/aws_connect/core.so", "rb"))
      assert.truthy(io.open(prefix .. "/lib/lua/" .. abi .. "/aws_connect/curl.so", "rb"))
    end)

    it("writes the interpreter it was built for into aws-connect, which runs whatever `lua` is", function()
      local first = fake.read_file(prefix .. "/bin/aws-connect"):match("^[^\n]*")
      assert.are.equal("#!" .. capture("command -v " .. LUA):gsub("%s+$", ""), first)
      for _, l in ipairs(lua_dirs(scratch)) do
        local out = must("aws-connect --help", env(prefix .. "/bin:" .. l.dir), scratch)
        assert.truthy(out:find("^usage: aws%-connect "), out)
      end
      calls_fake(prefix .. "/bin/aws-connect", scratch, "installed")
    end)

    it("uninstalls what it installed", function()
      must(MAKE .. "LUA=" .. LUA .. " uninstall PREFIX=" .. q(prefix))
      assert.are.same({}, files_under(prefix, "-name 'aws*'"))
    end)
  end)

  -- LuaRocks does not depend on the interpreter busted runs on: once per suite.
  describe("luarocks", function()
    if not have("luarocks") then
      it("needs luarocks", function() pending("luarocks is not installed (make deps-rocks)") end)
      return
    end
    if LUA ~= "lua5.4" then
      it("runs once, with the suite on lua5.4", function() pending("the LuaRocks specs run with AWSC_LUA=lua5.4") end)
      return
    end
    local incdir = nginx.luajit_incdir()
    -- LuaRocks runs make; two jobs keep it short
    local LR = "env -u MAKELEVEL MAKEFLAGS=-j2 luarocks "
    local ROCKSPEC = "lua-aws-connect-scm-1.rockspec"

    local function checkout()
      local d = mktemp_dir()
      must(("tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C %s"):format(q(d)))
      return d
    end

    -- the module each Lua loads from tree: its own files, and it works
    local function loads(tree, interp, ver)
      local code = ("package.path=%q..package.path package.cpath=%q..package.cpath "
        .. "local c=require('aws_connect.core') print(package.searchpath('aws_connect.core', package.cpath)) "
        .. "print(type(c.sign))"):format(tree .. "/share/lua/" .. ver .. "/?.lua;" .. tree .. "/share/lua/" .. ver
        .. "/?/init.lua;", tree .. "/lib/lua/" .. ver .. "/?.so;")
      local out = must(interp .. " -e " .. q(code))
      assert.are.equal(tree .. "/lib/lua/" .. ver .. "/aws_connect/core.so\nfunction\n", out)
    end

    local function both(order)
      local d = checkout()
      finally(function() rm(d) end)
      local tree = d .. "/tree"
      local steps = {
        ["5.4"] = LR .. "--lua-version 5.4 --tree " .. q(tree) .. " make " .. ROCKSPEC,
        ["jit"] = LR .. "--lua-version 5.1 --tree " .. q(tree) .. " make " .. ROCKSPEC .. " LUA_INCDIR=" .. q(incdir),
      }
      for _, s in ipairs(order) do must(steps[s], nil, d) end
      -- one build folder per Lua: the LuaJIT headers' build is not the 5.4 one
      local folders = files_under(d .. "/build/luarocks", "-name config.mk")
      assert.are.equal(2, #folders, table.concat(folders, " "))
      local jit_conf = folders[1]:find("%-" .. incdir:match("[^/]+$"):gsub("%p", "%%%0") .. "/config%.mk$") and folders[1]
        or folders[2]
      assert.truthy(fake.read_file(d .. "/build/luarocks/" .. jit_conf):find("LUA_CFLAGS := -I" .. incdir, 1, true),
        table.concat(folders, " "))
      local other_conf = jit_conf == folders[1] and folders[2] or folders[1]
      assert.truthy(fake.read_file(d .. "/build/luarocks/" .. other_conf):find("lua5.4", 1, true), other_conf)
      loads(tree, "lua5.4", "5.4")
      loads(tree, "luajit", "5.1")
      -- the tree's aws-connect (LuaRocks' wrapper for the last Lua installed) works
      calls_fake(tree .. "/bin/aws-connect", scratch, "rock-" .. order[1]:gsub("%.", ""))
      return d, tree
    end

    it("installs working modules for 5.4 then 5.1/LuaJIT (the README's order) and packs offline a binary rock "
      .. "of what is installed, which installs in another tree", function()
      local d, tree = both({ "5.4", "jit" })
      local other = d .. "/other"
      must(LR .. "--lua-version 5.4 --tree " .. q(tree) .. " pack lua-aws-connect", nil, d)
      local bin_rock = capture("cd " .. q(d) .. " && ls lua-aws-connect-scm-1.*.rock"):gsub("%s+$", "")
      assert.truthy(bin_rock:match("^lua%-aws%-connect%-scm%-1%.[%w_-]+%.rock$"), bin_rock)
      must(LR .. "--lua-version 5.4 --tree " .. q(other) .. " install " .. q(bin_rock), nil, d)
      loads(other, "lua5.4", "5.4")
      calls_fake(other .. "/bin/aws-connect", scratch, "packed-binary")
    end)

    -- LuaRocks takes some 15 s a build: the rest runs with the suite on every
    -- Lua (make test EVERY_LUA=1, as CI does)
    if not os.getenv("EVERY_LUA") then
      it("builds in the other order and packs a source rock (with EVERY_LUA=1)", function()
        pending("make test EVERY_LUA=1 runs these")
      end)
      return
    end

    it("installs working modules for 5.4 and 5.1/LuaJIT: LuaJIT first, then 5.4", function()
      both({ "jit", "5.4" })
    end)

    it("packs offline a source rock of the checkout (make rock), which builds and installs", function()
      local d = checkout()
      finally(function() rm(d) end)
      local out = must(MAKE .. "rock", nil, d)
      local src_rock = out:match("rock: (%S+%.src%.rock)")
      assert.truthy(src_rock, out)
      local third = d .. "/third"
      must("cd / && " .. LR .. "--lua-version 5.4 --tree " .. q(third) .. " install " .. q(src_rock), nil, d)
      loads(third, "lua5.4", "5.4")
      calls_fake(third .. "/bin/aws-connect", scratch, "packed-source")
    end)
  end)
end)

describe("make", function()
  it("test ends with its count line when a spec fails, and exits non-zero", function()
    local d = mktemp_dir()
    finally(function() rm(d) end)
    must(("cp -r Makefile mk tools %s/ && mkdir -p %s/spec"):format(q(d), q(d)))
    write(d .. "/spec/one_spec.lua", 'describe("x", function() it("passes", function() end) '
      .. 'it("fails", function() assert.is_true(false) end) end)\n')
    local rc, out = run(MAKE .. "test LUA=" .. LUA .. " TEST_DEPS= TEST_BUILDS= TEST_EXTRA= LUACHECK=true", nil, d)
    assert.are_not.equal(0, rc)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    -- lint (1 passed) and the spec file (1 passed, 1 failed)
    assert.are.equal("2 passed, 1 failed", lines[#lines], out)
  end)

  it("help lists the targets in one screen", function()
    local out = must(MAKE .. "help")
    local n = 0
    for l in out:gmatch("[^\n]+") do
      n = n + 1
      assert.is_true(#l <= 110, l)
    end
    assert.is_true(n <= 24, n .. " lines")
    for _, t in ipairs({ "demo", "test", "install", "deps", "rock", "lint", "bench", "fresh-check", "clean" }) do
      assert.truthy(out:find("make " .. t, 1, true), t)
    end
  end)
end)
