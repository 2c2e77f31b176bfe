/* scram.c - SCRAM-SHA-256, server side (RFC 5802, RFC 7677), pure. */
#include "scram.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>

#include "../base/util.h"

/* A cursor over one message; the parsers move it and never read past end. */
struct cur {
	const uint8_t *p, *end;
};

static int
take(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

static int
at_end(const struct cur *c)
{
	return c->p == c->end;
}

/* saslname (RFC 5802 7): value-safe-char, "=2C" or "=3D", up to ',' or the
 * end; decoded into out (at most max bytes, NUL-terminated). */
static int
saslname(struct cur *c, uint8_t *out, size_t max, size_t *len_r)
{
	size_t n = 0;

	while (c->p < c->end && *c->p != ',') {
		uint8_t ch = *c->p;
		if (ch == '=') {
			/* ABNF strings are case-insensitive: "=2c" too */
			if (c->end - c->p >= 3 && c->p[1] == '2' && (c->p[2] | 0x20) == 'c')
				ch = ',';
			else if (c->end - c->p >= 3 && c->p[1] == '3' && (c->p[2] | 0x20) == 'd')
				ch = '=';
			else
				return -1;
			c->p += 3;
		} else {
			c->p++;
		}
		if (n >= max)
			return -1;
		out[n++] = ch;
	}
	if (n == 0)
		return -1;
	out[n] = '\0';
	*len_r = n;
	return 0;
}

/* printable except ',' (RFC 5802 7), 1..max bytes: the nonce. */
static int
printable(struct cur *c, size_t max, const uint8_t **s_r, size_t *len_r)
{
	const uint8_t *s = c->p;

	while (c->p < c->end && *c->p != ',' && *c->p >= 0x21 && *c->p <= 0x7e)
		c->p++;
	if (c->p == s || (size_t)(c->p - s) > max || (c->p < c->end && *c->p != ','))
		return -1;
	*s_r = s;
	*len_r = (size_t)(c->p - s);
	return 0;
}

/* attr-val: ALPHA "=" 1*value-char, up to ',' or the end. */
static int
extension(struct cur *c)
{
	const uint8_t *v;

	if (c->end - c->p < 3 || !((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z')) ||
	    c->p[1] != '=')
		return -1;
	c->p += 2;
	v = c->p;
	while (c->p < c->end && *c->p != ',')
		c->p++;
	return c->p > v ? 0 : -1;
}

/* base64 alphabet text up to ',' or the end, 1..max bytes. */
static int
b64text(struct cur *c, size_t max, const uint8_t **s_r, size_t *len_r)
{
	const uint8_t *s = c->p;

	while (c->p < c->end && *c->p != ',') {
		if (util_base64_value(*c->p) < 0 && *c->p != '=')
			return -1;
		c->p++;
	}
	if (c->p == s || (size_t)(c->p - s) > max)
		return -1;
	*s_r = s;
	*len_r = (size_t)(c->p - s);
	return 0;
}

static int
gs2_header(struct cur *c, struct scram_client_first *r, uint8_t *authz, size_t *authzlen)
{
	if (take(c, "p="))
		return SCRAM_CBIND;
	if (take(c, "n,"))
		r->cbind = 'n';
	else if (take(c, "y,"))
		r->cbind = 'y';
	else
		return SCRAM_MALFORMED;
	*authzlen = 0;
	if (take(c, "a=") && saslname(c, authz, SCRAM_USER_MAX, authzlen) < 0)
		return SCRAM_MALFORMED;
	return take(c, ",") ? SCRAM_OK : SCRAM_MALFORMED;
}

int
scram_client_first_parse(const uint8_t *msg, size_t len, struct scram_client_first *r)
{
	struct cur c = { msg, msg + len };
	uint8_t authz[SCRAM_USER_MAX + 1];
	size_t authzlen;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > SCRAM_MSG_MAX || memchr(msg, '\0', len) != NULL)
		return SCRAM_MALFORMED;
	if ((rc = gs2_header(&c, r, authz, &authzlen)) != SCRAM_OK)
		goto fail;
	r->gs2len = (size_t)(c.p - msg);
	r->bare = c.p;
	r->barelen = (size_t)(c.end - c.p);
	rc = SCRAM_MALFORMED;
	if (take(&c, "m=")) {
		rc = SCRAM_MEXT;
		goto fail;
	}
	if (!take(&c, "n=") || saslname(&c, r->user, SCRAM_USER_MAX, &r->userlen) < 0 ||
	    !take(&c, ",r=") || printable(&c, SCRAM_NONCE_MAX, &r->nonce, &r->noncelen) < 0)
		goto fail;
	while (!at_end(&c))
		if (!take(&c, ",") || extension(&c) < 0)
			goto fail;
	/* an authzid only for the same identity: no proxy logins */
	if (authzlen != 0 && (authzlen != r->userlen || memcmp(authz, r->user, authzlen) != 0)) {
		rc = SCRAM_AUTHZ;
		goto fail;
	}
	return SCRAM_OK;
fail:
	memset(r, 0, sizeof(*r));
	return rc;
}

int
scram_client_final_parse(const uint8_t *msg, size_t len, struct scram_client_final *r)
{
	struct cur c = { msg, msg + len };
	const uint8_t *proof;
	size_t plen;
	long n;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > SCRAM_MSG_MAX || memchr(msg, '\0', len) != NULL)
		return SCRAM_MALFORMED;
	if (!take(&c, "c=") || b64text(&c, SCRAM_MSG_MAX, &r->cbind, &r->cbindlen) < 0 ||
	    !take(&c, ",r=") || printable(&c, SCRAM_NONCE_MAX + 32, &r->nonce, &r->noncelen) < 0)
		goto fail;
	for (;;) {
		const uint8_t *comma = c.p;
		if (!take(&c, ","))
			goto fail;
		if (take(&c, "p=")) {
			r->without_proof = (size_t)(comma - msg);
			if (b64text(&c, 64, &proof, &plen) < 0 || !at_end(&c))
				goto fail;
			n = util_base64_decode(proof, plen, r->proof, sizeof(r->proof));
			if (n != SCRAM_KEY_LEN)
				goto fail;
			return SCRAM_OK;
		}
		if (extension(&c) < 0)
			goto fail;
	}
fail:
	memset(r, 0, sizeof(*r));
	return SCRAM_MALFORMED;
}

int
scram_cbind_matches(const struct scram_client_final *f, const uint8_t *gs2, size_t gs2len)
{
	uint8_t dec[SCRAM_MSG_MAX];
	long n = util_base64_decode(f->cbind, f->cbindlen, dec, sizeof(dec));

	return n >= 0 && (size_t)n == gs2len && memcmp(dec, gs2, gs2len) == 0;
}

void
scram_hmac(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
    uint8_t out[SCRAM_KEY_LEN])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, keylen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, msg, msglen);
	br_hmac_out(&hc, out);
	explicit_bzero(&kc, sizeof(kc));
	explicit_bzero(&hc, sizeof(hc));
}

static void
sha256(const uint8_t *in, size_t len, uint8_t out[SCRAM_KEY_LEN])
{
	br_sha256_context sc;

	br_sha256_init(&sc);
	br_sha256_update(&sc, in, len);
	br_sha256_out(&sc, out);
}

/* Hi(str, salt, i) of RFC 5802 2.2: PBKDF2 with HMAC-SHA-256, one block. */
static void
hi(const uint8_t *pass, size_t passlen, const uint8_t *salt, size_t saltlen, uint32_t iter,
    uint8_t out[SCRAM_KEY_LEN])
{
	static const uint8_t one[4] = { 0, 0, 0, 1 };
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t u[SCRAM_KEY_LEN];
	uint32_t i;
	size_t j;

	br_hmac_key_init(&kc, &br_sha256_vtable, pass, passlen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, salt, saltlen);
	br_hmac_update(&hc, one, sizeof(one));
	br_hmac_out(&hc, u);
	memcpy(out, u, sizeof(u));
	for (i = 1; i < iter; i++) {
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, u, sizeof(u));
		br_hmac_out(&hc, u);
		for (j = 0; j < sizeof(u); j++)
			out[j] ^= u[j];
	}
	explicit_bzero(u, sizeof(u));
	explicit_bzero(&kc, sizeof(kc));
	explicit_bzero(&hc, sizeof(hc));
}

void
scram_make_secrets(const uint8_t *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
    uint32_t iterations, struct scram_secrets *s)
{
	uint8_t salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];

	memset(s, 0, sizeof(*s));
	if (saltlen > SCRAM_SALT_MAX)
		saltlen = SCRAM_SALT_MAX;
	hi(pass, passlen, salt, saltlen, iterations, salted);
	scram_hmac(salted, sizeof(salted), (const uint8_t *)"Client Key", 10, client_key);
	sha256(client_key, sizeof(client_key), s->stored_key);
	scram_hmac(salted, sizeof(salted), (const uint8_t *)"Server Key", 10, s->server_key);
	memcpy(s->salt, salt, saltlen);
	s->saltlen = saltlen;
	s->iterations = iterations;
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
}

long
scram_server_first(const struct scram_client_first *cf, const uint8_t *snonce,
    const struct scram_secrets *s, char *out, size_t outcap, char *nonce_r, size_t noncecap)
{
	char sn[SCRAM_SNONCE_RAW * 2], salt[SCRAM_SALT_MAX * 2];
	int n;

	if (util_base64_encode(snonce, SCRAM_SNONCE_RAW, sn, sizeof(sn)) < 0 ||
	    util_base64_encode(s->salt, s->saltlen, salt, sizeof(salt)) < 0)
		return -1;
	n = snprintf(nonce_r, noncecap, "%.*s%s", (int)cf->noncelen, (const char *)cf->nonce, sn);
	if (n < 0 || (size_t)n >= noncecap)
		return -1;
	n = snprintf(out, outcap, "r=%s,s=%s,i=%u", nonce_r, salt, s->iterations);
	if (n < 0 || (size_t)n >= outcap)
		return -1;
	return n;
}

int
scram_check_proof(const struct scram_secrets *s, const uint8_t *authmsg, size_t amlen,
    const uint8_t proof[SCRAM_KEY_LEN], char *final_r, size_t finalcap)
{
	uint8_t sig[SCRAM_KEY_LEN], key[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN];
	size_t i;
	int ok;

	scram_hmac(s->stored_key, sizeof(s->stored_key), authmsg, amlen, sig);
	for (i = 0; i < sizeof(key); i++)
		key[i] = proof[i] ^ sig[i];
	sha256(key, sizeof(key), stored);
	ok = util_ct_equal(stored, s->stored_key, sizeof(stored));
	if (ok) {
		scram_hmac(s->server_key, sizeof(s->server_key), authmsg, amlen, sig);
		if (finalcap < 3 || util_base64_encode(sig, sizeof(sig), final_r + 2, finalcap - 2) < 0)
			ok = 0;
		else
			memcpy(final_r, "v=", 2);
	}
	explicit_bzero(sig, sizeof(sig));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(stored, sizeof(stored));
	return ok;
}
