/* sasl.c - SASL PLAIN and LOGIN, server side, pure. */
#include "sasl.h"

#include <string.h>
#include <strings.h>

#include "../base/util.h"

void
sasl_clear(struct sasl_server *s)
{
	explicit_bzero(s, sizeof(*s));
}

int
sasl_plain_decode(const uint8_t *msg, size_t len, struct sasl_server *s)
{
	const uint8_t *z1, *z2;
	size_t zl, cl, pl;

	z1 = memchr(msg, '\0', len);
	if (z1 == NULL)
		return -1;
	zl = (size_t)(z1 - msg);
	z2 = memchr(z1 + 1, '\0', len - zl - 1);
	if (z2 == NULL)
		return -1;
	cl = (size_t)(z2 - z1 - 1);
	pl = len - zl - cl - 2;
	if (cl == 0 || pl == 0 || cl > SASL_FIELD_MAX || pl > SASL_PASS_MAX || zl > SASL_FIELD_MAX)
		return -1;
	if (memchr(z2 + 1, '\0', pl) != NULL)
		return -1;
	/* authzid, if given, must name the same identity: no proxy logins. */
	if (zl != 0 && (zl != cl || memcmp(msg, z1 + 1, cl) != 0))
		return -2;
	memcpy(s->user, z1 + 1, cl);
	s->userlen = cl;
	memcpy(s->pass, z2 + 1, pl);
	s->passlen = pl;
	return 0;
}

static long
decode_line(const uint8_t *line, size_t len, uint8_t *out, size_t outcap)
{
	/* RFC 5034 section 4: "=" is an empty initial response. */
	if (len == 1 && line[0] == '=')
		return 0;
	if (len == 0)
		return 0;
	return util_base64_decode(line, len, out, outcap);
}

static void
set_challenge(struct sasl_server *s, const char *text)
{
	util_base64_encode((const uint8_t *)text, strlen(text), s->challenge, sizeof(s->challenge));
}

enum sasl_result
sasl_start(struct sasl_server *s, const char *mech, const uint8_t *ir, size_t irlen)
{
	memset(s, 0, sizeof(*s));
	if (strcasecmp(mech, "PLAIN") == 0)
		s->mech = SASL_MECH_PLAIN;
	else if (strcasecmp(mech, "LOGIN") == 0)
		s->mech = SASL_MECH_LOGIN;
	else
		return SASL_ERR_MECH;
	/* "=" is an empty initial response (RFC 5034 section 4).  Neither
	 * mechanism can use one, so ask for the data as if none was sent. */
	if (ir == NULL || (irlen == 1 && ir[0] == '=')) {
		s->challenge[0] = '\0';
		if (s->mech == SASL_MECH_LOGIN) {
			set_challenge(s, "Username:");
			s->step = 1;
		}
		return SASL_CHALLENGE;
	}
	return sasl_continue(s, ir, irlen);
}

enum sasl_result
sasl_continue(struct sasl_server *s, const uint8_t *line, size_t len)
{
	uint8_t dec[SASL_LINE_MAX];
	long n;
	int rc;

	if (len == 1 && line[0] == '*')
		return SASL_ERR_ABORTED;
	if (len > SASL_LINE_MAX)
		return SASL_ERR_SYNTAX;
	n = decode_line(line, len, dec, sizeof(dec));
	if (n < 0)
		return SASL_ERR_SYNTAX;
	switch (s->mech) {
	case SASL_MECH_PLAIN:
		rc = sasl_plain_decode(dec, (size_t)n, s);
		explicit_bzero(dec, sizeof(dec));
		return rc == -2 ? SASL_ERR_AUTHZ : rc < 0 ? SASL_ERR_SYNTAX : SASL_DONE;
	case SASL_MECH_LOGIN:
		/* step 0: initial response is the user name; 1: user; 2: password */
		if (s->step <= 1) {
			if (n == 0 || n > SASL_FIELD_MAX || memchr(dec, '\0', (size_t)n))
				return SASL_ERR_SYNTAX;
			memcpy(s->user, dec, (size_t)n);
			s->userlen = (size_t)n;
			s->step = 2;
			set_challenge(s, "Password:");
			return SASL_CHALLENGE;
		}
		if (n == 0 || n > SASL_PASS_MAX || memchr(dec, '\0', (size_t)n)) {
			explicit_bzero(dec, sizeof(dec));
			return SASL_ERR_SYNTAX;
		}
		memcpy(s->pass, dec, (size_t)n);
		s->passlen = (size_t)n;
		explicit_bzero(dec, sizeof(dec));
		return SASL_DONE;
	case SASL_MECH_NONE:
		break;
	}
	return SASL_ERR_MECH;
}
