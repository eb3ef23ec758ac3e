# malloc0 — the one place that knows the build flags.

# Any clang: make CC=clang-19, or CC=clang-19 make (default: clang).
# WASM_LD names a wasm-ld for clang to use instead of its own.
ifeq ($(origin CC),default)
CC        := clang
endif
WASM_LD   ?=
WASM      := --target=wasm32 -nostdlib
WASM64    := --target=wasm64 -nostdlib
WARN      := -Wall -Wextra -Werror
# What malloc0.c also compiles under without a warning (make warnings): the
# flags of projects that build strictly; in C, -Wconversion includes
# -Wsign-conversion.
STRICT_WARN := -Wconversion -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wundef \
               -Wcast-qual -Wcast-align -Wwrite-strings -Wpointer-arith -Wvla
# malloc0.c defines malloc and free: clang must not treat them as libc's.
LIBFLAGS  := -fno-builtin
OPT_SIZE  := -Oz
# Sizes are measured with LTO, which sees the exports: without it, helpers
# that only removed functions share are kept out of line.
SIZE_LTO  := -flto
OPT_TEST  := -O2
LINK      := -Wl,--no-entry
ALIGNS    := 4 8 16
PROFILES  := default tiny
# The host maximum used by the out-of-memory tests, in 64 KiB pages.
MAX_PAGES := 64
PAGE      := 65536
comma     := ,

CORE_API  := malloc free
SEED_MARK_API := free_all free_all_mark free_get_mark free_to_mark
MARK_API  := $(SEED_MARK_API) free_pop_mark
C_API     := calloc realloc aligned_alloc posix_memalign memalign malloc_usable_size
TEST_API  := $(CORE_API) $(MARK_API) $(C_API) malloc0_check test_stats test_stats_verdict
exports    = $(foreach name,$(1),-Wl,--export=$(name))

LIB       := malloc0.c malloc0.h
B         := build
# clang 14 runs wasm-opt on every module it links with -O set whenever it
# finds binaryen's wasm-opt on PATH or beside itself, which changes code
# sizes and drops the name section.  So wasm builds run clang by its real
# path (/usr/bin holds wasm-opt, llvm's own directory does not) with a PATH
# of its own, $(TOOLS), that holds only wasm-ld (and its versioned names):
# every module is the same with or without binaryen.  deps checks that clang
# plans no wasm-opt run.
TOOLS     := $(abspath $(B))/tools
CLANG      = $(realpath $(shell command -v $(CC)))
WASM_CC    = PATH=$(TOOLS) $(CLANG) $(if $(WASM_LD),--ld-path=$(WASM_LD))
# The Debian packages for that clang: clang-N for clang-N, lld-N beside it,
# and the runtime libraries of the same version.
CC_MAJOR   = $(shell $(CC) -dumpversion 2>/dev/null | cut -d. -f1)
CC_PACKAGE = $(if $(filter clang clang-%,$(notdir $(CC))),$(notdir $(CC)),clang)
# Every module clang builds depends on this file, which names the compiler:
# building with another one rebuilds them.
COMPILER  := $(B)/compiler.txt
TESTS     := $(wildcard tests/*.test.mjs)
TEST_WASM := $(foreach p,$(PROFILES),$(foreach a,$(ALIGNS),$(foreach v,plain max import debug bulk top fast fastz,\
               $(B)/test/$(p)-a$(a)-$(v).wasm)))
# MALLOC0_CHECKS=0: the same tests but the invalid-input ones, run again.
NOCHECK_VARIANTS := plain max import bulk top fast fastz
NOCHECK_WASM := $(foreach p,$(PROFILES),$(foreach a,$(ALIGNS),$(foreach v,$(NOCHECK_VARIANTS),\
               $(B)/test-nochecks/$(p)-a$(a)-$(v).wasm)))
# memory64: the same source, --target=wasm64, for the variants Node runs it
# in, and with an 8 GiB maximum for Chromium.
TEST64_WASM := $(foreach p,$(PROFILES),$(foreach a,$(ALIGNS),$(foreach v,plain max debug bulk,\
               $(B)/test64/$(p)-a$(a)-$(v).wasm)) $(B)/test64/$(p)-a16-huge.wasm)
DEMO      := examples/str_toggle
EXAMPLE_WASM := $(DEMO)/str_toggle.wasm examples/histogram/histogram.wasm examples/levels/levels.wasm

# What each profile and test variant adds to the build.
PROFILE_default :=
PROFILE_tiny    := -DMALLOC0_TINY=1
# The default profile with MALLOC0_FAST=1, where a build chooses it.
PROFILE_fast    := -DMALLOC0_FAST=1
# The default profile's thread-safe build without thread caches.
PROFILE_locked  := -DMALLOC0_THREAD_CACHES=0
VARIANT_plain  :=
VARIANT_max    := -Wl,--max-memory=$(shell echo $$(($(MAX_PAGES) * $(PAGE))))
VARIANT_import := -Wl,--import-memory
VARIANT_debug  := -DMALLOC0_DEBUG -Wl,--export=malloc0_trap_reason
# Bulk memory, and built for size as -Oz users build it: the same calls
# must give the same heap at every optimization level.
VARIANT_bulk   := -mbulk-memory $(OPT_SIZE)
# MALLOC0_FAST (quick lists, the fast tail), at -O2 and at -Oz.
VARIANT_fast   := $(PROFILE_fast)
VARIANT_fastz  := $(PROFILE_fast) $(OPT_SIZE)
# All of wasm32's 4 GiB; past it, for wasm64.
VARIANT_top    := -Wl,--max-memory=4294967296
VARIANT_huge   := -Wl,--max-memory=8589934592

.DEFAULT_GOAL := all
.PHONY: tools FORCE all test demo examples serve size size-lines same-with-binaryen clean deps browser-deps wasi-deps plot-deps native-deps binaryen-deps emscripten-deps emscripten warnings wasi native-test fuzz bench size-costs

# $(call install,PACKAGES,PURPOSE): installs Debian packages when root, else
# says in one line what to install.  PACKAGES may be a shell variable.
install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing for $(2):" $(1); apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else echo "$(2) need these Debian packages: sudo apt-get install" $(1); exit 1; fi

# Tools: install what is missing when root on Debian, else say what to
# install.  Two steps: make expands a recipe before running it, so what
# names the installed clang is read in the second.
tools:
	@missing=""; \
	command -v $(CC) >/dev/null || missing="$$missing $(CC_PACKAGE)"; \
	command -v wasm-objdump >/dev/null || missing="$$missing wabt"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	if [ -n "$$missing" ]; then $(call install,$$missing,malloc0's build and tests); fi
	@command -v $(CC) >/dev/null || { echo "deps: $(CC) not found: install it, or name another clang with CC="; exit 1; }

link-tools = mkdir -p $(TOOLS); ld="$$(command -v wasm-ld || true)"; \
	  [ -z "$$ld" ] || ln -sf "$$(dirname "$$ld")"/wasm-ld* $(TOOLS)/
probe-link = printf 'int f(void) { return 0; }' > $(TOOLS)/probe.c && \
	  $(WASM_CC) $(WASM) $(LINK) -o $(TOOLS)/probe.wasm $(TOOLS)/probe.c 2>/dev/null
deps: tools
	@$(link-tools); $(probe-link) || { $(call install,lld-$(CC_MAJOR),wasm-ld for $(CC)); $(link-tools); }
	@$(probe-link) || { echo "deps: $(CC) cannot link wasm: it needs its wasm-ld (Debian: lld-$(CC_MAJOR)), or WASM_LD="; exit 1; }
	@if $(WASM_CC) -### $(WASM) -Oz -o /dev/null -x c /dev/null 2>&1 | grep -q wasm-opt; then \
	  echo "deps: clang would run wasm-opt on every module; see TOOLS in the Makefile"; exit 1; fi

$(COMPILER): FORCE | deps
	@id="$$($(WASM_CC) --version | head -n 1) $(CLANG) $(WASM_LD)"; \
	  [ "$$(cat $@ 2>/dev/null)" = "$$id" ] || echo "$$id" > $@
FORCE:

# $(call name-part,N): the Nth dash-separated part of the target's file name,
# without its extension: build/test/PROFILE-aALIGN-VARIANT.wasm and the like.
name-part = $(word $(1),$(subst -, ,$(basename $(notdir $@))))
# What each test module folder adds: the target, and the checks setting.
TEST_DIR_test          := $(WASM)
TEST_DIR_test-nochecks := $(WASM) -DMALLOC0_CHECKS=0
TEST_DIR_test64        := $(WASM64)
$(TEST_WASM) $(NOCHECK_WASM) $(TEST64_WASM): $(LIB) tests/exports.c $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(TEST_DIR_$(notdir $(@D))) $(WARN) $(LIBFLAGS) $(OPT_TEST) $(LINK) $(PROFILE_$(call name-part,1)) \
	  -DMALLOC0_ALIGN=$(patsubst a%,%,$(call name-part,2)) $(VARIANT_$(call name-part,3)) \
	  $(call exports,$(TEST_API)) -o $@ malloc0.c tests/exports.c

# The thread-safe build: atomics turn MALLOC0_THREADS on; the module imports
# a shared memory that every thread's instance takes.  The thread tests'
# modules: each profile, the debug build, the default profile at
# MALLOC0_ALIGN 8 (a8), whose caches keep twice as many sizes, and with
# MALLOC0_CHECKS=0 (nochecks), whose caches trust the pointers freed.
THREADS_MAX_PAGES := 8192
THREADS_CC := -matomics -mbulk-memory
THREADS   := $(THREADS_CC) -Wl,--shared-memory -Wl,--import-memory \
             -Wl,--max-memory=$(shell echo $$(($(THREADS_MAX_PAGES) * $(PAGE))))
# Each worker sets its own stack pointer (exported: a mutable global), so
# that the threads' calls go to different thread caches.
THREADS_API := $(TEST_API) malloc0_threads_may_wait pattern_fill pattern_check zero_check __stack_pointer
THREADS_WASM := $(foreach b,default tiny fast locked debug a8 nochecks,$(B)/test-threads/$(b).wasm)
THREADS_BUILD_debug := -DMALLOC0_DEBUG -Wl,--export=malloc0_trap_reason
THREADS_BUILD_a8    := -DMALLOC0_ALIGN=8
$(THREADS_WASM): $(B)/test-threads/%.wasm: $(LIB) tests/exports.c tests/threads.c $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_TEST) $(LINK) $(THREADS) -mmutable-globals $(PROFILE_$*) $(THREADS_BUILD_$*) \
	  $(call exports,$(THREADS_API)) -o $@ malloc0.c tests/exports.c tests/threads.c

# Every profile, alignment and MALLOC0_CHECKS, with and without bulk memory,
# for wasm32 and wasm64, and the thread-safe build, without a single warning
# under WARN and STRICT_WARN; and natively, by clang and gcc.
warnings: | deps native-deps
	@$(foreach t,WASM WASM64,$(foreach c,0 1,$(foreach p,$(PROFILES),$(foreach a,$(ALIGNS),$(foreach f,0 1,\
	  $(foreach bulk,-mno-bulk-memory -mbulk-memory,$(WASM_CC) $($(t)) $(WARN) $(STRICT_WARN) $(LIBFLAGS) $(OPT_SIZE) $(bulk) \
	    $(PROFILE_$(p)) -DMALLOC0_ALIGN=$(a) -DMALLOC0_CHECKS=$(c) -DMALLOC0_FAST=$(f) -c malloc0.c -o /dev/null &&)))))) true
	@$(foreach t,WASM WASM64,$(foreach c,0 1,$(foreach p,$(PROFILES) fast locked,$(foreach d,-DMALLOC0_DEBUG -UMALLOC0_DEBUG,\
	  $(WASM_CC) $($(t)) $(WARN) $(STRICT_WARN) $(LIBFLAGS) $(OPT_SIZE) $(THREADS_CC) $(PROFILE_$(p)) -DMALLOC0_CHECKS=$(c) $(d) \
	    -c malloc0.c -o /dev/null &&)))) true
	@$(foreach n,$(CC) gcc,$(foreach p,$(PROFILES) fast,$(foreach t,0 1,$(foreach d,-DMALLOC0_DEBUG -UMALLOC0_DEBUG,\
	  $(n) $(NATIVE_FLAGS) $(STRICT_WARN) -O2 $(PROFILE_$(p)) -DMALLOC0_THREADS=$(t) $(d) -c malloc0.c -o /dev/null &&)))) true

# examples/wasi: the same C program over wasi-libc's dlmalloc, and with
# malloc0 linked in its place (malloc0.c alone gets -fno-builtin).
WASI_CC    = $(WASM_CC) --target=wasm32-wasi $(WARN)
WASI_OPT  := -O2
WASI_WASM := $(B)/wasi/words-dlmalloc.wasm $(B)/wasi/words-malloc0.wasm
$(B)/wasi/malloc0.o: $(LIB) $(COMPILER) | deps wasi-deps
	@mkdir -p $(@D)
	$(WASI_CC) $(LIBFLAGS) $(OPT_SIZE) -c -o $@ malloc0.c
$(B)/wasi/words-dlmalloc.wasm: examples/wasi/words.c $(COMPILER) | deps wasi-deps
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_OPT) -o $@ $<
$(B)/wasi/words-malloc0.wasm: examples/wasi/words.c $(B)/wasi/malloc0.o $(COMPILER) | deps wasi-deps
	$(WASI_CC) $(WASI_OPT) -o $@ $< $(B)/wasi/malloc0.o
$(B)/wasi/%.stripped.wasm: $(B)/wasi/%.wasm
	wasm-strip -o $@ $<

wasi: $(WASI_WASM) $(WASI_WASM:.wasm=.stripped.wasm)
	@for a in dlmalloc malloc0; do echo "--- words.wasm over $$a:"; \
	  node --no-warnings examples/wasi/run.mjs $(B)/wasi/words-$$a.wasm --pages; \
	  echo "module size, stripped: $$(wc -c < $(B)/wasi/words-$$a.stripped.wasm) bytes"; done

# Native: the same malloc0.c over a region (malloc0_init), names prefixed so
# that it sits beside the host's libc.  The random-operations test runs for
# every profile and alignment, built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer and by gcc; one build also runs under valgrind.
NATIVE_FLAGS := -std=c11 -g -Wall -Wextra -Werror -DMALLOC0_PREFIX=m0_
SANITIZE     := -fsanitize=address,undefined -fno-sanitize-recover=all
NATIVE_SRC   := malloc0.c tests/native/model.c
NATIVE_DEPS  := $(LIB) $(NATIVE_SRC) tests/native/model.h
NATIVE_CC_clang  = $(CC) -O1 $(SANITIZE)
NATIVE_CC_gcc   := gcc -O2
# A fifth name part, nochecks, builds with MALLOC0_CHECKS=0 (the model then
# makes no invalid input); fast, with MALLOC0_FAST=1.
NATIVE_TESTS := $(foreach p,$(PROFILES),$(B)/native/random_ops-clang-$(p)-a16-nochecks) \
                $(foreach p,$(PROFILES),$(foreach a,4 16,$(B)/native/random_ops-clang-$(p)-a$(a)-fast)) \
                $(foreach c,clang gcc,$(foreach p,$(PROFILES),$(foreach a,$(ALIGNS),\
                  $(B)/native/random_ops-$(c)-$(p)-a$(a))))
$(B)/native/random_ops-%: $(NATIVE_DEPS) tests/native/random_ops.c $(COMPILER) | native-deps
	@mkdir -p $(@D)
	$(NATIVE_CC_$(call name-part,2)) $(NATIVE_FLAGS) $(PROFILE_$(call name-part,3)) \
	  -DMALLOC0_ALIGN=$(patsubst a%,%,$(call name-part,4)) $(if $(filter nochecks,$(call name-part,5)),-DMALLOC0_CHECKS=0) \
	  $(if $(filter fast,$(call name-part,5)),$(PROFILE_fast)) \
	  -o $@ $(NATIVE_SRC) tests/native/random_ops.c

# Threads over one heap (MALLOC0_THREADS=1) under ThreadSanitizer, for each
# profile and MALLOC0_FAST=1.
THREAD_TESTS := $(foreach p,$(PROFILES) fast,$(B)/native/threads-tsan-$(p))
$(THREAD_TESTS): $(B)/native/threads-tsan-%: $(LIB) tests/native/threads.c $(COMPILER) | native-deps
	@mkdir -p $(@D)
	$(CC) -O1 -fsanitize=thread $(NATIVE_FLAGS) -DMALLOC0_THREADS=1 $(PROFILE_$*) \
	  -o $@ malloc0.c tests/native/threads.c -lpthread
NATIVE_TESTS += $(THREAD_TESTS)

native-test: $(NATIVE_TESTS)
	@mkdir -p $(RESULTS); $(call node-test,native) tests/native.test.mjs

native-deps: | tools
	@missing=""; command -v gcc >/dev/null || missing="$$missing gcc"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	mkdir -p $(TOOLS); printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d[0] + n; }' > $(TOOLS)/fuzz.c; \
	$(CC) -fsanitize=fuzzer,address,undefined -o $(TOOLS)/fuzz $(TOOLS)/fuzz.c 2>/dev/null || \
	  missing="$$missing libclang-rt-$(CC_MAJOR)-dev"; \
	if [ -n "$$missing" ]; then $(call install,$$missing,the native tests); fi

# libFuzzer over the shadow model, one target per profile, in a region small
# enough that running out of memory is common (4 MiB: the model asks for
# buffers of up to 4 MiB).  FUZZ_SECONDS per profile.  Inputs are as long
# as max_len from the start (-len_control=0): a fresh heap per input costs
# more than the operations of a short one.
# FUZZ_SANITIZE= (empty) leaves only the model's checks, three times faster,
# for long runs, and attacks the heap now and then (tests/native/model.c).
FUZZ_SECONDS  ?= 60
FUZZ_SANITIZE ?= address,undefined
FUZZ_REGION   := 4194304
FUZZ_DIR      := $(B)/native/fuzz$(if $(FUZZ_SANITIZE),-sanitized,-plain)
# Each profile, and the default one with MALLOC0_FAST=1.
FUZZ_PROFILES := $(PROFILES) fast
$(FUZZ_DIR)/%: $(NATIVE_DEPS) tests/native/fuzz_target.c $(COMPILER) | native-deps
	@mkdir -p $(@D)
	$(CC) -O2 -fsanitize=fuzzer$(if $(FUZZ_SANITIZE),$(comma)$(FUZZ_SANITIZE) -fno-sanitize-recover=all) \
	  $(NATIVE_FLAGS) $(PROFILE_$*) -DMODEL_REGION_BYTES=$(FUZZ_REGION) $(if $(FUZZ_SANITIZE),,-DMODEL_ATTACKS=1) \
	  -o $@ $(NATIVE_SRC) tests/native/fuzz_target.c

fuzz: $(foreach p,$(FUZZ_PROFILES),$(FUZZ_DIR)/$(p))
	@for p in $(FUZZ_PROFILES); do mkdir -p $(B)/native/corpus-$$p; \
	  echo "fuzzing the $$p profile for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/$$p -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -len_control=0 \
	    $(B)/native/corpus-$$p tests/native/corpus > $(FUZZ_DIR)/$$p.log 2>&1; status=$$?; \
	  grep -E "^fuzz:|^Done|ERROR|SUMMARY|^model:" $(FUZZ_DIR)/$$p.log; \
	  if [ $$status != 0 ]; then echo "fuzz: the $$p profile failed, see $(FUZZ_DIR)/$$p.log"; exit 1; fi; done

# The browser tests: Debian's chromium, and playwright-core as package-lock.json pins it.
browser-deps: | deps
	@command -v chromium >/dev/null || { $(call install,chromium,the browser tests); }
	@[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error

$(DEMO)/str_toggle.wasm: $(LIB) $(DEMO)/str_toggle.c $(COMPILER) | deps
	$(WASM_CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $(LINK) \
	  $(call exports,$(CORE_API) str_toggle) -o $@ malloc0.c $(DEMO)/str_toggle.c

demo: $(DEMO)/str_toggle.wasm
	node $(DEMO)/run.mjs

# examples/emscripten: scenes.c over emscripten's dlmalloc, over emmalloc, and
# with malloc0 (-sMALLOC=none), default and tiny profiles, all at -Oz with
# LTO; three more malloc0 builds, with a 32 MiB maximum, and with memory that
# does not grow, with and without -sABORTING_MALLOC=0 (NULL, or the
# runtime's abort), whose main() the tests leave out (it allocates 64 MiB).
# Debian's emscripten: its JS optimizer needs Debian's acorn on NODE_PATH,
# and emcc runs binaryen's wasm-opt (a dependency of the package, in
# /usr/bin) from PATH, so that goes on the end of PATH.  Only emcc's own
# builds use it; clang's never do (see TOOLS).
EMCC       = NODE_PATH=/usr/share/nodejs PATH="$$PATH:/usr/bin" emcc
EM_OPT    := -Oz -flto
EM_FLAGS  := $(EM_OPT) $(WARN) -sALLOW_MEMORY_GROWTH=1 -sMODULARIZE=1 -sEXPORT_NAME=createScenes \
             -sENVIRONMENT=web,node -sEXPORTED_RUNTIME_METHODS=HEAPU8
EM_DIR    := examples/emscripten/build
EM_BUILDS := dlmalloc emmalloc malloc0 malloc0-tiny malloc0-max malloc0-fixed malloc0-aborting
EM_MALLOC_dlmalloc     := -sMALLOC=dlmalloc
EM_MALLOC_emmalloc     := -sMALLOC=emmalloc
EM_MALLOC_malloc0      := -sMALLOC=none -DWITH_MALLOC0 $(EM_DIR)/malloc0.o
EM_MALLOC_malloc0-tiny := -sMALLOC=none -DWITH_MALLOC0 $(EM_DIR)/malloc0-tiny.o
EM_MALLOC_malloc0-max  := $(EM_MALLOC_malloc0) -sMAXIMUM_MEMORY=33554432 -sINVOKE_RUN=0
EM_MALLOC_malloc0-fixed := $(EM_MALLOC_malloc0) -sALLOW_MEMORY_GROWTH=0 -sABORTING_MALLOC=0 -sINVOKE_RUN=0
EM_MALLOC_malloc0-aborting := $(EM_MALLOC_malloc0) -sALLOW_MEMORY_GROWTH=0 -sINVOKE_RUN=0
EM_JS     := $(foreach b,$(EM_BUILDS),$(EM_DIR)/$(b).js)
$(EM_DIR)/malloc0.o $(EM_DIR)/malloc0-tiny.o: $(EM_DIR)/%.o: $(LIB) | emscripten-deps
	@mkdir -p $(@D)
	$(EMCC) $(EM_OPT) $(WARN) $(LIBFLAGS) $(if $(findstring tiny,$*),$(PROFILE_tiny)) -c -o $@ malloc0.c
# The loaders are CommonJS, in a project whose package.json says ES modules.
$(EM_DIR)/%.js: examples/emscripten/scenes.c $(EM_DIR)/malloc0.o $(EM_DIR)/malloc0-tiny.o | emscripten-deps
	@mkdir -p $(@D)
	echo '{ "type": "commonjs" }' > $(@D)/package.json
	$(EMCC) $(EM_FLAGS) $(EM_MALLOC_$*) -o $@ examples/emscripten/scenes.c

# examples/emscripten/workers.c: threads over one heap (-pthread) over each
# allocator, malloc0's thread-safe build among them.  Under Node its loader
# compiles synchronously, and the runtime exits when main returns.  The
# workers-oom builds give each thread an 8 MiB stack in 16 MiB that do not
# grow: pthread_create runs out of memory.  The workers-grow builds give the
# same stacks in memory that grows, while the threads started first run.
EM_THREADS := -pthread -sWASM_ASYNC_COMPILATION=0 -sENVIRONMENT=node,worker -sEXIT_RUNTIME=1 -sPTHREAD_POOL_SIZE=4
EM_WORKERS := $(foreach a,dlmalloc emmalloc malloc0,$(EM_DIR)/workers-$(a).js $(EM_DIR)/workers-oom-$(a).js) \
              $(foreach a,dlmalloc malloc0,$(EM_DIR)/workers-grow-$(a).js)
EM_WORKERS_dlmalloc := -sMALLOC=dlmalloc
EM_WORKERS_emmalloc := -sMALLOC=emmalloc
EM_WORKERS_malloc0  := -sMALLOC=none $(EM_DIR)/malloc0-threads.o
EM_OOM_STACKS := -sDEFAULT_PTHREAD_STACK_SIZE=8388608
EM_WORKERS_oom-dlmalloc := $(EM_WORKERS_dlmalloc) $(EM_OOM_STACKS)
EM_WORKERS_oom-emmalloc := $(EM_WORKERS_emmalloc) $(EM_OOM_STACKS)
EM_WORKERS_oom-malloc0  := $(EM_WORKERS_malloc0) $(EM_OOM_STACKS)
EM_GROW_STACKS := $(EM_OOM_STACKS) -sALLOW_MEMORY_GROWTH=1 -Wno-pthreads-mem-growth
EM_WORKERS_grow-dlmalloc := $(EM_WORKERS_dlmalloc) $(EM_GROW_STACKS)
EM_WORKERS_grow-malloc0  := $(EM_WORKERS_malloc0) $(EM_GROW_STACKS)
$(EM_DIR)/malloc0-threads.o: $(LIB) | emscripten-deps
	@mkdir -p $(@D)
	$(EMCC) $(EM_OPT) $(WARN) $(LIBFLAGS) -pthread -c -o $@ malloc0.c
$(EM_WORKERS): $(EM_DIR)/workers-%.js: examples/emscripten/workers.c $(EM_DIR)/malloc0-threads.o | emscripten-deps
	echo '{ "type": "commonjs" }' > $(@D)/package.json
	$(EMCC) $(EM_OPT) $(WARN) $(EM_THREADS) $(EM_WORKERS_$*) -o $@ $<

# tests/libc_calls.c: C library functions that allocate by the C library's
# own names, over malloc0 and dlmalloc (tests/emscripten.test.mjs).
EM_LIBC := $(foreach a,dlmalloc malloc0,$(B)/emscripten/libc-$(a).js)
$(EM_LIBC): $(B)/emscripten/libc-%.js: tests/libc_calls.c $(EM_DIR)/malloc0.o | emscripten-deps
	@mkdir -p $(@D)
	echo '{ "type": "commonjs" }' > $(@D)/package.json
	$(EMCC) $(EM_OPT) $(WARN) -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 -sEXIT_RUNTIME=1 $(EM_MALLOC_$*) -o $@ $<

emscripten-deps:
	@command -v emcc >/dev/null || { $(call install,emscripten,the emscripten example); }

emscripten: $(EM_JS) $(EM_WORKERS)
	node examples/emscripten/run.mjs

# The other examples, built next to their pages.
examples/histogram/histogram.wasm: $(LIB) examples/histogram/histogram.c $(COMPILER) | deps
	$(WASM_CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) -mbulk-memory $(LINK) \
	  $(call exports,$(CORE_API) free_all) -o $@ malloc0.c examples/histogram/histogram.c
examples/levels/levels.wasm: $(LIB) examples/levels/levels.c $(COMPILER) | deps
	$(WASM_CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $(LINK) -Wl,--allow-undefined \
	  -o $@ malloc0.c examples/levels/levels.c
examples: $(EXAMPLE_WASM)

# The examples' pages on http://127.0.0.1:8000/ for a browser.
serve: examples
	node examples/serve.mjs

# Code-section bytes at each optimization level, with LTO: malloc and free,
# the six seed functions and the whole API, for the default profile, with
# MALLOC0_FAST=1, the tiny profile, and the default profile's thread-safe
# build, with and without thread caches (its whole API with
# malloc0_threads_may_wait).  Module names: PROFILE-SET-LEVEL.
SIZE_LEVELS := Oz O2 O3
LEVEL_ROWS  := default fast tiny threads locked
THREAD_ROWS := threads locked
LEVEL_SETS  := core seed all
LEVEL_WASM  := $(foreach r,$(LEVEL_ROWS),$(foreach s,$(LEVEL_SETS),$(foreach l,$(SIZE_LEVELS),$(B)/size-level/$(r)-$(s)-$(l).wasm)))
$(B)/size-level/%.wasm: $(LIB) $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM) $(WARN) $(LIBFLAGS) -$(call name-part,3) $(SIZE_LTO) $(LINK) \
	  $(if $(filter $(THREAD_ROWS),$(call name-part,1)),$(THREADS)) $(PROFILE_$(call name-part,1)) \
	  $(call exports,$(SIZE_API_$(call name-part,2)) $(LEVEL_API_$(call name-part,1)-$(call name-part,2))) -o $@ malloc0.c
LEVEL_API_threads-all := malloc0_threads_may_wait
LEVEL_API_locked-all  := malloc0_threads_may_wait

# Code-section bytes at -Oz with LTO, and after binaryen's wasm-opt -Oz (what
# users ship): malloc and free alone, the six seed functions, with
# free_pop_mark, and the whole API; for each profile, with and without
# MALLOC0_CHECKS, and for wasm64.  Module names: ARCH-PROFILE-checksN-SET.
SIZE_SETS := core seed marks all
SIZE_ROWS := wasm32-default-checks1 wasm32-default-checks0 wasm32-tiny-checks1 wasm32-tiny-checks0
SIZE_ROWS64 := wasm64-default-checks1 wasm64-tiny-checks1
SIZE_WASM := $(foreach r,$(SIZE_ROWS) $(SIZE_ROWS64),$(foreach s,$(SIZE_SETS),$(B)/size/$(r)-$(s).wasm))
SIZE_API_core  := $(CORE_API)
SIZE_API_seed  := $(CORE_API) $(SEED_MARK_API)
SIZE_API_marks := $(CORE_API) $(MARK_API)
SIZE_API_all   := $(CORE_API) $(MARK_API) $(C_API)
ARCH_wasm32 := $(WASM)
ARCH_wasm64 := $(WASM64)
$(B)/size/%.wasm: $(LIB) $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(ARCH_$(call name-part,1)) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $(SIZE_LTO) $(LINK) \
	  $(PROFILE_$(call name-part,2)) -DMALLOC0_CHECKS=$(patsubst checks%,%,$(call name-part,3)) \
	  $(call exports,$(SIZE_API_$(call name-part,4))) -o $@ malloc0.c
$(B)/size-opt/%.wasm: $(B)/size/%.wasm | binaryen-deps
	@mkdir -p $(@D)
	wasm-opt -Oz $< -o $@

binaryen-deps:
	@command -v wasm-opt >/dev/null || { $(call install,binaryen,wasm-opt (make size)); }

# The original malloc0's six functions, for reference (measured by its authors).
ORIGINAL_SEED := 356 / 312
code-bytes = $$(wasm-objdump -h $(1) | sed -n 's/.*Code.*(size=0x\([0-9a-f]*\)).*/\1/p' | xargs -I{} printf '%d' 0x{})
size-cell = $(call code-bytes,$(B)/size/$(1).wasm) / $(call code-bytes,$(B)/size-opt/$(1).wasm)
# A function's share of the code section: its body and the 1 or 2 bytes of
# its length.
function-bytes = $$(wasm-objdump -x $(1) | sed -n 's/.* size=\([0-9]*\) <$(2)>$$/\1/p' | \
	  { read n && echo $$((n + 1 + (n > 127))) || echo -; })
# The thread-safe rows include the function wasm-ld adds to every module
# over shared memory, to set its data up once: a threaded program has it
# whatever its allocator.
INIT_MEMORY := __wasm_init_memory
INIT_MEMORY_ROW := thread-safe rows: of them, wasm-ld's \`$(INIT_MEMORY)\`, in every module over shared memory
size-rows = $(foreach r,$(1),echo "| $(subst -checks1,,$(subst checks0,CHECKS=0,$(r))) |\
	  $(foreach s,$(SIZE_SETS),$(call size-cell,$(r)-$(s)) |)";)
LEVEL_NAME_default := default
LEVEL_NAME_fast    := default, MALLOC0_FAST=1
LEVEL_NAME_tiny    := tiny
LEVEL_NAME_threads := default, thread-safe (-matomics)
LEVEL_NAME_locked  := default, thread-safe, MALLOC0_THREAD_CACHES=0
SET_NAME_core := malloc+free
SET_NAME_seed := seed six
SET_NAME_all  := whole API
size: $(SIZE_WASM) $(SIZE_WASM:$(B)/size/%=$(B)/size-opt/%) $(LEVEL_WASM)
	@echo "code-section bytes, MALLOC0_ALIGN 16: $(OPT_SIZE) $(SIZE_LTO) / after wasm-opt -Oz"
	@echo
	@echo "| build | malloc+free | seed six | + pop_mark | whole API |"
	@echo "|---|---:|---:|---:|---:|"
	@$(call size-rows,$(SIZE_ROWS))
	@echo "| the original (reference) | - | $(ORIGINAL_SEED) | - | - |"
	@echo
	@echo "code-section bytes, wasm64: $(OPT_SIZE) $(SIZE_LTO) / after wasm-opt -Oz"
	@echo
	@echo "| build | malloc+free | seed six | + pop_mark | whole API |"
	@echo "|---|---:|---:|---:|---:|"
	@$(call size-rows,$(SIZE_ROWS64))
	@echo
	@echo "code-section bytes by optimization level ($(SIZE_LTO), MALLOC0_ALIGN 16)"
	@echo
	@echo "| build | $(foreach l,$(SIZE_LEVELS),-$(l) |)"
	@echo "|---|---:|---:|---:|"
	@$(foreach r,$(LEVEL_ROWS),$(foreach s,$(LEVEL_SETS),echo "| $(LEVEL_NAME_$(r)): $(SET_NAME_$(s)) |\
	  $(foreach l,$(SIZE_LEVELS),$(call code-bytes,$(B)/size-level/$(r)-$(s)-$(l).wasm) |)";))
	@echo "| $(INIT_MEMORY_ROW) | $(foreach l,$(SIZE_LEVELS),$(call function-bytes,$(B)/size-level/threads-core-$(l).wasm,$(INIT_MEMORY)) |)"
	@echo
	@$(MAKE) -s size-lines

# The README's lines for str_toggle, run as it shows them (with this
# Makefile's clang and PATH): the bytes of the module each gives.
size-lines: | deps
	@WASM_CLANG="$(CLANG)" WASM_PATH="$(TOOLS)" node bench/lines.mjs

clean:
	rm -rf $(B) $(EXAMPLE_WASM)

# Benchmarks: one driver (bench/driver.c) linked against each allocator.
BENCH_OPT := -O2 -fno-builtin
BENCH_WASM := $(foreach a,default oz fast tiny threadsafe nochecks original bump floor dlmalloc,$(B)/bench/$(a).wasm)
# threadsafe: the default profile built for threads (its own shared memory,
# up to 4 GiB), run on one thread: what the lock costs.  nochecks: built
# with MALLOC0_CHECKS=0: what the guarantees against invalid input cost.
PROFILE_threadsafe := $(THREADS_CC) -Wl,--shared-memory -Wl,--max-memory=4294967296
PROFILE_nochecks := -DMALLOC0_CHECKS=0
$(B)/bench/default.wasm $(B)/bench/fast.wasm $(B)/bench/tiny.wasm $(B)/bench/threadsafe.wasm $(B)/bench/nochecks.wasm: $(B)/bench/%.wasm: $(LIB) bench/driver.c $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM) $(WARN) $(BENCH_OPT) $(LINK) -DHAVE_MARKS $(PROFILE_$*) -o $@ malloc0.c bench/driver.c
# oz: the default profile compiled at -Oz, the driver at -O2 as for the
# others, so that only the allocator's code differs from default.wasm.
$(B)/bench/oz.o: $(LIB) $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) -c -o $@ malloc0.c
$(B)/bench/oz.wasm: $(B)/bench/oz.o bench/driver.c $(COMPILER) | deps
	$(WASM_CC) $(WASM) $(WARN) $(BENCH_OPT) $(LINK) -DHAVE_MARKS -o $@ $< bench/driver.c
$(B)/bench/%.wasm: bench/%.c bench/driver.c $(COMPILER) | deps
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM) $(WARN) $(BENCH_OPT) $(LINK) -o $@ $< bench/driver.c
# dlmalloc as Debian's wasi-libc package builds it.
$(B)/bench/dlmalloc.wasm: bench/driver.c $(COMPILER) | deps wasi-deps
	@mkdir -p $(@D)
	$(WASM_CC) --target=wasm32-wasi -mexec-model=reactor $(WARN) $(BENCH_OPT) -o $@ bench/driver.c

# wasi-libc, and the wasm32 builtins of the same version as clang.
wasi-deps: | deps
	@[ -f /usr/lib/wasm32-wasi/libc.a ] && [ -f "$$($(WASM_CC) --target=wasm32-wasi -print-libgcc-file-name)" ] || \
	  { $(call install,wasi-libc libclang-rt-$(CC_MAJOR)-dev-wasm32,the wasi builds); }

# The same driver built by emcc (standalone wasm, growth up to 4 GiB) over
# emmalloc, emscripten's dlmalloc, and malloc0 (-sMALLOC=none).  The driver's
# own data takes 12.6 MiB: initial memory just above it, so that peak pages
# tell what each allocator grew.
EM_BENCH_FLAGS := $(BENCH_OPT) -sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB \
                  -sINITIAL_MEMORY=13631488
EM_BENCH_em-dlmalloc := -sMALLOC=dlmalloc bench/driver.c
EM_BENCH_em-emmalloc := -sMALLOC=emmalloc bench/driver.c
EM_BENCH_em-malloc0  := -sMALLOC=none -DHAVE_MARKS -sEXPORTED_FUNCTIONS=_malloc0_check bench/driver.c malloc0.c
EM_BENCH_WASM := $(foreach a,em-dlmalloc em-emmalloc em-malloc0,$(B)/bench/$(a).wasm)
$(EM_BENCH_WASM): $(B)/bench/%.wasm: $(LIB) bench/driver.c | emscripten-deps
	@mkdir -p $(@D)
	$(EMCC) $(EM_BENCH_FLAGS) -o $@ $(EM_BENCH_$*)

# The threaded workload (bench/threads.c), built by emcc with -pthread over
# malloc0's thread-safe build (and with MALLOC0_CHECKS=0: what the guarantees
# cost threads), emmalloc and emscripten's dlmalloc, to run in Node as
# examples/emscripten/workers.c does.
EM_THREAD_BENCH := $(foreach a,malloc0 malloc0-nochecks emmalloc dlmalloc,$(B)/bench/em-threads-$(a).js)
EM_THREAD_BENCH_malloc0  := -sMALLOC=none $(B)/bench/malloc0-threads.o
EM_THREAD_BENCH_malloc0-nochecks := -sMALLOC=none $(B)/bench/malloc0-threads-nochecks.o
EM_THREAD_BENCH_emmalloc := -sMALLOC=emmalloc
EM_THREAD_BENCH_dlmalloc := -sMALLOC=dlmalloc
# The stem is empty, or -nochecks for the build with MALLOC0_CHECKS=0.
EM_THREAD_PROFILE-nochecks := $(PROFILE_nochecks)
$(B)/bench/malloc0-threads.o $(B)/bench/malloc0-threads-nochecks.o: $(B)/bench/malloc0-threads%.o: $(LIB) | emscripten-deps
	@mkdir -p $(@D)
	$(EMCC) $(BENCH_OPT) $(WARN) -pthread $(EM_THREAD_PROFILE$*) -c -o $@ malloc0.c
$(EM_THREAD_BENCH): $(B)/bench/em-threads-%.js: bench/threads.c $(B)/bench/malloc0-threads.o \
  $(B)/bench/malloc0-threads-nochecks.o | emscripten-deps
	echo '{ "type": "commonjs" }' > $(@D)/package.json
	$(EMCC) $(BENCH_OPT) $(WARN) $(EM_THREADS) $(EM_THREAD_BENCH_$*) -o $@ $<

# Each allocator exporting malloc and free, at -Oz, for the size row.
BENCH_SIZE := $(foreach a,default tiny bump dlmalloc,$(B)/bench/size-$(a).wasm)
$(B)/bench/size-default.wasm $(B)/bench/size-tiny.wasm: $(B)/bench/size-%.wasm: $(B)/size/wasm32-%-checks1-core.wasm
	cp $< $@
$(B)/bench/size-bump.wasm: bench/bump.c $(COMPILER) | deps
	$(WASM_CC) $(WASM) $(WARN) $(OPT_SIZE) $(LINK) $(call exports,$(CORE_API)) -o $@ $<
$(B)/bench/size-dlmalloc.wasm: $(COMPILER) | deps wasi-deps
	$(WASM_CC) --target=wasm32-wasi -mexec-model=reactor $(OPT_SIZE) $(call exports,$(CORE_API)) -o $@ -x c /dev/null

plot-deps:
	@command -v gnuplot >/dev/null || { $(call install,gnuplot-nox,the benchmark plots); }

# QUICK=1: a smoke run (figures not meaningful, nothing written).
# It also writes the size tables into bench/RESULTS.md, and copies the
# tables the README shows from there.  --no-liftoff: every module runs
# optimized code from the start (bench/run.mjs gives the threads' runs the
# same flags).  --expose-gc: each run starts after a full collection, settled.
bench: $(BENCH_WASM) $(EM_BENCH_WASM) $(EM_THREAD_BENCH) $(BENCH_SIZE) $(DEMO)/str_toggle.wasm | plot-deps
	@$(MAKE) -s size > $(B)/bench/size.md
	@$(MAKE) -s size-costs > $(B)/bench/costs.md
	QUICK=$(QUICK) node --no-liftoff --expose-gc bench/run.mjs

# What each guarantee costs in code bytes.
size-costs: | deps
	WASM_CLANG="$(CLANG)" WASM_PATH="$(TOOLS)" THREAD_FLAGS="$(THREADS)" \
	  CFLAGS="$(WASM) $(LIBFLAGS) $(OPT_SIZE) $(SIZE_LTO)" node bench/guarantee_cost.mjs

# Every module clang builds, rebuilt with binaryen's wasm-opt on PATH, must
# come out byte for byte the same.  On a fresh machine make test builds them
# before it installs emscripten, which brings binaryen: CI runs this after.
CLANG_WASM = $(TEST_WASM) $(TEST64_WASM) $(NOCHECK_WASM) $(THREADS_WASM) $(EXAMPLE_WASM) $(WASI_WASM) $(SIZE_WASM) $(LEVEL_WASM) \
             $(BENCH_WASM)
same-with-binaryen: $(CLANG_WASM) | binaryen-deps
	@sha256sum $(CLANG_WASM) > $(B)/wasm.sums
	@rm -f $(CLANG_WASM)
	@$(MAKE) -s $(CLANG_WASM) >/dev/null
	@sha256sum --quiet -c $(B)/wasm.sums
	@echo "same-with-binaryen: $(words $(CLANG_WASM)) modules, byte for byte the same with $$(command -v wasm-opt) on PATH"

# The suite, then the tests of heap modules again over MALLOC0_CHECKS=0, each
# through the short reporter; the last line adds both runs up.
# (Here, below every variable its prerequisites name.)
HEAP_TESTS := $(filter-out tests/browser.test.mjs tests/examples.test.mjs tests/wasi_dropin.test.mjs \
                tests/emscripten.test.mjs tests/native.test.mjs tests/newcomer.test.mjs tests/readme.test.mjs \
                tests/threads.test.mjs,$(TESTS))
RESULTS    := $(B)/results
node-test   = MALLOC0_NATIVE_TESTS="$(NATIVE_TESTS)" MALLOC0_TEST_CC=$(CC) MALLOC0_TEST_RESULTS=$(RESULTS)/$(1).json \
              node --test --test-reporter=./tests/lib/reporter.mjs
test: $(TEST_WASM) $(TEST64_WASM) $(NOCHECK_WASM) $(THREADS_WASM) $(WASI_WASM) $(EXAMPLE_WASM) $(EM_JS) $(EM_WORKERS) $(EM_LIBC) $(EM_BENCH_WASM) \
  $(NATIVE_TESTS) warnings | browser-deps
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@echo "make test: every test file, over modules built with MALLOC0_CHECKS=1"
	@$(call node-test,checks) tests/ || true
	@echo "make test: the tests of heap modules again, over MALLOC0_CHECKS=0"
	@MALLOC0_TEST_CHECKS=0 $(call node-test,nochecks) $(HEAP_TESTS) || true
	@node tests/lib/verdict.mjs $(RESULTS)/checks.json $(RESULTS)/nochecks.json

# Everything: the test modules, the examples, the wasi builds, the native
# tests and fuzz targets, the benchmark modules, and the size report.
all: $(TEST_WASM) $(TEST64_WASM) $(NOCHECK_WASM) $(THREADS_WASM) $(EXAMPLE_WASM) $(WASI_WASM) $(NATIVE_TESTS) $(BENCH_WASM) $(BENCH_SIZE) \
  $(foreach p,$(FUZZ_PROFILES),$(FUZZ_DIR)/$(p)) size
