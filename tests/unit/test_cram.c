/* test_cram.c - CRAM-MD5: the RFC 2195 example from the kept secret, the
 * parser of the client's response. */
#include <stdint.h>
#include <string.h>

#include "../../common/auth/cram.h"
#include "tap.h"

#define CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"

static int
parse(const char *s, const uint8_t **u, size_t *ul, uint8_t d[CRAM_DIGEST_LEN])
{
	return cram_response_parse((const uint8_t *)s, strlen(s), u, ul, d);
}

int
main(void)
{
	struct cram_secret s, t;
	uint8_t d[CRAM_DIGEST_LEN];
	const uint8_t *u;
	size_t ul;
	char longpass[100];

	cram_make_secret((const uint8_t *)"tanstaaftanstaaf", 16, &s);
	CHECK(parse("tim b913a602c7eda7a495b4e6e7334d3890", &u, &ul, d) == 0 && ul == 3 &&
	    memcmp(u, "tim", 3) == 0, "RFC 2195 response parses");
	CHECK(cram_check(&s, (const uint8_t *)CHALLENGE, strlen(CHALLENGE), d) == 1,
	    "RFC 2195 digest accepted");
	CHECK(cram_check(&s, (const uint8_t *)CHALLENGE, strlen(CHALLENGE) - 1, d) == 0,
	    "another challenge refused");
	cram_make_secret((const uint8_t *)"tanstaaftanstaaF", 16, &t);
	CHECK(cram_check(&t, (const uint8_t *)CHALLENGE, strlen(CHALLENGE), d) == 0,
	    "another password refused");
	CHECK(parse("tim B913A602C7EDA7A495B4E6E7334D3890", &u, &ul, d) == 0 &&
	    cram_check(&s, (const uint8_t *)CHALLENGE, strlen(CHALLENGE), d) == 1,
	    "upper-case hex too");
	CHECK(parse("a b c b913a602c7eda7a495b4e6e7334d3890", &u, &ul, d) == 0 && ul == 5,
	    "the name is all before the last space");
	CHECK(parse(" b913a602c7eda7a495b4e6e7334d3890", &u, &ul, d) < 0, "empty name refused");
	CHECK(parse("timb913a602c7eda7a495b4e6e7334d3890", &u, &ul, d) < 0, "no space refused");
	CHECK(parse("tim b913a602c7eda7a495b4e6e7334d389", &u, &ul, d) < 0, "31 digits refused");
	CHECK(parse("tim b913a602c7eda7a495b4e6e7334d389g", &u, &ul, d) < 0, "non-hex refused");
	CHECK(cram_response_parse((const uint8_t *)"t\0m b913a602c7eda7a495b4e6e7334d3890", 36, &u,
	    &ul, d) < 0, "NUL in the name refused");
	/* RFC 2104: a key over 64 bytes is hashed first; both ends agree */
	memset(longpass, 'p', sizeof(longpass));
	cram_make_secret((const uint8_t *)longpass, sizeof(longpass), &t);
	CHECK(memcmp(&t, &s, sizeof(s)) != 0, "a long key makes its own secret");
	return tap_done();
}
