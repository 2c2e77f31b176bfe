/* fuzz_sasl.c - SASL PLAIN/LOGIN exchanges as authd runs them.
 *
 * The input is split on '\n' into lines.  A line starts an exchange: the
 * mechanism name, optionally followed by a space and an initial response
 * (as in "AUTH PLAIN dGVzdA=="); the following lines are the client's
 * responses, fed while the server answers with a challenge.  When an
 * exchange ends the next line starts a new one.  The whole input is also
 * given to sasl_plain_decode() as a decoded PLAIN message, and its first
 * line as an auth_mechanisms list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto/sasl.h"
#include "../common/base/util.h"
#include "fuzz.h"



static void
check_creds(const struct sasl_server *s)
{
	CHECK(s->userlen >= 1 && s->userlen <= SASL_FIELD_MAX);
	CHECK(s->passlen >= 1 && s->passlen <= SASL_PASS_MAX);
	CHECK(memchr(s->user, '\0', s->userlen) == NULL);
	CHECK(memchr(s->pass, '\0', s->passlen) == NULL);
}

/* A decoded PLAIN message: if accepted, its fields are the parts. */
static void
plain_direct(const uint8_t *msg, size_t len)
{
	struct sasl_server s;
	uint8_t again[2 + SASL_FIELD_MAX + SASL_PASS_MAX];
	struct sasl_server t;

	memset(&s, 0, sizeof(s));
	if (sasl_plain_decode(msg, len, &s) < 0)
		return;
	check_creds(&s);
	/* "" NUL user NUL pass decodes to the same credentials */
	again[0] = '\0';
	memcpy(again + 1, s.user, s.userlen);
	again[1 + s.userlen] = '\0';
	memcpy(again + 2 + s.userlen, s.pass, s.passlen);
	memset(&t, 0, sizeof(t));
	CHECK(sasl_plain_decode(again, 2 + s.userlen + s.passlen, &t) == 0);
	CHECK(t.userlen == s.userlen && memcmp(t.user, s.user, s.userlen) == 0);
	CHECK(t.passlen == s.passlen && memcmp(t.pass, s.pass, s.passlen) == 0);
	/* the message holds the user and the password at its end */
	CHECK(len >= s.userlen + s.passlen + 2);
	CHECK(memcmp(msg + len - s.passlen, s.pass, s.passlen) == 0);
	sasl_clear(&s);
	sasl_clear(&t);
}

static void
check_result(const struct sasl_server *s, enum sasl_result r)
{
	char text[64];
	long n;

	CHECK(r == SASL_DONE || r == SASL_CHALLENGE || r == SASL_ERR_SYNTAX ||
	    r == SASL_ERR_ABORTED || r == SASL_ERR_MECH || r == SASL_ERR_AUTHZ);
	CHECK(r != SASL_ERR_AUTHZ || s->mech == SASL_MECH_PLAIN);
	CHECK(s->step >= 0 && s->step <= 2);
	CHECK(s->userlen <= SASL_FIELD_MAX && s->passlen <= SASL_PASS_MAX);
	if (r == SASL_DONE) {
		CHECK(s->mech == SASL_MECH_PLAIN || s->mech == SASL_MECH_LOGIN);
		check_creds(s);
	}
	if (r == SASL_CHALLENGE) {
		size_t cl = strnlen(s->challenge, sizeof(s->challenge));
		CHECK(cl < sizeof(s->challenge));
		if (s->mech == SASL_MECH_PLAIN) {
			CHECK(cl == 0);
		} else {
			CHECK(s->mech == SASL_MECH_LOGIN);
			n = util_base64_decode((const uint8_t *)s->challenge, cl,
			    (uint8_t *)text, sizeof(text) - 1);
			CHECK(n > 0);
			text[n] = '\0';
			CHECK(strcmp(text, s->step == 2 ? "Password:" : "Username:") == 0);
		}
	}
}

/* A list that passes sasl_mechs_check names known mechanisms, each
 * enabled by the list, and formats to exactly those names. */
static void
mech_list(const uint8_t *data, size_t size)
{
	char list[129], out[512], *tok, *save = NULL;
	const char *why;
	size_t n = size < 128 ? size : 128;
	long len;

	memcpy(list, data, n);
	list[n] = '\0';
	if (strlen(list) != n || memchr(list, '\n', n) != NULL || sasl_mechs_check(list, &why) < 0)
		return;
	len = sasl_mechs_format(list, "", " ", out, sizeof(out));
	CHECK(len > 0 && (size_t)len == strlen(out));
	for (tok = strtok_r(out, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		CHECK(strcmp(tok, "PLAIN") == 0 || strcmp(tok, "LOGIN") == 0 ||
		    strcmp(tok, "SCRAM-SHA-256") == 0 || strcmp(tok, "CRAM-MD5") == 0);
		CHECK(sasl_mech_enabled(list, tok, strlen(tok)));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl_server s;
	size_t pos = 0;
	int exchanges = 0;

	plain_direct(data, size);
	mech_list(data, size);

	while (pos < size && exchanges < 64) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t ll = nl ? (size_t)(nl - (data + pos)) : size - pos;
		const uint8_t *sp = memchr(data + pos, ' ', ll);
		size_t ml = sp ? (size_t)(sp - (data + pos)) : ll;
		char *mech = malloc(ml + 1);
		enum sasl_result r;

		CHECK(mech != NULL);
		memcpy(mech, data + pos, ml);
		mech[ml] = '\0';
		if (sp != NULL) {
			size_t il = ll - ml - 1;
			uint8_t *ir = malloc(il ? il : 1);
			CHECK(ir != NULL);
			memcpy(ir, sp + 1, il);
			r = sasl_start(&s, mech, ir, il);
			free(ir);
		} else {
			r = sasl_start(&s, mech, NULL, 0);
		}
		free(mech);
		check_result(&s, r);
		pos += ll + (nl ? 1 : 0);
		exchanges++;
		while (r == SASL_CHALLENGE && pos < size) {
			/* an exact-size copy of the line, so ASan sees overreads */
			uint8_t *line;
			nl = memchr(data + pos, '\n', size - pos);
			ll = nl ? (size_t)(nl - (data + pos)) : size - pos;
			line = malloc(ll ? ll : 1);
			CHECK(line != NULL);
			memcpy(line, data + pos, ll);
			r = sasl_continue(&s, line, ll);
			free(line);
			check_result(&s, r);
			pos += ll + (nl ? 1 : 0);
		}
		sasl_clear(&s);
	}
	return 0;
}
