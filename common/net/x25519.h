/* x25519.h - X25519 (RFC 7748) with 64-bit limbs, as a BearSSL EC
 * implementation for the TLS key exchange.
 *
 * Debian's BearSSL is built without its 64-bit curve code (no
 * br_ec_c25519_m64), so every ECDHE handshake ran two X25519 scalar
 * multiplications in 31-bit limbs.  x25519_ec does Curve25519 in radix
 * 2^51 with 64x64->128-bit multiplications and hands every other curve
 * (P-256, P-384, P-521) to br_ec_all_m31 unchanged.  Conventions are
 * those of BearSSL's c25519 code: the point is the 32-byte little-endian
 * u-coordinate, the scalar little-endian too (up to 32 bytes, a shorter
 * one zero-extended), clamped as RFC 7748 says (low three bits and bit
 * 255 cleared, bit 254 set); mul() writes the result over the point.
 * One difference: an all-zero result is refused (mul returns 0), which
 * RFC 8422 5.11 asks of TLS and m31 does not do.
 *
 * Constant time: no branch and no memory index depends on the scalar or
 * the point (a masked swap in the ladder, a fixed exponent chain). */
#ifndef POSTERN_X25519_H
#define POSTERN_X25519_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

/* Non-zero when this build has the 64-bit code (the compiler has a
 * 128-bit integer type); otherwise x25519_ec is br_ec_all_m31 itself. */
extern const int x25519_fast;

/* The BearSSL EC implementation: Curve25519 here, the rest m31. */
extern const br_ec_impl x25519_ec;

/* RFC 7748 X25519(k, u) with its little-endian scalar: out = k * u.
 * Returns 0, or -1 when the result is all zeros (u of small order). */
int x25519(uint8_t out[32], const uint8_t k[32], const uint8_t u[32]);

#endif
