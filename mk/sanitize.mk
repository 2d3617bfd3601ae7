# mk/sanitize.mk - memory safety and fuzzing (issue 3).
#   make test-valgrind     the spec suite under valgrind memcheck (LUA=lua5.4; less
#                          VALGRIND_SKIP, the pure-Lua cost and breadth specs):
#                          zero errors, nothing definitely or indirectly lost;
#                          child processes (python, curl, nginx) are not traced
#   make test-asan         the suite against a core.so built with
#                          -fsanitize=address,undefined into build/asan-$(LUA); the
#                          interpreter is not instrumented, so the ASan runtime is
#                          preloaded; zero reports (leaks are valgrind's job)
#   make fuzz              each libFuzzer harness in spec/fuzz/ for FUZZ_SECONDS (60)
#                          seconds (clang, -fsanitize=fuzzer,address,undefined); new
#                          inputs go to build/fuzz/corpus/, crashers to
#                          spec/fuzz/corpus/<harness>/ where fuzz-replay finds them
#   make fuzz-merge        minimise build/fuzz/corpus/ into spec/fuzz/corpus/
#   make fuzz-replay       every file under spec/fuzz/corpus/<harness>/ once through its
#                          harness, built with $(CC) and ASan/UBSan but without
#                          libFuzzer (so no clang needed); part of `make test`
#   make test-gc-stress    GC_STRESS_SPECS against the ASan build with the GC-stress
#                          helper (spec/support/gc_stress.lua: setpause 0 and a
#                          collectgarbage("step") hook every 1000 instructions);
#                          the specs' option tables also collect inside __index
#                          (spec/gc_stress_spec.lua); zero ASan/UBSan reports
#   make test-gc-stress-all  the same on every Lua (lua5.1 lua5.3 lua5.4 luajit)
#   make test SANITIZE=1   make test plus test-valgrind, test-asan, test-gc-stress-all
#                          and fuzz-smoke (every harness for FUZZ_SMOKE_SECONDS, 30):
#                          what CI runs
# UBSan includes -fsanitize=float-cast-overflow (a timeout of 1e308 cast to long).
# Each of these appends "passed failed skipped" to $(RESULTS)/counts and
# prints its own summary line; run alone, it also exits non-zero on failure.

# Their packages (tools/packages.txt): deps-sanitize (valgrind) and
# fuzz-deps (clang, libFuzzer); make test SANITIZE=1 installs both first.

TEST_EXTRA += fuzz-replay
ifdef SANITIZE
TEST_EXTRA += test-valgrind test-asan test-gc-stress-all fuzz-smoke
TEST_DEPS += deps-sanitize fuzz-deps
endif
FUZZ_SMOKE_SECONDS ?= 30

# Inside `make test` (RESULTS given on the command line) a failure is
# reported through the counts only, so that it is not counted twice.
SAN_STATUS = $(if $(filter command line,$(origin RESULTS)),true,[ "$$f" -eq 0 ])

.PHONY: test-valgrind test-asan test-gc-stress test-gc-stress-all asan-build fuzz fuzz-smoke fuzz-build fuzz-merge fuzz-replay fuzz-deps deps-sanitize

deps-sanitize:
	@$(DEPS) sanitize

SAN_LUA_PATH := ./?.lua;lua/?.lua;lua/?/init.lua;;

# Runs busted over spec/ (or the spec files $(4), with the extra busted
# arguments $(5)) with the command prefix $(1) and the C path $(2);
# writes the log to $(3)/busted.log and leaves "passed failed skipped" in
# $(3)/counts.line (parsed as tools/run-specs.sh does).
define san_run_specs
	LUA_PATH="$(SAN_LUA_PATH)" LUA_CPATH="$(2)" AWSC_LUA="$(LUA)" \
	  $(1) $(LUA) $(BUSTED) -o plainTerminal --lpath="" --cpath="" $(5) $(if $(4),$(4),spec) >$(3)/busted.log 2>&1; \
	rc=$$?; \
	line=$$(grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' $(3)/busted.log | head -n 1); \
	if [ -z "$$line" ]; then echo "busted printed no summary (exit $$rc)"; tail -n 30 $(3)/busted.log; echo "0 1 0" >$(3)/counts.line; \
	else set -- $$line; f=$$(( $$4 + $$7 )); \
	  if [ "$$rc" -ne 0 ] && [ "$$f" -eq 0 ] && [ "$$rc" -ne 99 ]; then f=1; fi; \
	  echo "$$1 $$f $${10}" >$(3)/counts.line; fi
endef

# ---- valgrind ---------------------------------------------------------------

VALGRIND     ?= valgrind
VALGRIND_DIR := build/valgrind-$(LUA)
VALGRIND_FLAGS ?= --tool=memcheck --trace-children=no --child-silent-after-fork=yes \
  --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --num-callers=40 --suppressions=tools/valgrind.supp --error-exitcode=99 \
  --log-file=$(VALGRIND_DIR)/vg.%p.log

# Specs that are about algorithmic cost or whole-model breadth in pure Lua
# (CPU-time bounds that a 30-50x slower interpreter cannot meet, and
# thousands of cases that exercise the C core no differently) run in every
# other suite, not under memcheck.
VALGRIND_SKIP  ?= spec/linear_scan_spec.lua spec/regex_spec.lua spec/jmespath_spec.lua \
                  spec/conformance_spec.lua spec/js_conformance_spec.lua spec/shape_compile_spec.lua \
                  spec/query_protocol_spec.lua
VALGRIND_SPECS  = $(filter-out $(VALGRIND_SKIP),$(sort $(wildcard spec/*_spec.lua)))

test-valgrind: build
	@command -v $(VALGRIND) >/dev/null || { echo "test-valgrind: valgrind is not installed (apt-get install valgrind)"; exit 1; }
	@rm -rf $(VALGRIND_DIR); mkdir -p $(VALGRIND_DIR) $(RESULTS)
	@echo "== specs under valgrind memcheck ($(LUA)); logs in $(VALGRIND_DIR)"
	@$(call san_run_specs,$(VALGRIND) $(VALGRIND_FLAGS),build/$(LUA)/?.so;;,$(VALGRIND_DIR),$(VALGRIND_SPECS)); \
	grep -E '^[0-9]+ success' $(VALGRIND_DIR)/busted.log | head -n 1; \
	grep -E -A 12 '^(Failure|Error) ->' $(VALGRIND_DIR)/busted.log | head -n 120; \
	bad=$$(grep -l -E 'ERROR SUMMARY: [1-9]' $(VALGRIND_DIR)/vg.*.log 2>/dev/null); \
	main=$$(grep -l -E 'ERROR SUMMARY' $(VALGRIND_DIR)/vg.*.log 2>/dev/null | head -n 1); \
	set -- $$(cat $(VALGRIND_DIR)/counts.line); p=$$1; f=$$2; s=$$3; \
	if [ -z "$$main" ]; then echo "valgrind: no report was written"; f=$$((f + 1)); fi; \
	if [ -n "$$bad" ]; then \
	  for l in $$bad; do echo "--- $$l"; grep -E -v '^==[0-9]+== *$$' $$l | head -n 200; done; \
	  echo "valgrind: memory errors or leaks (see above)"; f=$$((f + 1)); \
	else \
	  grep -h -E 'ERROR SUMMARY|definitely lost:|indirectly lost:' $$main | sed 's/^==[0-9]*== */valgrind: /'; \
	fi; \
	echo "$$p $$f $$s" >>$(RESULTS)/counts; \
	echo "test-valgrind: $$p passed, $$f failed"; $(SAN_STATUS)

# ---- AddressSanitizer + UBSan -------------------------------------------------

ASAN_DIR    := build/asan-$(LUA)
ASAN_SO     := $(ASAN_DIR)/aws_connect/core.so
ASAN_CURL_SO := $(ASAN_DIR)/aws_connect/curl.so
ASAN_OBJS   := $(patsubst src/%.c,$(ASAN_DIR)/obj/%.o,$(CORE_SRCS))
ASAN_CURL_OBJS := $(patsubst src/%.c,$(ASAN_DIR)/obj/%.o,$(CURL_SRCS))
SAN_FLAGS   := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
ASAN_CFLAGS  = -std=gnu11 -fPIC -fvisibility=hidden $(WARN) -O1 -g $(SAN_FLAGS) $(LUA_CFLAGS) $(DEP_CFLAGS) \
               -DAWSC_VERSION='"$(VERSION)"'
ASAN_RT      = $(shell $(CC) -print-file-name=libasan.so)
# Preloaded after the runtime: its constructor drops LD_PRELOAD from the
# interpreter's environment, so that the processes the specs start (curl,
# python, sh, nginx) run without the ASan runtime (curl deadlocks in
# setlocale with it).
ASAN_LOCAL  := $(ASAN_DIR)/preload-not-inherited.so
ASAN_ENV     = LD_PRELOAD="$(ASAN_RT) $(CURDIR)/$(ASAN_LOCAL)" \
  ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:abort_on_error=0:log_path=$(CURDIR)/$(ASAN_DIR)/log/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:log_path=$(CURDIR)/$(ASAN_DIR)/log/ubsan"

$(ASAN_DIR)/obj/%.o: src/%.c $(HDRS) mk/sanitize.mk
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_SO): $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(SAN_FLAGS) -o $@ $(ASAN_OBJS) $(CORE_LIBS)

$(ASAN_CURL_SO): $(ASAN_CURL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(SAN_FLAGS) -o $@ $(ASAN_CURL_OBJS) $(CURL_LIBS)

$(ASAN_LOCAL): mk/sanitize.mk
	@mkdir -p $(dir $@)
	printf '#include <stdlib.h>\n__attribute__((constructor)) static void awsc_unpreload(void) { unsetenv("LD_PRELOAD"); }\n' \
	  | $(CC) -shared -fPIC -x c - -o $@

asan-build: $(ASAN_SO) $(ASAN_CURL_SO) $(ASAN_LOCAL)

test-asan: build asan-build
	@rm -rf $(ASAN_DIR)/log; mkdir -p $(ASAN_DIR)/log $(RESULTS)
	@echo "== specs with AddressSanitizer + UBSan ($(LUA), $(ASAN_SO))"
	@$(call san_run_specs,env $(ASAN_ENV),$(ASAN_DIR)/?.so;;,$(ASAN_DIR)); \
	grep -E '^[0-9]+ success' $(ASAN_DIR)/busted.log | head -n 1; \
	grep -E -A 12 '^(Failure|Error) ->' $(ASAN_DIR)/busted.log | head -n 120; \
	set -- $$(cat $(ASAN_DIR)/counts.line); p=$$1; f=$$2; s=$$3; \
	reports=$$(ls $(ASAN_DIR)/log 2>/dev/null); \
	if [ -n "$$reports" ]; then \
	  for r in $$reports; do echo "--- $$r"; head -n 80 $(ASAN_DIR)/log/$$r; done; \
	  echo "test-asan: sanitizer reports (see above)"; f=$$((f + 1)); \
	else echo "test-asan: no AddressSanitizer or UBSan reports"; fi; \
	echo "$$p $$f $$s" >>$(RESULTS)/counts; \
	echo "test-asan: $$p passed, $$f failed"; $(SAN_STATUS)

# ---- GC stress (issue 12): ASan build, a collection at every turn ------------

GC_STRESS_SPECS ?= spec/gc_stress_spec.lua spec/hardening_core_spec.lua spec/core_sign_spec.lua \
                   spec/core_json_spec.lua
GC_STRESS_DIR   := build/gc-stress-$(LUA)

test-gc-stress: build asan-build
	@rm -rf $(GC_STRESS_DIR); mkdir -p $(GC_STRESS_DIR) $(ASAN_DIR) $(RESULTS)
	@rm -rf $(ASAN_DIR)/log; mkdir -p $(ASAN_DIR)/log
	@echo "== GC-stress specs with AddressSanitizer + UBSan ($(LUA))"
	@$(call san_run_specs,env AWSC_GC_STRESS=1 $(ASAN_ENV),$(ASAN_DIR)/?.so;;,$(GC_STRESS_DIR),$(GC_STRESS_SPECS),--helper=spec/support/gc_stress.lua); \
	grep -E '^[0-9]+ success' $(GC_STRESS_DIR)/busted.log | head -n 1; \
	grep -E -A 12 '^(Failure|Error) ->' $(GC_STRESS_DIR)/busted.log | head -n 120; \
	set -- $$(cat $(GC_STRESS_DIR)/counts.line); p=$$1; f=$$2; s=$$3; \
	reports=$$(ls $(ASAN_DIR)/log 2>/dev/null); \
	if [ -n "$$reports" ]; then \
	  for r in $$reports; do echo "--- $$r"; head -n 80 $(ASAN_DIR)/log/$$r; done; \
	  echo "test-gc-stress: sanitizer reports (see above)"; f=$$((f + 1)); \
	else echo "test-gc-stress: no AddressSanitizer or UBSan reports"; fi; \
	echo "$$p $$f $$s" >>$(RESULTS)/counts; \
	echo "test-gc-stress: $$p passed, $$f failed ($(LUA))"; $(SAN_STATUS)

test-gc-stress-all:
	@for l in $(ALL_LUAS); do $(MAKE) --no-print-directory LUA=$$l test-gc-stress $(if $(filter command line,$(origin RESULTS)),RESULTS=$(RESULTS)) || exit 1; done

# ---- fuzzing ----------------------------------------------------------------

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZERS      := fuzz_sigv4 fuzz_json fuzz_http fuzz_error
FUZZ_LUA_PC  := lua5.4
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -Isrc -DAWSC_VERSION='"$(VERSION)"' \
                $(shell $(PKG) --cflags $(FUZZ_LUA_PC) libcurl libcjson openssl 2>/dev/null)
FUZZ_LIBLUA  := $(shell $(PKG) --libs $(FUZZ_LUA_PC) 2>/dev/null)
FUZZ_RUN_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1

# sources and libraries each harness links (liblua only in the harnesses)
FUZZ_SRC_fuzz_sigv4 := src/sigv4.c
FUZZ_LIB_fuzz_sigv4 := $(shell $(PKG) --libs openssl 2>/dev/null)
FUZZ_SRC_fuzz_json  := src/json.c
FUZZ_LIB_fuzz_json  := $(FUZZ_LIBLUA) $(shell $(PKG) --libs libcjson 2>/dev/null)
FUZZ_SRC_fuzz_http  :=
FUZZ_LIB_fuzz_http  := $(shell $(PKG) --libs libcurl 2>/dev/null)
FUZZ_SRC_fuzz_error := $(SRCS)
FUZZ_LIB_fuzz_error := $(FUZZ_LIBLUA) $(DEP_LIBS)

$(FUZZ_DIR)/fuzz_%: spec/fuzz/fuzz_%.c $(SRCS) $(HDRS) mk/sanitize.mk
	@mkdir -p $(FUZZ_DIR)
	@echo "CLANG $@"
	@$(FUZZ_CC) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $< $(FUZZ_SRC_fuzz_$*) $(FUZZ_LIB_fuzz_$*) -o $@

# the same harnesses with replay.c's main and the ordinary compiler
$(FUZZ_DIR)/replay_%: spec/fuzz/fuzz_%.c spec/fuzz/replay.c $(SRCS) $(HDRS) mk/sanitize.mk
	@mkdir -p $(FUZZ_DIR)
	@echo "CC $@"
	@$(CC) $(WARN) $(FUZZ_CFLAGS) $(SAN_FLAGS) -fno-sanitize-recover=all \
	  $< spec/fuzz/replay.c $(FUZZ_SRC_fuzz_$*) $(FUZZ_LIB_fuzz_$*) -o $@

fuzz-deps:
	@$(DEPS) fuzz

fuzz-build: fuzz-deps $(addprefix $(FUZZ_DIR)/,$(FUZZERS))

fuzz: fuzz-build
	@mkdir -p $(RESULTS); p=0; f=0; fail=""; for h in $(FUZZERS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$h spec/fuzz/corpus/$$h; \
	  echo "== $$h for $(FUZZ_SECONDS) s"; \
	  if $(FUZZ_DIR)/$$h $(FUZZ_RUN_FLAGS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=spec/fuzz/corpus/$$h/ \
	    $(FUZZ_DIR)/corpus/$$h spec/fuzz/corpus/$$h >$(FUZZ_DIR)/$$h.log 2>&1; then p=$$((p + 1)); \
	  else f=$$((f + 1)); fail="$$fail $$h"; fi; \
	  grep -E '^(#[0-9]+[[:space:]]+DONE|SUMMARY|==[0-9]+==ERROR|invariant failed|fuzz_error:)' $(FUZZ_DIR)/$$h.log; \
	done; \
	echo "$$p $$f 0" >>$(RESULTS)/counts; \
	if [ -n "$$fail" ]; then echo "fuzz: crashes in:$$fail (inputs saved under spec/fuzz/corpus/; logs in $(FUZZ_DIR))"; \
	else echo "fuzz: no crashes"; fi; \
	echo "fuzz: $$p passed, $$f failed"; $(SAN_STATUS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

fuzz-merge: fuzz-build
	@for h in $(FUZZERS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$h spec/fuzz/corpus/$$h; \
	  $(FUZZ_DIR)/$$h -merge=1 $(FUZZ_RUN_FLAGS) spec/fuzz/corpus/$$h $(FUZZ_DIR)/corpus/$$h 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files'; \
	done

fuzz-replay: $(addprefix $(FUZZ_DIR)/replay_,$(patsubst fuzz_%,%,$(FUZZERS)))
	@mkdir -p $(RESULTS); p=0; f=0; for h in $(patsubst fuzz_%,%,$(FUZZERS)); do \
	  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	     $(FUZZ_DIR)/replay_$$h spec/fuzz/corpus/fuzz_$$h >$(FUZZ_DIR)/replay_$$h.log 2>&1; then \
	    p=$$((p + 1)); tail -n 1 $(FUZZ_DIR)/replay_$$h.log; \
	  else f=$$((f + 1)); echo "fuzz-replay: fuzz_$$h FAILED"; tail -n 40 $(FUZZ_DIR)/replay_$$h.log; fi; \
	done; \
	echo "$$p $$f 0" >>$(RESULTS)/counts; echo "fuzz-replay: $$p passed, $$f failed"; $(SAN_STATUS)
