/* test_sasl.c - SASL PLAIN (RFC 4616) and LOGIN, server side. */
#include <stdint.h>
#include <string.h>

#include "../../common/proto/sasl.h"
#include "../../common/base/util.h"
#include "tap.h"

static struct sasl_server s;

/* Base64 of raw bytes into a static buffer. */
static const uint8_t *
b64(const void *raw, size_t len, size_t *outlen)
{
	static char text[2048];
	long n = util_base64_encode(raw, len, text, sizeof(text));

	*outlen = n < 0 ? 0 : (size_t)n;
	return (const uint8_t *)text;
}

static enum sasl_result
start_raw(const char *mech, const void *raw, size_t len)
{
	size_t n;
	const uint8_t *t = b64(raw, len, &n);

	return sasl_start(&s, mech, t, n);
}

static enum sasl_result
cont_raw(const void *raw, size_t len)
{
	size_t n;
	const uint8_t *t = b64(raw, len, &n);

	return sasl_continue(&s, t, n);
}

static enum sasl_result
cont_text(const char *text)
{
	return sasl_continue(&s, (const uint8_t *)text, strlen(text));
}

static int
creds(const char *user, const char *pass)
{
	return s.userlen == strlen(user) && !memcmp(s.user, user, s.userlen) &&
	    s.passlen == strlen(pass) && !memcmp(s.pass, pass, s.passlen);
}

#define PLAIN(lit) start_raw("PLAIN", lit, sizeof(lit) - 1)

static void
test_plain(void)
{
	CHECK(PLAIN("\0demo@example.org\0secret") == SASL_DONE && creds("demo@example.org", "secret"),
	    "PLAIN without authzid");
	CHECK(PLAIN("demo\0demo\0secret") == SASL_DONE && creds("demo", "secret"),
	    "PLAIN with authzid equal to authcid");
	CHECK(PLAIN("admin\0demo\0secret") == SASL_ERR_AUTHZ, "PLAIN with different authzid refused");
	CHECK(PLAIN("demo\0demox\0secret") == SASL_ERR_AUTHZ, "PLAIN authzid prefix of authcid refused");
	CHECK(PLAIN("demo") == SASL_ERR_SYNTAX, "PLAIN without NULs refused");
	CHECK(PLAIN("\0demo") == SASL_ERR_SYNTAX, "PLAIN with one NUL refused");
	CHECK(PLAIN("\0demo\0") == SASL_ERR_SYNTAX, "PLAIN empty password refused");
	CHECK(PLAIN("\0\0secret") == SASL_ERR_SYNTAX, "PLAIN empty authcid refused");
	CHECK(PLAIN("\0demo\0sec\0ret") == SASL_ERR_SYNTAX, "PLAIN extra NUL refused");
	CHECK(PLAIN("\0demo\0pass with spaces") == SASL_DONE && creds("demo", "pass with spaces"),
	    "PLAIN password with spaces");
	CHECK(start_raw("plain", "\0a\0b", 4) == SASL_DONE && creds("a", "b"), "mechanism is case-insensitive");
	CHECK(sasl_start(&s, "PLAIN", (const uint8_t *)"AGRlbW8Ac2VjcmV0", 16) == SASL_DONE &&
	    creds("demo", "secret"), "PLAIN literal base64 initial response");
}

static void
test_plain_limits(void)
{
	uint8_t m[1100];

	memset(m, 'u', sizeof(m));
	m[0] = '\0';
	m[1 + SASL_FIELD_MAX] = '\0';
	CHECK(start_raw("PLAIN", m, 1 + SASL_FIELD_MAX + 1 + 3) == SASL_DONE &&
	    s.userlen == SASL_FIELD_MAX, "PLAIN authcid of SASL_FIELD_MAX ok");
	m[1 + SASL_FIELD_MAX] = 'u';
	m[1 + SASL_FIELD_MAX + 1] = '\0';
	CHECK(start_raw("PLAIN", m, 1 + SASL_FIELD_MAX + 2 + 3) == SASL_ERR_SYNTAX,
	    "PLAIN authcid over SASL_FIELD_MAX refused");
	memset(m, 'p', sizeof(m));
	memcpy(m, "\0u\0", 3);
	CHECK(start_raw("PLAIN", m, 3 + SASL_PASS_MAX) == SASL_DONE && s.passlen == SASL_PASS_MAX,
	    "PLAIN password of SASL_PASS_MAX ok");
	CHECK(start_raw("PLAIN", m, 3 + SASL_PASS_MAX + 1) == SASL_ERR_SYNTAX,
	    "PLAIN password over SASL_PASS_MAX refused");
	memset(m, 'A', sizeof(m));
	CHECK(sasl_start(&s, "PLAIN", m, SASL_LINE_MAX + 4) == SASL_ERR_SYNTAX, "line over SASL_LINE_MAX refused");
	CHECK(sasl_plain_decode((const uint8_t *)"\0x\0y", 4, &s) == 0 && creds("x", "y"), "plain_decode direct");
	CHECK(sasl_plain_decode((const uint8_t *)"", 0, &s) == -1, "plain_decode empty");
}

static void
test_plain_steps(void)
{
	CHECK(sasl_start(&s, "PLAIN", NULL, 0) == SASL_CHALLENGE && s.challenge[0] == '\0',
	    "PLAIN without initial response: empty challenge");
	CHECK(cont_raw("\0demo\0secret", 12) == SASL_DONE && creds("demo", "secret"), "PLAIN continue");
	CHECK(sasl_start(&s, "PLAIN", (const uint8_t *)"=", 1) == SASL_CHALLENGE && s.challenge[0] == '\0',
	    "PLAIN \"=\" (empty initial response) asks for the message");
	CHECK(cont_raw("\0demo\0secret", 12) == SASL_DONE && creds("demo", "secret"),
	    "PLAIN continue after \"=\"");
	sasl_start(&s, "PLAIN", NULL, 0);
	CHECK(cont_text("*") == SASL_ERR_ABORTED, "PLAIN \"*\" aborts");
	sasl_start(&s, "PLAIN", NULL, 0);
	CHECK(cont_text("AGRlbW8Ac2VjcmV0!") == SASL_ERR_SYNTAX, "bad base64 length is SYNTAX");
	sasl_start(&s, "PLAIN", NULL, 0);
	CHECK(cont_text("AGRlbW8Ac2Vjcm!0") == SASL_ERR_SYNTAX, "bad base64 char is SYNTAX");
	sasl_start(&s, "PLAIN", NULL, 0);
	CHECK(cont_text("=") == SASL_ERR_SYNTAX, "PLAIN empty response refused");
	CHECK(sasl_start(&s, "PLAIN", (const uint8_t *)"%%%%", 4) == SASL_ERR_SYNTAX,
	    "bad base64 initial response is SYNTAX");
}

static void
test_login(void)
{
	CHECK(sasl_start(&s, "LOGIN", NULL, 0) == SASL_CHALLENGE && !strcmp(s.challenge, "VXNlcm5hbWU6"),
	    "LOGIN asks \"Username:\"");
	CHECK(cont_raw("demo", 4) == SASL_CHALLENGE && !strcmp(s.challenge, "UGFzc3dvcmQ6"),
	    "LOGIN then asks \"Password:\"");
	CHECK(cont_raw("secret", 6) == SASL_DONE && creds("demo", "secret"), "LOGIN done");

	CHECK(start_raw("login", "demo", 4) == SASL_CHALLENGE && !strcmp(s.challenge, "UGFzc3dvcmQ6"),
	    "LOGIN initial response is the user name");
	CHECK(cont_raw("p w", 3) == SASL_DONE && creds("demo", "p w"), "LOGIN with initial response done");

	CHECK(sasl_start(&s, "LOGIN", (const uint8_t *)"=", 1) == SASL_CHALLENGE &&
	    !strcmp(s.challenge, "VXNlcm5hbWU6"), "LOGIN \"=\" asks \"Username:\"");

	sasl_start(&s, "LOGIN", NULL, 0);
	CHECK(cont_text("*") == SASL_ERR_ABORTED, "LOGIN \"*\" aborts at user");
	sasl_start(&s, "LOGIN", NULL, 0);
	cont_raw("demo", 4);
	CHECK(cont_text("*") == SASL_ERR_ABORTED, "LOGIN \"*\" aborts at password");
	sasl_start(&s, "LOGIN", NULL, 0);
	CHECK(cont_text("ZGVtbw=") == SASL_ERR_SYNTAX, "LOGIN bad base64 is SYNTAX");
	sasl_start(&s, "LOGIN", NULL, 0);
	CHECK(cont_text("=") == SASL_ERR_SYNTAX, "LOGIN empty user refused");
	sasl_start(&s, "LOGIN", NULL, 0);
	CHECK(cont_raw("de\0mo", 5) == SASL_ERR_SYNTAX, "LOGIN NUL in user refused");
	sasl_start(&s, "LOGIN", NULL, 0);
	cont_raw("demo", 4);
	CHECK(cont_text("") == SASL_ERR_SYNTAX, "LOGIN empty password refused");
	sasl_start(&s, "LOGIN", NULL, 0);
	cont_raw("demo", 4);
	CHECK(cont_raw("se\0cret", 7) == SASL_ERR_SYNTAX, "LOGIN NUL in password refused");
}

static void
test_mech_and_clear(void)
{
	size_t i;
	int zero = 1;

	CHECK(sasl_start(&s, "CRAM-MD5", NULL, 0) == SASL_ERR_MECH, "unknown mechanism");
	CHECK(sasl_start(&s, "", NULL, 0) == SASL_ERR_MECH, "empty mechanism");
	CHECK(sasl_start(&s, "PLAINX", NULL, 0) == SASL_ERR_MECH, "mechanism prefix match refused");
	CHECK(cont_raw("\0a\0b", 4) == SASL_ERR_MECH, "continue without a mechanism refused");
	PLAIN("\0demo\0secret");
	sasl_clear(&s);
	for (i = 0; i < sizeof(s.pass); i++)
		zero &= s.pass[i] == 0;
	CHECK(zero && s.passlen == 0 && s.mech == SASL_MECH_NONE, "clear wipes the password");
	CHECK(cont_raw("\0a\0b", 4) == SASL_ERR_MECH, "continue after clear refused");
}

int
main(void)
{
	test_plain();
	test_plain_limits();
	test_plain_steps();
	test_login();
	test_mech_and_clear();
	return tap_done();
}
