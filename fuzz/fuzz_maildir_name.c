/* fuzz_maildir_name.c - maildir_parse_name() and maildir_uidl().
 *
 * The input is a file name found in cur/ or new/ (another program may have
 * put anything there).  A name that parses must be described correctly by
 * struct maildir_name, and its UIDL must be 1..70 characters 0x21-0x7E
 * (RFC 1939 section 7), the same on every call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mail/maildir.h"
#include "fuzz.h"



static void
check_uidl(const char *name, size_t base_len)
{
	char a[71], b[71];
	size_t l, i;
	int plain = base_len >= 1 && base_len <= 70;

	memset(a, 'x', sizeof(a));
	maildir_uidl(name, base_len, a);
	l = strnlen(a, sizeof(a));
	CHECK(l >= 1 && l <= 70);
	for (i = 0; i < l; i++)
		CHECK((unsigned char)a[i] >= 0x21 && (unsigned char)a[i] <= 0x7e);
	for (i = 0; plain && i < base_len; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			plain = 0;
	/* a usable base name is its own UIDL; anything else is hashed */
	if (plain)
		CHECK(l == base_len && memcmp(a, name, base_len) == 0);
	else
		CHECK(l == 40);
	maildir_uidl(name, base_len, b);
	CHECK(strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name mn;
	const char *name;
	char *copy;
	size_t fl, i;

	/* exact-size copy: no NUL after the name */
	copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	name = copy;

	/* any byte string gets a valid UIDL */
	check_uidl(name, size);
	if (maildir_parse_name(name, size, &mn) < 0) {
		free(copy);
		return 0;
	}
	CHECK(size >= 1 && size <= MAILDIR_NAME_MAX);
	CHECK(name[0] != '.');
	CHECK(memchr(name, '\0', size) == NULL && memchr(name, '/', size) == NULL);
	CHECK(mn.base_len >= 1 && mn.base_len <= size);
	CHECK(memchr(name, ':', mn.base_len) == NULL);
	if (mn.base_len < size)
		CHECK(name[mn.base_len] == ':');
	if (mn.has_info)
		CHECK(size - mn.base_len >= 3 && memcmp(name + mn.base_len, ":2,", 3) == 0);
	fl = strnlen(mn.flags, sizeof(mn.flags));
	CHECK(fl < sizeof(mn.flags));
	if (!mn.has_info)
		CHECK(fl == 0);
	for (i = 0; i < fl; i++) {
		char c = mn.flags[i];
		CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
		CHECK(memchr(mn.flags, c, i) == NULL);	/* no repeats */
		CHECK(memchr(name + mn.base_len, c, size - mn.base_len) != NULL);
	}
	if (mn.has_size)
		CHECK(memmem(name, mn.base_len, ",S=", 3) != NULL);
	if (mn.has_vsize)
		CHECK(memmem(name, mn.base_len, ",W=", 3) != NULL);

	check_uidl(name, mn.base_len);
	free(copy);
	return 0;
}
