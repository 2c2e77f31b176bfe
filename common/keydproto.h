/* keydproto.h - decoding the requests a worker may send keyd (pure; the
 * bytes come from a possibly compromised worker).  Each decoder reads one
 * received message's fields, checks sizes, and fails on trailing bytes. */
#ifndef POSTERN_KEYDPROTO_H
#define POSTERN_KEYDPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

#define KEYD_HASH_MAX		64	/* SHA-512 */
#define KEYD_KEYX_MAX		512	/* RSA-4096 ciphertext */
#define KEYD_SESSION_ID_LEN	32
#define KEYD_MASTER_LEN		48

struct keyd_sign_req {
	uint32_t key_id;
	uint32_t algo;			/* 0xFF00 + hash id */
	const uint8_t *hv;		/* points into the message */
	size_t hvlen;
};

struct keyd_keyx_req {
	uint32_t key_id;
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

#endif
