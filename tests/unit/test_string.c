/* test_string.c - memcpy and memmove as the binaries link them (in the musl
 * build compat/string.c's, in the glibc build glibc's): every length 0..300
 * at every relative offset -40..40 of source and destination in one buffer
 * (overlapping both ways) against a byte-by-byte reference, and a few long
 * copies.  Bytes outside the destination must stay as they were. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define BUF 4096

static unsigned char work[BUF], ref[BUF], tmp[BUF];

/* the reference: through a separate buffer, one byte at a time (volatile:
 * the compiler may not turn it into a call of the functions under test) */
static void
ref_move(unsigned char *buf, size_t d, size_t s, size_t n)
{
	volatile unsigned char *v = tmp;
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = buf[s + i];
	for (i = 0; i < n; i++)
		buf[d + i] = v[i];
}

static void
fill(unsigned int seed)
{
	size_t i;

	for (i = 0; i < BUF; i++) {
		seed = seed * 1103515245u + 12345u;
		work[i] = ref[i] = (unsigned char)(seed >> 16);
	}
}

int
main(void)
{
	size_t n, s, d;
	long off;
	int ok_move = 1, ok_cpy = 1, ok_long = 1;

	for (n = 0; n <= 300; n++)
		for (off = -40; off <= 40; off++) {
			s = 1000 + (size_t)(n % 7);
			d = (size_t)((long)s + off);
			fill((unsigned int)(n * 131 + (size_t)(off + 40)));
			memmove(work + d, work + s, n);
			ref_move(ref, d, s, n);
			ok_move &= memcmp(work, ref, BUF) == 0;
			/* memcpy: source and destination apart */
			fill((unsigned int)(n * 7 + (size_t)(off + 40)));
			d = 2500 + (size_t)(off + 40);
			memcpy(work + d, work + s, n);
			ref_move(ref, d, s, n);
			ok_cpy &= memcmp(work, ref, BUF) == 0;
		}
	CHECK(ok_move, "memmove: every length 0..300, every overlap -40..40");
	CHECK(ok_cpy, "memcpy: every length 0..300, every alignment");
	for (n = 301; n < 1800; n += 97)
		for (off = -70; off <= 70; off += 35) {
			fill((unsigned int)n);
			s = 1200;
			d = (size_t)((long)s + off);
			memmove(work + d, work + s, n);
			ref_move(ref, d, s, n);
			ok_long &= memcmp(work, ref, BUF) == 0;
		}
	CHECK(ok_long, "memmove: long copies, overlapping by less than a block and more");
	return tap_done();
}
