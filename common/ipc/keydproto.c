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

void
keydproto_sign_put(struct ipc_out *o, const struct keyd_sign_req *r)
{
	ipc_out_init(o, MSG_KEYD_SIGN);
	ipc_put_u32(o, r->key_id);
	ipc_put_u32(o, r->version);
	ipc_put_u32(o, r->algo);
	ipc_put_bytes(o, r->tbs, r->tbslen);
}

void
keydproto_keyx_put(struct ipc_out *o, const struct keyd_keyx_req *r)
{
	ipc_out_init(o, MSG_KEYD_KEYX);
	ipc_put_u32(o, r->key_id);
	ipc_put_u32(o, r->client_max_version);
	ipc_put_bytes(o, r->data, r->len);
}

void
keydproto_cache_save_put(struct ipc_out *o, const struct keyd_cache_req *r)
{
	ipc_out_init(o, MSG_KEYD_CACHE_SAVE);
	ipc_put_bytes(o, r->id, KEYD_SESSION_ID_LEN);
	ipc_put_u32(o, r->version);
	ipc_put_u32(o, r->suite);
	ipc_put_bytes(o, r->master, KEYD_MASTER_LEN);
}

void
keydproto_cache_load_put(struct ipc_out *o, const uint8_t id[KEYD_SESSION_ID_LEN])
{
	ipc_out_init(o, MSG_KEYD_CACHE_LOAD);
	ipc_put_bytes(o, id, KEYD_SESSION_ID_LEN);
}

void
keydproto_empty_put(struct ipc_out *o, uint16_t type)
{
	ipc_out_init(o, type);
}

int
keydproto_empty_get(struct ipc_in *in)
{
	return ipc_in_end_no_fd(in);
}

void
keydproto_chain_put(struct ipc_out *o, const struct keyd_chain *r)
{
	uint32_t i;

	ipc_out_init(o, MSG_KEYD_CHAIN);
	ipc_put_u32(o, r->key_id);
	ipc_put_u8(o, r->key_type);
	ipc_put_u8(o, r->curve);
	ipc_put_u32(o, r->names.n);
	for (i = 0; i < r->names.n && i < X509_MAX_NAMES; i++)
		ipc_put_str(o, r->names.name[i]);
	ipc_put_u32(o, r->ncerts);
	for (i = 0; i < r->ncerts && i < KEYD_CHAIN_CERTS_MAX; i++)
		ipc_put_bytes(o, r->cert[i], r->certlen[i]);
	if (r->names.n > X509_MAX_NAMES || r->ncerts > KEYD_CHAIN_CERTS_MAX)
		o->err = 1;
}

int
keydproto_chain_get(struct ipc_in *in, struct keyd_chain *r)
{
	uint32_t n, i;

	memset(r, 0, sizeof(*r));
	r->key_id = ipc_get_u32(in);
	r->key_type = ipc_get_u8(in);
	r->curve = ipc_get_u8(in);
	n = ipc_get_u32(in);
	if (in->err || n > X509_MAX_NAMES || r->curve > 31 ||
	    (r->key_type != BR_KEYTYPE_RSA && r->key_type != BR_KEYTYPE_EC))
		goto bad;
	for (i = 0; i < n; i++)
		ipc_get_str(in, r->names.name[i], sizeof(r->names.name[i]));
	r->names.n = n;
	r->ncerts = ipc_get_u32(in);
	if (in->err || r->ncerts == 0 || r->ncerts > KEYD_CHAIN_CERTS_MAX)
		goto bad;
	for (i = 0; i < r->ncerts; i++)
		if ((r->certlen[i] = ipc_get_bytes(in, &r->cert[i], IPC_MAX_PAYLOAD)) == 0)
			goto bad;
	if (ipc_in_end_no_fd(in) == 0)
		return 0;
bad:
	memset(r, 0, sizeof(*r));
	return -1;
}

void
keydproto_signature_put(struct ipc_out *o, const uint8_t *sig, size_t len)
{
	ipc_out_init(o, MSG_KEYD_SIGNATURE);
	ipc_put_bytes(o, sig, len);
}

int
keydproto_signature_get(struct ipc_in *in, const uint8_t **sig_r, size_t *len_r, size_t max)
{
	*len_r = ipc_get_bytes(in, sig_r, max < KEYD_SIG_MAX ? max : KEYD_SIG_MAX);
	return ipc_in_end_no_fd(in) < 0 || *len_r == 0 ? -1 : 0;
}

void
keydproto_keyx_result_put(struct ipc_out *o, const uint8_t pms[KEYD_PREMASTER_LEN])
{
	ipc_out_init(o, MSG_KEYD_KEYX_RESULT);
	ipc_put_bytes(o, pms, KEYD_PREMASTER_LEN);
}

int
keydproto_keyx_result_get(struct ipc_in *in, const uint8_t **pms_r)
{
	size_t len = ipc_get_bytes(in, pms_r, KEYD_PREMASTER_LEN);

	return ipc_in_end_no_fd(in) < 0 || len != KEYD_PREMASTER_LEN ? -1 : 0;
}

void
keydproto_cache_hit_put(struct ipc_out *o, uint32_t version, uint32_t suite,
    const uint8_t master[KEYD_MASTER_LEN])
{
	ipc_out_init(o, MSG_KEYD_CACHE_HIT);
	ipc_put_u32(o, version);
	ipc_put_u32(o, suite);
	ipc_put_bytes(o, master, KEYD_MASTER_LEN);
}

int
keydproto_cache_hit_get(struct ipc_in *in, struct keyd_cache_req *r)
{
	size_t msl;

	r->id = NULL;
	r->version = ipc_get_u32(in);
	r->suite = ipc_get_u32(in);
	msl = ipc_get_bytes(in, &r->master, KEYD_MASTER_LEN);
	if (ipc_in_end_no_fd(in) < 0 || msl != KEYD_MASTER_LEN || r->version > 0xffff ||
	    r->suite > 0xffff)
		return -1;
	return 0;
}

void
keydproto_err_put(struct ipc_out *o, const char *text)
{
	ipc_out_init(o, MSG_KEYD_ERR);
	ipc_put_str(o, text);
}

int
keydproto_err_get(struct ipc_in *in, char text_r[KEYD_TEXT_SIZE])
{
	ipc_get_str(in, text_r, KEYD_TEXT_SIZE);
	return ipc_in_end_no_fd(in);
}

void
keydproto_session_put(struct ipc_out *o, const struct keyd_session *r, int fd)
{
	ipc_out_init(o, MSG_KEYD_SESSION_NEW);
	ipc_put_str(o, r->sid);
	ipc_put_str(o, r->ip);
	ipc_put_fd(o, fd);
}

int
keydproto_session_get(struct ipc_in *in, struct keyd_session *r)
{
	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->sid, sizeof(r->sid));
	ipc_get_str(in, r->ip, sizeof(r->ip));
	return ipc_in_end(in) < 0 || in->fd < 0 || r->sid[0] == '\0' ? -1 : 0;
}

void
keydproto_ready_put(struct ipc_out *o, uint32_t nkeys)
{
	ipc_out_init(o, MSG_KEYD_READY);
	ipc_put_u32(o, nkeys);
}

int
keydproto_ready_get(struct ipc_in *in, uint32_t *nkeys_r)
{
	*nkeys_r = ipc_get_u32(in);
	return ipc_in_end_no_fd(in);
}
