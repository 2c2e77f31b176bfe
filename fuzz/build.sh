#!/bin/bash -eu
# build.sh - build every fuzz/fuzz_*.c target in the OSS-Fuzz convention.
#
# Inputs (environment, as OSS-Fuzz and ClusterFuzzLite set them):
#   CC CXX CFLAGS CXXFLAGS   compilers and flags; CFLAGS carries the sanitizer
#                            and the engine's coverage flags
#   LIB_FUZZING_ENGINE       what provides main(): -fsanitize=fuzzer for
#                            libFuzzer, /usr/lib/afl/libAFLDriver.a for AFL++
#   OUT                      where the targets, .dict, .options and
#                            <target>_seed_corpus.zip go
#   SRC                      the source root (the project is the directory
#                            above this script: $SRC/postern in the image)
#   SANITIZER FUZZING_ENGINE optional; used only to fill in what is unset
#                            (a run by hand) and to skip what cannot work
#   WORK                     optional scratch directory for objects
#   JOBS                     parallel compiles (default 2)
#
# By hand, e.g.:
#   OUT=/tmp/out SRC=/work fuzz/build.sh                       # libFuzzer+ASan
#   FUZZING_ENGINE=afl OUT=/tmp/afl SRC=/work fuzz/build.sh      # AFL++
#   SANITIZER=undefined OUT=/tmp/ub SRC=/work fuzz/build.sh
#   SANITIZER=memory OUT=/tmp/msan SRC=/work fuzz/build.sh       # see README
#
# Our four libraries are linked statically (a runner image has only libc):
# only bearssl is ever pulled in, and lmdb/libcrypt/pthread for fuzz_userdb
# (userdb.o holds the LMDB and crypt(3) wrappers next to the pure codec).
# seccomp and cap-ng are never needed: no target links sandbox/ or policy/.

TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${SRC:=$(dirname "$TOP")}"
: "${OUT:?set OUT to the output directory}"
: "${SANITIZER:=address}"
: "${FUZZING_ENGINE:=libfuzzer}"
: "${JOBS:=2}"
LIBDIR=${POSTERN_LIBDIR:-/usr/lib/x86_64-linux-gnu}

[ -d "$SRC" ] || { echo "build.sh: SRC=$SRC is not a directory" >&2; exit 1; }

# Fill in what a run by hand leaves unset, per engine and sanitizer.
engine_defaults() {
	case "$FUZZING_ENGINE" in
	libfuzzer)
		: "${CC:=clang}" "${CXX:=clang++}"
		ENGINE_CFLAGS="-fsanitize=fuzzer-no-link"
		: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}" ;;
	afl)
		: "${CC:=afl-clang-fast}" "${CXX:=afl-clang-fast++}"
		ENGINE_CFLAGS=""
		: "${LIB_FUZZING_ENGINE:=/usr/lib/afl/libAFLDriver.a}" ;;
	honggfuzz)
		if ! command -v hfuzz-clang >/dev/null; then
			echo "build.sh: honggfuzz is not installed (no hfuzz-clang; Debian 12 has no" \
			    "package): nothing built" >&2
			exit 0
		fi
		: "${CC:=hfuzz-clang}" "${CXX:=hfuzz-clang++}"
		ENGINE_CFLAGS=""
		: "${LIB_FUZZING_ENGINE:=}" ;;
	none)
		# a plain main() (fuzz/replay.c) replays inputs: for CI without an engine
		: "${CC:=clang}" "${CXX:=clang++}"
		ENGINE_CFLAGS=""
		: "${LIB_FUZZING_ENGINE:=$WORK/replay.o}" ;;
	*)
		echo "build.sh: unknown FUZZING_ENGINE=$FUZZING_ENGINE" >&2
		exit 1 ;;
	esac
	case "$SANITIZER" in
	address) SAN_CFLAGS="-fsanitize=address -fsanitize-address-use-after-scope" ;;
	undefined) SAN_CFLAGS="-fsanitize=undefined" ;;
	memory) SAN_CFLAGS="-fsanitize=memory -fsanitize-memory-track-origins" ;;
	coverage) SAN_CFLAGS="-fprofile-instr-generate -fcoverage-mapping" ;;
	none) SAN_CFLAGS="" ;;
	*) echo "build.sh: unknown SANITIZER=$SANITIZER" >&2; exit 1 ;;
	esac
	: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer $SAN_CFLAGS $ENGINE_CFLAGS}"
	: "${CXXFLAGS:=$CFLAGS}"
}

# Libraries a target needs beyond common/, found by linking each without
# them; every .a here is a static archive, so only used members are pulled.
target_libs() {
	case "$1" in
	fuzz_userdb|fuzz_alias_record) echo "$LIBDIR/liblmdb.a $LIBDIR/libcrypt.a $LIBDIR/libbearssl.a -lpthread" ;;
	# the rest: bearssl (a static archive: only what a target calls is linked)
	*) echo "$LIBDIR/libbearssl.a" ;;
	esac
}

# MSan reports any byte written by code it did not instrument.  Targets that
# call into libbearssl.a at run time (PEM decoding, SHA-256 UIDLs) would
# report false positives, so they are not built for MSan (see README).
msan_skip() {
	case "$1" in
	fuzz_pem|fuzz_maildir_name) return 0 ;;
	esac
	return 1
}

# Seed corpus as <target>_seed_corpus.zip: sorted names, fixed timestamps,
# so the same corpus always gives the same bytes.
pack_corpus() {
	python3 - "$1" "$2" <<'EOF'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(src)):
        p = os.path.join(src, name)
        if name.startswith(".") or not os.path.isfile(p):
            continue
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(p, "rb") as f:
            z.writestr(info, f.read())
EOF
}

build_common() {
	local f o objs=()

	mkdir -p "$WORK/obj"
	for f in "$TOP"/common/*/*.c; do
		objs+=("$WORK/obj/$(basename "${f%.c}").o")
	done
	for f in "$TOP"/common/*/*.c; do
		echo "$CC $CFLAGS $STD_FLAGS -c $f -o $WORK/obj/$(basename "${f%.c}").o"
	done | xargs -P "$JOBS" -I{} sh -c '{}'
	rm -f "$WORK/libpostern_fuzz.a"
	ar rcs "$WORK/libpostern_fuzz.a" "${objs[@]}"
	if [ "$FUZZING_ENGINE" = none ]; then
		$CC $CFLAGS $STD_FLAGS -c "$TOP/fuzz/replay.c" -o "$WORK/replay.o"
	fi
}

build_target() {
	local t=$1 libs

	libs=$(target_libs "$t")
	# shellcheck disable=SC2086  # flag lists are word-split on purpose
	$CC $CFLAGS $STD_FLAGS -c "$TOP/fuzz/$t.c" -o "$WORK/$t.o"
	# shellcheck disable=SC2086
	$CXX $CXXFLAGS -o "$OUT/$t" "$WORK/$t.o" "$WORK/libpostern_fuzz.a" \
	    $LIB_FUZZING_ENGINE $libs
	[ -f "$TOP/fuzz/$t.dict" ] && cp "$TOP/fuzz/$t.dict" "$OUT/$t.dict"
	[ -f "$TOP/fuzz/$t.options" ] && cp "$TOP/fuzz/$t.options" "$OUT/$t.options"
	if [ -d "$TOP/fuzz/corpus/$t" ]; then
		pack_corpus "$TOP/fuzz/corpus/$t" "$OUT/${t}_seed_corpus.zip"
	fi
	echo "build.sh: $OUT/$t"
}

main() {
	local t targets=() pids=() rc=0 i

	WORK=${WORK:-$(mktemp -d)}
	engine_defaults
	# An undefined-behaviour report must stop the run and save the input.
	CFLAGS="$CFLAGS -fno-sanitize-recover=all"
	CXXFLAGS="$CXXFLAGS -fno-sanitize-recover=all"
	STD_FLAGS="-std=c17 -D_GNU_SOURCE -I$TOP"
	mkdir -p "$OUT"
	build_common
	for t in "$TOP"/fuzz/fuzz_*.c; do
		t=$(basename "${t%.c}")
		if [ "$SANITIZER" = memory ] && msan_skip "$t"; then
			echo "build.sh: $t skipped for MSan (calls uninstrumented libbearssl.a)" >&2
			continue
		fi
		targets+=("$t")
	done
	# $JOBS targets at a time; each is one small file plus a link.
	for ((i = 0; i < ${#targets[@]}; i++)); do
		build_target "${targets[$i]}" &
		pids+=($!)
		if (( ${#pids[@]} >= JOBS )); then
			wait "${pids[0]}" || rc=1
			pids=("${pids[@]:1}")
		fi
	done
	for i in "${pids[@]}"; do
		wait "$i" || rc=1
	done
	return $rc
}

main "$@"
