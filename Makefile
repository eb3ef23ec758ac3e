# malloc0 — the one place that knows the build flags.

CC        := clang
WASM      := --target=wasm32 -nostdlib
WARN      := -Wall -Wextra -Werror
# malloc0.c defines malloc and free: clang must not treat them as libc's.
LIBFLAGS  := -fno-builtin
OPT_SIZE  := -Oz
OPT_TEST  := -O2
LINK      := -Wl,--no-entry
ALIGNS    := 4 8 16
# The host maximum used by the out-of-memory tests, in 64 KiB pages.
MAX_PAGES := 64
PAGE      := 65536

CORE_API  := malloc free
MARK_API  := free_all free_all_mark free_get_mark free_to_mark
TEST_API  := $(CORE_API) $(MARK_API) malloc0_check test_stats
exports    = $(foreach name,$(1),-Wl,--export=$(name))

LIB       := malloc0.c malloc0.h
B         := build
TESTS     := $(wildcard tests/*.test.mjs)
TEST_WASM := $(foreach a,$(ALIGNS),$(foreach v,plain max import debug,$(B)/test/a$(a)-$(v).wasm))
DEMO      := examples/str_toggle

# What each test variant adds to the build.
VARIANT_plain  :=
VARIANT_max    := -Wl,--max-memory=$(shell echo $$(($(MAX_PAGES) * $(PAGE))))
VARIANT_import := -Wl,--import-memory
VARIANT_debug  := -DMALLOC0_DEBUG

.PHONY: all test demo size clean deps warnings seed-build bench size-costs
all: $(TEST_WASM) $(DEMO)/str_toggle.wasm size

# Tools: install what is missing when root on Debian, else say what to install.
deps:
	@missing=""; \
	command -v $(CC) >/dev/null || missing="$$missing clang"; \
	command -v wasm-ld >/dev/null || missing="$$missing lld"; \
	command -v wasm-objdump >/dev/null || missing="$$missing wabt"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "malloc0 needs:$$missing — install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

$(B)/test/a%.wasm: $(LIB) tests/exports.c | deps
	@mkdir -p $(@D)
	$(CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_TEST) $(LINK) \
	  -DMALLOC0_ALIGN=$(firstword $(subst -, ,$*)) $(VARIANT_$(lastword $(subst -, ,$*))) \
	  $(call exports,$(TEST_API)) -o $@ malloc0.c tests/exports.c

# Every alignment, with and without bulk memory, without a single warning.
warnings: | deps
	@for a in $(ALIGNS); do for bulk in "" -mbulk-memory; do \
	  $(CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $$bulk -DMALLOC0_ALIGN=$$a \
	    -c malloc0.c -o /dev/null || exit 1; done; done

# The command line from the README's first example must stay silent.
seed-build: | deps
	@mkdir -p $(B)/seed
	@out=$$($(CC) -O3 -flto --target=wasm32 -mbulk-memory --no-standard-libraries \
	  -Wl,--export-all -Wl,--no-entry -Wl,--lto-O3 -Wl,-z,stack-size=4096 \
	  -o $(B)/seed/str_toggle.wasm malloc0.c $(DEMO)/str_toggle.c 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "seed-build: warnings above"; exit 1; fi

test: $(TEST_WASM) warnings seed-build
	node --test tests/

$(DEMO)/str_toggle.wasm: $(LIB) $(DEMO)/str_toggle.c | deps
	$(CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $(LINK) \
	  $(call exports,$(CORE_API) str_toggle) -o $@ malloc0.c $(DEMO)/str_toggle.c

demo: $(DEMO)/str_toggle.wasm
	node $(DEMO)/run.mjs

# Code-section bytes at -Oz: malloc and free alone, then with the marks.
$(B)/size/core.wasm: $(LIB) | deps
	@mkdir -p $(@D)
	$(CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $(LINK) $(call exports,$(CORE_API)) -o $@ malloc0.c
$(B)/size/marks.wasm: $(LIB) | deps
	@mkdir -p $(@D)
	$(CC) $(WASM) $(WARN) $(LIBFLAGS) $(OPT_SIZE) $(LINK) $(call exports,$(CORE_API) $(MARK_API)) -o $@ malloc0.c

size: $(B)/size/core.wasm $(B)/size/marks.wasm
	@echo "code section bytes at $(OPT_SIZE), MALLOC0_ALIGN 16:"
	@for m in core marks; do \
	  printf '  %-6s %s\n' $$m "$$(wasm-objdump -h $(B)/size/$$m.wasm | sed -n 's/.*Code.*(size=0x\([0-9a-f]*\)).*/\1/p' | xargs -I{} printf '%d' 0x{})"; done

clean:
	rm -rf $(B) $(DEMO)/str_toggle.wasm

# Benchmarks: flat time per pair from 10^3 to 10^6 live blocks.
$(B)/bench/scaling.wasm: $(LIB) bench/scaling.c | deps
	@mkdir -p $(@D)
	$(CC) $(WASM) $(WARN) $(LIBFLAGS) -O2 $(LINK) -o $@ malloc0.c bench/scaling.c

bench: $(B)/bench/scaling.wasm
	node bench/scaling.mjs

# What each guarantee costs in code bytes.
size-costs: | deps
	CFLAGS="$(WASM) $(LIBFLAGS) $(OPT_SIZE)" node bench/guarantee_cost.mjs
