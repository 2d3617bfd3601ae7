# mk/multi.mk - every Lua: one C source, one build per Lua ABI
# (build/lua5.1, build/lua5.3, build/lua5.4, build/luajit), and the whole
# spec suite run on each.
#   make build-all       build core.so for every Lua below
#   make test-all        deps, lint, every spec on every Lua, extra suites;
#                        ends with "N passed, N failed" like make test
# The LuaJIT build (OpenResty's luajit2 headers, pkg-config luajit) is the
# one nginx loads in spec/nginx_spec.lua, so make test builds it too.

ALL_LUAS := lua5.1 lua5.3 lua5.4 luajit

# Debian's `luajit` package is plain LuaJIT and conflicts with luajit2, the
# OpenResty branch ngx_http_lua links; luajit2 also gives /usr/bin/luajit
# (tools/packages.txt names it). deps-every-lua installs every Lua.
deps-every-lua:
	@$(DEPS) build $(ALL_LUAS)

.PHONY: build-all build-luajit test-all deps-every-lua

build-all:
	@for l in $(ALL_LUAS); do $(MAKE) --no-print-directory LUA=$$l build || exit 1; done

build-luajit:
	@$(MAKE) --no-print-directory LUA=luajit build

# make test builds it after its deps are in (TEST_BUILDS runs in order)
TEST_BUILDS += build-luajit
spec: build-luajit

test-all:
	@$(MAKE) --no-print-directory deps-test deps-every-lua
	@$(MAKE) --no-print-directory build-all
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory lint || echo "0 1 0" >>$(RESULTS)/counts
	@for l in $(ALL_LUAS); do echo "== specs on $$l"; sh tools/run-specs.sh $$l $(RESULTS); done
	@for t in $(TEST_EXTRA); do $(MAKE) --no-print-directory $$t RESULTS=$(RESULTS) || echo "0 1 0" >>$(RESULTS)/counts; done
	@sh tools/summary.sh $(RESULTS)

# make test EVERY_LUA=1 (what .ci/run does) adds the suite on the other three
# Luas to make test, so that one run ends with one count line.
OTHER_LUAS := $(filter-out $(LUA),$(ALL_LUAS))
ifdef EVERY_LUA
TEST_EXTRA += $(addprefix specs-,$(OTHER_LUAS))
TEST_DEPS += deps-every-lua
endif

specs-%:
	@$(MAKE) --no-print-directory LUA=$* build
	@echo "== specs on $*"
	@sh tools/run-specs.sh $* $(RESULTS)
