/* tls.c - server-side TLS for workers, private keys in keyd. */
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__x86_64__) && defined(__GLIBC__)
#include <sys/platform/x86.h>
#define TLS_X86_FEATURES 1
#elif defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>	/* gcc's and clang's: the CPUID instruction */
#define TLS_X86_CPUID 1
#endif

#include "../ipc/ipc.h"
#include "../ipc/scratch.h"
#include "../ipc/keydproto.h"
#include "../base/log.h"
#include "../ipc/proto.h"
#include "x25519.h"


/* One list, our order (BR_OPT_ENFORCE_SERVER_PREFERENCES makes it win):
 * the first SUITES_MODERN entries, ECDHE with AEAD, are the default;
 * tls_legacy_suites adds the CBC and RSA key exchange ones after them. */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	/* legacy from here */
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA,
};
#define SUITES_MODERN	6

int
tls_pick_chain(const struct tls_chain *chains, size_t n, const char *sni, int ec_ok,
    int rsa_ok, uint32_t curves, int *sni_unknown_r)
{
	size_t i, j;

	*sni_unknown_r = 0;
	for (i = 0; sni != NULL && sni[0] != '\0' && i < n; i++) {
		const struct tls_chain *c = &chains[i];
		if (!((c->key_type == BR_KEYTYPE_EC && ec_ok && ((curves >> c->curve) & 1)) ||
		    (c->key_type == BR_KEYTYPE_RSA && rsa_ok)))
			continue;
		for (j = 0; j < c->names.n; j++)
			if (x509_name_match(c->names.name[j], sni))
				return (int)i;
	}
	if (sni != NULL && sni[0] != '\0')
		*sni_unknown_r = 1;
	/* the default: the first usable chain in configuration order */
	for (i = 0; i < n; i++) {
		const struct tls_chain *c = &chains[i];
		if ((c->key_type == BR_KEYTYPE_EC && ec_ok && ((curves >> c->curve) & 1)) ||
		    (c->key_type == BR_KEYTYPE_RSA && rsa_ok))
			return (int)i;
	}
	return -1;
}

/* Strongest hash both sides can use, from a bitmask of hash ids. */
static unsigned
pick_hash(uint32_t mask)
{
	static const unsigned pref[] = { br_sha256_ID, br_sha384_ID, br_sha512_ID, br_sha224_ID,
	    br_sha1_ID };
	size_t i;

	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if ((mask >> pref[i]) & 1)
			return pref[i];
	return 0;
}

static int
policy_choose(const br_ssl_server_policy_class **pctx, const br_ssl_server_context *cc,
    br_ssl_server_choices *choices)
{
	struct tls_server *t = ((const struct tls_policy *)(const void *)pctx)->t;
	const br_suite_translated *st;
	const char *sni = br_ssl_engine_get_server_name(&cc->eng);
	uint32_t hashes = br_ssl_server_get_client_hashes(cc);
	uint32_t curves = br_ssl_server_get_client_curves(cc);
	unsigned version = br_ssl_engine_get_version(&cc->eng);
	int tls12 = version >= BR_TLS12, unk1, unk2;
	int ec = tls_pick_chain(t->chains, t->nchains, sni, 1, 0, curves, &unk1);
	int rsa = tls_pick_chain(t->chains, t->nchains, sni, 0, 1, curves, &unk2);
	unsigned ec_hash = tls12 ? pick_hash(hashes >> 8) : br_sha1_ID;

	/* The server name decides before the key type: if only one type has a
	 * certificate for it, drop the other type's default; with no match at
	 * all, the default is the first usable certificate in config order. */
	if (ec >= 0 && rsa >= 0) {
		if (unk1 && !unk2)
			ec = -1;
		else if (unk2 && !unk1)
			rsa = -1;
		else if (unk1 && unk2) {
			if (ec < rsa)
				rsa = -1;
			else
				ec = -1;
		}
	}
	t->choose_called = 1;
	unsigned rsa_hash = tls12 ? pick_hash(hashes) : 0;
	size_t u, n;

	st = br_ssl_server_get_client_suites(cc, &n);
	for (u = 0; u < n; u++) {
		int kx = st[u][1] >> 12, pick = -1;
		unsigned algo = 0;
		/* an algo below 0xFF00 makes BearSSL hand do_sign the unhashed
		 * signed_params, so keyd sees and checks what it signs */
		if (kx == BR_SSLKEYX_ECDHE_ECDSA && ec >= 0 && ec_hash != 0) {
			pick = ec;
			algo = keydproto_sign_algo(BR_KEYTYPE_EC, version, ec_hash);
		} else if (kx == BR_SSLKEYX_ECDHE_RSA && rsa >= 0 && (rsa_hash != 0 || !tls12)) {
			pick = rsa;
			algo = keydproto_sign_algo(BR_KEYTYPE_RSA, version, rsa_hash);
		} else if (kx == BR_SSLKEYX_RSA && rsa >= 0) {
			pick = rsa;
		}
		if (pick < 0)
			continue;
		t->chosen = pick;
		t->sni_unknown = pick == ec ? unk1 : unk2;
		choices->cipher_suite = st[u][0];
		choices->algo_id = algo;
		choices->chain = t->chains[pick].certs;
		choices->chain_len = t->chains[pick].ncerts;
		return 1;
	}
	return 0;
}

static int
keyd_call(struct tls_server *t, uint16_t want)
{
	if (ipc_call(t->keyd_fd, &ipc_scratch_out, &ipc_scratch_in, &want, 1, 0) == 0)
		return 0;
	if (errno != EPROTO)
		log_event(LOG_LEVEL_ERR, "tls_failed", "reason=\"keyd unavailable\"");
	return -1;
}

/* RSA key exchange: keyd answers 48 bytes, the premaster secret or, for a
 * bad padding, a pseudo-random one (RFC 5246 7.4.7.1, done in keyd: the
 * worker never learns which), so we report success either way. */
static uint32_t
policy_do_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data, size_t *len)
{
	struct tls_server *t = ((const struct tls_policy *)(const void *)pctx)->t;
	struct keyd_keyx_req r = { .key_id = t->chains[t->chosen].key_id,
	    .client_max_version = t->sc.client_max_version, .data = data, .len = *len };
	const uint8_t *res;
	uint32_t ok = 0;

	keydproto_keyx_put(&ipc_scratch_out, &r);
	if (keyd_call(t, MSG_KEYD_KEYX_RESULT) < 0)
		return 0;
	if (keydproto_keyx_result_get(&ipc_scratch_in, &res) == 0) {
		memcpy(data, res, KEYD_PREMASTER_LEN);
		ok = 1;
	}
	explicit_bzero(ipc_scratch_in.data, sizeof(ipc_scratch_in.data));
	return ok;
}

/* ECDHE: data holds the unhashed signed_params (choose set algo < 0xFF00);
 * keyd checks the structure, hashes and signs. */
static size_t
policy_do_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id, unsigned char *data,
    size_t hv_len, size_t len)
{
	struct tls_server *t = ((const struct tls_policy *)(const void *)pctx)->t;
	struct keyd_sign_req r = { .key_id = t->chains[t->chosen].key_id,
	    .version = br_ssl_engine_get_version(&t->sc.eng), .algo = algo_id, .tbs = data,
	    .tbslen = hv_len };
	const uint8_t *sig;
	size_t sl;

	keydproto_sign_put(&ipc_scratch_out, &r);
	if (keyd_call(t, MSG_KEYD_SIGNATURE) < 0 || keydproto_signature_get(&ipc_scratch_in, &sig, &sl, len) < 0)
		return 0;
	memcpy(data, sig, sl);
	return sl;
}

static const br_ssl_server_policy_class policy_vtable = {
	sizeof(struct tls_policy), policy_choose, policy_do_keyx, policy_do_sign,
};

static void
cache_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
    const br_ssl_session_parameters *params)
{
	struct tls_server *t = ((const struct tls_cache *)(const void *)ctx)->t;
	struct keyd_cache_req r = { .id = params->session_id, .version = params->version,
	    .suite = params->cipher_suite, .master = params->master_secret };

	(void)sc;
	if (params->session_id_len != KEYD_SESSION_ID_LEN)
		return;
	keydproto_cache_save_put(&ipc_scratch_out, &r);
	(void)ipc_send(t->keyd_fd, &ipc_scratch_out);
	explicit_bzero(ipc_scratch_out.data, ipc_scratch_out.len);
}

static int
cache_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
    br_ssl_session_parameters *params)
{
	static const uint16_t answers[] = { MSG_KEYD_CACHE_HIT, MSG_KEYD_CACHE_MISS };
	struct tls_server *t = ((const struct tls_cache *)(const void *)ctx)->t;
	struct keyd_cache_req r;

	(void)sc;
	if (params->session_id_len != KEYD_SESSION_ID_LEN)
		return 0;
	keydproto_cache_load_put(&ipc_scratch_out, params->session_id);
	if (ipc_call(t->keyd_fd, &ipc_scratch_out, &ipc_scratch_in, answers, 2, 0) < 0 ||
	    ipc_scratch_in.type != MSG_KEYD_CACHE_HIT || keydproto_cache_hit_get(&ipc_scratch_in, &r) < 0)
		return 0;
	params->version = (uint16_t)r.version;
	params->cipher_suite = (uint16_t)r.suite;
	memcpy(params->master_secret, r.master, KEYD_MASTER_LEN);
	explicit_bzero(ipc_scratch_in.data, IPC_HDR_LEN + ipc_scratch_in.len);
	return 1;
}

static const br_ssl_session_cache_class cache_vtable = {
	sizeof(struct tls_cache), cache_save, cache_load,
};

/* One MSG_KEYD_CHAIN into t->chains[t->nchains]: names and copies of the
 * certificates (the message buffer is reused). */
static int
take_chain(struct tls_server *t)
{
	static struct keyd_chain r;
	struct tls_chain *c = &t->chains[t->nchains];
	uint32_t i;

	if (keydproto_chain_get(&ipc_scratch_in, &r) < 0)
		return -1;
	memset(c, 0, sizeof(*c));
	c->key_id = r.key_id;
	c->key_type = r.key_type;
	c->curve = r.curve;
	c->names = r.names;
	c->certs = calloc(r.ncerts, sizeof(*c->certs));
	if (c->certs == NULL)
		return -1;
	for (i = 0; i < r.ncerts; i++) {
		uint8_t *copy = malloc(r.certlen[i]);
		if (copy == NULL)
			return -1;
		memcpy(copy, r.cert[i], r.certlen[i]);
		c->certs[i].data = copy;
		c->certs[i].data_len = r.certlen[i];
		c->ncerts++;
	}
	t->nchains++;
	return 0;
}

static int
fetch_chains(struct tls_server *t)
{
	keydproto_empty_put(&ipc_scratch_out, MSG_KEYD_CHAINS_REQ);
	if (ipc_send(t->keyd_fd, &ipc_scratch_out) < 0)
		return -1;
	for (;;) {
		if (ipc_recv(t->keyd_fd, &ipc_scratch_in) != 1) {
			ipc_in_close_fd(&ipc_scratch_in);
			return -1;
		}
		if (ipc_scratch_in.type == MSG_KEYD_CHAINS_END)
			return keydproto_empty_get(&ipc_scratch_in) == 0 && t->nchains > 0 ? 0 : -1;
		if (ipc_scratch_in.type != MSG_KEYD_CHAIN || t->nchains == TLS_MAX_CHAINS || take_chain(t) < 0) {
			ipc_in_close_fd(&ipc_scratch_in);
			return -1;
		}
	}
}

/* The record ciphers.  BearSSL's br_ssl_engine_set_default_* pick the
 * AES-NI, PCLMULQDQ and SSE2 engines when the CPU has them, but each of
 * their br_*_get() probes runs CPUID again, five per handshake, and a
 * virtual machine traps every CPUID (about 12 us each on the bench VM).
 * glibc read the features once at process start (<sys/platform/x86.h>,
 * glibc 2.33+, a GNU extension); with musl one CPUID is made, once: with
 * them the fast engines are set directly, requiring at least what
 * BearSSL's probes check.  Elsewhere BearSSL's defaults choose. */
#if defined(TLS_X86_FEATURES)
static int
cpu_has_aesni(void)
{
	return CPU_FEATURE_ACTIVE(AES) && CPU_FEATURE_ACTIVE(PCLMULQDQ) &&
	    CPU_FEATURE_ACTIVE(SSE2) && CPU_FEATURE_ACTIVE(SSSE3) && CPU_FEATURE_ACTIVE(SSE4_1);
}
#elif defined(TLS_X86_CPUID)
/* Other libcs (musl) keep no CPU features: one CPUID leaf 1 per process,
 * remembered, instead of BearSSL's five per handshake.  The bits BearSSL's
 * probes test: ECX AES (25), PCLMULQDQ (1), SSSE3 (9), SSE4.1 (19); EDX
 * SSE2 (26).  The OS must also save the XMM state (ECX OSXSAVE is not
 * needed for SSE: every x86-64 kernel does). */
static int
cpu_has_aesni(void)
{
	static int known = -1;
	unsigned int a, b, c, d;

	if (known < 0) {
		known = __get_cpuid(1, &a, &b, &c, &d) && (c & (1U << 25)) && (c & (1U << 1)) &&
		    (c & (1U << 9)) && (c & (1U << 19)) && (d & (1U << 26));
	}
	return known;
}
#endif

static void
engine_set_ciphers(br_ssl_engine_context *eng)
{
#if defined(TLS_X86_FEATURES) || defined(TLS_X86_CPUID)
	if (cpu_has_aesni()) {
		br_poly1305_run poly = br_poly1305_ctmulq_get();	/* no CPUID: a build choice */

		br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
		br_ssl_engine_set_aes_ctr(eng, &br_aes_x86ni_ctr_vtable);
		br_ssl_engine_set_ghash(eng, &br_ghash_pclmul);
		br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
		br_ssl_engine_set_chacha20(eng, &br_chacha20_sse2_run);
		br_ssl_engine_set_poly1305(eng, poly != 0 ? poly : &br_poly1305_ctmul_run);
		br_ssl_engine_set_cbc(eng, &br_sslrec_in_cbc_vtable, &br_sslrec_out_cbc_vtable);
		br_ssl_engine_set_aes_cbc(eng, &br_aes_x86ni_cbcenc_vtable, &br_aes_x86ni_cbcdec_vtable);
		return;
	}
#endif
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_default_aes_cbc(eng);
}

static void
engine_setup(struct tls_server *t, const struct tls_settings *s)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	static const struct { int id; const br_hash_class *vt; } hashes[] = {
		{ br_md5_ID, &br_md5_vtable }, { br_sha1_ID, &br_sha1_vtable },
		{ br_sha224_ID, &br_sha224_vtable }, { br_sha256_ID, &br_sha256_vtable },
		{ br_sha384_ID, &br_sha384_vtable }, { br_sha512_ID, &br_sha512_vtable },
	};
	size_t i;

	br_ssl_server_zero(&t->sc);
	br_ssl_engine_set_versions(eng, s->min_version, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites,
	    s->legacy_suites ? sizeof(suites) / sizeof(suites[0]) : SUITES_MODERN);
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		br_ssl_engine_set_hash(eng, hashes[i].id, hashes[i].vt);
	br_ssl_engine_set_prf10(eng, &br_tls10_prf);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	engine_set_ciphers(eng);
	/* Debian's BearSSL 0.6 has no _m62/_m64 curves: the default is
	 * ec_all_m31 (p256_m31, c25519_m31).  X25519, what clients offer
	 * first, runs in our 64-bit code instead (x25519.h); the other curves
	 * stay m31.  set_default_ec also sets the ECDSA verifier. */
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_ec(eng, &x25519_ec);
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
	t->policy.vtable = &policy_vtable;
	t->policy.t = t;
	t->cache.vtable = &cache_vtable;
	t->cache.t = t;
	br_ssl_server_set_policy(&t->sc, &t->policy.vtable);
	br_ssl_server_set_cache(&t->sc, &t->cache.vtable);
	br_ssl_engine_set_buffer(eng, t->iobuf, sizeof(t->iobuf), 1);
}

int
tls_server_init(struct tls_server *t, int client_fd, int keyd_fd, struct buf *in,
    const struct tls_settings *s)
{
	t->fd = client_fd;
	t->keyd_fd = keyd_fd;
	t->in = in;
	t->timeout_ms = s->timeout_ms;
	t->peer = s->peer != NULL ? s->peer : "-";
	t->chosen = -1;
	t->choose_called = 0;
	t->nchains = 0;
	t->logged = t->failed = t->sni_unknown = 0;
	if (fetch_chains(t) < 0) {
		log_event(LOG_LEVEL_ERR, "tls_failed", "reason=\"no certificates from keyd\"");
		return -1;
	}
	engine_setup(t, s);
	if (!br_ssl_server_reset(&t->sc))
		return -1;
	return 0;
}

void
tls_free(struct tls_server *t)
{
	size_t i, j;

	for (i = 0; i < t->nchains; i++) {
		for (j = 0; j < t->chains[i].ncerts; j++)
			free(t->chains[i].certs[j].data);
		free(t->chains[i].certs);
	}
	t->nchains = 0;
}

static const char *
error_name(int err)
{
	switch (err) {
	case BR_ERR_UNSUPPORTED_VERSION: return "client offers no TLS version we accept";
	case BR_ERR_BAD_VERSION: return "bad protocol version";
	case BR_ERR_BAD_CIPHER_SUITE: return "no shared cipher suite";
	case BR_ERR_BAD_HANDSHAKE: return "handshake failed (no shared cipher suite or bad message)";
	case BR_ERR_BAD_MAC: return "bad record MAC";
	case BR_ERR_BAD_SNI: return "malformed server name (SNI)";
	case BR_ERR_BAD_FINISHED: return "bad Finished message";
	case BR_ERR_UNEXPECTED: return "unexpected message";
	case BR_ERR_TOO_LARGE: return "record too large";
	case BR_ERR_BAD_SECRENEG: return "bad secure renegotiation";
	case BR_ERR_LIMIT_EXCEEDED: return "limit exceeded";
	case BR_ERR_INVALID_ALGORITHM: return "invalid algorithm";
	case BR_ERR_IO: return "connection error";
	}
	return "TLS protocol error";
}

static const char *
suite_name(unsigned s)
{
	switch (s) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return "ECDHE-RSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return "ECDHE-RSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-RSA-CHACHA20-POLY1305";
	}
	return "legacy";
}

int
tls_describe(const struct tls_server *t, char *out, size_t outlen)
{
	br_ssl_session_parameters sp;
	int n;

	if (!tls_ready(t))
		return -1;
	br_ssl_engine_get_session_parameters(&t->sc.eng, &sp);
	n = snprintf(out, outlen, "version=TLS1.%d cipher=%s", (sp.version & 0xff) - 1,
	    suite_name(sp.cipher_suite));
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* One line per handshake: success with its parameters, or why it failed. */
static void
log_result(struct tls_server *t, int ok)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	const char *sni = br_ssl_engine_get_server_name(eng);
	br_ssl_session_parameters sp;
	int err = br_ssl_engine_last_error(eng);

	if (t->logged)
		return;
	t->logged = 1;
	if (!ok) {
		t->failed = 1;
		if (err >= BR_ERR_SEND_FATAL_ALERT)
			log_event(LOG_LEVEL_WARN, "tls_failed", "reason=\"%s\" sent_alert=%d sni=%s ip=%s",
			    !t->choose_called ? "client offers no protocol version or cipher suite we accept "
			    "(TLS 1.3 only? BearSSL speaks TLS 1.0-1.2)" : t->chosen < 0 ?
			    "no shared cipher suite for our certificates" : "handshake refused",
			    err - BR_ERR_SEND_FATAL_ALERT, sni[0] ? sni : "-", t->peer);
		else if (err >= BR_ERR_RECV_FATAL_ALERT)
			log_event(LOG_LEVEL_WARN, "tls_failed", "reason=\"client sent alert\" alert=%d sni=%s ip=%s",
			    err - BR_ERR_RECV_FATAL_ALERT, sni[0] ? sni : "-", t->peer);
		else
			log_event(LOG_LEVEL_WARN, "tls_failed", "reason=\"%s\" error=%d sni=%s ip=%s",
			    err ? error_name(err) : "client closed during handshake", err, sni[0] ? sni : "-",
			    t->peer);
		return;
	}
	br_ssl_engine_get_session_parameters(eng, &sp);
	log_event(LOG_LEVEL_INFO, "tls", "version=TLS1.%d suite=%s(0x%04x) sni=%s%s cert=%s resumed=%s",
	    (sp.version & 0xff) - 1, suite_name(sp.cipher_suite), sp.cipher_suite,
	    sni[0] ? sni : "-", t->sni_unknown ? " sni_match=none,default" : "",
	    t->chosen >= 0 && t->chains[t->chosen].names.n ? t->chains[t->chosen].names.name[0] : "-",
	    t->chosen < 0 ? "yes" : "no");
}

/* Keep application bytes the engine decrypted, as far as t->in has room:
 * a full input buffer leaves them in the engine, which then stops reading
 * records (backpressure instead of growth). */
static int
take_app(struct tls_server *t)
{
	size_t len, room = t->in->max - t->in->len;
	unsigned char *p = br_ssl_engine_recvapp_buf(&t->sc.eng, &len);

	if (len > room)
		len = room;
	if (len == 0)
		return 0;
	if (buf_append(t->in, p, len) < 0)
		return -1;
	br_ssl_engine_recvapp_ack(&t->sc.eng, len);
	return 1;
}

/* One record write or read without blocking: 1 progress, 0 would block,
 * -1 the peer is gone (t->failed set, the result logged). */
static int
move_record(struct tls_server *t, int sending)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *buf;
	size_t len;
	ssize_t n;

	if (sending) {
		buf = br_ssl_engine_sendrec_buf(eng, &len);
		n = send(t->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		buf = br_ssl_engine_recvrec_buf(eng, &len);
		n = recv(t->fd, buf, len, MSG_DONTWAIT);
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0) {
		log_result(t, 0);	/* peer gone */
		t->failed = 1;
		return -1;
	}
	if (sending)
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
	else
		br_ssl_engine_recvrec_ack(eng, (size_t)n);
	return 1;
}

int
tls_step(struct tls_server *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	int progress = 1, r;

	while (progress && !t->failed) {
		unsigned st = br_ssl_engine_current_state(eng);
		progress = 0;
		if (st & BR_SSL_CLOSED) {
			log_result(t, 0);	/* a no-op after a logged handshake */
			t->failed = 1;
			break;
		}
		if ((st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) && !t->logged)
			log_result(t, 1);
		if ((st & BR_SSL_SENDREC) && (r = move_record(t, 1)) != 0)
			progress = r > 0;
		if (!t->failed && (st & BR_SSL_RECVAPP) && (r = take_app(t)) != 0)
			progress = r > 0;
		if (!t->failed && (st & BR_SSL_RECVREC) && (r = move_record(t, 0)) != 0)
			progress = r > 0;
	}
	return t->failed ? -1 : 0;
}

short
tls_events(const struct tls_server *t)
{
	unsigned st = br_ssl_engine_current_state(&t->sc.eng);
	short ev = 0;

	if (st & BR_SSL_SENDREC)
		ev |= POLLOUT;
	if (st & BR_SSL_RECVREC)
		ev |= POLLIN;
	return ev;
}

int
tls_ready(const struct tls_server *t)
{
	return t->logged && !t->failed;
}

size_t
tls_put(struct tls_server *t, const uint8_t *data, size_t len)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *p;
	size_t room;

	if (t->failed || !(br_ssl_engine_current_state(eng) & BR_SSL_SENDAPP))
		return 0;
	p = br_ssl_engine_sendapp_buf(eng, &room);
	if (room > len)
		room = len;
	memcpy(p, data, room);
	br_ssl_engine_sendapp_ack(eng, room);
	return room;
}

int
tls_can_put(const struct tls_server *t)
{
	return !t->failed && (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDAPP) != 0;
}

void
tls_push(struct tls_server *t)
{
	if (!t->failed)
		br_ssl_engine_flush(&t->sc.eng, 0);
}

int
tls_sending(const struct tls_server *t)
{
	return !t->failed && (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC) != 0;
}

void
tls_close(struct tls_server *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *buf;
	size_t len;
	ssize_t n;

	if (t->failed)
		return;
	/* send our close_notify; do not wait for the client's */
	br_ssl_engine_close(eng);
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		struct pollfd p = { t->fd, POLLOUT, 0 };
		buf = br_ssl_engine_sendrec_buf(eng, &len);
		if (poll(&p, 1, t->timeout_ms) <= 0 ||
		    (n = send(t->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)) <= 0)
			return;
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
	}
}
