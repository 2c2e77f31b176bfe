/* p256.h - ECDSA signatures on NIST P-256 with 64-bit limbs, for keyd.
 *
 * Debian's BearSSL is built without its 64-bit curve code, so keyd's
 * ECDSA signature (one per full TLS handshake with an EC certificate)
 * ran k*G in p256_m31 and the mod-n arithmetic in i31: about half a
 * millisecond.  Here k*G is a fixed-base comb over a table of
 * 65 x 8 affine multiples of G that is computed once per process (keyd
 * is long-running), with the complete projective formulas of Renes,
 * Costello and Batina (2015) for a = -3, and the mod-n arithmetic in
 * Montgomery form.  The nonce is RFC 6979's (HMAC_DRBG over the
 * private key and the hash), so a signature equals, byte for byte, the
 * one BearSSL's br_ecdsa_i31_sign_* makes with the same key and hash:
 * test_p256 checks exactly that.
 *
 * Constant time: no branch and no memory index depends on the private
 * key, the nonce or the hash (masked table scans, masked selects, fixed
 * exponent chains for the inversions).  Curves other than P-256 go to
 * BearSSL's i31 code unchanged. */
#ifndef POSTERN_P256_H
#define POSTERN_P256_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

/* Non-zero when this build has the 64-bit code (the compiler has a
 * 128-bit integer type); otherwise every call is BearSSL's i31. */
extern const int p256_fast;

/* Compute the table now (about 5 ms once) instead of at the first
 * signature.  Safe to call more than once. */
void p256_init(void);

/* br_ecdsa_sign-compatible: the signature of hash_value (hf's output
 * length) by sk, into sig (64 bytes raw r||s, or up to 72 in DER).
 * Returns its length, or 0 on error (key not a valid P-256 scalar).
 * For another curve, BearSSL's i31 function with impl. */
size_t p256_ecdsa_sign_raw(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig);
size_t p256_ecdsa_sign_asn1(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig);

/* k*G for a big-endian scalar of klen <= 32 bytes: the uncompressed
 * point (0x04, X, Y) into out.  Returns 65, or 0 when k is zero or not
 * below the group order.  For tests and the fuzz target. */
size_t p256_mulgen(uint8_t out[65], const uint8_t *k, size_t klen);

#endif
