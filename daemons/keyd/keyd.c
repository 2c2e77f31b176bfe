/* keyd.c - answers sign, RSA decrypt and session-cache requests from
 * workers for the configured key ids only, and nothing else.  A worker
 * channel that sends anything else, or a malformed request, is closed. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/ev.h"
#include "../../common/ipc.h"
#include "../../common/keydproto.h"
#include "../../common/log.h"
#include "../../common/proto.h"
#include "keyd.h"

struct chan {
	struct chan *next;
	int fd;
	char sid[25];
	char ip[64];		/* from the master: the client's address */
};

/* A resumable session.  Its master secret goes back only to a worker
 * serving the same client address: a compromised worker cannot fetch the
 * secrets of other clients' sessions by their (cleartext) session ids. */
struct cache_entry {
	uint8_t id[32];
	char ip[64];
	uint32_t version, suite;
	uint8_t master[48];
	uint64_t used;		/* 0 = free */
};

static struct keyd_keys *K;
static struct chan *chans;
static int retiring;
static struct cache_entry *cache;
static size_t cache_size;
static uint64_t cache_clock;
static struct ipc_in inmsg;
static struct ipc_out outmsg;

static void
chan_close(struct chan *c)
{
	struct chan **pp;

	for (pp = &chans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ev_del_fd(c->fd);
	close(c->fd);
	free(c);
	if (retiring && chans == NULL) {
		log_event(LOG_LEVEL_INFO, "exit", "reason=\"retired and idle\"");
		exit(0);
	}
}

static int
send_err(struct chan *c, const char *text)
{
	ipc_out_init(&outmsg, MSG_KEYD_ERR);
	ipc_put_str(&outmsg, text);
	return ipc_send(c->fd, &outmsg);
}

static int
on_chains(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	size_t i, j;

	if (ipc_in_end(in) < 0)
		return -1;
	for (i = 0; i < K->n; i++) {
		const struct keyd_key *k = &K->k[i];
		ipc_out_init(&outmsg, MSG_KEYD_CHAIN);
		ipc_put_u32(&outmsg, (uint32_t)i);
		ipc_put_u8(&outmsg, (uint8_t)k->type);
		ipc_put_u8(&outmsg, (uint8_t)k->curve);
		ipc_put_u32(&outmsg, k->names.n);
		for (j = 0; j < k->names.n; j++)
			ipc_put_str(&outmsg, k->names.name[j]);
		ipc_put_u32(&outmsg, (uint32_t)k->nchain);
		for (j = 0; j < k->nchain; j++)
			ipc_put_bytes(&outmsg, k->chain[j].data, k->chain[j].data_len);
		if (ipc_send(c->fd, &outmsg) < 0)
			return -1;
	}
	ipc_out_init(&outmsg, MSG_KEYD_CHAINS_END);
	return ipc_send(c->fd, &outmsg);
}

static const br_hash_class *
hash_class(unsigned id)
{
	switch (id) {
	case br_sha1_ID: return &br_sha1_vtable;
	case br_sha224_ID: return &br_sha224_vtable;
	case br_sha256_ID: return &br_sha256_vtable;
	case br_sha384_ID: return &br_sha384_vtable;
	case br_sha512_ID: return &br_sha512_vtable;
	}
	return NULL;
}

static const unsigned char *
hash_oid(unsigned id)
{
	switch (id) {
	case br_sha1_ID: return BR_HASH_OID_SHA1;
	case br_sha224_ID: return BR_HASH_OID_SHA224;
	case br_sha256_ID: return BR_HASH_OID_SHA256;
	case br_sha384_ID: return BR_HASH_OID_SHA384;
	case br_sha512_ID: return BR_HASH_OID_SHA512;
	}
	return NULL;
}

/* Sign a hash value (algo 0xFF00 + hash id, as BearSSL's policy passes it).
 * Returns the signature length or 0. */
static size_t
sign(const struct keyd_key *k, unsigned algo, const uint8_t *hv, size_t hvlen, uint8_t *sig)
{
	unsigned id = algo & 0xff;
	const br_hash_class *hc = hash_class(id);

	if ((algo & 0xff00) != 0xff00)
		return 0;
	if (k->type == BR_KEYTYPE_EC) {
		if (hc == NULL || hvlen != ((hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK))
			return 0;
		return br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), hc, hv,
		    br_skey_decoder_get_ec(k->sk), sig);
	}
	{
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(k->sk);
		/* id 0: the MD5+SHA-1 concatenation of TLS 1.0/1.1, no OID */
		if ((id == 0 && hvlen != 36) || (id != 0 && (hc == NULL ||
		    hvlen != ((hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK))))
			return 0;
		if (!br_rsa_pkcs1_sign_get_default()(id ? hash_oid(id) : NULL, hv, hvlen, sk, sig))
			return 0;
		return (sk->n_bitlen + 7) / 8;
	}
}

static int
on_sign(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct keyd_sign_req r;
	uint8_t sig[512];
	size_t sl;

	if (keydproto_sign(in, &r) < 0)
		return -1;
	if (r.key_id >= K->n) {
		log_event(LOG_LEVEL_WARN, "keyd_refused", "sid=%s reason=\"unknown key id %u\"", c->sid,
		    r.key_id);
		return send_err(c, "unknown key id");
	}
	sl = sign(&K->k[r.key_id], r.algo, r.hv, r.hvlen, sig);
	if (sl == 0)
		return send_err(c, "cannot sign with these parameters");
	ipc_out_init(&outmsg, MSG_KEYD_SIGNATURE);
	ipc_put_bytes(&outmsg, sig, sl);
	return ipc_send(c->fd, &outmsg);
}

static int
on_keyx(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct keyd_keyx_req r;
	uint8_t data[KEYD_KEYX_MAX];
	uint32_t ok;

	if (keydproto_keyx(in, &r) < 0)
		return -1;
	if (r.key_id >= K->n || K->k[r.key_id].type != BR_KEYTYPE_RSA) {
		log_event(LOG_LEVEL_WARN, "keyd_refused", "sid=%s reason=\"no RSA key id %u\"", c->sid,
		    r.key_id);
		return send_err(c, "unknown RSA key id");
	}
	memcpy(data, r.data, r.len);
	/* constant time whatever the padding; the engine uses random bytes
	 * when ok is 0 (Bleichenbacher defence) */
	ok = br_rsa_ssl_decrypt(br_rsa_private_get_default(),
	    br_skey_decoder_get_rsa(K->k[r.key_id].sk), data, r.len);
	ipc_out_init(&outmsg, MSG_KEYD_KEYX_RESULT);
	ipc_put_u32(&outmsg, ok);
	ipc_put_bytes(&outmsg, data, 48);
	explicit_bzero(data, sizeof(data));
	return ipc_send(c->fd, &outmsg);
}

static struct cache_entry *
cache_find(const uint8_t *id, const char *ip)
{
	size_t i;

	for (i = 0; i < cache_size; i++)
		if (cache[i].used && memcmp(cache[i].id, id, KEYD_SESSION_ID_LEN) == 0 &&
		    strcmp(cache[i].ip, ip) == 0)
			return &cache[i];
	return NULL;
}

static int
on_cache_save(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct cache_entry *e, *victim = NULL;
	struct keyd_cache_req r;
	size_t i;

	if (keydproto_cache_save(in, &r) < 0)
		return -1;
	if (cache_size == 0)
		return 0;
	e = cache_find(r.id, c->ip);
	for (i = 0; e == NULL && i < cache_size; i++)
		if (victim == NULL || cache[i].used < victim->used)
			victim = &cache[i];
	if (e == NULL)
		e = victim;
	memcpy(e->id, r.id, KEYD_SESSION_ID_LEN);
	snprintf(e->ip, sizeof(e->ip), "%s", c->ip);
	e->version = r.version;
	e->suite = r.suite;
	memcpy(e->master, r.master, KEYD_MASTER_LEN);
	e->used = ++cache_clock;
	return 0;
}

static int
on_cache_load(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct keyd_cache_req r;
	struct cache_entry *e;

	if (keydproto_cache_load(in, &r) < 0)
		return -1;
	e = cache_find(r.id, c->ip);
	if (e == NULL) {
		ipc_out_init(&outmsg, MSG_KEYD_CACHE_MISS);
	} else {
		e->used = ++cache_clock;
		ipc_out_init(&outmsg, MSG_KEYD_CACHE_HIT);
		ipc_put_u32(&outmsg, e->version);
		ipc_put_u32(&outmsg, e->suite);
		ipc_put_bytes(&outmsg, e->master, KEYD_MASTER_LEN);
	}
	return ipc_send(c->fd, &outmsg);
}

static const struct ipc_handler worker_handlers[] = {
	{ MSG_KEYD_CHAINS_REQ, 0, on_chains },
	{ MSG_KEYD_SIGN, 0, on_sign },
	{ MSG_KEYD_KEYX, 0, on_keyx },
	{ MSG_KEYD_CACHE_SAVE, 0, on_cache_save },
	{ MSG_KEYD_CACHE_LOAD, 0, on_cache_load },
};

static void
on_worker(int fd, short revents, void *ctx)
{
	struct chan *c = ctx;
	int rc;

	(void)fd;
	(void)revents;
	rc = ipc_recv(c->fd, &inmsg);
	if (rc == 0) {
		chan_close(c);
		return;
	}
	if (rc < 0 || ipc_dispatch(worker_handlers, sizeof(worker_handlers) /
	    sizeof(worker_handlers[0]), c, &inmsg) < 0) {
		log_event(LOG_LEVEL_ERR, "ipc_violation", "sid=%s peer=worker type=0x%04x "
		    "reason=\"request refused by keyd\"", c->sid, rc == 1 ? inmsg.type : 0);
		chan_close(c);
	}
}

static int
on_session_new(void *ctx, struct ipc_in *in)
{
	struct chan *c = calloc(1, sizeof(*c));

	(void)ctx;
	if (c == NULL) {
		ipc_in_close_fd(in);
		return 0;
	}
	c->fd = in->fd;
	in->fd = -1;
	ipc_get_str(in, c->sid, sizeof(c->sid));
	ipc_get_str(in, c->ip, sizeof(c->ip));
	if (ipc_in_end(in) < 0 || ev_add_fd(c->fd, POLLIN, on_worker, c) < 0) {
		close(c->fd);
		free(c);
		return -1;
	}
	c->next = chans;
	chans = c;
	return 0;
}

static int
on_retire(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	if (ipc_in_end(in) < 0)
		return -1;
	retiring = 1;
	log_event(LOG_LEVEL_INFO, "retiring", "reason=\"a newer keyd serves new sessions\"");
	if (chans == NULL)
		exit(0);
	return 0;
}

static const struct ipc_handler master_handlers[] = {
	{ MSG_KEYD_SESSION_NEW, 1, on_session_new },
	{ MSG_KEYD_RETIRE, 0, on_retire },
};

static void
on_master(int fd, short revents, void *ctx)
{
	int rc;

	(void)revents;
	(void)ctx;
	rc = ipc_recv(fd, &inmsg);
	if (rc == 0) {
		log_event(LOG_LEVEL_INFO, "exit", "reason=\"master closed channel\"");
		exit(0);
	}
	if (rc < 0 || ipc_dispatch(master_handlers, 2, NULL, &inmsg) < 0)
		fatal("reason=\"bad message from master\" type=0x%04x", inmsg.type);
}

void
keyd_serve(struct keyd_keys *keys, const struct config *cfg, int master_fd)
{
	K = keys;
	cache_size = (size_t)cfg->tls_session_cache;
	cache = cache_size ? calloc(cache_size, sizeof(*cache)) : NULL;
	if (cache_size && cache == NULL)
		fatal("reason=\"cannot allocate session cache\"");
	ipc_out_init(&outmsg, MSG_KEYD_READY);
	ipc_put_u32(&outmsg, (uint32_t)keys->n);
	if (ipc_send(master_fd, &outmsg) < 0 || ev_add_fd(master_fd, POLLIN, on_master, NULL) < 0)
		fatal("reason=\"master channel\"");
	ev_run();
}
