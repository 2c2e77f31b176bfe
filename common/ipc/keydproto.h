/* keydproto.h - decoding the requests a worker may send keyd (pure; the
 * bytes come from a possibly compromised worker).  Each decoder reads one
 * received message's fields, checks sizes, and fails on trailing bytes;
 * the validators then say whether a decoded request is one that a TLS
 * handshake step can need (both ends use them: no layout is written twice). */
#ifndef POSTERN_KEYDPROTO_H
#define POSTERN_KEYDPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

#define KEYD_KEYX_MAX		512	/* RSA-4096 ciphertext */
#define KEYD_SESSION_ID_LEN	32
#define KEYD_MASTER_LEN		48
#define KEYD_PREMASTER_LEN	48	/* RFC 5246 7.4.7.1 */

/* The ServerKeyExchange signed_params of an ECDHE suite (RFC 8422 5.4):
 * client_random(32) server_random(32) curve_type(1) = named_curve(3),
 * NamedCurve(2), point length(1), point.  The longest point is P-521's. */
#define KEYD_SKE_RANDOMS	64
#define KEYD_SKE_MAX		(KEYD_SKE_RANDOMS + 4 + 133)

/* TLS versions on the wire (RFC 5246 appendix E). */
#define KEYD_TLS10		0x0301
#define KEYD_TLS12		0x0303

/* SignatureAlgorithm codes (RFC 5246 7.4.1.4.1). */
#define KEYD_SIG_RSA		1
#define KEYD_SIG_ECDSA		3

/* A hash id (BearSSL's, equal to RFC 5246 HashAlgorithm 2..6), or this for
 * the MD5+SHA-1 concatenation that TLS 1.0/1.1 RSA signatures use. */
#define KEYD_HASH_MD5SHA1	0

/* MSG_KEYD_SIGN: sign one ServerKeyExchange structure. */
struct keyd_sign_req {
	uint32_t key_id;
	uint32_t version;		/* the negotiated TLS version */
	uint32_t algo;			/* (hash << 8) | signature, see keydproto_sign_hash */
	const uint8_t *tbs;		/* signed_params, points into the message */
	size_t tbslen;
};

/* MSG_KEYD_KEYX: the RSA-encrypted premaster secret of RSA key exchange. */
struct keyd_keyx_req {
	uint32_t key_id;
	uint32_t client_max_version;	/* ClientHello.client_version (u16) */
	const uint8_t *data;
	size_t len;
};

struct keyd_cache_req {
	const uint8_t *id;		/* KEYD_SESSION_ID_LEN bytes */
	uint32_t version, suite;	/* save only */
	const uint8_t *master;		/* save only: KEYD_MASTER_LEN bytes */
};

/* Each returns 0, or -1 for a short, oversized or trailing message. */
int keydproto_sign(struct ipc_in *in, struct keyd_sign_req *r);
int keydproto_keyx(struct ipc_in *in, struct keyd_keyx_req *r);
int keydproto_cache_save(struct ipc_in *in, struct keyd_cache_req *r);
int keydproto_cache_load(struct ipc_in *in, struct keyd_cache_req *r);

/* The algo a worker sends for a key type (BR_KEYTYPE_RSA / _EC) at TLS
 * version: for TLS 1.2 (hash << 8) | signature, which BearSSL also writes
 * on the wire; below it the hash the protocol fixes (RFC 4346 7.4.3,
 * RFC 8422 5.4: MD5+SHA-1 for RSA, SHA-1 for ECDSA).  hash is ignored
 * below TLS 1.2. */
uint32_t keydproto_sign_algo(int key_type, uint32_t version, unsigned hash);

/* Which hash keyd applies for a request: a BearSSL hash id 2..6, or
 * KEYD_HASH_MD5SHA1, or -1 when version is outside [min_version, TLS 1.2],
 * the signature byte does not match key_type, or the hash is not one the
 * version allows (never MD5+SHA-1 at TLS 1.2). */
int keydproto_sign_hash(uint32_t version, uint32_t algo, int key_type, uint32_t min_version);

/* Check tbs[0..len) is an ECDHE signed_params structure for a named curve
 * we offer (secp256r1, secp384r1, secp521r1, x25519) with a point of that
 * curve's length; for the NIST curves the point must be on the curve.
 * Returns the curve id, or -1. */
int keydproto_ske_check(const uint8_t *tbs, size_t len);

#endif
