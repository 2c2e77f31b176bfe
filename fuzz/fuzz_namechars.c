/* fuzz_namechars - the login-name policy (common/auth/namechars.h): the
 * set an operator writes (auth_username_chars) and the names clients send.
 *
 * Input: one byte of flags (bit 0: auth_username_utf8; the rest picks
 * auth_username_max 1..128), a spec up to the first NUL, then the name.
 * Properties:
 * - a spec that compiles allows no control byte, no NUL and nothing above
 *   0x7f unless utf8 is on; every byte it names is allowed (a '-' only
 *   where it stands for itself, not as a range's dash);
 * - the verdict on the name is exactly "every byte in the map and
 *   1 <= length <= max", as a byte loop over the map says;
 * - the default set compiles and refuses '*', '(', ')', '\'', ';', ' ',
 *   CR and LF (the LDAP and SQL metacharacters). */
#include <string.h>

#include "../common/auth/namechars.h"
#include "fuzz.h"

static int
allowed(const struct namechars *nc, uint8_t b)
{
	return (nc->map[b >> 3] >> (b & 7)) & 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t meta[] = { '*', '(', ')', '\'', ';', ' ', '\r', '\n', 0 };
	char spec[NAMECHARS_SPEC_MAX + 2];
	struct namechars nc, def;
	const uint8_t *nul, *name;
	const char *why = NULL;
	size_t speclen, namelen, i;
	int utf8, ok, want;
	uint64_t max;

	if (size < 1)
		return 0;
	utf8 = data[0] & 1;
	max = 1 + (data[0] >> 1);
	nul = memchr(data + 1, 0, size - 1);
	speclen = nul ? (size_t)(nul - (data + 1)) : size - 1;
	if (speclen > NAMECHARS_SPEC_MAX + 1)
		speclen = NAMECHARS_SPEC_MAX + 1;
	memcpy(spec, data + 1, speclen);
	spec[speclen] = '\0';
	name = nul ? nul + 1 : data + size;
	namelen = (size_t)(data + size - name);

	CHECK(namechars_parse(NAMECHARS_DEFAULT, 0, 64, &def, &why) == 0);
	for (i = 0; i < sizeof(meta); i++)
		CHECK(!allowed(&def, meta[i]));

	if (namechars_parse(spec, utf8, max, &nc, &why) < 0) {
		CHECK(why != NULL);
		return 0;
	}
	CHECK(nc.max == max);
	for (i = 0; i < 0x20; i++)
		CHECK(!allowed(&nc, (uint8_t)i));
	CHECK(!allowed(&nc, 0x7f));
	for (i = 0x80; i < 0x100; i++)
		CHECK(allowed(&nc, (uint8_t)i) == utf8);
	for (i = 0; i < speclen; i++)
		if (spec[i] != '-')
			CHECK(allowed(&nc, (uint8_t)spec[i]));

	ok = namechars_check(&nc, name, namelen) == NAMECHARS_OK;
	want = namelen >= 1 && namelen <= max;
	for (i = 0; want && i < namelen; i++)
		want = allowed(&nc, name[i]);
	CHECK(ok == want);
	return 0;
}
