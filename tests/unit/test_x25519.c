/* test_x25519.c - common/net/x25519.c: the RFC 7748 test vectors (5.2 and
 * 6.1), and the same results as BearSSL's own c25519_m31 for random
 * scalars and points through the br_ec_impl interface the TLS engine
 * uses, points of small order included. */
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../../common/net/x25519.h"
#include "tap.h"

static int
x25519_hex(const char *k, const char *u, const char *want)
{
	uint8_t kb[32], ub[32], wb[32], out[32];

	if (tap_unhex(kb, 32, k) < 0 || tap_unhex(ub, 32, u) < 0 || tap_unhex(wb, 32, want) < 0)
		return 0;
	return x25519(out, kb, ub) == 0 && memcmp(out, wb, 32) == 0;
}

/* RFC 7748 5.2: k and u iterated (k, u) <- (X25519(k, u), k). */
static int
iterated(int n, const char *want)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], wb[32];
	int i;

	for (i = 0; i < n; i++) {
		if (x25519(r, k, u) < 0)
			return 0;
		memcpy(u, k, 32);
		memcpy(k, r, 32);
	}
	return tap_unhex(wb, 32, want) == 0 && memcmp(k, wb, 32) == 0;
}

static void
rfc7748(void)
{
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32], base[32] = { 9 }, want[32];

	CHECK(x25519_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"), "5.2 vector 1");
	CHECK(x25519_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"), "5.2 vector 2");
	CHECK(iterated(1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"),
	    "5.2 iterated once");
	CHECK(iterated(1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"),
	    "5.2 iterated 1000 times");
	/* 6.1: Alice and Bob */
	tap_unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	tap_unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	CHECK(x25519(pa, a, base) == 0 && tap_unhex(want, 32,
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a") == 0 &&
	    memcmp(pa, want, 32) == 0, "6.1 Alice's public key");
	CHECK(x25519(pb, b, base) == 0 && tap_unhex(want, 32,
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f") == 0 &&
	    memcmp(pb, want, 32) == 0, "6.1 Bob's public key");
	CHECK(x25519(s1, a, pb) == 0 && x25519(s2, b, pa) == 0 && memcmp(s1, s2, 32) == 0 &&
	    tap_unhex(want, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742") == 0 &&
	    memcmp(s1, want, 32) == 0, "6.1 the shared secret");
}

/* Through the BearSSL interface, against br_ec_c25519_m31. */
static int
same_as_m31(const uint8_t point[32], const uint8_t *k, size_t klen, int *zero_r)
{
	uint8_t p1[32], p2[32];
	uint32_t r1, r2;
	size_t i;
	int z = 1;

	memcpy(p1, point, 32);
	memcpy(p2, point, 32);
	r1 = x25519_ec.mul(p1, 32, k, klen, BR_EC_curve25519);
	r2 = br_ec_c25519_m31.mul(p2, 32, k, klen, BR_EC_curve25519);
	for (i = 0; i < 32; i++)
		z &= p2[i] == 0;
	*zero_r = z;
	/* m31 returns 1 for an all-zero result; ours refuses it (RFC 8422 5.11) */
	if (z)
		return r1 == 0 && r2 == 1;
	return r1 == 1 && r2 == 1 && memcmp(p1, p2, 32) == 0;
}

static void
differential(void)
{
	/* u-coordinates of small order on Curve25519 or its twist, and values
	 * around p (non-canonical encodings, bit 255 set) */
	static const char *special[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"0900000000000000000000000000000000000000000000000000000000000080",
	};
	uint8_t pt[32], k[32], r1[32], r2[32];
	size_t i, klen;
	int ok = 1, zeros = 0, z;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		tap_unhex(pt, 32, special[i]);
		if (getrandom(k, 32, 0) != 32)
			ok = 0;
		ok &= same_as_m31(pt, k, 32, &z);
		zeros += z;
	}
	CHECK(ok, "small-order and non-canonical points: as m31 (all-zero results refused)");
	CHECK(zeros >= 3, "the small-order points gave all-zero results");
	ok = 1;
	for (i = 0; i < 2000; i++) {
		if (getrandom(pt, 32, 0) != 32 || getrandom(k, 32, 0) != 32)
			ok = 0;
		klen = i % 8 == 0 ? 1 + i % 32 : 32;	/* short scalars too */
		ok &= same_as_m31(pt, k, klen, &z);
	}
	CHECK(ok, "2000 random points and scalars: as m31");
	ok = 1;
	for (i = 0; i < 200; i++) {
		if (getrandom(k, 32, 0) != 32)
			ok = 0;
		ok &= x25519_ec.mulgen(r1, k, 32, BR_EC_curve25519) == 32 &&
		    br_ec_c25519_m31.mulgen(r2, k, 32, BR_EC_curve25519) == 32 &&
		    memcmp(r1, r2, 32) == 0;
	}
	CHECK(ok, "mulgen: as m31");
	CHECK(x25519_ec.mul(pt, 31, k, 32, BR_EC_curve25519) == 0, "a 31-byte point is refused");
	CHECK(x25519_ec.mul(pt, 32, k, 33, BR_EC_curve25519) == 0, "a 33-byte scalar is refused");
	CHECK((x25519_ec.supported_curves & br_ec_all_m31.supported_curves) ==
	    br_ec_all_m31.supported_curves, "every curve of m31 is still supported");
}

/* P-256 goes to m31 untouched: a key pair's public point from both. */
static void
other_curves(void)
{
	uint8_t k[32], r1[65], r2[65];
	size_t n1, n2;

	if (getrandom(k, 32, 0) != 32)
		k[0] = 1;
	k[0] &= 0x7f;	/* below the order */
	n1 = x25519_ec.mulgen(r1, k, 32, BR_EC_secp256r1);
	n2 = br_ec_all_m31.mulgen(r2, k, 32, BR_EC_secp256r1);
	CHECK(n1 == 65 && n1 == n2 && memcmp(r1, r2, n1) == 0, "P-256 mulgen is m31's");
}

static void
speed(void)
{
	uint8_t pt[32] = { 9 }, k[32] = { 1, 2, 3 };
	struct timespec t0, t1;
	double ours, m31;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++)
		(void)x25519_ec.mul(pt, 32, k, 32, BR_EC_curve25519);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ours = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++)
		(void)br_ec_c25519_m31.mul(pt, 32, k, 32, BR_EC_curve25519);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m31 = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	/* information only: timing is not asserted */
	printf("# x25519 per multiplication: ours %.1f us, c25519_m31 %.1f us (fast=%d)\n",
	    ours / 200, m31 / 200, x25519_fast);
}

int
main(void)
{
	rfc7748();
	differential();
	other_curves();
	speed();
	return tap_done();
}
