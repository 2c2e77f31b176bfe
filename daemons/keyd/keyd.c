/* keyd.c - answers sign, RSA decrypt and session-cache requests from
 * workers for the configured key ids only, and nothing else.  A worker
 * channel that sends anything else, or a malformed request, is closed.
 * The worker is assumed compromised: it gets at most one private-key
 * operation per channel, signatures only over ServerKeyExchange
 * structures keyd checked and hashed itself, and RSA decryptions only
 * with RSA key exchange configured, with the RFC 5246 7.4.7.1
 * countermeasure applied here so no answer says whether a padding was
 * valid. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/ipc/ipc.h"
#include "../../common/ipc/broker.h"
#include "../../common/ipc/counters.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/net/p256.h"
#include "../../common/base/siphash.h"
#include "keyd.h"

/* A worker channel.  ch.ip is the master's word for the client, "" on a
 * PROXY listener (not known yet: no session cache); ch.perm is KEYD_FRESH
 * until a private-key operation. */
struct chan {
	struct broker_chan ch;
	size_t chain_next;	/* sending the chains: the next one (n = END) */
	int pumping;		/* ... and waiting for room (POLLOUT, not reading) */
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
static int retiring;
static int rsa_kx;		/* RSA key exchange suites configured */
uint64_t *keyd_counters;
static uint32_t min_version;	/* lowest TLS version configured (wire value) */
/* The cache: cache_sets sets of CACHE_WAYS entries, a session's set
 * chosen by a keyed hash of its id (a worker picks the ids it saves, so
 * it must not be able to aim them at one set), the least recently used
 * entry of the set replaced.  Two scans of 8 per handshake instead of
 * two of every entry. */
#define CACHE_WAYS	8
static struct cache_entry *cache;
static size_t cache_sets;
static uint8_t cache_key[SIPHASH_KEY_LEN];
static uint64_t cache_clock;
static struct ipc_in inmsg;
static struct ipc_out outmsg;

static void
chan_close(struct chan *c)
{
	broker_chan_free(&c->ch);
	if (retiring && broker_chan_count() == 0) {
		log_event(LOG_LEVEL_INFO, "exit", "reason=\"retired and idle\"");
		exit(0);
	}
}

#define KEYD_CLOSE	1

/* Answer without ever blocking.  A worker does strict request/reply, so a
 * reply that finds its queue full means it does not read: its channel is
 * closed (KEYD_CLOSE) and keyd goes on serving everyone else. */
static int
reply(struct chan *c)
{
	return broker_reply(&c->ch, &outmsg) == 0 ? 0 : KEYD_CLOSE;
}

static int
send_err(struct chan *c, const char *text)
{
	keydproto_err_put(&outmsg, text);
	return reply(c);
}

static void
put_chain(size_t i)
{
	static struct keyd_chain ch;
	const struct keyd_key *k = &K->k[i];
	size_t j;

	ch.key_id = (uint32_t)i;
	ch.key_type = (uint8_t)k->type;
	ch.curve = (uint8_t)k->curve;
	ch.names = k->names;
	ch.ncerts = (uint32_t)k->nchain;
	for (j = 0; j < k->nchain && j < KEYD_CHAIN_CERTS_MAX; j++) {
		ch.cert[j] = k->chain[j].data;
		ch.certlen[j] = k->chain[j].data_len;
	}
	keydproto_chain_put(&outmsg, &ch);
}

/* The chains are the one reply of several messages; with many large
 * certificates they may not all fit in the worker's queue at once.  Send
 * what fits, then wait for room (POLLOUT only: the channel is not read
 * meanwhile, one request at a time), never blocking on the worker. */
static int
chains_pump(struct chan *c)
{
	while (c->chain_next <= K->n) {
		if (c->chain_next < K->n)
			put_chain(c->chain_next);
		else
			keydproto_empty_put(&outmsg, MSG_KEYD_CHAINS_END);
		if (ipc_send_nowait(c->ch.fd, &outmsg) < 0) {
			if (errno != EAGAIN)
				return KEYD_CLOSE;
			c->pumping = 1;
			ev_set_events(c->ch.fd, POLLOUT);
			return 0;
		}
		c->chain_next++;
	}
	if (c->pumping) {
		c->pumping = 0;
		ev_set_events(c->ch.fd, POLLIN);
	}
	return 0;
}

static int
on_chains(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	if (keydproto_empty_get(in) < 0)
		return -1;
	c->chain_next = 0;
	return chains_pump(c);
}

/* One refusal: one log line with the reason, an error for the worker, and
 * the channel is closed (a worker that asks for what no handshake needs is
 * not one we keep serving).  Returns KEYD_CLOSE for the dispatcher. */
static int refuse(struct chan *c, enum counters_keyd_refusal why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct chan *c, enum counters_keyd_refusal why, const char *fmt, ...)
{
	char reason[200];
	va_list ap;

	counters_inc(keyd_counters, COUNTERS_KEYD_REFUSED + why);
	va_start(ap, fmt);
	if (vsnprintf(reason, sizeof(reason), fmt, ap) < 0)
		reason[0] = '\0';
	va_end(ap);
	log_event(LOG_LEVEL_WARN, "keyd_refused", "sid=%s reason=\"%s\"", c->ch.sid, reason);
	(void)send_err(c, reason);
	return KEYD_CLOSE;
}

static const br_hash_class *
hash_class(int id)
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
hash_oid(int id)
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

/* Hash data with hash id (or MD5 || SHA-1, RFC 4346 7.4.3) into hv.
 * Returns the hash length. */
static size_t
hash_data(int id, const uint8_t *data, size_t len, uint8_t *hv)
{
	const br_hash_class *parts[2] = { hash_class(id), NULL };
	br_hash_compat_context hc;
	size_t i, off = 0;

	if (id == KEYD_HASH_MD5SHA1) {
		parts[0] = &br_md5_vtable;
		parts[1] = &br_sha1_vtable;
	}
	for (i = 0; i < 2 && parts[i] != NULL; i++) {
		parts[i]->init(&hc.vtable);
		parts[i]->update(&hc.vtable, data, len);
		parts[i]->out(&hc.vtable, hv + off);
		off += (parts[i]->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	}
	return off;
}

/* Sign signed_params with key k after hashing with hash id (checked by
 * keydproto_sign_hash).  Returns the signature length or 0. */
static size_t
sign(const struct keyd_key *k, int id, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap)
{
	uint8_t hv[64];
	size_t hvlen = hash_data(id, tbs, len, hv), sl = 0;

	if (k->type == BR_KEYTYPE_EC) {
		/* 139: the longest ECDSA P-521 signature in DER; P-256 in
		 * 64-bit code (p256.h), the other curves BearSSL's i31 */
		if (hash_class(id) != NULL && cap >= 139)
			sl = p256_ecdsa_sign_asn1(br_ec_get_default(), hash_class(id), hv,
			    br_skey_decoder_get_ec(k->sk), sig);
	} else {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(k->sk);
		/* MD5+SHA-1 (TLS 1.0/1.1) is signed without a DigestInfo OID */
		if ((sk->n_bitlen + 7) / 8 <= cap && br_rsa_pkcs1_sign_get_default()(
		    id == KEYD_HASH_MD5SHA1 ? NULL : hash_oid(id), hv, hvlen, sk, sig))
			sl = (sk->n_bitlen + 7) / 8;
	}
	explicit_bzero(hv, sizeof(hv));
	return sl;
}

static int
on_sign(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct keyd_sign_req r;
	const struct keyd_key *k;
	uint8_t sig[512];
	size_t sl;
	int id;

	if (keydproto_sign(in, &r) < 0)
		return -1;
	if (r.key_id >= K->n)
		return refuse(c, COUNTERS_REFUSED_UNKNOWN_KEY, "unknown key id %u", r.key_id);
	k = &K->k[r.key_id];
	id = keydproto_sign_hash(r.version, r.algo, k->type, min_version);
	if (id < 0)
		return refuse(c, COUNTERS_REFUSED_ALGORITHM, "signature algorithm 0x%04x at version 0x%04x not allowed for key id %u",
		    r.algo, r.version, r.key_id);
	if (keydproto_ske_check(r.tbs, r.tbslen) < 0)
		return refuse(c, COUNTERS_REFUSED_NOT_SKE, "not an ECDHE ServerKeyExchange structure (%zu bytes)", r.tbslen);
	sl = sign(k, id, r.tbs, r.tbslen, sig, sizeof(sig));
	if (sl == 0)
		return refuse(c, COUNTERS_REFUSED_SIGN_FAILED, "signing failed with key id %u", r.key_id);
	counters_inc(keyd_counters, COUNTERS_KEYD_OPS + (k->type == BR_KEYTYPE_EC ? COUNTERS_KEY_EC :
	    COUNTERS_KEY_RSA) * COUNTERS_OP_COUNT + COUNTERS_OP_SIGN);
	keydproto_signature_put(&outmsg, sig, sl);
	return reply(c);
}

/* The HMAC key for the substitute premaster secrets: derived from the
 * private key, so one ciphertext gets the same answer from every keyd
 * holding that key (a keyd restart must not let a worker tell a valid
 * padding from an invalid one by comparing answers). */
static void
keyx_secret(const br_rsa_private_key *sk, uint8_t out[32])
{
	static const char label[] = "postern keyd RSA-kx substitute premaster v1";
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, label, sizeof(label));
	br_sha256_update(&h, sk->p, sk->plen);
	br_sha256_update(&h, sk->q, sk->qlen);
	br_sha256_update(&h, sk->dp, sk->dplen);
	br_sha256_update(&h, sk->dq, sk->dqlen);
	br_sha256_update(&h, sk->iq, sk->iqlen);
	br_sha256_out(&h, out);
	explicit_bzero(&h, sizeof(h));
}

/* out = a if pick is 1, b if pick is 0, without a branch on pick. */
static void
ct_select(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t n, uint32_t pick)
{
	uint8_t m = (uint8_t)-(uint8_t)(pick & 1);
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)((a[i] & m) | (b[i] & (uint8_t)~m));
}

/* RFC 5246 7.4.7.1: decrypt in constant time; whatever the padding, the
 * answer is client_version || 46 bytes, the real ones only for a valid
 * PKCS#1 v1.5 block of 48 bytes, else a pseudo-random value that is a
 * function of the ciphertext (HMAC-SHA-384, truncated), so neither the
 * answer nor asking twice tells the worker which case it was. */
static void
premaster(const br_rsa_private_key *sk, const struct keyd_keyx_req *r, uint8_t out[48])
{
	uint8_t data[KEYD_KEYX_MAX], key[32], fake[48];
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint32_t ok;

	keyx_secret(sk, key);
	br_hmac_key_init(&kc, &br_sha384_vtable, key, sizeof(key));
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, r->data, r->len);
	br_hmac_out(&hc, fake);
	memcpy(data, r->data, r->len);
	ok = br_rsa_ssl_decrypt(br_rsa_private_get_default(), sk, data, r->len);
	ct_select(out + 2, data + 2, fake, 46, ok);
	out[0] = (uint8_t)(r->client_max_version >> 8);
	out[1] = (uint8_t)r->client_max_version;
	explicit_bzero(data, sizeof(data));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(fake, sizeof(fake));
	explicit_bzero(&kc, sizeof(kc));
	explicit_bzero(&hc, sizeof(hc));
}

static int
on_keyx(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct keyd_keyx_req r;
	uint8_t pms[KEYD_PREMASTER_LEN];
	int rc;

	if (keydproto_keyx(in, &r) < 0)
		return -1;
	/* the RSA key exchange suites are offered only with legacy suites on */
	if (!rsa_kx)
		return refuse(c, COUNTERS_REFUSED_KEYX_OFF, "RSA key exchange not configured (tls_legacy_suites = no)");
	if (r.key_id >= K->n || K->k[r.key_id].type != BR_KEYTYPE_RSA)
		return refuse(c, COUNTERS_REFUSED_UNKNOWN_KEY, "no RSA key id %u", r.key_id);
	counters_inc(keyd_counters, COUNTERS_KEYD_OPS + COUNTERS_KEY_RSA * COUNTERS_OP_COUNT +
	    COUNTERS_OP_KEYX);
	premaster(br_skey_decoder_get_rsa(K->k[r.key_id].sk), &r, pms);
	keydproto_keyx_result_put(&outmsg, pms);
	rc = reply(c);
	explicit_bzero(pms, sizeof(pms));
	explicit_bzero(outmsg.data, outmsg.len);
	return rc;
}

static struct cache_entry *
cache_set(const uint8_t *id)
{
	return &cache[siphash24(cache_key, id, KEYD_SESSION_ID_LEN) % cache_sets * CACHE_WAYS];
}

static struct cache_entry *
cache_find(const uint8_t *id, const char *ip)
{
	struct cache_entry *set = cache_set(id);
	size_t i;

	for (i = 0; i < CACHE_WAYS; i++)
		if (set[i].used && memcmp(set[i].id, id, KEYD_SESSION_ID_LEN) == 0 &&
		    strcmp(set[i].ip, ip) == 0)
			return &set[i];
	return NULL;
}

/* Behind a PROXY listener the master spawns the worker before the header
 * names the client, so the only address keyd could scope entries by is the
 * proxy's, shared by all its clients: such channels get no cache at all
 * (docs/PROXY.md).  Saving is ignored and loading misses; both are what a
 * full or disabled cache does, so this is no refusal. */
static int
on_cache_save(void *ctx, struct ipc_in *in)
{
	struct chan *c = ctx;
	struct cache_entry *e, *set;
	struct keyd_cache_req r;
	size_t i;

	if (keydproto_cache_save(in, &r) < 0)
		return -1;
	if (cache_sets == 0 || c->ch.ip[0] == '\0')
		return 0;
	e = cache_find(r.id, c->ch.ip);
	if (e == NULL) {
		/* a free entry (used 0) or the least recently used of the set */
		set = cache_set(r.id);
		e = &set[0];
		for (i = 1; i < CACHE_WAYS; i++)
			if (set[i].used < e->used)
				e = &set[i];
	}
	memcpy(e->id, r.id, KEYD_SESSION_ID_LEN);
	snprintf(e->ip, sizeof(e->ip), "%s", c->ch.ip);
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
	e = c->ch.ip[0] == '\0' ? NULL : cache_find(r.id, c->ch.ip);
	if (e == NULL) {
		keydproto_empty_put(&outmsg, MSG_KEYD_CACHE_MISS);
	} else {
		e->used = ++cache_clock;
		keydproto_cache_hit_put(&outmsg, e->version, e->suite, e->master);
	}
	return reply(c);
}

/* What a worker may ask.  SIGN and KEYX are private-key operations: one
 * TLS handshake needs at most one (a signature for ECDHE, a decryption for
 * RSA key exchange; resumption none) and a channel serves one session, so
 * either spends the channel's one (KEYD_SPENT, entered before the handler
 * runs: whatever its outcome). */
enum keyd_phase {
	KEYD_FRESH = 1 << 0,
	KEYD_SPENT = 1 << 1,
};

static const struct ipc_handler worker_handlers[] = {
	{ .type = MSG_KEYD_CHAINS_REQ, .fn = on_chains },
	{ .type = MSG_KEYD_SIGN, .phases = KEYD_FRESH, .then = KEYD_SPENT, .fn = on_sign },
	{ .type = MSG_KEYD_KEYX, .phases = KEYD_FRESH, .then = KEYD_SPENT, .fn = on_keyx },
	{ .type = MSG_KEYD_CACHE_SAVE, .fn = on_cache_save },
	{ .type = MSG_KEYD_CACHE_LOAD, .fn = on_cache_load },
};

/* A second SIGN or KEYX on one channel: refused, logged, closed. */
static int
denied(void *ctx, struct ipc_in *in)
{
	return refuse(ctx, COUNTERS_REFUSED_SECOND_OP, "second private-key operation on one channel "
	    "(type 0x%04x; one handshake needs one)", in->type);
}

static const struct broker_table worker_table = { IPC_TABLE(worker_handlers), denied };

static void
on_worker(int fd, short revents, void *ctx)
{
	struct chan *c = ctx;

	(void)fd;
	(void)revents;
	if (c->pumping) {
		if (chains_pump(c) != 0)
			chan_close(c);
		return;
	}
	if (broker_chan_recv(&c->ch, &inmsg, &worker_table) != 0)
		chan_close(c);
}

static int
on_session_new(void *ctx, struct ipc_in *in)
{
	struct keyd_session r;
	struct chan *c;

	(void)ctx;
	if (keydproto_session_get(in, &r) < 0) {
		ipc_in_close_fd(in);
		return -1;
	}
	c = broker_chan_new(sizeof(*c), in->fd, r.sid, r.ip, KEYD_FRESH, on_worker);
	in->fd = -1;
	return 0;	/* NULL: out of memory, that worker sees EOF */
}

static int
on_retire(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	if (keydproto_empty_get(in) < 0)
		return -1;
	retiring = 1;
	log_event(LOG_LEVEL_INFO, "retiring", "reason=\"a newer keyd serves new sessions\"");
	if (broker_chan_count() == 0)
		exit(0);
	return 0;
}

static const struct ipc_handler master_handlers[] = {
	{ .type = MSG_KEYD_SESSION_NEW, .with_fd = 1, .fn = on_session_new },
	{ .type = MSG_KEYD_RETIRE, .with_fd = 0, .fn = on_retire },
};

int
keyd_cache_init(const struct config *cfg)
{
	cache_sets = ((size_t)cfg->tls_session_cache + CACHE_WAYS - 1) / CACHE_WAYS;
	if (cache_sets == 0)
		return 0;
	cache = calloc(cache_sets * CACHE_WAYS, sizeof(*cache));
	if (cache == NULL || getrandom(cache_key, sizeof(cache_key), 0) != (ssize_t)sizeof(cache_key))
		return -1;
	return 0;
}

void
keyd_serve(struct keyd_keys *keys, const struct config *cfg, int master_fd)
{
	K = keys;
	rsa_kx = cfg->tls_legacy_suites;
	min_version = KEYD_TLS10 + (uint32_t)(cfg->tls_min_version - 10);
	keydproto_ready_put(&outmsg, (uint32_t)keys->n);
	if (ipc_send(master_fd, &outmsg) < 0)
		fatal("reason=\"master channel\"");
	broker_master(master_fd, IPC_TABLE(master_handlers));
	ev_run();
}
