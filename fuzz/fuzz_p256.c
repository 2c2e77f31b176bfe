/* fuzz_p256 - keyd's P-256 ECDSA (common/net/p256.h) against BearSSL's
 * own i31 code.
 *
 * Input: 32 bytes of private scalar (big-endian; shorter input padded
 * with zeros at the end), then up to 64 bytes of hash, of which the
 * first byte's low two bits pick the hash function (SHA-1, SHA-256,
 * SHA-384, SHA-512: its output length is what is signed).  Properties:
 * - a scalar of 0 or >= n is refused; otherwise
 * - the raw signature equals br_ecdsa_i31_sign_raw's byte for byte (both
 *   take RFC 6979's nonce) and br_ecdsa_i31_vrfy_raw accepts it (unless
 *   the hash is all zeros, which that verifier cannot take);
 * - mulgen of the scalar is p256_m31's. */
#include <string.h>

#include "../common/net/p256.h"
#include "fuzz.h"

static const uint8_t ORDER[32] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const br_hash_class *hashes[] = { &br_sha1_vtable, &br_sha256_vtable,
		&br_sha384_vtable, &br_sha512_vtable };
	uint8_t x[32] = { 0 }, hv[64] = { 0 }, s1[64], s2[64], q[65], g1[65], g2[65];
	br_ec_private_key sk = { .curve = BR_EC_secp256r1, .x = x, .xlen = 32 };
	br_ec_public_key pk = { .curve = BR_EC_secp256r1, .q = q };
	const br_hash_class *hf;
	size_t n1, n2, hlen, i;
	int zero = 1, below = 0;

	memcpy(x, data, size < 32 ? size : 32);
	if (size > 32)
		memcpy(hv, data + 32, size - 32 > 64 ? 64 : size - 32);
	hf = hashes[hv[0] & 3];
	hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	for (i = 0; i < 32; i++)
		zero &= x[i] == 0;
	for (i = 0; i < 32 && x[i] == ORDER[i]; i++)
		;
	below = i < 32 && x[i] < ORDER[i];

	n1 = p256_ecdsa_sign_raw(&br_ec_p256_m31, hf, hv, &sk, s1);
	if (zero || !below) {
		CHECK(n1 == 0);
		CHECK(p256_mulgen(g1, x, 32) == 0);
		return 0;
	}
	n2 = br_ecdsa_i31_sign_raw(&br_ec_p256_m31, hf, hv, &sk, s2);
	CHECK(n1 == 64 && n2 == 64);
	CHECK(memcmp(s1, s2, 64) == 0);
	pk.qlen = br_ec_p256_m31.mulgen(q, x, 32, BR_EC_secp256r1);
	CHECK(pk.qlen == 65);
	/* BearSSL's verifier computes (h/s)*G + (r/s)*Q and cannot take a
	 * zero first scalar: an all-zero hash is signed, but not checked so */
	for (i = 0, zero = 1; i < hlen; i++)
		zero &= hv[i] == 0;
	if (!zero)
		CHECK(br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, hv, hlen, &pk, s1, n1) == 1);
	CHECK(p256_mulgen(g1, x, 32) == 65);
	CHECK(br_ec_p256_m31.mulgen(g2, x, 32, BR_EC_secp256r1) == 65);
	CHECK(memcmp(g1, g2, 65) == 0);
	return 0;
}
