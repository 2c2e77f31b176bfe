/* fuzz_keydproto.c - what keyd decodes from a (possibly compromised)
 * worker: the IPC frame, then the request of that type, then the checks
 * keyd makes before a private-key operation.  Decoded fields must lie
 * inside the message and respect the documented sizes; an accepted
 * structure must have the layout RFC 8422 5.4 gives it. */
#include <bearssl.h>
#include <string.h>

#include "../common/ipc/keydproto.h"
#include "../common/ipc/proto.h"
#include "fuzz.h"

static struct ipc_in in;

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyd_sign_req s;
	struct keyd_keyx_req k;
	struct keyd_cache_req c;

	if (size > IPC_MAX_MSG || ipc_decode(&in, data, size, 0) < 0)
		return 0;
	in.fd = -1;
	switch (in.type) {
	case MSG_KEYD_SIGN:
		if (keydproto_sign(&in, &s) == 0) {
			CHECK(s.tbslen >= 1 && s.tbslen <= KEYD_SKE_MAX && inside(s.tbs, s.tbslen));
			check_sign(&s);
		}
		break;
	case MSG_KEYD_KEYX:
		if (keydproto_keyx(&in, &k) == 0)
			CHECK(k.len >= 59 && k.len <= KEYD_KEYX_MAX && inside(k.data, k.len) &&
			    k.client_max_version <= 0xffff);
		break;
	case MSG_KEYD_CACHE_SAVE:
		if (keydproto_cache_save(&in, &c) == 0)
			CHECK(inside(c.id, KEYD_SESSION_ID_LEN) && inside(c.master, KEYD_MASTER_LEN));
		break;
	case MSG_KEYD_CACHE_LOAD:
		if (keydproto_cache_load(&in, &c) == 0)
			CHECK(inside(c.id, KEYD_SESSION_ID_LEN) && c.master == NULL);
		break;
	default:
		break;
	}
	return 0;
}
