/* test_p256.c - common/net/p256.c against BearSSL's own P-256 code: k*G
 * as p256_m31 computes it (edge scalars and random ones), and ECDSA
 * signatures equal byte for byte to br_ecdsa_i31_sign_* (both follow
 * RFC 6979), verified by br_ecdsa_i31_vrfy_*, with SHA-1, SHA-256,
 * SHA-384 and SHA-512; plus the RFC 6979 A.2.5 vectors. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../../common/net/p256.h"
#include "tap.h"

/* n - d as 32 big-endian bytes, for small d */
static void
order_minus(uint8_t out[32], unsigned d)
{
	size_t len;
	const uint8_t *n = br_ec_p256_m31.order(BR_EC_secp256r1, &len);
	int i, borrow = (int)d;

	memcpy(out, n, 32);
	for (i = 31; i >= 0 && borrow; i--) {
		int v = out[i] - borrow;

		borrow = v < 0;
		out[i] = (uint8_t)(v + 256 * borrow);
	}
}

static int
mulgen_same(const uint8_t *k, size_t klen)
{
	uint8_t a[65], b[65];
	size_t na = p256_mulgen(a, k, klen), nb = br_ec_p256_m31.mulgen(b, k, klen, BR_EC_secp256r1);

	return na == 65 && nb == 65 && memcmp(a, b, 65) == 0;
}

static void
mulgen(void)
{
	uint8_t k[32], g[65];
	size_t glen, i;
	int ok = 1;
	const uint8_t *gen = br_ec_p256_m31.generator(BR_EC_secp256r1, &glen);

	CHECK(p256_fast, "this build has the 64-bit code");
	memset(k, 0, 32);
	k[31] = 1;
	CHECK(p256_mulgen(g, k, 32) == 65 && glen == 65 && memcmp(g, gen, 65) == 0, "1*G is G");
	for (i = 2; i < 40; i++) {
		k[31] = (uint8_t)i;
		ok &= mulgen_same(k, 32);
	}
	CHECK(ok, "2*G .. 39*G as m31");
	ok = 1;
	for (i = 1; i < 20; i++) {
		order_minus(k, (unsigned)i);
		ok &= mulgen_same(k, 32);
	}
	CHECK(ok, "(n-1)*G .. (n-19)*G as m31");
	memset(k, 0xff, 32);
	k[0] = 0x7f;
	CHECK(mulgen_same(k, 32), "2^255-1 as m31 (every digit carries)");
	memset(k, 0x88, 32);
	CHECK(mulgen_same(k, 32), "0x88..88 (digits of 8) as m31");
	memset(k, 0x99, 32);
	CHECK(mulgen_same(k, 32), "0x99..99 (digits of -7) as m31");
	ok = 1;
	for (i = 0; i < 500; i++) {
		if (getrandom(k, 32, 0) != 32)
			ok = 0;
		k[0] &= 0x7f;
		ok &= mulgen_same(k, i % 10 == 0 ? 1 + i % 32 : 32);
	}
	CHECK(ok, "500 random scalars (short ones too) as m31");
	memset(k, 0, 32);
	CHECK(p256_mulgen(g, k, 32) == 0, "0 is refused");
	order_minus(k, 0);
	CHECK(p256_mulgen(g, k, 32) == 0, "n is refused");
	memset(k, 0xff, 32);
	CHECK(p256_mulgen(g, k, 32) == 0, "2^256-1 is refused");
	CHECK(p256_mulgen(g, k, 33) == 0, "a 33-byte scalar is refused");
}

static const br_hash_class *
hash_of(int i)
{
	static const br_hash_class *h[] = { &br_sha1_vtable, &br_sha256_vtable, &br_sha384_vtable,
		&br_sha512_vtable, &br_sha224_vtable };

	return h[i % 5];
}

static size_t
hash_len(const br_hash_class *hf)
{
	return (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static void
signatures(void)
{
	br_hmac_drbg_context rng;
	uint8_t seed[32], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	uint8_t hv[64], s1[80], s2[80];
	br_ec_private_key sk;
	br_ec_public_key pk;
	int i, same = 1, verified = 1, asn1 = 1;

	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
		memset(seed, 7, sizeof(seed));
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	for (i = 0; i < 300; i++) {
		const br_hash_class *hf = hash_of(i);
		size_t n1, n2;

		if (i % 10 == 0) {
			if (br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, kbuf, BR_EC_secp256r1) == 0 ||
			    br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &sk) == 0) {
				same = 0;
				break;
			}
		}
		br_hmac_drbg_generate(&rng, hv, sizeof(hv));
		n1 = p256_ecdsa_sign_raw(&br_ec_p256_m31, hf, hv, &sk, s1);
		n2 = br_ecdsa_i31_sign_raw(&br_ec_p256_m31, hf, hv, &sk, s2);
		same &= n1 == 64 && n2 == 64 && memcmp(s1, s2, 64) == 0;
		verified &= br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, hv, hash_len(hf), &pk, s1, n1) == 1;
		n1 = p256_ecdsa_sign_asn1(&br_ec_p256_m31, hf, hv, &sk, s1);
		n2 = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, hf, hv, &sk, s2);
		asn1 &= n1 > 0 && n1 == n2 && memcmp(s1, s2, n1) == 0 &&
		    br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hv, hash_len(hf), &pk, s1, n1) == 1;
	}
	CHECK(same, "300 raw signatures equal br_ecdsa_i31_sign_raw's (RFC 6979 nonces)");
	CHECK(verified, "and br_ecdsa_i31_vrfy_raw accepts them");
	CHECK(asn1, "the DER forms equal i31's and verify");

	/* a key that is not a P-256 scalar */
	{
		uint8_t zero[32] = { 0 };
		br_ec_private_key bad = { .curve = BR_EC_secp256r1, .x = zero, .xlen = 32 };

		CHECK(p256_ecdsa_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hv, &bad, s1) == 0,
		    "a zero private key is refused");
		order_minus(zero, 0);
		CHECK(p256_ecdsa_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hv, &bad, s1) == 0,
		    "a private key of n is refused");
	}
}

/* RFC 6979 A.2.5 (ECDSA, 256 bits, prime field): the key, and the
 * signatures of "sample" and "test" with SHA-256. */
static void
rfc6979(void)
{
	uint8_t x[32], hv[32], sig[64], want[64];
	br_ec_private_key sk = { .curve = BR_EC_secp256r1, .x = x, .xlen = 32 };
	br_sha256_context hc;

	tap_unhex(x, 32, "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
	br_sha256_init(&hc);
	br_sha256_update(&hc, "sample", 6);
	br_sha256_out(&hc, hv);
	tap_unhex(want, 64, "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
	    "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
	CHECK(p256_ecdsa_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hv, &sk, sig) == 64 &&
	    memcmp(sig, want, 64) == 0, "RFC 6979 A.2.5: SHA-256, \"sample\"");
	br_sha256_init(&hc);
	br_sha256_update(&hc, "test", 4);
	br_sha256_out(&hc, hv);
	tap_unhex(want, 64, "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
	    "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083");
	CHECK(p256_ecdsa_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hv, &sk, sig) == 64 &&
	    memcmp(sig, want, 64) == 0, "RFC 6979 A.2.5: SHA-256, \"test\"");
}

/* Other curves go to BearSSL unchanged. */
static void
other_curves(void)
{
	br_hmac_drbg_context rng;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], hv[48], s1[160], s2[160];
	br_ec_private_key sk;
	size_t n1, n2;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, "p384", 4);
	br_hmac_drbg_generate(&rng, hv, sizeof(hv));
	CHECK(br_ec_keygen(&rng.vtable, &br_ec_prime_i31, &sk, kbuf, BR_EC_secp384r1) > 0,
	    "a P-384 key");
	n1 = p256_ecdsa_sign_asn1(&br_ec_prime_i31, &br_sha384_vtable, hv, &sk, s1);
	n2 = br_ecdsa_i31_sign_asn1(&br_ec_prime_i31, &br_sha384_vtable, hv, &sk, s2);
	CHECK(n1 > 0 && n1 == n2 && memcmp(s1, s2, n1) == 0, "P-384 signatures are i31's");
}

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

/* Informational (the bench is in bench/): microseconds per signature. */
static void
speed(void)
{
	uint8_t x[32], hv[32], sig[64];
	br_ec_private_key sk = { .curve = BR_EC_secp256r1, .x = x, .xlen = 32 };
	struct timespec t0, t1, t2;
	int i;

	memset(x, 0x5a, 32);
	memset(hv, 0xa5, 32);
	p256_init();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++)
		p256_ecdsa_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hv, &sk, sig);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < 200; i++)
		br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hv, &sk, sig);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	printf("# ECDSA P-256 sign: %.1f us here, %.1f us with BearSSL i31/m31\n",
	    elapsed(&t0, &t1) / 200, elapsed(&t1, &t2) / 200);
}

int
main(void)
{
	mulgen();
	signatures();
	rfc6979();
	other_curves();
	speed();
	return tap_done();
}
