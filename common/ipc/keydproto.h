/* keydproto.h - the two channels of keyd: master <-> keyd (a session's
 * worker channel, readiness, retirement) and worker <-> keyd (certificate
 * chains, one private-key operation, the session cache).  One put and one
 * get per message, used by both ends (no layout is written twice); the
 * gets are pure and fuzzed, since the bytes may come from a compromised
 * worker.  Each get reads one received message's fields, checks sizes,
 * and fails on trailing bytes; the validators then say whether a decoded
 * request is one that a TLS handshake step can need. */
#ifndef POSTERN_KEYDPROTO_H
#define POSTERN_KEYDPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "../net/x509.h"

enum keydproto_msg {
	/* master -> keyd */
	MSG_KEYD_SESSION_NEW = 0x0801,	/* sid, client ip ("" = PROXY listener: no
					   session cache) + fd: worker channel */
	MSG_KEYD_RETIRE = 0x0802,	/* a newer keyd took over: exit when idle */
	/* keyd -> master */
	MSG_KEYD_READY = 0x0811,	/* count u32: keys loaded, serving */
	/* worker -> keyd */
	MSG_KEYD_CHAINS_REQ = 0x0901,	/* (empty) */
	/* 0x0902 (sign a hash) and 0x0903 (KEYX with a validity flag) are
	   retired: new numbers for the new layouts, so a stale peer fails closed */
	MSG_KEYD_SIGN = 0x0906,		/* key id u32, TLS version u32, algo u32,
					   ServerKeyExchange signed_params bytes */
	MSG_KEYD_KEYX = 0x0907,		/* key id u32, client_max_version u32,
					   RSA ciphertext bytes */
	MSG_KEYD_CACHE_SAVE = 0x0904,	/* session id bytes, version u32, suite u32,
					   master secret bytes */
	MSG_KEYD_CACHE_LOAD = 0x0905,	/* session id bytes */
	/* keyd -> worker */
	MSG_KEYD_CHAIN = 0x0a01,	/* key id u32, key type u8, curve u8, names
					   count u32 + strings, certs count u32 + DER bytes */
	MSG_KEYD_CHAINS_END = 0x0a02,	/* (empty) */
	MSG_KEYD_SIGNATURE = 0x0a03,	/* signature bytes */
	MSG_KEYD_KEYX_RESULT = 0x0a08,	/* 48 bytes: the premaster secret, or a
					   pseudo-random one (no flag; was 0x0a04) */
	MSG_KEYD_CACHE_HIT = 0x0a05,	/* version u32, suite u32, master secret */
	MSG_KEYD_CACHE_MISS = 0x0a06,	/* (empty) */
	MSG_KEYD_ERR = 0x0a07,		/* text: refused (unknown key id, bad data) */
};

#define KEYD_KEYX_MAX		512	/* RSA-4096 ciphertext */
#define KEYD_SESSION_ID_LEN	32
#define KEYD_MASTER_LEN		48
#define KEYD_PREMASTER_LEN	48	/* RFC 5246 7.4.7.1 */
#define KEYD_SIG_MAX		512	/* RSA-4096 signature */
#define KEYD_CHAIN_CERTS_MAX	16	/* certificates in one chain */
#define KEYD_SID_SIZE		25	/* a session id with the NUL */
#define KEYD_IP_SIZE		64
#define KEYD_TEXT_SIZE		200

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

/* Each get returns 0, or -1 for a short, oversized or trailing message. */
int keydproto_sign(struct ipc_in *in, struct keyd_sign_req *r);
int keydproto_keyx(struct ipc_in *in, struct keyd_keyx_req *r);
int keydproto_cache_save(struct ipc_in *in, struct keyd_cache_req *r);
int keydproto_cache_load(struct ipc_in *in, struct keyd_cache_req *r);
void keydproto_sign_put(struct ipc_out *o, const struct keyd_sign_req *r);
void keydproto_keyx_put(struct ipc_out *o, const struct keyd_keyx_req *r);
void keydproto_cache_save_put(struct ipc_out *o, const struct keyd_cache_req *r);
void keydproto_cache_load_put(struct ipc_out *o, const uint8_t id[KEYD_SESSION_ID_LEN]);

/* Messages without fields: MSG_KEYD_CHAINS_REQ, _CHAINS_END, _CACHE_MISS,
 * _RETIRE. */
void keydproto_empty_put(struct ipc_out *o, uint16_t type);
int keydproto_empty_get(struct ipc_in *in);

/* MSG_KEYD_CHAIN: one certificate chain and what a worker needs to pick it
 * (SNI names, key type, curve); the DER spans point into the message. */
struct keyd_chain {
	uint32_t key_id;
	uint8_t key_type;		/* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	uint8_t curve;			/* EC: BearSSL's curve id */
	struct x509_names names;
	uint32_t ncerts;		/* 1..KEYD_CHAIN_CERTS_MAX */
	const uint8_t *cert[KEYD_CHAIN_CERTS_MAX];
	size_t certlen[KEYD_CHAIN_CERTS_MAX];
};
void keydproto_chain_put(struct ipc_out *o, const struct keyd_chain *r);
int keydproto_chain_get(struct ipc_in *in, struct keyd_chain *r);

/* MSG_KEYD_SIGNATURE (1..KEYD_SIG_MAX bytes, at most max for the caller's
 * buffer) and MSG_KEYD_KEYX_RESULT (exactly KEYD_PREMASTER_LEN). */
void keydproto_signature_put(struct ipc_out *o, const uint8_t *sig, size_t len);
int keydproto_signature_get(struct ipc_in *in, const uint8_t **sig_r, size_t *len_r, size_t max);
void keydproto_keyx_result_put(struct ipc_out *o, const uint8_t pms[KEYD_PREMASTER_LEN]);
int keydproto_keyx_result_get(struct ipc_in *in, const uint8_t **pms_r);

/* MSG_KEYD_CACHE_HIT: a resumable session's parameters (id unused). */
void keydproto_cache_hit_put(struct ipc_out *o, uint32_t version, uint32_t suite,
    const uint8_t master[KEYD_MASTER_LEN]);
int keydproto_cache_hit_get(struct ipc_in *in, struct keyd_cache_req *r);

/* MSG_KEYD_ERR: why keyd refused (printable text). */
void keydproto_err_put(struct ipc_out *o, const char *text);
int keydproto_err_get(struct ipc_in *in, char text_r[KEYD_TEXT_SIZE]);

/* Master <-> keyd. */
struct keyd_session {
	char sid[KEYD_SID_SIZE];
	char ip[KEYD_IP_SIZE];		/* "" = behind a PROXY listener: no cache */
};
void keydproto_session_put(struct ipc_out *o, const struct keyd_session *r, int fd);
/* Returns 0 (the fd stays in in->fd for the caller), or -1. */
int keydproto_session_get(struct ipc_in *in, struct keyd_session *r);
void keydproto_ready_put(struct ipc_out *o, uint32_t nkeys);
int keydproto_ready_get(struct ipc_in *in, uint32_t *nkeys_r);

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
