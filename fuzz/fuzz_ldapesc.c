/* fuzz_ldapesc.c - RFC 4515 filter values and RFC 4514 DN values as a
 * round trip: any bytes escape to text with no character left that
 * would change a filter's or a DN's structure, and unescape to the same
 * bytes; the unescapers never write past their buffer, and what they
 * accept escapes again to text that unescapes to the same bytes. */
#include <string.h>

#include "../common/auth/ldapesc.h"
#include "fuzz.h"

static char esc[3 * 1024 + 1];
static uint8_t back[1024], back2[1024];

static void
round_trip(const uint8_t *v, size_t n, int dn)
{
	long e = dn ? ldapesc_dn(v, n, esc, sizeof(esc)) : ldapesc_filter(v, n, esc, sizeof(esc));
	long u;
	size_t i;

	CHECK(e >= 0 && (size_t)e == strlen(esc) && (size_t)e <= 3 * n);
	for (i = 0; i < (size_t)e; i++) {
		CHECK(esc[i] > 0x20 && esc[i] < 0x7f);
		CHECK(strchr(dn ? "\"+,;<>=" : "()*", esc[i]) == NULL);
		if (esc[i] == '\\')	/* always \XX */
			CHECK(i + 2 < (size_t)e);
	}
	if (dn && e > 0)
		CHECK(esc[0] != '#' && esc[e - 1] != ' ');
	u = dn ? ldapesc_dn_unescape(esc, (size_t)e, back, sizeof(back)) :
	    ldapesc_filter_unescape(esc, (size_t)e, back, sizeof(back));
	CHECK(u == (long)n && memcmp(back, v, n) == 0);
}

static void
unescape_any(const char *s, size_t n, int dn)
{
	long u = dn ? ldapesc_dn_unescape(s, n, back2, sizeof(back2)) :
	    ldapesc_filter_unescape(s, n, back2, sizeof(back2));

	CHECK(u <= (long)sizeof(back2) && u <= (long)n);
	if (u >= 0)
		round_trip(back2, (size_t)u, dn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int dn;

	if (size == 0 || size > 1025)
		return 0;
	dn = data[0] & 1;
	round_trip(data + 1, size - 1, dn);
	unescape_any((const char *)data + 1, size - 1, dn);
	return 0;
}
