/* string.c - memcpy and memmove for the musl build (Makefile, LIBC=musl),
 * linked before musl's libc.a so that these are the ones every binary uses.
 *
 * Why: musl 1.2.3's x86-64 memcpy starts every copy with a byte loop to
 * align and a `rep movsq`, whose start-up costs 15-45 ns even for 7 or 40
 * bytes (glibc: 3 ns), and its memmove copies backwards byte by byte (1.7
 * GB/s).  Postern copies many short variable-length fields (IPC strings,
 * names, FETCH items): with musl's, IMAP's UID FETCH 1:* of 100,000
 * messages took 130-170 ms instead of 30-47 (docs/BENCHMARKS.md).
 *
 * How: copies up to 32 bytes load everything first, then store (two
 * overlapping loads cover any length), which is also correct for
 * overlapping buffers; longer ones go in 32-byte blocks, forwards or
 * backwards as memmove needs, with the last (or first) partial block
 * loaded before the loop and stored after it.  __builtin_memcpy with a
 * constant size is GCC's and Clang's way to say "one unaligned load or
 * store" without undefined behaviour; it becomes mov instructions, never a
 * call.  The file is compiled with -fno-tree-loop-distribute-patterns (the
 * Makefile), so that GCC does not turn the block loops back into calls to
 * memcpy. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct blk16 {
	uint64_t a, b;
};

struct blk32 {
	struct blk16 lo, hi;
};

static inline struct blk16
load16(const unsigned char *s)
{
	struct blk16 v;

	__builtin_memcpy(&v, s, sizeof(v));
	return v;
}

static inline struct blk32
load32(const unsigned char *s)
{
	struct blk32 v;

	__builtin_memcpy(&v, s, sizeof(v));
	return v;
}

static inline void
store16(unsigned char *d, struct blk16 v)
{
	__builtin_memcpy(d, &v, sizeof(v));
}

static inline void
store32(unsigned char *d, struct blk32 v)
{
	__builtin_memcpy(d, &v, sizeof(v));
}

/* n <= 32: every byte loaded before the first store. */
static inline void
copy_small(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 16) {
		struct blk16 a = load16(s), b = load16(s + n - 16);

		store16(d, a);
		store16(d + n - 16, b);
	} else if (n >= 8) {
		uint64_t a, b;

		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + n - 8, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		__builtin_memcpy(&a, s, 4);
		__builtin_memcpy(&b, s + n - 4, 4);
		__builtin_memcpy(d, &a, 4);
		__builtin_memcpy(d + n - 4, &b, 4);
	} else if (n > 0) {
		unsigned char a = s[0], b = s[n / 2], c = s[n - 1];

		d[0] = a;
		d[n / 2] = b;
		d[n - 1] = c;
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
/* From 1 KiB on, the CPU's own forward string copy (`rep movsb`, fast
 * on every x86-64 with ERMS, and what musl's own memcpy is built on)
 * beats 32-byte blocks.  GCC/Clang inline assembly; copying forwards byte
 * by byte is architecturally defined, so it is right for d < s overlap. */
#define LONG_COPY 1024
static inline void
copy_long(unsigned char *d, const unsigned char *s, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
#endif

/* n > 32, d <= s or no overlap: forward blocks; the last 32 bytes are
 * loaded first (a block may overwrite them when d < s overlaps). */
static void
copy_fwd(unsigned char *d, const unsigned char *s, size_t n)
{
	struct blk32 tail;
	size_t i;

#ifdef LONG_COPY
	if (n >= LONG_COPY) {
		copy_long(d, s, n);
		return;
	}
#endif
	tail = load32(s + n - 32);

	for (i = 0; i + 32 < n; i += 32)
		store32(d + i, load32(s + i));
	store32(d + n - 32, tail);
}

/* n > 32, s < d < s + n: backward blocks, the first 32 bytes loaded first. */
static void
copy_bwd(unsigned char *d, const unsigned char *s, size_t n)
{
	struct blk32 head = load32(s);
	size_t i;

	for (i = n; i > 32; i -= 32)
		store32(d + i - 32, load32(s + i - 32));
	store32(d, head);
}

/* Both entry points are this one (a name GCC gives no builtin meaning:
 * memcpy calling memmove became a jump to memcpy itself). */
static void *
move_bytes(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n <= 32)
		copy_small(d, s, n);
	else if ((uintptr_t)d - (uintptr_t)s >= n)	/* d before s, or apart */
		copy_fwd(d, s, n);
	else
		copy_bwd(d, s, n);
	return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	return move_bytes(dst, src, n);
}

void *
memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	return move_bytes(dst, src, n);
}
