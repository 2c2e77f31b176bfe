#!/bin/sh
# build.sh - an EXPERIMENTAL postern-pop3d linked with musl instead of
# glibc, for measuring only: not built by make, not in the image.
#
# Why: a static glibc binary runs 68 CPUID instructions at start-up
# (init_cpu_features and the cache-info loops of dl_init_cacheinfo, no
# tunable skips them); a virtual machine traps each one, ~12 us here, so
# every exec of a worker costs ~0.8 ms before main().  musl runs none.
# See docs/BENCHMARKS.md, "Where a connection's CPU goes".
#
# Result: build/musl/bin, a copy of build/bin with postern-pop3d replaced,
# for `python3 bench/profile_conn.py plain --bin build/musl/bin`.
# Needs musl-tools and a finished `make all`.  Debian's static libraries
# were built against glibc: bench/musl/fortify_shims.c supplies the _chk
# entry points they call.  _FORTIFY_SOURCE has no effect with musl.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/musl
command -v musl-gcc >/dev/null || { echo "build.sh: musl-gcc missing (apt-get install musl-tools)" >&2; exit 1; }
[ -f "$top/build/gen/filters.c" ] || { echo "build.sh: run make all first" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/inc" "$out/obj" "$out/bin"
# musl's include path has no kernel or library headers: link in the ones used.
for h in linux asm-generic bearssl bearssl.h seccomp.h seccomp-syscalls.h cap-ng.h lmdb.h; do
	[ -e "/usr/include/$h" ] && ln -s "/usr/include/$h" "$out/inc/$h"
done
ln -s /usr/include/x86_64-linux-gnu/asm "$out/inc/asm"
cflags="-std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE -isystem $out/inc -I$top/build/gen"
lib=""
# userdb.c needs crypt.h (authd only): not part of pop3d.
for f in $(cd "$top" && ls common/*/*.c | grep -v userdb.c) sandbox/sandbox.c policy/policy.c \
    policy/services.c build/gen/filters.c bench/musl/fortify_shims.c; do
	o="$out/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')"
	musl-gcc $cflags -c "$top/$f" -o "$o"
	lib="$lib $o"
done
ar rcs "$out/libpostern-musl.a" $lib
for f in "$top"/daemons/pop3d/*.c; do
	musl-gcc $cflags -c "$f" -o "$out/obj/pop3d_$(basename "$f" .c).o"
done
# musl-gcc's specs know -static but not -static-pie (it would link against
# libc.so with /lib/ld-musl as interpreter): link by hand with musl's
# rcrt1.o, the self-relocating start file of a static PIE.
m=/usr/lib/x86_64-linux-musl
gcc -nostdlib -nostartfiles -static-pie -Wl,-z,relro,-z,now,-z,noexecstack -o "$out/postern-pop3d" \
	"$m/rcrt1.o" "$m/crti.o" "$(gcc -print-file-name=crtbeginS.o)" "$out"/obj/pop3d_*.o \
	"$out/libpostern-musl.a" /usr/lib/x86_64-linux-gnu/libbearssl.a \
	/usr/lib/x86_64-linux-gnu/libseccomp.a /usr/lib/x86_64-linux-gnu/libcap-ng.a \
	"$out/libpostern-musl.a" -L"$m" -lc "$(gcc -print-file-name=libgcc.a)" \
	"$(gcc -print-file-name=crtendS.o)" "$m/crtn.o"
cp -p "$top"/build/bin/* "$out/bin/"
cp "$out/postern-pop3d" "$out/bin/postern-pop3d"
echo "build.sh: $out/bin (postern-pop3d linked with musl)"
