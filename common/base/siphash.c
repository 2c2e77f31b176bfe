/* siphash.c - SipHash-2-4, written from the specification in "SipHash: a
 * fast short-input PRF" (Aumasson, Bernstein; INDOCRYPT 2012), section 2. */
#include "siphash.h"
#include "util.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound over the state v[0..3]. */
static void
sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static void
compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

uint64_t
siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = util_load_le64(key), k1 = util_load_le64(key + 8);
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	size_t i, full = len - len % 8;

	for (i = 0; i < full; i += 8)
		compress(v, util_load_le64(p + i));
	/* the last block: the remaining bytes, then the length in the top byte */
	for (i = 0; i < len % 8; i++)
		last |= (uint64_t)p[full + i] << (8 * i);
	compress(v, last);
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
