/* sasl.c - SASL PLAIN and LOGIN, server side, pure. */
#include "sasl.h"

#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "../base/util.h"

#define SEPS " \t,"

/* The next name of list from *p: its start and length, 0 at the end. */
static size_t
next_mech(const char **p, const char **name_r)
{
	size_t n;

	*p += strspn(*p, SEPS);
	n = strcspn(*p, SEPS);
	*name_r = *p;
	*p += n;
	return n;
}

/* Whether name (n bytes) is in list, any case. */
static int
in_list(const char *list, const char *name, size_t n)
{
	const char *p = list, *m;
	size_t l;

	while ((l = next_mech(&p, &m)) > 0)
		if (l == n && strncasecmp(m, name, n) == 0)
			return 1;
	return 0;
}

int
sasl_mechs_check(const char *list, const char **why_r)
{
	const char *p = list, *m;
	size_t n, count = 0;

	while ((n = next_mech(&p, &m)) > 0) {
		if (!in_list(SASL_MECHS_KNOWN, m, n)) {
			*why_r = "a mechanism authd does not have (PLAIN, LOGIN, SCRAM-SHA-256, CRAM-MD5)";
			return -1;
		}
		if (in_list(p, m, n)) {
			*why_r = "a mechanism named twice";
			return -1;
		}
		count++;
	}
	if (count == 0) {
		*why_r = "no mechanism";
		return -1;
	}
	return 0;
}

int
sasl_mech_enabled(const char *list, const char *mech, size_t mechlen)
{
	return mechlen > 0 && in_list(list, mech, mechlen);
}

long
sasl_mechs_format(const char *list, const char *before, const char *after, char *out,
    size_t outlen)
{
	const char *p = list, *m;
	size_t n, used = 0, i;
	int w;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	while ((n = next_mech(&p, &m)) > 0) {
		w = snprintf(out + used, outlen - used, "%s%.*s%s", before, (int)n, m, after);
		if (w < 0 || (size_t)w >= outlen - used)
			return -1;
		for (i = 0; i < n; i++)	/* the name as the RFCs spell it */
			if (out[used + strlen(before) + i] >= 'a' && out[used + strlen(before) + i] <= 'z')
				out[used + strlen(before) + i] -= 32;
		used += (size_t)w;
	}
	return (long)used;
}

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
