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

# Packages the benchmarks use beyond the tests' (tools/packages.txt, purpose
# bench): nginx (the end to end server), hyperfine (start-up), python3-awscrt
# (a peer signer). make bench installs them; bench-smoke (in make test) runs
# without them and counts the rows that need them as skipped.

.PHONY: bench bench-smoke bench-deps bench-tools deps-bench

TEST_EXTRA += bench-smoke

deps-bench: bench-deps
bench-deps:
	@$(DEPS) bench || echo "bench-deps: the rows that need what is missing will say so"

$(BENCH_BIN)/sign_bench: bench/sign_bench.c src/sigv4.c src/sigv4.h
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(shell $(PKG) --cflags libcjson openssl) bench/sign_bench.c src/sigv4.c -o $@ \
	  $(shell $(PKG) --libs libcjson openssl)

$(BENCH_BIN)/e2e_floor: bench/e2e_floor.c
	@mkdir -p $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(shell $(PKG) --cflags libcurl) bench/e2e_floor.c -o $@ $(shell $(PKG) --libs libcurl)

bench-tools: $(BENCH_BIN)/sign_bench $(BENCH_BIN)/e2e_floor

bench:
	@$(MAKE) --no-print-directory deps-demo bench-deps
	@$(MAKE) --no-print-directory build bench-tools
	@mkdir -p bench/out
	@$(BENCH_ENV) $(LUA) bench/run.lua --lua $(LUA) --reps $(BENCH_REPS) --markdown bench/out/latest.md

# One line "passed failed skipped" in $(RESULTS)/counts: a row that ran is
# passed, a row whose optional peer (botocore, awscrt) is missing skipped.
# Prints only whether it ran (the tables are in $(RESULTS)/bench-smoke.log).
bench-smoke: build bench-tools
	@mkdir -p $(RESULTS)
	@if $(BENCH_ENV) $(LUA) bench/run.lua --lua $(LUA) --smoke --counts $(RESULTS)/counts \
	    >$(RESULTS)/bench-smoke.log 2>&1; then \
	  echo "bench-smoke: ran ($$(tail -n 1 $(RESULTS)/bench-smoke.log | sed 's/^bench: //'); tables in $(RESULTS)/bench-smoke.log)"; \
	else tail -n 30 $(RESULTS)/bench-smoke.log; echo "bench-smoke: FAILED (log: $(RESULTS)/bench-smoke.log)"; exit 1; fi
