/* fuzz_x25519 - the X25519 code the TLS engine runs on the client's key
 * share (common/net/x25519.h), against BearSSL's own c25519_m31.
 *
 * Input: 32 bytes of point (the client's u-coordinate as it arrives),
 * then 0..32 bytes of scalar (short scalars zero-extended, as BearSSL
 * passes them); shorter input is padded with zeros.  Properties:
 * - mul gives m31's result byte for byte, except that an all-zero result
 *   (a point of small order) is refused where m31 accepts it;
 * - a point of other than 32 bytes and a scalar over 32 are refused;
 * - the result is canonical: below 2^255 - 19;
 * - mulgen of the scalar is mul of the base point 9, and is m31's. */
#include <string.h>

#include "../common/net/x25519.h"
#include "fuzz.h"

static int
canonical(const uint8_t u[32])
{
	int i;

	/* p = 2^255 - 19: little-endian ed ff .. ff 7f */
	if (u[31] < 0x7f)
		return 1;
	if (u[31] > 0x7f)
		return 0;
	for (i = 30; i > 0; i--)
		if (u[i] != 0xff)
			return 1;
	return u[0] < 0xed;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pt[32] = { 0 }, k[32] = { 0 }, a[32], b[32], g[32], z = 0;
	size_t klen, i;
	uint32_t ra, rb;

	memcpy(pt, data, size < 32 ? size : 32);
	klen = size > 32 ? size - 32 : 0;
	if (klen > 32)
		klen = 32;
	if (klen)
		memcpy(k, data + 32, klen);
	memcpy(a, pt, 32);
	memcpy(b, pt, 32);
	ra = x25519_ec.mul(a, 32, k, klen, BR_EC_curve25519);
	rb = br_ec_c25519_m31.mul(b, 32, k, klen, BR_EC_curve25519);
	CHECK(rb == 1);
	for (i = 0; i < 32; i++)
		z |= b[i];
	if (z == 0) {
		CHECK(ra == 0);
	} else {
		CHECK(ra == 1);
		CHECK(memcmp(a, b, 32) == 0);
		CHECK(canonical(a));
	}
	CHECK(x25519_ec.mul(a, 31, k, klen, BR_EC_curve25519) == 0);
	CHECK(x25519_ec.mul(a, 32, k, 33, BR_EC_curve25519) == 0);
	CHECK(x25519_ec.mulgen(g, k, klen, BR_EC_curve25519) == 32);
	CHECK(br_ec_c25519_m31.mulgen(b, k, klen, BR_EC_curve25519) == 32);
	CHECK(memcmp(g, b, 32) == 0);
	return 0;
}
