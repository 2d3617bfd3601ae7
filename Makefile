# lua-aws-connect - build, test, demo, install; `make help` lists the targets.
#
# Flags are resolved when a build runs, never while this file is parsed:
# tools/configure.sh writes build/<lua>/config.mk (after `make deps` has
# installed what pkg-config is asked about), every object depends on that
# file, and it is only rewritten when a flag changed. A pkg-config module
# that is missing stops the build with the package to install.

LUA      ?= lua5.4
VERSION  := 0.1.0
PKG      ?= pkg-config

# pkg-config names tried for each Lua (Debian's first); luajit's headers
# serve the 5.1 ABI.
LUA_PC_lua5.1   := lua5.1 lua-5.1 lua51
LUA_PC_lua5.3   := lua5.3 lua-5.3 lua53
LUA_PC_lua5.4   := lua5.4 lua-5.4 lua54
LUA_PC_luajit   := luajit
LUA_PC          := $(or $(LUA_PC_$(LUA)),$(LUA))
LUA_ABI_lua5.1  := 5.1
LUA_ABI_lua5.3  := 5.3
LUA_ABI_lua5.4  := 5.4
LUA_ABI_luajit  := 5.1
LUA_ABI         := $(or $(LUA_ABI_$(LUA)),5.4)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -Werror=implicit-function-declaration
LDFLAGS  ?=
LIBFLAG  ?= -shared

# Under LuaRocks (the rockspec passes ROCK_LUA, the interpreter, and
# LUA_INCDIR) every Lua gets a build folder of its own: 5.4, 5.1 and LuaJIT
# headers never share objects.
ifdef ROCK_LUA
BUILD    ?= build/luarocks/$(notdir $(ROCK_LUA))-$(notdir $(patsubst %/,%,$(LUA_INCDIR)))
else
BUILD    ?= build/$(LUA)
endif
OBJDIR   := $(BUILD)/obj
CONFIG   := $(BUILD)/config.mk
SO       := $(BUILD)/aws_connect/core.so
CURL_SO  := $(BUILD)/aws_connect/curl.so
SRCS     := $(wildcard src/*.c)
CURL_SRCS := src/session.c src/http.c
CORE_SRCS := $(filter-out $(CURL_SRCS),$(SRCS))
OBJS     := $(patsubst src/%.c,$(OBJDIR)/%.o,$(CORE_SRCS))
CURL_OBJS := $(patsubst src/%.c,$(OBJDIR)/%.o,$(CURL_SRCS))
HDRS     := $(wildcard src/*.h)

# The four library flags: as given to make (LuaRocks gives all four), else
# from pkg-config through $(CONFIG). Before the first build (a target of
# mk/*.mk run alone) they fall back to asking pkg-config when used.
FLAG_VARS := LUA_CFLAGS DEP_CFLAGS CORE_LIBS CURL_LIBS
given     = $(if $(filter command line environment override,$(origin $(1))),$($(1)))
REQ_LUA_CFLAGS := $(call given,LUA_CFLAGS)
REQ_DEP_CFLAGS := $(call given,DEP_CFLAGS)
REQ_CORE_LIBS  := $(call given,CORE_LIBS)
REQ_CURL_LIBS  := $(call given,CURL_LIBS)
PC_LUA_CFLAGS   = $(PKG) --cflags $(firstword $(LUA_PC))
PC_DEP_CFLAGS   = $(PKG) --cflags libcurl libcjson openssl
PC_CORE_LIBS    = $(PKG) --libs libcjson libcrypto
PC_CURL_LIBS    = $(PKG) --libs libcurl
conf = $(if $(wildcard $(CONFIG)),$(shell sed -n 's/^$(1) := //p' $(CONFIG)),$(shell $(PC_$(1)) 2>/dev/null))
ifeq ($(filter command line override,$(origin LUA_CFLAGS)),)
LUA_CFLAGS = $(call conf,LUA_CFLAGS)
endif
ifeq ($(filter command line override,$(origin DEP_CFLAGS)),)
DEP_CFLAGS = $(call conf,DEP_CFLAGS)
endif
ifeq ($(filter command line override,$(origin CORE_LIBS)),)
CORE_LIBS = $(call conf,CORE_LIBS)
endif
ifeq ($(filter command line override,$(origin CURL_LIBS)),)
CURL_LIBS = $(call conf,CURL_LIBS)
endif
# core.so needs cJSON and libcrypto; curl.so (the libcurl session) libcurl.
DEP_LIBS  = $(CORE_LIBS) $(CURL_LIBS)
ALL_CFLAGS = -std=gnu11 -fPIC -fvisibility=hidden $(WARN) $(CFLAGS) $(LUA_CFLAGS) $(DEP_CFLAGS) \
             -DAWSC_VERSION='"$(VERSION)"'

PREFIX      ?= /usr/local
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_ABI)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA_ABI)
INST_BINDIR ?= $(PREFIX)/bin
# the interpreter written into the installed aws-connect
LUA_BIN     ?= $(or $(ROCK_LUA),$(shell command -v $(LUA) 2>/dev/null),/usr/bin/env $(LUA))

PYTHON   := /usr/bin/python3
BUSTED   ?= /usr/bin/busted
LUACHECK ?= luacheck
RESULTS  := build/results
DEPS     := sh tools/deps.sh

# Dependencies by purpose (tools/packages.txt has the packages of each).
# mk/*.mk add the deps of their own suites to TEST_DEPS when make test runs them.
TEST_DEPS := deps-test

.PHONY: all build configure deps deps-build deps-demo deps-test deps-nginx deps-rocks deps-all \
        demo test spec lint install uninstall clean help FORCE

all: build
build: $(SO) $(CURL_SO)
configure: $(CONFIG)

# Always asked, rewritten only when a flag changed (objects depend on it).
$(CONFIG): FORCE
	@CONF_LUA='$(LUA)' CONF_LUA_PC='$(LUA_PC)' CONF_LUA_ABI='$(LUA_ABI_$(LUA))' PKG='$(PKG)' CC='$(CC)' \
	  CFLAGS='$(CFLAGS)' LDFLAGS='$(LDFLAGS)' LIBFLAG='$(LIBFLAG)' \
	  LUA_CFLAGS='$(REQ_LUA_CFLAGS)' DEP_CFLAGS='$(REQ_DEP_CFLAGS)' \
	  CORE_LIBS='$(REQ_CORE_LIBS)' CURL_LIBS='$(REQ_CURL_LIBS)' \
	  sh tools/configure.sh $@
FORCE:

$(OBJDIR)/%.o: src/%.c $(HDRS) $(CONFIG) Makefile
	@mkdir -p $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SO): $(OBJS) $(CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(OBJS) $(CORE_LIBS)

$(CURL_SO): $(CURL_OBJS) $(CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(CURL_OBJS) $(CURL_LIBS)

# `make deps` is what the two commands need. On Debian and Ubuntu the
# missing packages are installed (as root); elsewhere they are listed with
# that system's names, and nothing fails when all is present.
deps: deps-test
deps-build:
	@$(DEPS) --lua $(LUA) build $(LUA)
deps-demo:
	@$(DEPS) --lua $(LUA) build $(LUA) demo
deps-test:
	@$(DEPS) --lua $(LUA) build $(LUA) lua5.4 luajit demo test nginx rocks
deps-nginx:
	@$(DEPS) --lua luajit build luajit nginx
deps-rocks:
	@$(DEPS) rocks
deps-all:
	@$(DEPS) --lua $(LUA) build lua5.1 lua5.3 lua5.4 luajit demo test nginx rocks sanitize fuzz bench

# The two commands: each step after the one before (also under make -j).
demo:
	@$(MAKE) --no-print-directory deps-demo
	@$(MAKE) --no-print-directory build
	@sh examples/run-demo.sh $(LUA)

# Extra suites that mk/*.mk files add (each appends its counts to
# $(RESULTS)/counts through tools/run-specs.sh or its own line).
TEST_EXTRA ?=
# Builds make test needs beyond $(LUA) (mk/multi.mk adds the LuaJIT one).
TEST_BUILDS ?= build

# Count lines to add, from a run outside make test (.ci/run: the fresh check).
EXTRA_COUNTS ?=

# Runs lint and every spec. Whatever fails (deps, build, lint, a spec, an
# extra suite) is counted, and the last line is always the count line CI
# reads, "N passed, N failed[, N skipped]"; the exit status is 1 when
# anything failed.
test:
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@if [ -n "$(EXTRA_COUNTS)" ]; then cat "$(EXTRA_COUNTS)" >>$(RESULTS)/counts; fi
	@ok=1; for t in $(TEST_DEPS); do $(MAKE) --no-print-directory $$t || ok=; done; \
	for t in $(TEST_BUILDS); do [ -z "$$ok" ] || $(MAKE) --no-print-directory $$t || ok=; done; \
	if [ -z "$$ok" ]; then echo "test: the dependencies or the build failed (above); nothing was run"; \
	  echo "0 1 0" >>$(RESULTS)/counts; sh tools/summary.sh $(RESULTS); exit 1; fi
	@if $(MAKE) --no-print-directory lint >$(RESULTS)/lint.log 2>&1; then echo "1 0 0" >>$(RESULTS)/counts; \
	  else cat $(RESULTS)/lint.log; echo "lint: failed"; echo "0 1 0" >>$(RESULTS)/counts; fi
	@sh tools/run-specs.sh $(LUA) $(RESULTS)
	@for t in $(TEST_EXTRA); do $(MAKE) --no-print-directory $$t RESULTS=$(RESULTS) || echo "0 1 0" >>$(RESULTS)/counts; done
	@sh tools/summary.sh $(RESULTS)

spec: build
	@sh tools/run-specs.sh $(LUA) $(RESULTS)

lint:
	$(LUACHECK) --quiet lua spec bin examples bench

# Every .lua file under lua/ and every file under data/ (the models, the
# endpoint rules, their licences), found when installing: no list to keep.
# The data go beside the modules, in aws_connect/data/, where the library
# looks first. The command is written for this build's interpreter.
install: build
	install -d $(DESTDIR)$(INST_LIBDIR)/aws_connect
	install -m 755 $(SO) $(DESTDIR)$(INST_LIBDIR)/aws_connect/core.so
	install -m 755 $(CURL_SO) $(DESTDIR)$(INST_LIBDIR)/aws_connect/curl.so
	sh tools/install-tree.sh lua "$(abspath $(DESTDIR)$(INST_LUADIR))" '*.lua'
	sh tools/install-tree.sh data "$(abspath $(DESTDIR)$(INST_LUADIR))/aws_connect/data"
	sh tools/gen-bin.sh '$(LUA_BIN)' '$(INST_LUADIR)' '$(INST_LIBDIR)' $(BUILD)/bin/aws-connect
	install -d $(DESTDIR)$(INST_BINDIR)
	install -m 755 $(BUILD)/bin/aws-connect $(DESTDIR)$(INST_BINDIR)/aws-connect

uninstall:
	rm -rf $(DESTDIR)$(INST_LIBDIR)/aws_connect $(DESTDIR)$(INST_LUADIR)/aws_connect $(DESTDIR)$(INST_BINDIR)/aws-connect

clean:
	rm -rf build

help:
	@echo "make demo            deps for the demo, build, create an instance against the bundled fake server"
	@echo "make test            deps for the tests, build, lint, every spec (lua5.4 + the LuaJIT nginx spec),"
	@echo "                     fuzz corpus replay, benchmark smoke; ends with \"N passed, N failed\""
	@echo "make                 build build/\$$(LUA)/aws_connect/{core,curl}.so (LUA=lua5.4; also lua5.1 lua5.3 luajit)"
	@echo "make deps            what demo and test need: installs on Debian/Ubuntu, lists elsewhere"
	@echo "make deps-PURPOSE    build demo test nginx rocks every-lua sanitize bench all; fuzz-deps"
	@echo "make install         PREFIX=/usr/local DESTDIR= INST_LUADIR INST_LIBDIR INST_BINDIR; uninstall"
	@echo "make rock            a source rock of this checkout, offline (build/rock/*.src.rock)"
	@echo "make lint            luacheck; make spec: the specs only, no deps, no lint"
	@echo "make build-all       build for every Lua; make test-all: the suite on every Lua"
	@echo "make test EVERY_LUA=1 SANITIZE=1   + the suite on 5.1, 5.3, LuaJIT, valgrind, ASan/UBSan, fuzzing (CI)"
	@echo "make test-valgrind | test-asan | fuzz [FUZZ_SECONDS=60] | fuzz-merge | fuzz-replay"
	@echo "make bench           benchmarks side by side (about 2 minutes); bench-smoke: each once"
	@echo "make fresh-check     the two commands in a clean Debian 12 chroot (root; tools/fresh-debian.sh)"
	@echo "make clean           remove build/"

# Feature makefiles (every Lua, sanitizers, fuzzing, benchmarks, packaging).
-include $(sort $(wildcard mk/*.mk))
