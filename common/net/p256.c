/* p256.c - ECDSA on NIST P-256 with 64-bit limbs (p256.h).  Written from
 * FIPS 186-4 (the curve and ECDSA), RFC 6979 (the nonce) and Renes,
 * Costello, Batina, "Complete addition formulas for prime order elliptic
 * curves" (2015), algorithms 4 and 5 (a = -3). */
#include "p256.h"

#include <string.h>

#if defined(__SIZEOF_INT128__)
/* unsigned __int128 is a GCC and Clang extension on 64-bit targets: the
 * 64x64->128-bit multiply (one MUL on x86-64, constant time). */
typedef unsigned __int128 u128;
const int p256_fast = 1;

/* An integer mod m as four 64-bit limbs, least significant first.  Field
 * elements (mod p) and scalars (mod n) are kept in Montgomery form,
 * a*2^256 mod m, and always fully reduced (< m). */
typedef uint64_t limbs[4];

struct modulus {
	limbs m;
	uint64_t m0inv;		/* -m^-1 mod 2^64 */
	limbs rr;		/* 2^512 mod m: to_mont's factor */
	limbs one;		/* 2^256 mod m: 1 in Montgomery form */
};

static struct modulus P = { .m = { 0xFFFFFFFFFFFFFFFFu, 0x00000000FFFFFFFFu, 0, 0xFFFFFFFF00000001u } };
static struct modulus N = { .m = { 0xF3B9CAC2FC632551u, 0xBCE6FAADA7179E84u, 0xFFFFFFFFFFFFFFFFu,
	0xFFFFFFFF00000000u } };
static const limbs CURVE_B = { 0x3BCE3C3E27D2604Bu, 0x651D06B0CC53B0F6u, 0xB3EBBD55769886BCu,
	0x5AC635D8AA3A93E7u };
static const limbs GX = { 0xF4A13945D898C296u, 0x77037D812DEB33A0u, 0xF8BCE6E563A440F2u,
	0x6B17D1F2E12C4247u };
static const limbs GY = { 0xCBB6406837BF51F5u, 0x2BCE33576B315ECEu, 0x8EE7EB4A7C0F9E16u,
	0x4FE342E2FE1A7F9Bu };

static limbs b_mont;

/* r = a - m if that does not borrow or hi is set, else a (hi:a < 2m). */
static void
reduce_once(limbs r, const limbs a, uint64_t hi, const limbs m)
{
	limbs d;
	uint64_t borrow = 0, mask;
	int i;

	for (i = 0; i < 4; i++) {
		u128 s = (u128)a[i] - m[i] - borrow;

		d[i] = (uint64_t)s;
		borrow = (uint64_t)(s >> 64) & 1;
	}
	mask = -((hi | (borrow ^ 1)) & 1);
	for (i = 0; i < 4; i++)
		r[i] = (d[i] & mask) | (a[i] & ~mask);
}

/* r = a*b/2^256 mod m (CIOS); a, b < m.  r may alias a or b. */
static void
mont_mul(limbs r, const limbs a, const limbs b, const struct modulus *md)
{
	uint64_t t[6] = { 0 };
	int i, j;

	for (i = 0; i < 4; i++) {
		u128 c = 0;
		uint64_t q;

		for (j = 0; j < 4; j++) {
			c = (u128)a[j] * b[i] + t[j] + (uint64_t)(c >> 64);
			t[j] = (uint64_t)c;
		}
		c = (u128)t[4] + (uint64_t)(c >> 64);
		t[4] = (uint64_t)c;
		t[5] = (uint64_t)(c >> 64);
		q = t[0] * md->m0inv;
		c = (u128)q * md->m[0] + t[0];
		for (j = 1; j < 4; j++) {
			c = (u128)q * md->m[j] + t[j] + (uint64_t)(c >> 64);
			t[j - 1] = (uint64_t)c;
		}
		c = (u128)t[4] + (uint64_t)(c >> 64);
		t[3] = (uint64_t)c;
		t[4] = t[5] + (uint64_t)(c >> 64);
	}
	reduce_once(r, t, t[4], md->m);
}

static void
mod_add(limbs r, const limbs a, const limbs b, const limbs m)
{
	limbs s;
	uint64_t carry = 0;
	int i;

	for (i = 0; i < 4; i++) {
		u128 c = (u128)a[i] + b[i] + carry;

		s[i] = (uint64_t)c;
		carry = (uint64_t)(c >> 64);
	}
	reduce_once(r, s, carry, m);
}

static void
mod_sub(limbs r, const limbs a, const limbs b, const limbs m)
{
	uint64_t borrow = 0, carry = 0, mask;
	int i;

	for (i = 0; i < 4; i++) {
		u128 s = (u128)a[i] - b[i] - borrow;

		r[i] = (uint64_t)s;
		borrow = (uint64_t)(s >> 64) & 1;
	}
	mask = -borrow;
	for (i = 0; i < 4; i++) {
		u128 c = (u128)r[i] + (m[i] & mask) + carry;

		r[i] = (uint64_t)c;
		carry = (uint64_t)(c >> 64);
	}
}

static void
to_mont(limbs r, const limbs a, const struct modulus *md)
{
	mont_mul(r, a, md->rr, md);
}

static void
from_mont(limbs r, const limbs a, const struct modulus *md)
{
	static const limbs one = { 1, 0, 0, 0 };

	mont_mul(r, a, one, md);
}

/* x^(2^n) into r (n squarings). */
static void
sqr_n(limbs r, const limbs x, int n, const struct modulus *md)
{
	if (r != x)
		memcpy(r, x, sizeof(limbs));
	while (n-- > 0)
		mont_mul(r, r, r, md);
}

/* r = a^(p-2) = a^-1 mod p (Montgomery form) by an addition chain:
 * p - 2 = ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff
 * fffffffd in 32-bit words, built from a^(2^k - 1) for k = 2..32: 269
 * squarings and 13 multiplications instead of 256 and about 128. */
static void
inv_p(limbs r, const limbs a)
{
	limbs t2, t4, t8, t16, t24, t28, t30, t32, x;

	sqr_n(x, a, 1, &P);
	mont_mul(t2, x, a, &P);
	sqr_n(x, t2, 2, &P);
	mont_mul(t4, x, t2, &P);
	sqr_n(x, t4, 4, &P);
	mont_mul(t8, x, t4, &P);
	sqr_n(x, t8, 8, &P);
	mont_mul(t16, x, t8, &P);
	sqr_n(x, t16, 8, &P);
	mont_mul(t24, x, t8, &P);
	sqr_n(x, t24, 4, &P);
	mont_mul(t28, x, t4, &P);
	sqr_n(x, t28, 2, &P);
	mont_mul(t30, x, t2, &P);
	sqr_n(x, t16, 16, &P);
	mont_mul(t32, x, t16, &P);

	sqr_n(x, t32, 32, &P);		/* ffffffff */
	mont_mul(x, x, a, &P);		/* 00000001 */
	sqr_n(x, x, 96 + 32, &P);	/* three zero words, then */
	mont_mul(x, x, t32, &P);	/* ffffffff */
	sqr_n(x, x, 32, &P);
	mont_mul(x, x, t32, &P);	/* ffffffff */
	sqr_n(x, x, 30, &P);
	mont_mul(x, x, t30, &P);	/* fffffffc >> 2 */
	sqr_n(x, x, 2, &P);
	mont_mul(r, x, a, &P);		/* ...01 */
}

/* r = a^(m-2) = a^-1 (a in Montgomery form, m prime) with 4-bit fixed
 * windows: the exponent is public, so its digits may index the table. */
static void
mod_inv(limbs r, const limbs a, const struct modulus *md)
{
	limbs e, x, pow[16];
	int i, d;

	memcpy(e, md->m, sizeof(e));
	e[0] -= 2;		/* m is odd and > 2: no borrow */
	memcpy(pow[0], md->one, sizeof(limbs));
	memcpy(pow[1], a, sizeof(limbs));
	for (i = 2; i < 16; i++)
		mont_mul(pow[i], pow[i - 1], a, md);
	memcpy(x, md->one, sizeof(x));
	for (i = 63; i >= 0; i--) {
		sqr_n(x, x, i == 63 ? 0 : 4, md);
		d = (int)(e[i / 16] >> (4 * (i % 16))) & 15;
		if (d != 0)
			mont_mul(x, x, pow[d], md);
	}
	memcpy(r, x, sizeof(x));
}

/* Big-endian bytes (len <= 32) to limbs, and back (32 bytes). */
static void
limbs_from_be(limbs r, const uint8_t *s, size_t len)
{
	size_t i;

	memset(r, 0, sizeof(limbs));
	for (i = 0; i < len; i++)
		r[i / 8] |= (uint64_t)s[len - 1 - i] << (8 * (i % 8));
}

static void
limbs_to_be(uint8_t out[32], const limbs a)
{
	int i;

	for (i = 0; i < 32; i++)
		out[31 - i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

/* All-ones when a < m (constant time). */
static uint64_t
lt_mask(const limbs a, const limbs m)
{
	uint64_t borrow = 0;
	int i;

	for (i = 0; i < 4; i++) {
		u128 s = (u128)a[i] - m[i] - borrow;

		borrow = (uint64_t)(s >> 64) & 1;
	}
	return -borrow;
}

static uint64_t
zero_mask(const limbs a)
{
	uint64_t z = a[0] | a[1] | a[2] | a[3];

	return ((z | -z) >> 63) - 1;
}

static void
modulus_init(struct modulus *md)
{
	uint64_t inv = 1;
	limbs x = { 1, 0, 0, 0 };
	int i;

	for (i = 0; i < 6; i++)		/* Newton: 1 -> 2 -> ... -> 64 bits */
		inv *= 2 - md->m[0] * inv;
	md->m0inv = -inv;
	for (i = 0; i < 512; i++) {	/* 2^i mod m, doubling */
		mod_add(x, x, x, md->m);
		if (i == 255)
			memcpy(md->one, x, sizeof(x));
	}
	memcpy(md->rr, x, sizeof(x));
}

/* Points: projective (X:Y:Z), y^2 z = x^3 - 3 x z^2 + b z^3, the
 * neutral element (0:1:0).  Coordinates in Montgomery form mod p. */
struct jpoint {
	limbs x, y, z;
};

struct apoint {
	limbs x, y;
};

#define FMUL(r, a, b)	mont_mul((r), (a), (b), &P)
#define FADD(r, a, b)	mod_add((r), (a), (b), P.m)
#define FSUB(r, a, b)	mod_sub((r), (a), (b), P.m)

/* r = p1 + p2, complete (any inputs, the neutral element and p1 == p2
 * included): RCB algorithm 4 for a = -3. */
static void
point_add(struct jpoint *r, const struct jpoint *p1, const struct jpoint *p2)
{
	limbs t0, t1, t2, t3, t4, x3, y3, z3;

	FMUL(t0, p1->x, p2->x);
	FMUL(t1, p1->y, p2->y);
	FMUL(t2, p1->z, p2->z);
	FADD(t3, p1->x, p1->y);
	FADD(t4, p2->x, p2->y);
	FMUL(t3, t3, t4);
	FADD(t4, t0, t1);
	FSUB(t3, t3, t4);
	FADD(t4, p1->y, p1->z);
	FADD(x3, p2->y, p2->z);
	FMUL(t4, t4, x3);
	FADD(x3, t1, t2);
	FSUB(t4, t4, x3);
	FADD(x3, p1->x, p1->z);
	FADD(y3, p2->x, p2->z);
	FMUL(x3, x3, y3);
	FADD(y3, t0, t2);
	FSUB(y3, x3, y3);
	FMUL(z3, b_mont, t2);
	FSUB(x3, y3, z3);
	FADD(z3, x3, x3);
	FADD(x3, x3, z3);
	FSUB(z3, t1, x3);
	FADD(x3, t1, x3);
	FMUL(y3, b_mont, y3);
	FADD(t1, t2, t2);
	FADD(t2, t1, t2);
	FSUB(y3, y3, t2);
	FSUB(y3, y3, t0);
	FADD(t1, y3, y3);
	FADD(y3, t1, y3);
	FADD(t1, t0, t0);
	FADD(t0, t1, t0);
	FSUB(t0, t0, t2);
	FMUL(t1, t4, y3);
	FMUL(t2, t0, y3);
	FMUL(y3, x3, z3);
	FADD(y3, y3, t2);
	FMUL(x3, t3, x3);
	FSUB(x3, x3, t1);
	FMUL(z3, t4, z3);
	FMUL(t1, t3, t0);
	FADD(z3, z3, t1);
	memcpy(r->x, x3, sizeof(x3));
	memcpy(r->y, y3, sizeof(y3));
	memcpy(r->z, z3, sizeof(z3));
}

/* r = p1 + q with q affine (never the neutral element; p1 may be):
 * RCB algorithm 5 for a = -3. */
static void
point_add_affine(struct jpoint *r, const struct jpoint *p1, const struct apoint *q)
{
	limbs t0, t1, t2, t3, t4, x3, y3, z3;

	FMUL(t0, p1->x, q->x);
	FMUL(t1, p1->y, q->y);
	FADD(t3, q->x, q->y);
	FADD(t4, p1->x, p1->y);
	FMUL(t3, t3, t4);
	FADD(t4, t0, t1);
	FSUB(t3, t3, t4);
	FMUL(t4, q->y, p1->z);
	FADD(t4, t4, p1->y);
	FMUL(y3, q->x, p1->z);
	FADD(y3, y3, p1->x);
	FMUL(z3, b_mont, p1->z);
	FSUB(x3, y3, z3);
	FADD(z3, x3, x3);
	FADD(x3, x3, z3);
	FSUB(z3, t1, x3);
	FADD(x3, t1, x3);
	FMUL(y3, b_mont, y3);
	FADD(t1, p1->z, p1->z);
	FADD(t2, t1, p1->z);
	FSUB(y3, y3, t2);
	FSUB(y3, y3, t0);
	FADD(t1, y3, y3);
	FADD(y3, t1, y3);
	FADD(t1, t0, t0);
	FADD(t0, t1, t0);
	FSUB(t0, t0, t2);
	FMUL(t1, t4, y3);
	FMUL(t2, t0, y3);
	FMUL(y3, x3, z3);
	FADD(y3, y3, t2);
	FMUL(x3, t3, x3);
	FSUB(x3, x3, t1);
	FMUL(z3, t4, z3);
	FMUL(t1, t3, t0);
	FADD(z3, z3, t1);
	memcpy(r->x, x3, sizeof(x3));
	memcpy(r->y, y3, sizeof(y3));
	memcpy(r->z, z3, sizeof(z3));
}

/* The comb: window i (0..64) holds j * 16^i * G for j = 1..8, affine.
 * A scalar's signed base-16 digits (-7..8, and a last 0 or 1) pick one
 * entry per window: 65 mixed additions and no doubling. */
#define WINDOWS	65
#define PER_WIN	8

static struct apoint table[WINDOWS][PER_WIN];
static int ready;

static void
to_affine(struct apoint *a, const struct jpoint *p)
{
	limbs zi;

	inv_p(zi, p->z);
	FMUL(a->x, p->x, zi);
	FMUL(a->y, p->y, zi);
}

void
p256_init(void)
{
	struct jpoint base, acc;
	int i, j;

	if (ready)
		return;
	modulus_init(&P);
	modulus_init(&N);
	to_mont(b_mont, CURVE_B, &P);
	to_mont(base.x, GX, &P);
	to_mont(base.y, GY, &P);
	memcpy(base.z, P.one, sizeof(base.z));
	for (i = 0; i < WINDOWS; i++) {
		acc = base;
		for (j = 0; j < PER_WIN; j++) {
			if (j > 0)
				point_add(&acc, &acc, &base);
			to_affine(&table[i][j], &acc);
		}
		/* next base: 16 * base = 2 * (8 * base) */
		point_add(&base, &acc, &acc);
	}
	ready = 1;
}

/* k < n: acc = k*G (projective).  The caller checks the range. */
static void
comb(struct jpoint *acc, const limbs k)
{
	static const limbs zero = { 0, 0, 0, 0 };
	unsigned carry = 0;
	int i, j;

	memset(acc, 0, sizeof(*acc));
	memcpy(acc->y, P.one, sizeof(acc->y));
	for (i = 0; i < WINDOWS; i++) {
		unsigned v = (i < 64 ? (unsigned)(k[i / 16] >> (4 * (i % 16))) & 15 : 0) + carry;
		/* v in 0..16: above 8 it is the digit v - 16 and a carry */
		unsigned big = (8u - v) >> 31;
		unsigned mag = v ^ ((v ^ (16u - v)) & -big);
		uint64_t neg = -(uint64_t)big;
		struct apoint q;
		struct jpoint sum;
		limbs ny;
		uint64_t use;

		carry = big;
		memset(&q, 0, sizeof(q));
		for (j = 0; j < PER_WIN; j++) {
			uint64_t m = -(uint64_t)((((unsigned)j + 1) ^ mag) == 0);
			int l;

			for (l = 0; l < 4; l++) {
				q.x[l] |= table[i][j].x[l] & m;
				q.y[l] |= table[i][j].y[l] & m;
			}
		}
		FSUB(ny, zero, q.y);
		for (j = 0; j < 4; j++)
			q.y[j] = (ny[j] & neg) | (q.y[j] & ~neg);
		point_add_affine(&sum, acc, &q);
		use = -(uint64_t)(mag != 0);
		for (j = 0; j < 4; j++) {
			acc->x[j] = (sum.x[j] & use) | (acc->x[j] & ~use);
			acc->y[j] = (sum.y[j] & use) | (acc->y[j] & ~use);
			acc->z[j] = (sum.z[j] & use) | (acc->z[j] & ~use);
		}
	}
}

size_t
p256_mulgen(uint8_t out[65], const uint8_t *k, size_t klen)
{
	limbs s, x, y;
	struct jpoint r;
	struct apoint a;

	if (klen > 32)
		return 0;
	p256_init();
	limbs_from_be(s, k, klen);
	if (~lt_mask(s, N.m) | zero_mask(s))
		return 0;
	comb(&r, s);
	to_affine(&a, &r);
	from_mont(x, a.x, &P);
	from_mont(y, a.y, &P);
	out[0] = 0x04;
	limbs_to_be(out + 1, x);
	limbs_to_be(out + 33, y);
	return 65;
}

/* bits2int (RFC 6979 2.3.2) of a hash for a 256-bit order, reduced mod
 * n once (h < 2^256 < 2n). */
static void
hash_to_scalar(limbs e, const uint8_t *h, size_t hlen)
{
	if (hlen > 32)
		hlen = 32;	/* the leftmost 256 bits */
	limbs_from_be(e, h, hlen);
	reduce_once(e, e, 0, N.m);
}

size_t
p256_ecdsa_sign_raw(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig)
{
	size_t hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	uint8_t seed[64], kb[32], *out = sig;
	limbs x, e, k, r, s, t, rm, xm;
	br_hmac_drbg_context drbg;
	struct jpoint pt;
	struct apoint a;
	uint64_t bad;

	if (sk->curve != BR_EC_secp256r1 || sk->xlen > 32)
		return br_ecdsa_i31_sign_raw(impl, hf, hash_value, sk, sig);
	p256_init();
	limbs_from_be(x, sk->x, sk->xlen);
	if (~lt_mask(x, N.m) | zero_mask(x))
		return 0;
	hash_to_scalar(e, hash_value, hlen);

	/* RFC 6979 3.2: HMAC_DRBG seeded with int2octets(x) || bits2octets(h),
	 * then candidates until one is in [1, n-1]. */
	limbs_to_be(seed, x);
	limbs_to_be(seed + 32, e);
	br_hmac_drbg_init(&drbg, hf, seed, sizeof(seed));
	for (;;) {
		br_hmac_drbg_generate(&drbg, kb, sizeof(kb));
		limbs_from_be(k, kb, sizeof(kb));
		if (!(~lt_mask(k, N.m) | zero_mask(k)))
			break;
	}

	comb(&pt, k);
	to_affine(&a, &pt);
	from_mont(r, a.x, &P);
	reduce_once(r, r, 0, N.m);		/* x < p < 2n */

	/* s = k^-1 (e + r x) mod n, in Montgomery form mod n */
	to_mont(k, k, &N);
	mod_inv(k, k, &N);
	to_mont(rm, r, &N);
	to_mont(xm, x, &N);
	mont_mul(t, rm, xm, &N);
	to_mont(e, e, &N);
	mod_add(t, t, e, N.m);
	mont_mul(s, k, t, &N);
	from_mont(s, s, &N);

	bad = zero_mask(r) | zero_mask(s);
	limbs_to_be(out, r);
	limbs_to_be(out + 32, s);
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(kb, sizeof(kb));
	explicit_bzero(k, sizeof(k));
	explicit_bzero(x, sizeof(x));
	explicit_bzero(&drbg, sizeof(drbg));
	return bad ? 0 : 64;
}

size_t
p256_ecdsa_sign_asn1(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig)
{
	size_t n;

	if (sk->curve != BR_EC_secp256r1 || sk->xlen > 32)
		return br_ecdsa_i31_sign_asn1(impl, hf, hash_value, sk, sig);
	n = p256_ecdsa_sign_raw(impl, hf, hash_value, sk, sig);
	return n == 0 ? 0 : br_ecdsa_raw_to_asn1(sig, n);
}

#else

const int p256_fast = 0;

void
p256_init(void)
{
}

size_t
p256_ecdsa_sign_raw(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig)
{
	return br_ecdsa_i31_sign_raw(impl, hf, hash_value, sk, sig);
}

size_t
p256_ecdsa_sign_asn1(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig)
{
	return br_ecdsa_i31_sign_asn1(impl, hf, hash_value, sk, sig);
}

size_t
p256_mulgen(uint8_t out[65], const uint8_t *k, size_t klen)
{
	return br_ec_p256_m31.mulgen(out, k, klen, BR_EC_secp256r1);
}

#endif
