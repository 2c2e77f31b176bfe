/* x25519.c - X25519 (RFC 7748) in radix 2^51, wrapped as a BearSSL EC
 * implementation (x25519.h).  Written from RFC 7748 sections 4.1 and 5:
 * the Montgomery ladder, a24 = 121665, inversion by z^(p-2). */
#include "x25519.h"
#include "../base/util.h"

#include <string.h>

#define CURVES ((UINT32_C(1) << BR_EC_secp256r1) | (UINT32_C(1) << BR_EC_secp384r1) | \
	(UINT32_C(1) << BR_EC_secp521r1) | (UINT32_C(1) << BR_EC_curve25519))

#if defined(__SIZEOF_INT128__)
/* unsigned __int128 is a GCC and Clang extension on 64-bit targets: the
 * 64x64->128-bit multiply this code is built on (one MUL on x86-64, whose
 * time does not depend on its operands).  Without it, the m31 code runs. */
typedef unsigned __int128 u128;
const int x25519_fast = 1;

#define MASK51 ((UINT64_C(1) << 51) - 1)

/* A field element mod p = 2^255 - 19: value = sum f[i] * 2^(51 i).
 * "Reduced" below means every limb < 2^52; sums and differences of two
 * reduced elements stay < 2^54, which every multiplication accepts. */
typedef uint64_t fe[5];

/* 32 little-endian bytes; bit 255 ignored (RFC 7748 section 5). */
static void
fe_frombytes(fe h, const uint8_t s[32])
{
	uint64_t w0 = util_load_le64(s), w1 = util_load_le64(s + 8), w2 = util_load_le64(s + 16),
	    w3 = util_load_le64(s + 24);

	h[0] = w0 & MASK51;
	h[1] = ((w0 >> 51) | (w1 << 13)) & MASK51;
	h[2] = ((w1 >> 38) | (w2 << 26)) & MASK51;
	h[3] = ((w2 >> 25) | (w3 << 39)) & MASK51;
	h[4] = (w3 >> 12) & MASK51;
}

/* The canonical value (0 <= h < p) as 32 little-endian bytes. */
static void
fe_tobytes(uint8_t s[32], const fe f)
{
	uint64_t h0 = f[0], h1 = f[1], h2 = f[2], h3 = f[3], h4 = f[4], q;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		h1 += h0 >> 51;
		h0 &= MASK51;
		h2 += h1 >> 51;
		h1 &= MASK51;
		h3 += h2 >> 51;
		h2 &= MASK51;
		h4 += h3 >> 51;
		h3 &= MASK51;
		h0 += 19 * (h4 >> 51);
		h4 &= MASK51;
	}
	/* now h < 2^255 + 2^6; q = 1 exactly when h >= p, then h - p */
	q = (h0 + 19) >> 51;
	q = (h1 + q) >> 51;
	q = (h2 + q) >> 51;
	q = (h3 + q) >> 51;
	q = (h4 + q) >> 51;
	h0 += 19 * q;
	h1 += h0 >> 51;
	h0 &= MASK51;
	h2 += h1 >> 51;
	h1 &= MASK51;
	h3 += h2 >> 51;
	h2 &= MASK51;
	h4 += h3 >> 51;
	h3 &= MASK51;
	h4 &= MASK51;	/* the 2^255 that q took away */
	util_store_le64(s, h0 | (h1 << 51));
	util_store_le64(s + 8, (h1 >> 13) | (h2 << 38));
	util_store_le64(s + 16, (h2 >> 26) | (h3 << 25));
	util_store_le64(s + 24, (h3 >> 39) | (h4 << 12));
}

static void
fe_add(fe h, const fe f, const fe g)
{
	int i;

	for (i = 0; i < 5; i++)
		h[i] = f[i] + g[i];
}

/* f - g + 4p, limb by limb: no limb goes negative for g < 2^53 - 76. */
static void
fe_sub(fe h, const fe f, const fe g)
{
	h[0] = f[0] + ((UINT64_C(1) << 53) - 76) - g[0];
	h[1] = f[1] + ((UINT64_C(1) << 53) - 4) - g[1];
	h[2] = f[2] + ((UINT64_C(1) << 53) - 4) - g[2];
	h[3] = f[3] + ((UINT64_C(1) << 53) - 4) - g[3];
	h[4] = f[4] + ((UINT64_C(1) << 53) - 4) - g[4];
}

/* Carry five 128-bit column sums into a reduced element (2^255 = 19). */
static void
fe_carry(fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	r1 += (uint64_t)(r0 >> 51);
	r2 += (uint64_t)(r1 >> 51);
	r3 += (uint64_t)(r2 >> 51);
	r4 += (uint64_t)(r3 >> 51);
	r0 = ((uint64_t)r0 & MASK51) + (u128)19 * (uint64_t)(r4 >> 51);
	h[1] = ((uint64_t)r1 & MASK51) + (uint64_t)(r0 >> 51);
	h[0] = (uint64_t)r0 & MASK51;
	h[2] = (uint64_t)r2 & MASK51;
	h[3] = (uint64_t)r3 & MASK51;
	h[4] = (uint64_t)r4 & MASK51;
}

static void
fe_mul(fe h, const fe f, const fe g)
{
	uint64_t g1 = 19 * g[1], g2 = 19 * g[2], g3 = 19 * g[3], g4 = 19 * g[4];
	u128 r0, r1, r2, r3, r4;

	r0 = (u128)f[0] * g[0] + (u128)f[1] * g4 + (u128)f[2] * g3 + (u128)f[3] * g2 +
	    (u128)f[4] * g1;
	r1 = (u128)f[0] * g[1] + (u128)f[1] * g[0] + (u128)f[2] * g4 + (u128)f[3] * g3 +
	    (u128)f[4] * g2;
	r2 = (u128)f[0] * g[2] + (u128)f[1] * g[1] + (u128)f[2] * g[0] + (u128)f[3] * g4 +
	    (u128)f[4] * g3;
	r3 = (u128)f[0] * g[3] + (u128)f[1] * g[2] + (u128)f[2] * g[1] + (u128)f[3] * g[0] +
	    (u128)f[4] * g4;
	r4 = (u128)f[0] * g[4] + (u128)f[1] * g[3] + (u128)f[2] * g[2] + (u128)f[3] * g[1] +
	    (u128)f[4] * g[0];
	fe_carry(h, r0, r1, r2, r3, r4);
}

static void
fe_sq(fe h, const fe f)
{
	uint64_t d0 = 2 * f[0], d1 = 2 * f[1], f3_19 = 19 * f[3], f4_19 = 19 * f[4];
	u128 r0, r1, r2, r3, r4;

	r0 = (u128)f[0] * f[0] + (u128)d1 * f4_19 + (u128)(2 * f[2]) * f3_19;
	r1 = (u128)d0 * f[1] + (u128)(2 * f[2]) * f4_19 + (u128)f[3] * f3_19;
	r2 = (u128)d0 * f[2] + (u128)f[1] * f[1] + (u128)(2 * f[3]) * f4_19;
	r3 = (u128)d0 * f[3] + (u128)d1 * f[2] + (u128)f[4] * f4_19;
	r4 = (u128)d0 * f[4] + (u128)d1 * f[3] + (u128)f[2] * f[2];
	fe_carry(h, r0, r1, r2, r3, r4);
}

static void
fe_sq_n(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* 121665 * f (RFC 7748's a24 for this form of the ladder). */
static void
fe_mul_a24(fe h, const fe f)
{
	fe_carry(h, (u128)f[0] * 121665, (u128)f[1] * 121665, (u128)f[2] * 121665,
	    (u128)f[3] * 121665, (u128)f[4] * 121665);
}

/* h = z^(p-2) = z^(2^255-21), a fixed chain of 254 squarings and 11
 * multiplications (0 for z = 0). */
static void
fe_invert(fe h, const fe z)
{
	fe z2, z9, z11, a, b, c;

	fe_sq(z2, z);			/* 2 */
	fe_sq_n(a, z2, 2);		/* 8 */
	fe_mul(z9, a, z);		/* 9 */
	fe_mul(z11, z9, z2);		/* 11 */
	fe_sq(a, z11);			/* 22 */
	fe_mul(a, a, z9);		/* 2^5 - 1 */
	fe_sq_n(b, a, 5);
	fe_mul(a, b, a);		/* 2^10 - 1 */
	fe_sq_n(b, a, 10);
	fe_mul(b, b, a);		/* 2^20 - 1 */
	fe_sq_n(c, b, 20);
	fe_mul(b, c, b);		/* 2^40 - 1 */
	fe_sq_n(b, b, 10);
	fe_mul(a, b, a);		/* 2^50 - 1 */
	fe_sq_n(b, a, 50);
	fe_mul(b, b, a);		/* 2^100 - 1 */
	fe_sq_n(c, b, 100);
	fe_mul(b, c, b);		/* 2^200 - 1 */
	fe_sq_n(b, b, 50);
	fe_mul(a, b, a);		/* 2^250 - 1 */
	fe_sq_n(a, a, 5);		/* 2^255 - 32 */
	fe_mul(h, a, z11);		/* 2^255 - 21 */
}

/* Swap f and g when bit is 1, without a branch on it. */
static void
fe_cswap(fe f, fe g, uint64_t bit)
{
	uint64_t mask = (uint64_t)0 - bit, t;
	int i;

	for (i = 0; i < 5; i++) {
		t = mask & (f[i] ^ g[i]);
		f[i] ^= t;
		g[i] ^= t;
	}
}

int
x25519(uint8_t out[32], const uint8_t k[32], const uint8_t u[32])
{
	uint8_t e[32], acc = 0;
	fe x1, x2 = { 1 }, z2 = { 0 }, x3, z3 = { 1 }, a, aa, b, bb, c, d, da, cb, t;
	uint64_t swap = 0, bit;
	int i;

	memcpy(e, k, 32);
	e[0] &= 248;
	e[31] &= 127;
	e[31] |= 64;
	fe_frombytes(x1, u);
	memcpy(x3, x1, sizeof(fe));
	for (i = 254; i >= 0; i--) {
		bit = (e[i >> 3] >> (i & 7)) & 1;
		swap ^= bit;
		fe_cswap(x2, x3, swap);
		fe_cswap(z2, z3, swap);
		swap = bit;
		fe_add(a, x2, z2);
		fe_sq(aa, a);
		fe_sub(b, x2, z2);
		fe_sq(bb, b);
		fe_sub(t, aa, bb);		/* E */
		fe_add(c, x3, z3);
		fe_sub(d, x3, z3);
		fe_mul(da, d, a);
		fe_mul(cb, c, b);
		fe_add(x3, da, cb);
		fe_sq(x3, x3);
		fe_sub(z3, da, cb);
		fe_sq(z3, z3);
		fe_mul(z3, z3, x1);
		fe_mul(x2, aa, bb);
		fe_mul_a24(z2, t);
		fe_add(z2, z2, aa);
		fe_mul(z2, z2, t);
	}
	fe_cswap(x2, x3, swap);
	fe_cswap(z2, z3, swap);
	fe_invert(z2, z2);
	fe_mul(x2, x2, z2);
	fe_tobytes(out, x2);
	explicit_bzero(e, sizeof(e));
	explicit_bzero(x2, sizeof(x2));
	explicit_bzero(x3, sizeof(x3));
	explicit_bzero(z2, sizeof(z2));
	explicit_bzero(z3, sizeof(z3));
	for (i = 0; i < 32; i++)
		acc |= out[i];
	/* (acc | -acc) >> 8 is 1 for acc != 0, without a branch */
	return (int)((((unsigned)acc | (0U - acc)) >> 8) & 1) - 1;
}

/* BearSSL's calling convention for Curve25519 (as its c25519 code does
 * it, checked by test_x25519): the scalar little-endian as in RFC 7748,
 * up to 32 bytes, a shorter one zero-extended at the top; the point
 * overwritten.  An all-zero result (a point of
 * small order from the peer) fails: RFC 8422 5.11 has TLS abort then. */
static uint32_t
c25519_mul(unsigned char *G, size_t Glen, const unsigned char *kb, size_t kblen)
{
	uint8_t k[32] = { 0 };
	size_t i;
	int rc;

	if (Glen != 32 || kblen > 32)
		return 0;
	for (i = 0; i < kblen; i++)
		k[i] = kb[i];
	rc = x25519(G, k, G);
	explicit_bzero(k, sizeof(k));
	return rc == 0;
}
#else
const int x25519_fast = 0;

static uint32_t
c25519_mul(unsigned char *G, size_t Glen, const unsigned char *kb, size_t kblen)
{
	return br_ec_c25519_m31.mul(G, Glen, kb, kblen, BR_EC_curve25519);
}

int
x25519(uint8_t out[32], const uint8_t k[32], const uint8_t u[32])
{
	uint8_t acc = 0;
	int i;

	memcpy(out, u, 32);
	(void)c25519_mul(out, 32, k, 32);
	for (i = 0; i < 32; i++)
		acc |= out[i];
	return acc ? 0 : -1;
}
#endif

static const unsigned char *
api_generator(int curve, size_t *len)
{
	return br_ec_all_m31.generator(curve, len);
}

static const unsigned char *
api_order(int curve, size_t *len)
{
	return br_ec_all_m31.order(curve, len);
}

static size_t
api_xoff(int curve, size_t *len)
{
	return br_ec_all_m31.xoff(curve, len);
}

static uint32_t
api_mul(unsigned char *G, size_t Glen, const unsigned char *x, size_t xlen, int curve)
{
	if (curve != BR_EC_curve25519)
		return br_ec_all_m31.mul(G, Glen, x, xlen, curve);
	return c25519_mul(G, Glen, x, xlen);
}

static size_t
api_mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve)
{
	static const unsigned char base[32] = { 9 };

	if (curve != BR_EC_curve25519)
		return br_ec_all_m31.mulgen(R, x, xlen, curve);
	memcpy(R, base, 32);
	return c25519_mul(R, 32, x, xlen) ? 32 : 0;
}

static uint32_t
api_muladd(unsigned char *A, const unsigned char *B, size_t len, const unsigned char *x,
    size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	return br_ec_all_m31.muladd(A, B, len, x, xlen, y, ylen, curve);
}

const br_ec_impl x25519_ec = {
	CURVES,
	&api_generator,
	&api_order,
	&api_xoff,
	&api_mul,
	&api_mulgen,
	&api_muladd,
};
