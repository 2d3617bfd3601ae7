# mk/bench.mk - benchmarks (issue 7).
#   make bench           every row, side by side, in one run: signing, end to
#                        end against a local nginx, start-up, memory,
#                        connections (bench/run.lua; about 2 minutes)
#   make bench-smoke     each benchmark once, tiny, only to show it works
#                        (part of make test through TEST_EXTRA)
# BENCH_REPS sets the repetitions of make bench. The table of a run is
# also written to bench/out/latest.md; bench/RESULTS.md keeps the recorded one.

BENCH_REPS ?= 7
BENCH_BIN  := build/bench
BENCH_ENV   = LUA_PATH="./?.lua;lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/$(LUA)/?.so;;"
BENCH_CFLAGS = -std=gnu11 -O2 -g $(WARN) -Isrc

# Debian packages the benchmarks use beyond DEB_PACKAGES: nginx (the end to
# end server), hyperfine (start-up), python3-awscrt (a peer signer).
BENCH_DEB_PACKAGES := nginx-core hyperfine python3-awscrt
DEB_PACKAGES += $(BENCH_DEB_PACKAGES)

.PHONY: bench bench-smoke bench-deps bench-tools

TEST_EXTRA += bench-smoke

bench-deps:
	@missing=""; for p in $(BENCH_DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
	    || echo "bench-deps: could not install$$missing; the rows that need them will say so"; \
	fi

$(BENCH_BIN)/sign_bench: bench/sign_bench.c src/sigv4.c src/sigv4.h
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(shell $(PKG) --cflags libcjson openssl) bench/sign_bench.c src/sigv4.c -o $@ \
	  $(shell $(PKG) --libs libcjson openssl)

$(BENCH_BIN)/e2e_floor: bench/e2e_floor.c
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(shell $(PKG) --cflags libcurl) bench/e2e_floor.c -o $@ $(shell $(PKG) --libs libcurl)

bench-tools: $(BENCH_BIN)/sign_bench $(BENCH_BIN)/e2e_floor

bench: deps bench-deps build bench-tools
	@mkdir -p bench/out
	@$(BENCH_ENV) $(LUA) bench/run.lua --lua $(LUA) --reps $(BENCH_REPS) --markdown bench/out/latest.md

# One line "passed failed skipped" in $(RESULTS)/counts: a row that ran is
# passed, a row whose optional peer (botocore, awscrt) is missing skipped.
bench-smoke: bench-deps build bench-tools
	@mkdir -p $(RESULTS)
	@$(BENCH_ENV) $(LUA) bench/run.lua --lua $(LUA) --smoke --counts $(RESULTS)/counts
