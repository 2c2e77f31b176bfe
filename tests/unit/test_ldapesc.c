/* test_ldapesc.c - RFC 4515 filter values and RFC 4514 DN values: the
 * examples of RFC 4515 4 and RFC 4514 4, injections, the reverse. */
#include <string.h>

#include "../../common/auth/ldapesc.h"
#include "tap.h"

static const char *
f(const char *v)
{
	static char out[256];

	return ldapesc_filter((const uint8_t *)v, strlen(v), out, sizeof(out)) < 0 ? "(too long)" : out;
}

static const char *
d(const char *v)
{
	static char out[256];

	return ldapesc_dn((const uint8_t *)v, strlen(v), out, sizeof(out)) < 0 ? "(too long)" : out;
}

int
main(void)
{
	uint8_t b[64];
	char small[4];

	CHECK(strcmp(f("Parens R Us (for all your parenthetical needs)"),
	    "Parens\\20R\\20Us\\20\\28for\\20all\\20your\\20parenthetical\\20needs\\29") == 0,
	    "filter: RFC 4515 4's parentheses (and blanks)");
	CHECK(strcmp(f("*)(uid=*"), "\\2A\\29\\28uid=\\2A") == 0, "filter: the classic injection");
	CHECK(strcmp(f("C:\\MyFile"), "C:\\5CMyFile") == 0, "filter: a backslash");
	CHECK(ldapesc_filter((const uint8_t *)"a\0b", 3, (char *)b, sizeof(b)) == 5 &&
	    strcmp((char *)b, "a\\00b") == 0, "filter: a NUL");
	CHECK(strcmp(d("Sam, Jr."), "Sam\\2C\\20Jr.") == 0, "dn: a comma");
	CHECK(strcmp(d("#x y "), "\\23x\\20y\\20") == 0, "dn: a leading #, blanks");
	CHECK(strcmp(d("a+b=c;<>\"\\"), "a\\2Bb\\3Dc\\3B\\3C\\3E\\22\\5C") == 0, "dn: every special");
	CHECK(strcmp(d("alice@example.com"), "alice@example.com") == 0, "dn: a plain name unchanged");
	CHECK(ldapesc_filter((const uint8_t *)"(((", 3, small, sizeof(small)) < 0,
	    "filter: refused when it does not fit");
	CHECK(ldapesc_filter_unescape("\\2a\\28x", 7, b, sizeof(b)) == 3 && memcmp(b, "*(x", 3) == 0,
	    "filter unescape: hex pairs");
	CHECK(ldapesc_filter_unescape("*", 1, b, sizeof(b)) < 0 &&
	    ldapesc_filter_unescape("\\2", 2, b, sizeof(b)) < 0, "filter unescape: a raw * or a short escape");
	CHECK(ldapesc_dn_unescape("Sam\\, Jr.", 9, b, sizeof(b)) == 8 && memcmp(b, "Sam, Jr.", 8) == 0,
	    "dn unescape: \\ and a special");
	CHECK(ldapesc_dn_unescape("a,b", 3, b, sizeof(b)) < 0, "dn unescape: a raw comma refused");
	return tap_done();
}
