/* fuzz_keydproto.c - every message of keyd's two channels.  What keyd
 * decodes from a (possibly compromised) worker: the IPC frame, then the
 * request of that type, then the checks keyd makes before a private-key
 * operation; decoded fields must lie inside the message and respect the
 * documented sizes, and an accepted structure must have the layout RFC
 * 8422 5.4 gives it.  What a worker and the master decode from keyd
 * (chains, signature, premaster, cache answers, errors, a session, ready)
 * must re-encode to the bytes received, and so must every request. */
#include <bearssl.h>
#include <string.h>

#include "../common/ipc/keydproto.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;

static int
inside(const uint8_t *p, size_t len)
{
	return p >= in.data + IPC_HDR_LEN && p + len <= in.data + IPC_HDR_LEN + in.len;
}

/* What keyd would accept to sign: a hash the version allows for the key
 * type, over a well-formed structure. */
static void
check_sign(const struct keyd_sign_req *s)
{
	int t, h, curve;

	for (t = BR_KEYTYPE_RSA; t <= BR_KEYTYPE_EC; t++) {
		h = keydproto_sign_hash(s->version, s->algo, t, KEYD_TLS10);
		if (h < 0)
			continue;
		CHECK(s->version >= KEYD_TLS10 && s->version <= KEYD_TLS12);
		CHECK(h == KEYD_HASH_MD5SHA1 ? s->version < KEYD_TLS12 && t == BR_KEYTYPE_RSA :
		    h >= br_sha1_ID && h <= br_sha512_ID);
		CHECK((s->algo & 0xff) == (t == BR_KEYTYPE_EC ? KEYD_SIG_ECDSA : KEYD_SIG_RSA));
		CHECK(keydproto_sign_hash(s->version, s->algo, t, KEYD_TLS12) < 0 ||
		    s->version == KEYD_TLS12);
	}
	curve = keydproto_ske_check(s->tbs, s->tbslen);
	if (curve >= 0)
		CHECK(s->tbs[KEYD_SKE_RANDOMS] == 3 && s->tbs[KEYD_SKE_RANDOMS + 1] == 0 &&
		    s->tbs[KEYD_SKE_RANDOMS + 2] == curve &&
		    s->tbslen == KEYD_SKE_RANDOMS + 4u + s->tbs[KEYD_SKE_RANDOMS + 3]);
}

/* A worker's requests. */
static void
requests(void)
{
	struct keyd_sign_req s;
	struct keyd_keyx_req k;
	struct keyd_cache_req c;

	switch (in.type) {
	case MSG_KEYD_SIGN:
		if (keydproto_sign(&in, &s) == 0) {
			CHECK(s.tbslen >= 1 && s.tbslen <= KEYD_SKE_MAX && inside(s.tbs, s.tbslen));
			check_sign(&s);
			keydproto_sign_put(&out, &s);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_KEYD_KEYX:
		if (keydproto_keyx(&in, &k) == 0) {
			CHECK(k.len >= 59 && k.len <= KEYD_KEYX_MAX && inside(k.data, k.len) &&
			    k.client_max_version <= 0xffff);
			keydproto_keyx_put(&out, &k);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_KEYD_CACHE_SAVE:
		if (keydproto_cache_save(&in, &c) == 0) {
			CHECK(inside(c.id, KEYD_SESSION_ID_LEN) && inside(c.master, KEYD_MASTER_LEN));
			keydproto_cache_save_put(&out, &c);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_KEYD_CACHE_LOAD:
		if (keydproto_cache_load(&in, &c) == 0) {
			CHECK(inside(c.id, KEYD_SESSION_ID_LEN) && c.master == NULL);
			keydproto_cache_load_put(&out, c.id);
			CHECK_REENCODES(out, in);
		}
		break;
	default:
		break;
	}
}

/* keyd's answers to a worker. */
static void
answers(void)
{
	static struct keyd_chain ch;
	struct keyd_cache_req c;
	char text[KEYD_TEXT_SIZE];
	const uint8_t *p;
	size_t len, i;

	if (in.type == MSG_KEYD_CHAIN && keydproto_chain_get(&in, &ch) == 0) {
		CHECK(ch.ncerts >= 1 && ch.ncerts <= KEYD_CHAIN_CERTS_MAX && ch.names.n <= X509_MAX_NAMES);
		for (i = 0; i < ch.ncerts; i++)
			CHECK(ch.certlen[i] > 0 && inside(ch.cert[i], ch.certlen[i]));
		keydproto_chain_put(&out, &ch);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_KEYD_SIGNATURE && keydproto_signature_get(&in, &p, &len, 256) == 0) {
		CHECK(len >= 1 && len <= 256 && inside(p, len));
		keydproto_signature_put(&out, p, len);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_KEYD_KEYX_RESULT && keydproto_keyx_result_get(&in, &p) == 0) {
		CHECK(inside(p, KEYD_PREMASTER_LEN));
		keydproto_keyx_result_put(&out, p);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_KEYD_CACHE_HIT && keydproto_cache_hit_get(&in, &c) == 0) {
		CHECK(inside(c.master, KEYD_MASTER_LEN) && c.version <= 0xffff && c.suite <= 0xffff);
		keydproto_cache_hit_put(&out, c.version, c.suite, c.master);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_KEYD_ERR && keydproto_err_get(&in, text) == 0) {
		keydproto_err_put(&out, text);
		CHECK_REENCODES(out, in);
	}
}

/* The master's channel, and the messages without fields. */
static void
master(void)
{
	struct keyd_session ks;
	uint32_t n;

	if (in.type == MSG_KEYD_SESSION_NEW) {
		if (keydproto_session_get(&in, &ks) == 0) {
			CHECK(in.fd >= 0 && ks.sid[0] != '\0');
			keydproto_session_put(&out, &ks, in.fd);
			CHECK_REENCODES(out, in);
		}
	} else if (in.type == MSG_KEYD_READY) {
		if (keydproto_ready_get(&in, &n) == 0) {
			keydproto_ready_put(&out, n);
			CHECK_REENCODES(out, in);
		}
	} else if (keydproto_empty_get(&in) == 0) {
		CHECK(in.len == 0 && in.fd < 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	if ((in.type >> 8) == 0x09 && in.fd < 0)
		requests();
	else if ((in.type >> 8) == 0x0a)
		answers();
	else
		master();
	return 0;
}
