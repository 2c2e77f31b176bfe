# Postern - one plain Makefile.
#   make            build everything into build/
#   make run        build and start the demo appliance under ./run
#   make test       build and run every test; last line "N passed, N failed, N skipped"
#   make fuzz       real fuzzing with libFuzzer (clang), FUZZ_SECONDS per target
#   make fuzz-coverage  line/branch coverage per target into fuzz/README.md (llvm-14)
#   make bench      POP3 load against Postern and Dovecot, see docs/BENCHMARKS.md
#   make bench-imap IMAP: Postern against Dovecot and Courier (bench/imap.py; BENCH_ARGS=--quick)
#   make bench-lmtp LMTP deliveries: Postern against Dovecot's LMTP and the disk limit (bench/lmtp.py)
#   make image      OCI image + erofs/squashfs root images in build/image, see docs/CONTAINER.md
#   make image-test only the image test (make test runs it too, skipped without the tools)
#   make deps       install missing Debian packages (as root)

CC       ?= gcc
B        := build
FUZZ_SECONDS ?= 60

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wformat-security -Wvla -Wpointer-arith -Werror
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
            -fcf-protection -fPIE -fno-strict-overflow -fno-delete-null-pointer-checks
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -D_GNU_SOURCE -MMD -MP $(WARN) $(HARDEN) -I$(B)/gen
# Static PIE binaries: exec is cheap and the image needs nothing else.
LDFLAGS  += -static-pie -Wl,-z,relro,-z,now,-z,noexecstack
LIBS     := -llmdb -lseccomp -lcap-ng -lcrypt -lbearssl -lpthread

# Every file of common/ (each a module with its header) plus the mechanisms.
COMMON_SRC := $(sort $(wildcard common/*/*.c)) sandbox/sandbox.c $(sort $(wildcard policy/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)

DAEMONS  := master authd keyd stored pop3d lmtpd imapd smtpd metricsd deliver
BINS     := $(DAEMONS:%=$(B)/bin/postern-%) $(B)/bin/posternctl

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_TOOLS := $(patsubst tests/tools/%.c,$(B)/tests/%,$(wildcard tests/tools/*.c))
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(filter-out fuzz/replay.c,$(wildcard fuzz/fuzz_*.c)))
REPLAY_BINS := $(FUZZ_TARGETS:%=$(B)/replay/%)

.PHONY: all run test fuzz fuzz-coverage bench bench-imap bench-lmtp clean deps unit-tests replay-bins check-deps image image-test FORCE
all: $(BINS)

# The version (git describe; "unknown" without git), rewritten only when it
# changes so that an unchanged tree relinks nothing.
VERSION_H := $(B)/gen/version_gen.h
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@v=$$([ -e .git ] && git describe --always --dirty 2>/dev/null || echo unknown); \
	printf '#define POSTERN_VERSION "%s"\n' "$${v:-unknown}" >$@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(B)/obj/common/base/version.o: $(VERSION_H)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(B)/lib/libpostern.a: $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# libcap-ng's capng_change_id refers to getpwuid/initgroups, which makes the
# static link warn; we never take that path (numeric ids, no
# CAPNG_INIT_SUPP_GRP), so that one warning is filtered, the status kept.
static_link = $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(1) $(LIBS) 2>$@.err; rc=$$?; \
	grep -v 'statically linked applications requires\|in function .capng_change_id' $@.err >&2; \
	rm -f $@.err; exit $$rc

# Seccomp programs compiled once, at build time (sandbox/filters.h): the
# generator links the library with an empty table and prints the real one,
# which every binary that may enter a sandbox links.
FILTERS_OBJ := $(B)/obj/gen/filters.o
$(B)/gen/gen_filters: sandbox/gen_filters.c sandbox/filters_none.c $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -o $@ sandbox/gen_filters.c sandbox/filters_none.c $(B)/lib/libpostern.a $(LIBS)
$(B)/gen/filters.c: $(B)/gen/gen_filters
	@echo "  GEN     $@"
	@$< >$@.tmp && mv $@.tmp $@
$(FILTERS_OBJ): $(B)/gen/filters.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# Each daemon is every .c file of daemons/<name>/ plus the common library.
objs_of = $(patsubst %.c,$(B)/obj/%.o,$(wildcard daemons/$(1)/*.c))
.SECONDARY:
.SECONDEXPANSION:
$(B)/bin/postern-%: $$(call objs_of,$$*) $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$^)

# posternctl is every .c file of admin/posternctl/ plus the common library,
# and keyd's certs.c: config check loads certificates as keyd does.
$(B)/bin/posternctl: $(patsubst %.c,$(B)/obj/%.o,$(wildcard admin/posternctl/*.c)) \
    $(B)/obj/daemons/keyd/certs.o $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$^)

# Unit tests and test tools link the same library (not static: faster links).
$(B)/tests/%: tests/unit/%.c $(FILTERS_OBJ) $(B)/lib/libpostern.a tests/unit/tap.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(FILTERS_OBJ) $(B)/lib/libpostern.a $(LIBS)

# test_throttle also links authd's throttle.c: the tables are tested with a
# clock given as a parameter.
$(B)/tests/test_throttle: tests/unit/test_throttle.c $(B)/obj/daemons/authd/throttle.o \
    $(FILTERS_OBJ) $(B)/lib/libpostern.a tests/unit/tap.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(B)/obj/daemons/authd/throttle.o $(FILTERS_OBJ) $(B)/lib/libpostern.a $(LIBS)

$(B)/tests/%: tests/tools/%.c $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$< $(FILTERS_OBJ) $(B)/lib/libpostern.a)

# Corpus replay: every fuzz target built with gcc ASan/UBSan and a plain main(),
# linked against the common library compiled once with the same flags.
SAN := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# (sandbox/filters_none.c: no prebuilt seccomp programs, the targets never load one)
SAN_OBJ := $(patsubst %.c,$(B)/san/%.o,$(COMMON_SRC) sandbox/filters_none.c)
$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $<"
	@$(CC) -std=c17 -D_GNU_SOURCE -MMD -MP $(WARN) $(SAN) -c $< -o $@
$(B)/san/libpostern-san.a: $(SAN_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/replay/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(B)/san/libpostern-san.a
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	@$(CC) -std=c17 -D_GNU_SOURCE -MMD -MP $(WARN) $(SAN) -o $@ $< fuzz/replay.c \
	    $(B)/san/libpostern-san.a $(LIBS)

unit-tests: $(UNIT_TESTS) $(TEST_TOOLS)
replay-bins: $(REPLAY_BINS)

deps:
	@sh scripts/deps.sh

run: deps all
	@sh scripts/demo.sh

test: deps all unit-tests replay-bins
	@python3 tests/runner.py

# libFuzzer needs clang; each target runs FUZZ_SECONDS on a copy of its corpus.
fuzz: deps
	@mkdir -p $(B)/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    -o $(B)/fuzz/$$t fuzz/$$t.c $(COMMON_SRC) sandbox/filters_none.c $(LIBS) || exit 1; \
	  mkdir -p $(B)/fuzz/corpus-$$t; cp fuzz/corpus/$$t/* $(B)/fuzz/corpus-$$t/ 2>/dev/null; \
	  dict=""; [ -f fuzz/$$t.dict ] && dict="-dict=fuzz/$$t.dict"; \
	  $(B)/fuzz/$$t $$dict -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; \
	done

# Coverage of what each target owns, from its committed corpus (clang
# source-based coverage via fuzz/build.sh); rewrites the table in
# fuzz/README.md and fails below fuzz/coverage-baseline.txt.
fuzz-coverage: deps
	@python3 fuzz/coverage.py --readme --check

bench: deps all
	@python3 bench/pop3.py

bench-imap: deps all
	@python3 bench/imap.py $(BENCH_ARGS)

bench-lmtp: deps all
	@python3 bench/lmtp.py $(BENCH_ARGS)

# No container engine: umoci + skopeo, mkfs.erofs, mksquashfs; reproducible.
image: deps all
	@sh image/build.sh

# Builds the image twice itself, then runs it under runc (tests/integration/test_image.py).
image-test: deps all
	@cd tests/integration && PYTHONDONTWRITEBYTECODE=1 python3 -m unittest -v test_image

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)

# The start-up phases of a worker, one at a time (bench/phases.c; see
# docs/BENCHMARKS.md, "Where a connection's CPU goes").
$(B)/bench/phases: bench/phases.c $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(FILTERS_OBJ) $(B)/lib/libpostern.a $(LIBS)

# make install, make uninstall, make deb (docs/INSTALL.md)
include mk/package.mk
