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
# The C library the binaries link: musl (default) or glibc.  A static glibc
# binary runs 68 CPUID instructions before main(), each a trap to the
# hypervisor on a virtual machine (~0.85 ms per exec, measured: see
# docs/BENCHMARKS.md "Where a connection's CPU goes"); musl runs none.
# Every binary links the same one: LMDB keeps pthread mutexes in its lock
# files, and the two libraries lay them out differently.
LIBC     ?= musl
FUZZ_SECONDS ?= 60

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wformat-security -Wvla -Wpointer-arith -Werror
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
            -fcf-protection -fPIE -fno-strict-overflow -fno-delete-null-pointer-checks
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -D_GNU_SOURCE -MMD -MP $(WARN) $(HARDEN) -I$(B)/gen $(LIBC_CFLAGS)
# Static PIE binaries: exec is cheap and the image needs nothing else.
LDFLAGS  += -static-pie -Wl,-z,relro,-z,now,-z,noexecstack
LIBS     := -llmdb -lseccomp -lcap-ng -lcrypt -lbearssl -lpthread

ifeq ($(LIBC),musl)
# gcc with musl's headers (what musl-gcc's specs do) and the headers of the
# kernel and of our four libraries linked into one directory beside them.
# Debian's static libraries were compiled against glibc: compat/glibc_abi.c
# has the few glibc-only entry points they call.  _FORTIFY_SOURCE has no
# effect with musl's headers (they have no checking variants).
MUSL     := /usr/lib/x86_64-linux-musl
MUSL_INC := $(B)/musl/inc
MUSL_HDRS := linux asm-generic bearssl.h bearssl_*.h seccomp.h seccomp-syscalls.h cap-ng.h lmdb.h crypt.h
GCC_INC  := $(shell $(CC) -print-file-name=include)
LIBC_CFLAGS := -nostdinc -isystem $(MUSL_INC) -isystem compat/include \
            -isystem /usr/include/x86_64-linux-musl -isystem $(GCC_INC)
LIBC_DEP := $(MUSL_INC)/.stamp
GLIBC_A  := /usr/lib/x86_64-linux-gnu
LIBC_OBJ := $(B)/obj/compat/glibc_abi.o $(B)/obj/compat/string.o
# compat/string.c: memcpy and memmove faster than musl's (see the file);
# GCC must not turn its block loops (or memcpy itself) back into calls to
# memcpy (-fno-builtin, -fno-tree-loop-distribute-patterns), and no
# stack protector: musl's start-up copies the TLS image with memcpy before
# the thread pointer (where the canary lives) exists, which is why musl
# builds its own string functions without it too.
$(B)/obj/compat/string.o: CFLAGS += -fno-builtin -fno-tree-loop-distribute-patterns -fno-stack-protector
LINK_LIBS := $(GLIBC_A)/liblmdb.a $(GLIBC_A)/libseccomp.a $(GLIBC_A)/libcap-ng.a \
            $(GLIBC_A)/libcrypt.a $(GLIBC_A)/libbearssl.a $(LIBC_OBJ) $(MUSL)/libc.a \
            $(shell $(CC) -print-libgcc-file-name)
# A static PIE by hand: musl's self-relocating rcrt1.o and nothing of glibc's.
link_cmd = $(CC) -nostdlib -nostartfiles $(LDFLAGS) -o $@ $(MUSL)/rcrt1.o $(MUSL)/crti.o \
	$(shell $(CC) -print-file-name=crtbeginS.o) $(1) $(LINK_LIBS) \
	$(shell $(CC) -print-file-name=crtendS.o) $(MUSL)/crtn.o
$(MUSL_INC)/.stamp:
	@mkdir -p $(MUSL_INC)
	@cd $(MUSL_INC) && for h in $(MUSL_HDRS); do for f in /usr/include/$$h; do \
	    [ -e "$$f" ] && ln -sfn "$$f" .; done; done; \
	ln -sfn /usr/include/x86_64-linux-gnu/asm asm; touch .stamp
	@[ -f $(MUSL)/libc.a ] || { echo "musl missing: make deps (musl-tools), or LIBC=glibc" >&2; exit 1; }
else
LIBC_CFLAGS :=
LIBC_DEP :=
LIBC_OBJ :=
link_cmd = $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(1) $(LIBS)
endif

# Every file of common/ (each a module with its header) plus the mechanisms.
COMMON_SRC := $(sort $(wildcard common/*/*.c)) sandbox/sandbox.c $(sort $(wildcard policy/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)

DAEMONS  := master authd keyd stored pop3d lmtpd imapd smtpd metricsd resolverd deliver auth-checkpw
BINS     := $(DAEMONS:%=$(B)/bin/postern-%) $(B)/bin/posternctl
# authd's PostgreSQL backend links libpq, which cannot be linked statically
# (libpq.a needs OpenSSL, GSSAPI and LDAP): a dynamic glibc PIE, built
# only where libpq-fe.h is (docs/AUTH.md#backends, INSTALL.md).
PGSQL_INC := /usr/include/postgresql
ifneq ($(wildcard $(PGSQL_INC)/libpq-fe.h),)
DYN_DAEMONS += auth-pgsql
endif
# authd's LDAP backend, libldap: likewise (libldap.a needs GnuTLS and SASL)
ifneq ($(wildcard /usr/include/ldap.h),)
DYN_DAEMONS += auth-ldap
endif
BINS     += $(DYN_DAEMONS:%=$(B)/bin/postern-%)

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

# Objects are remade when LIBC changes (the stamp holds its value).
LIBC_STAMP := $(B)/gen/libc.stamp
$(LIBC_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo "$(LIBC)" >$@.tmp; if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(B)/obj/%.o: %.c $(LIBC_STAMP) | $(LIBC_DEP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(B)/lib/libpostern.a: $(COMMON_OBJ) $(LIBC_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(COMMON_OBJ)

# libcap-ng's capng_change_id refers to getpwuid/initgroups, which makes the
# static link warn; we never take that path (numeric ids, no
# CAPNG_INIT_SUPP_GRP), so that one warning is filtered, the status kept.
static_link = $(call link_cmd,$(1)) 2>$@.err; rc=$$?; \
	grep -v 'statically linked applications requires\|in function .capng_change_id' $@.err >&2; \
	rm -f $@.err; exit $$rc

# Seccomp programs compiled once, at build time (sandbox/filters.h): the
# generator links the library with an empty table and prints the real one,
# which every binary that may enter a sandbox links.
FILTERS_OBJ := $(B)/obj/gen/filters.o
$(B)/gen/gen_filters: $(B)/obj/sandbox/gen_filters.o $(B)/obj/sandbox/filters_none.o $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$(filter %.o %.a,$^))
$(B)/gen/filters.c: $(B)/gen/gen_filters
	@echo "  GEN     $@"
	@$< >$@.tmp && mv $@.tmp $@
$(FILTERS_OBJ): $(B)/gen/filters.c $(LIBC_STAMP) | $(LIBC_DEP)
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
	@$(call static_link,$(filter %.o %.a,$^))

# The dynamic glibc helpers: every .c of daemons/<name>/ and the common
# library compiled again with glibc's headers (build/dyn), linked as a PIE
# against the shared libpq (the rest of the libraries still static).
DYN_CFLAGS := -O2 -g -std=c17 -D_GNU_SOURCE -MMD -MP $(WARN) $(HARDEN) -I$(B)/gen -I$(PGSQL_INC)
DYN_OBJ := $(patsubst %.c,$(B)/dyn/%.o,$(COMMON_SRC)) $(B)/dyn/gen/filters.o
$(B)/dyn/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-DYN  $<"
	@$(CC) $(DYN_CFLAGS) -c $< -o $@
$(B)/dyn/gen/filters.o: $(B)/gen/filters.c
	@mkdir -p $(dir $@)
	@echo "  CC-DYN  $<"
	@$(CC) $(DYN_CFLAGS) -c $< -o $@
$(B)/dyn/common/base/version.o: $(VERSION_H)
$(B)/dyn/libpostern-dyn.a: $(DYN_OBJ)
	rm -f $@ && ar rcs $@ $^
dyn_objs_of = $(patsubst %.c,$(B)/dyn/%.o,$(wildcard daemons/$(1)/*.c))
$(B)/bin/postern-auth-pgsql: $(call dyn_objs_of,auth-pgsql) $(B)/dyn/libpostern-dyn.a
	@mkdir -p $(dir $@)
	@echo "  LD-DYN  $@"
	@$(CC) -pie -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--as-needed -o $@ $^ \
	    -Wl,-Bstatic -llmdb -lseccomp -lcap-ng -lcrypt -lbearssl -Wl,-Bdynamic -lpq -lpthread
$(B)/bin/postern-auth-ldap: $(call dyn_objs_of,auth-ldap) $(B)/dyn/libpostern-dyn.a
	@mkdir -p $(dir $@)
	@echo "  LD-DYN  $@"
	@$(CC) -pie -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--as-needed -o $@ $^ \
	    -Wl,-Bstatic -llmdb -lseccomp -lcap-ng -lcrypt -lbearssl -Wl,-Bdynamic -lldap -llber -lpthread

# posternctl is every .c file of admin/posternctl/ plus the common library,
# and keyd's certs.c: config check loads certificates as keyd does.
$(B)/bin/posternctl: $(patsubst %.c,$(B)/obj/%.o,$(wildcard admin/posternctl/*.c)) \
    $(B)/obj/daemons/keyd/certs.o $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$(filter %.o %.a,$^))

# Unit tests and test tools link the same library (not static: faster links).
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$(filter %.o %.a,$^))

# test_throttle also links authd's throttle.c: the tables are tested with a
# clock given as a parameter.
$(B)/tests/test_throttle: $(B)/obj/tests/unit/test_throttle.o $(B)/obj/daemons/authd/throttle.o \
    $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$(filter %.o %.a,$^))

$(B)/tests/%: $(B)/obj/tests/tools/%.o $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$(filter %.o %.a,$^))

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
$(B)/bench/phases: $(B)/obj/bench/phases.o $(FILTERS_OBJ) $(B)/lib/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(call static_link,$(filter %.o %.a,$^))

# make install, make uninstall, make deb (docs/INSTALL.md)
include mk/package.mk
