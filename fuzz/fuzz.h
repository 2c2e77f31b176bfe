/* fuzz.h - shared by every fuzz target: the entry point's prototype and a
 * property check that aborts (so libFuzzer and the replay both report it). */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "%s:%d: property failed: %s\n",	\
			    __FILE__, __LINE__, #c);			\
			abort();					\
		}							\
	} while (0)

/* FNV-1a: a digest of parser results, to compare whole and chunked feeds. */
static inline void
fuzz_mix(uint64_t *h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
}

/* A decoded message put again by its codec gives the bytes received:
 * both ends share one layout, so nothing is lost or invented on the way. */
#define CHECK_REENCODES(o, i)						\
	CHECK((o).err == 0 && (o).len == IPC_HDR_LEN + (i).len &&	\
	    memcmp((o).data + IPC_HDR_LEN, (i).data + IPC_HDR_LEN, (i).len) == 0)

/* A number no process has open: the decoders only test fd presence. */
#define FUZZ_FAKE_FD	1000000

#endif
