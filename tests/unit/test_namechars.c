/* test_namechars.c - the login-name policy (auth_username_chars) and the
 * mechanism lists (auth_mechanisms). */
#include <stdint.h>
#include <string.h>

#include "../../common/auth/namechars.h"
#include "../../common/proto/sasl.h"
#include "tap.h"

static enum namechars_verdict
check(const struct namechars *nc, const char *s)
{
	return namechars_check(nc, (const uint8_t *)s, strlen(s));
}

static void
test_default(void)
{
	static const char *const bad[] = { "*)(uid=*", "'; DROP", "a b", "a\r\nb", "a(b", "a)b",
	    "a\\b", "a;b", "a'b", "a\"b", "a*b", "a,b", "a=b", "a%b", "a/b", "d\xc3\xa9mo" };
	struct namechars nc;
	const char *why;
	char longname[300];
	size_t i;
	int all = 1;

	CHECK(namechars_parse(NAMECHARS_DEFAULT, 0, 255, &nc, &why) == 0, "default compiles");
	CHECK(check(&nc, "demo") == NAMECHARS_OK, "plain name");
	CHECK(check(&nc, "First.Last-1_x+tag@Example.COM") == NAMECHARS_OK, "every default class");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		all &= check(&nc, bad[i]) == NAMECHARS_CHARS;
	CHECK(all, "injection characters refused");
	CHECK(namechars_check(&nc, (const uint8_t *)"de\0mo", 5) == NAMECHARS_CHARS, "NUL refused");
	CHECK(namechars_check(&nc, (const uint8_t *)"", 0) == NAMECHARS_LENGTH, "empty refused");
	memset(longname, 'a', sizeof(longname));
	CHECK(namechars_check(&nc, (const uint8_t *)longname, 255) == NAMECHARS_OK, "255 bytes");
	CHECK(namechars_check(&nc, (const uint8_t *)longname, 256) == NAMECHARS_LENGTH, "256 refused");
}

static void
test_specs(void)
{
	struct namechars nc;
	const char *why;

	CHECK(namechars_parse("-a-c", 0, 10, &nc, &why) == 0 && check(&nc, "-abc") == NAMECHARS_OK &&
	    check(&nc, "d") == NAMECHARS_CHARS, "leading '-' is itself, a-c a range");
	CHECK(namechars_parse("a-", 0, 10, &nc, &why) == 0 && check(&nc, "a-") == NAMECHARS_OK &&
	    check(&nc, "b") == NAMECHARS_CHARS, "trailing '-' is itself");
	CHECK(namechars_parse("z-a", 0, 10, &nc, &why) < 0, "reversed range refused");
	CHECK(namechars_parse("", 0, 10, &nc, &why) < 0, "empty set refused");
	CHECK(namechars_parse("a b", 0, 10, &nc, &why) < 0, "blank in the set refused");
	CHECK(namechars_parse("a\xc3\xa9", 0, 10, &nc, &why) < 0, "8-bit in the set refused");
	CHECK(namechars_parse("a-z", 0, 0, &nc, &why) < 0 && namechars_parse("a-z", 0, 256, &nc,
	    &why) < 0, "max out of range refused");
	CHECK(namechars_parse("a-z", 1, 20, &nc, &why) == 0 &&
	    check(&nc, "d\xc3\xa9mo") == NAMECHARS_OK && check(&nc, "d.mo") == NAMECHARS_CHARS,
	    "utf8 allows 8-bit bytes only");
	CHECK(namechars_parse("a-z", 0, 4, &nc, &why) == 0 && check(&nc, "abcd") == NAMECHARS_OK &&
	    check(&nc, "abcde") == NAMECHARS_LENGTH, "max applies");
}

static void
test_mechs(void)
{
	char out[128];
	const char *why;

	CHECK(sasl_mechs_check("PLAIN LOGIN SCRAM-SHA-256", &why) == 0, "default list");
	CHECK(sasl_mechs_check(" plain,scram-sha-256 ", &why) == 0, "commas, blanks, any case");
	CHECK(sasl_mechs_check("PLAIN DIGEST-MD5", &why) < 0, "unknown mechanism refused");
	CHECK(sasl_mechs_check("PLAIN plain", &why) < 0, "twice refused");
	CHECK(sasl_mechs_check(" , ", &why) < 0, "none refused");
	CHECK(sasl_mech_enabled("plain,scram-sha-256", "SCRAM-SHA-256", 13), "enabled");
	CHECK(!sasl_mech_enabled("PLAIN SCRAM-SHA-256", "SCRAM-SHA-2", 11), "no prefix match");
	CHECK(!sasl_mech_enabled("PLAIN", "LOGIN", 5), "not listed");
	CHECK(sasl_mechs_format("plain,scram-sha-256", " AUTH=", "", out, sizeof(out)) > 0 &&
	    strcmp(out, " AUTH=PLAIN AUTH=SCRAM-SHA-256") == 0, "IMAP format, upper-cased");
	CHECK(sasl_mechs_format("PLAIN LOGIN", "", "\r\n", out, sizeof(out)) > 0 &&
	    strcmp(out, "PLAIN\r\nLOGIN\r\n") == 0, "POP3 listing format");
	CHECK(sasl_mechs_format("PLAIN LOGIN", " AUTH=", "", out, 12) < 0, "too small refused");
}

int
main(void)
{
	test_default();
	test_specs();
	test_mechs();
	return tap_done();
}
