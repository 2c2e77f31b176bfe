/* keydproto.c - decoding worker requests to keyd, and deciding whether a
 * request is one a TLS handshake step can need. */
#include "keydproto.h"

#include <bearssl.h>
#include <string.h>

int
keydproto_sign(struct ipc_in *in, struct keyd_sign_req *r)
{
	r->key_id = ipc_get_u32(in);
	r->version = ipc_get_u32(in);
	r->algo = ipc_get_u32(in);
	r->tbslen = ipc_get_bytes(in, &r->tbs, KEYD_SKE_MAX);
	if (ipc_in_end(in) < 0 || r->tbslen == 0)
		return -1;
	return 0;
}

int
keydproto_keyx(struct ipc_in *in, struct keyd_keyx_req *r)
{
	r->key_id = ipc_get_u32(in);
	r->client_max_version = ipc_get_u32(in);
	r->len = ipc_get_bytes(in, &r->data, KEYD_KEYX_MAX);
	/* BearSSL passes at least 59 bytes (RSA key exchange) */
	if (ipc_in_end(in) < 0 || r->len < 59 || r->client_max_version > 0xffff)
		return -1;
	return 0;
}

int
keydproto_cache_save(struct ipc_in *in, struct keyd_cache_req *r)
{
	size_t idl, msl;

	idl = ipc_get_bytes(in, &r->id, KEYD_SESSION_ID_LEN);
	r->version = ipc_get_u32(in);
	r->suite = ipc_get_u32(in);
	msl = ipc_get_bytes(in, &r->master, KEYD_MASTER_LEN);
	if (ipc_in_end(in) < 0 || idl != KEYD_SESSION_ID_LEN || msl != KEYD_MASTER_LEN)
		return -1;
	return 0;
}

int
keydproto_cache_load(struct ipc_in *in, struct keyd_cache_req *r)
{
	size_t idl = ipc_get_bytes(in, &r->id, KEYD_SESSION_ID_LEN);

	r->version = r->suite = 0;
	r->master = NULL;
	if (ipc_in_end(in) < 0 || idl != KEYD_SESSION_ID_LEN)
		return -1;
	return 0;
}

uint32_t
keydproto_sign_algo(int key_type, uint32_t version, unsigned hash)
{
	uint32_t sig = key_type == BR_KEYTYPE_EC ? KEYD_SIG_ECDSA : KEYD_SIG_RSA;

	if (version < KEYD_TLS12)
		hash = key_type == BR_KEYTYPE_EC ? br_sha1_ID : KEYD_HASH_MD5SHA1;
	return (uint32_t)(hash << 8) | sig;
}

int
keydproto_sign_hash(uint32_t version, uint32_t algo, int key_type, uint32_t min_version)
{
	unsigned hash = (algo >> 8) & 0xff;

	if (version < min_version || version < KEYD_TLS10 || version > KEYD_TLS12 || algo > 0xffff)
		return -1;
	if (key_type != BR_KEYTYPE_RSA && key_type != BR_KEYTYPE_EC)
		return -1;
	/* below TLS 1.2 the protocol fixes the hash: accept only that */
	if (algo != keydproto_sign_algo(key_type, version, hash))
		return -1;
	if (hash == KEYD_HASH_MD5SHA1)
		return version < KEYD_TLS12 ? KEYD_HASH_MD5SHA1 : -1;
	/* RFC 5246 7.4.1.4.1: sha1 (2) .. sha512 (6); BearSSL's ids agree */
	if (hash < br_sha1_ID || hash > br_sha512_ID)
		return -1;
	return (int)hash;
}

/* The encoded point length of each curve we offer (RFC 8422 5.4.1:
 * uncompressed points only; RFC 7748 for x25519). */
static size_t
curve_point_len(unsigned curve)
{
	switch (curve) {
	case BR_EC_secp256r1: return 65;
	case BR_EC_secp384r1: return 97;
	case BR_EC_secp521r1: return 133;
	case BR_EC_curve25519: return 32;
	}
	return 0;
}

int
keydproto_ske_check(const uint8_t *tbs, size_t len)
{
	const uint8_t *p = tbs + KEYD_SKE_RANDOMS;
	uint8_t point[133];
	size_t plen;
	unsigned curve;
	uint32_t ok;

	if (len < KEYD_SKE_RANDOMS + 4 || len > KEYD_SKE_MAX)
		return -1;
	/* ECParameters: curve_type named_curve (3), NamedCurve high byte 0 */
	if (p[0] != 3 || p[1] != 0)
		return -1;
	curve = p[2];
	plen = curve_point_len(curve);
	if (plen == 0 || p[3] != plen || len != KEYD_SKE_RANDOMS + 4 + plen)
		return -1;
	if (curve == BR_EC_curve25519)
		return (int)curve;	/* every 32-byte string is an X25519 key */
	if (p[4] != 0x04)
		return -1;
	/* multiplying by 1 succeeds only for a point on the curve */
	memcpy(point, p + 4, plen);
	ok = br_ec_get_default()->mul(point, plen, (const unsigned char *)"\x01", 1, (int)curve);
	return ok == 1 ? (int)curve : -1;
}
