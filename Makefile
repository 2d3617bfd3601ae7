# lua-aws-connect - build, test, demo.
#   make                 build build/$(LUA)/aws_connect/core.so and curl.so (LUA=lua5.4 by default)
#   make LUA=luajit      build for LuaJIT (also lua5.1, lua5.3) into build/luajit/
#   make test            deps, build, lint, every spec; ends with "N passed, N failed"
#   make demo            deps, build, create an instance against the fake server
#   make install         PREFIX, DESTDIR, INST_LIBDIR, INST_LUADIR, INST_BINDIR

LUA      ?= lua5.4
VERSION  := 0.1.0
CC       ?= cc
PKG      ?= pkg-config

# pkg-config module of each Lua; luajit's headers serve the 5.1 ABI.
LUA_PC_lua5.1   := lua5.1
LUA_PC_lua5.3   := lua5.3
LUA_PC_lua5.4   := lua5.4
LUA_PC_luajit   := luajit
LUA_PC          := $(or $(LUA_PC_$(LUA)),$(LUA))
LUA_ABI_lua5.1  := 5.1
LUA_ABI_lua5.3  := 5.3
LUA_ABI_lua5.4  := 5.4
LUA_ABI_luajit  := 5.1
LUA_ABI         := $(or $(LUA_ABI_$(LUA)),5.4)
LUA_INCDIR      ?= $(shell $(PKG) --variable=includedir $(LUA_PC) 2>/dev/null)
LUA_CFLAGS      ?= $(shell $(PKG) --cflags $(LUA_PC) 2>/dev/null)

DEP_CFLAGS := $(shell $(PKG) --cflags libcurl libcjson openssl 2>/dev/null)
# core.so needs cJSON and libcrypto; curl.so (the libcurl session) libcurl.
CORE_LIBS  := $(shell $(PKG) --libs libcjson libcrypto 2>/dev/null)
CURL_LIBS  := $(shell $(PKG) --libs libcurl 2>/dev/null)
DEP_LIBS   := $(CORE_LIBS) $(CURL_LIBS)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -Werror=implicit-function-declaration
ALL_CFLAGS = -std=gnu11 -fPIC -fvisibility=hidden $(WARN) $(CFLAGS) $(LUA_CFLAGS) $(DEP_CFLAGS) \
             -DAWSC_VERSION='"$(VERSION)"'
LDFLAGS  ?=
LIBFLAG  ?= -shared

BUILD    ?= build/$(LUA)
OBJDIR   := $(BUILD)/obj
SO       := $(BUILD)/aws_connect/core.so
CURL_SO  := $(BUILD)/aws_connect/curl.so
SRCS     := $(wildcard src/*.c)
CURL_SRCS := src/session.c src/http.c
CORE_SRCS := $(filter-out $(CURL_SRCS),$(SRCS))
OBJS     := $(patsubst src/%.c,$(OBJDIR)/%.o,$(CORE_SRCS))
CURL_OBJS := $(patsubst src/%.c,$(OBJDIR)/%.o,$(CURL_SRCS))
HDRS     := $(wildcard src/*.h)

PREFIX      ?= /usr/local
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_ABI)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA_ABI)
INST_BINDIR ?= $(PREFIX)/bin

PYTHON   := /usr/bin/python3
BUSTED   ?= /usr/bin/busted
LUACHECK ?= luacheck
RESULTS  := build/results

# Debian packages needed to build, test and run the demo.
DEB_PACKAGES := make gcc pkg-config libcurl4-openssl-dev libcjson-dev libssl-dev \
                lua5.4 liblua5.4-dev lua-busted lua-check lua-cjson \
                python3 python3-botocore curl openssl ca-certificates

.PHONY: all build deps demo test spec lint install uninstall clean

all: build
build: $(SO) $(CURL_SO)

$(OBJDIR)/%.o: src/%.c $(HDRS) Makefile
	@mkdir -p $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SO): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(OBJS) $(CORE_LIBS)

$(CURL_SO): $(CURL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(CURL_OBJS) $(CURL_LIBS)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: deps build
	@sh examples/run-demo.sh $(LUA)

# Extra suites that mk/*.mk files add (each appends its counts to
# $(RESULTS)/counts through tools/run-specs.sh or tools/count.sh).
TEST_EXTRA ?=

# Runs lint and every spec; the last line is the count line CI reads.
test: deps build
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory lint
	@sh tools/run-specs.sh $(LUA) $(RESULTS)
	@for t in $(TEST_EXTRA); do $(MAKE) --no-print-directory $$t RESULTS=$(RESULTS) || echo "0 1 0" >>$(RESULTS)/counts; done
	@sh tools/summary.sh $(RESULTS)

spec: build
	@sh tools/run-specs.sh $(LUA) $(RESULTS)

lint:
	$(LUACHECK) --quiet lua spec bin examples bench

# Lua modules keep their tree under lua/; the data files the endpoint
# resolver reads go beside them in aws_connect/data/.
install: build
	install -d $(DESTDIR)$(INST_LIBDIR)/aws_connect
	install -m 755 $(SO) $(DESTDIR)$(INST_LIBDIR)/aws_connect/core.so
	install -m 755 $(CURL_SO) $(DESTDIR)$(INST_LIBDIR)/aws_connect/curl.so
	cd lua && find aws_connect -name '*.lua' | while read -r f; do \
	  install -d "$(DESTDIR)$(INST_LUADIR)/$$(dirname $$f)" && install -m 644 "$$f" "$(DESTDIR)$(INST_LUADIR)/$$f" || exit 1; \
	done
	install -d $(DESTDIR)$(INST_LUADIR)/aws_connect/data
	install -m 644 data/*.json data/LICENSE-botocore.txt $(DESTDIR)$(INST_LUADIR)/aws_connect/data/
	@if [ -f bin/aws-connect ]; then install -d $(DESTDIR)$(INST_BINDIR) && install -m 755 bin/aws-connect $(DESTDIR)$(INST_BINDIR)/aws-connect; fi

uninstall:
	rm -rf $(DESTDIR)$(INST_LIBDIR)/aws_connect $(DESTDIR)$(INST_LUADIR)/aws_connect $(DESTDIR)$(INST_BINDIR)/aws-connect

clean:
	rm -rf build

# Feature makefiles (sanitizers, fuzzing, every Lua, benchmarks).
-include $(sort $(wildcard mk/*.mk))
