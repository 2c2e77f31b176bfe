/* fuzz_scram.c - the SCRAM client-first and client-final parsers
 * (common/auth/scram.h), as authd runs them on decoded SASL data, and the
 * login-name check the user name then goes through.
 *
 * The input up to the first '\n' is a client-first-message, the rest a
 * client-final-message (no '\n': the whole input is tried as both).  An
 * accepted message points inside the input, and its fields rebuilt into a
 * plain message of the same kind parse to the same fields; server-first
 * made from an accepted client-first carries its nonce; the proof check
 * never accepts a proof for keys no password made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/auth/namechars.h"
#include "../common/auth/scram.h"
#include "../common/base/util.h"
#include "fuzz.h"

static int
inside(const uint8_t *p, size_t n, const uint8_t *msg, size_t len)
{
	return p >= msg && n <= len && (size_t)(p - msg) <= len - n;
}

/* user escaped as a saslname ("=2C", "=3D") into out; its length. */
static size_t
escape(const uint8_t *user, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (user[i] == ',' || user[i] == '=') {
			memcpy(out + o, user[i] == ',' ? "=2C" : "=3D", 3);
			o += 3;
		} else {
			out[o++] = (char)user[i];
		}
	}
	return o;
}

static void
first(const uint8_t *msg, size_t len)
{
	static struct scram_client_first r, t;
	static char again[4 * SCRAM_MSG_MAX], sf[512], nonce[SCRAM_NONCE_MAX + 32];
	static const uint8_t snonce[SCRAM_SNONCE_RAW] = { 1, 2, 3 };
	struct scram_secrets sec = { .iterations = 4096, .saltlen = 16 };
	struct namechars nc;
	const char *why;
	size_t i, n;
	int rc = scram_client_first_parse(msg, len, &r);

	CHECK(rc == SCRAM_OK || rc == SCRAM_MALFORMED || rc == SCRAM_CBIND || rc == SCRAM_AUTHZ ||
	    rc == SCRAM_MEXT);
	if (rc != SCRAM_OK) {
		CHECK(r.userlen == 0 && r.nonce == NULL);
		return;
	}
	CHECK(r.cbind == 'n' || r.cbind == 'y');
	CHECK(r.gs2len >= 3 && r.gs2len < len && msg[r.gs2len - 1] == ',');
	CHECK(r.bare == msg + r.gs2len && r.barelen == len - r.gs2len);
	CHECK(r.userlen >= 1 && r.userlen <= SCRAM_USER_MAX && r.user[r.userlen] == '\0');
	CHECK(memchr(r.user, '\0', r.userlen) == NULL);
	CHECK(inside(r.nonce, r.noncelen, msg, len));
	CHECK(r.noncelen >= 1 && r.noncelen <= SCRAM_NONCE_MAX);
	for (i = 0; i < r.noncelen; i++)
		CHECK(r.nonce[i] >= 0x21 && r.nonce[i] <= 0x7e && r.nonce[i] != ',');
	/* the same user and nonce in a message of our own making */
	n = (size_t)snprintf(again, sizeof(again), "%c,,n=", r.cbind);
	n += escape(r.user, r.userlen, again + n);
	n += (size_t)snprintf(again + n, sizeof(again) - n, ",r=%.*s", (int)r.noncelen,
	    (const char *)r.nonce);
	CHECK(scram_client_first_parse((const uint8_t *)again, n, &t) == SCRAM_OK);
	CHECK(t.userlen == r.userlen && memcmp(t.user, r.user, r.userlen) == 0);
	CHECK(t.noncelen == r.noncelen && memcmp(t.nonce, r.nonce, r.noncelen) == 0);
	/* server-first carries the client's nonce first */
	CHECK(scram_server_first(&r, snonce, &sec, sf, sizeof(sf), nonce, sizeof(nonce)) > 0);
	CHECK(strncmp(sf, "r=", 2) == 0 && memcmp(sf + 2, r.nonce, r.noncelen) == 0);
	CHECK(strlen(nonce) == r.noncelen + 24 && strstr(sf, ",i=4096") != NULL);
	/* a name the default set takes has only its bytes */
	CHECK(namechars_parse(NAMECHARS_DEFAULT, 0, 255, &nc, &why) == 0);
	if (namechars_check(&nc, r.user, r.userlen) == NAMECHARS_OK)
		CHECK(strspn((const char *)r.user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._@+-") == r.userlen);
}

static void
final(const uint8_t *msg, size_t len)
{
	static struct scram_client_final r, t;
	static char again[4 * SCRAM_MSG_MAX], proof[64], v[64];
	struct scram_secrets sec;
	size_t n;

	if (scram_client_final_parse(msg, len, &r) != SCRAM_OK) {
		CHECK(r.nonce == NULL && r.without_proof == 0);
		return;
	}
	CHECK(r.without_proof < len && msg[r.without_proof] == ',');
	CHECK(len - r.without_proof > 3 && memcmp(msg + r.without_proof, ",p=", 3) == 0);
	CHECK(inside(r.cbind, r.cbindlen, msg, r.without_proof) && r.cbind == msg + 2);
	CHECK(inside(r.nonce, r.noncelen, msg, r.without_proof) && r.noncelen >= 1);
	CHECK(util_base64_encode(r.proof, sizeof(r.proof), proof, sizeof(proof)) == 44);
	n = (size_t)snprintf(again, sizeof(again), "c=%.*s,r=%.*s,p=%s", (int)r.cbindlen,
	    (const char *)r.cbind, (int)r.noncelen, (const char *)r.nonce, proof);
	CHECK(scram_client_final_parse((const uint8_t *)again, n, &t) == SCRAM_OK);
	CHECK(memcmp(t.proof, r.proof, sizeof(r.proof)) == 0 && t.noncelen == r.noncelen);
	CHECK(t.without_proof == n - 47);
	/* keys no password made (all zero StoredKey: no preimage) refuse it */
	memset(&sec, 0, sizeof(sec));
	CHECK(scram_check_proof(&sec, msg, r.without_proof, r.proof, v, sizeof(v)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	uint8_t *a, *b;
	size_t al = nl ? (size_t)(nl - data) : size, bl = nl ? size - al - 1 : size;

	/* exact-size copies, so ASan sees any overread */
	a = malloc(al ? al : 1);
	b = malloc(bl ? bl : 1);
	CHECK(a != NULL && b != NULL);
	memcpy(a, data, al);
	memcpy(b, nl ? nl + 1 : data, bl);
	first(a, al);
	final(b, bl);
	free(a);
	free(b);
	return 0;
}
