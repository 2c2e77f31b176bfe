/* fuzz_imap_list.c - LIST pattern matching (imap_list_match), as imapd runs
 * it on a client's reference + pattern and each folder's name.
 *
 * Input: byte 0 picks the separator ('.' or '/'), then the pattern, a NUL,
 * and the name.  Properties that hold for any input: a name matches "*"
 * and itself (when it holds no wildcard), never the empty pattern unless
 * empty; "%" stops at the separator; "*" on both sides of the pattern
 * matches what the pattern's middle does.
 */
#include <stdint.h>
#include <string.h>

#include "../common/proto/imap_list.h"
#include "fuzz.h"

static char pat[IMAP_LIST_PATTERN_MAX + 8], name[IMAP_LIST_PATTERN_MAX + 8];
static char wrap[IMAP_LIST_PATTERN_MAX + 8];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	size_t pl, nl;
	char sep;
	int m;

	if (size < 1)
		return 0;
	sep = (data[0] & 1) ? '/' : '.';
	data++;
	size--;
	nul = memchr(data, '\0', size);
	pl = nul ? (size_t)(nul - data) : size;
	nl = nul ? size - pl - 1 : 0;
	if (pl > IMAP_LIST_PATTERN_MAX + 4 || nl > IMAP_LIST_PATTERN_MAX + 4)
		return 0;
	memcpy(pat, data, pl);
	pat[pl] = '\0';
	if (nul != NULL)
		memcpy(name, nul + 1, nl);
	name[nl] = '\0';
	if (memchr(name, '\0', nl) != NULL)	/* a NUL in the name: the name ends there */
		nl = strlen(name);
	if (strlen(pat) != pl)
		return 0;
	imap_list_canon(pat, sep);
	m = imap_list_match(pat, name, sep);
	CHECK(m == 0 || m == 1);
	if (pl > IMAP_LIST_PATTERN_MAX || nl > IMAP_LIST_PATTERN_MAX) {
		CHECK(m == 0);
		return 0;
	}
	CHECK(imap_list_match("*", name, sep) == 1);
	if (strpbrk(name, "*%") == NULL)
		CHECK(imap_list_match(name, name, sep) == 1);
	CHECK(imap_list_match("", name, sep) == (nl == 0));
	CHECK(imap_list_match("%", name, sep) == (strchr(name, sep) == NULL));
	if (pl + 2 <= IMAP_LIST_PATTERN_MAX) {
		/* "*" + pattern + "*" matches wherever the pattern matches */
		wrap[0] = '*';
		memcpy(wrap + 1, pat, pl);
		wrap[pl + 1] = '*';
		wrap[pl + 2] = '\0';
		if (m)
			CHECK(imap_list_match(wrap, name, sep) == 1);
	}
	return 0;
}
