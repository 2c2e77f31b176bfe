/* fuzz_userimport.c - userimport_parse_line(), the Courier userdb, Dovecot
 * passwd-file and CSV line parsers of `posternctl user import`.
 *
 * Byte 0 picks the format, the rest is one line.  An entry has a name of
 * 1..USERDB_NAME_MAX bytes without NUL, a scheme, and a hash of crypt(5)
 * characters (the password itself only for {PLAIN}); uid and gid are never
 * root or -1, a mail root is absolute; a refusal says why; the same line
 * parses the same way again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mail/userimport.h"
#include "fuzz.h"

static int
crypt_chars(const char *h)
{
	for (; *h; h++)
		if (!strchr("./$,=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", *h))
			return 0;
	return 1;
}

static void
check_entry(const struct userimport_entry *e)
{
	size_t nl = strnlen(e->name, sizeof(e->name));

	CHECK(nl > 0 && nl < sizeof(e->name));
	CHECK(strnlen(e->hash, sizeof(e->hash)) > 0 && strnlen(e->hash, sizeof(e->hash)) < sizeof(e->hash));
	CHECK(e->scheme != NULL);
	CHECK(e->strength == USERIMPORT_PLAIN || crypt_chars(e->hash));
	CHECK(e->strength != USERIMPORT_PLAIN || strcmp(e->scheme, "plain") == 0);
	CHECK(e->uid != 0xffffffffu && e->gid != 0xffffffffu);
	CHECK(strnlen(e->mailroot, sizeof(e->mailroot)) < sizeof(e->mailroot));
	CHECK(e->mailroot[0] == '\0' || e->mailroot[0] == '/');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct userimport_entry a, b;
	const char *why = NULL, *why2 = NULL;
	enum userimport_format f;
	int r, r2;

	if (size < 1)
		return 0;
	f = (enum userimport_format)(data[0] % 3);
	r = userimport_parse_line(f, (const char *)data + 1, size - 1, &a, &why);
	CHECK(r >= -1 && r <= 1);
	CHECK(r != -1 || why != NULL);
	if (r == 1)
		check_entry(&a);
	r2 = userimport_parse_line(f, (const char *)data + 1, size - 1, &b, &why2);
	CHECK(r2 == r);
	CHECK(r != 1 || memcmp(&a, &b, sizeof(a)) == 0);
	return 0;
}
