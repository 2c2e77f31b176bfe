/* fuzz_quota_parse.c - quota_parse() over a maildirsize file (which the
 * user may write), and quota_imap() over what it gives.
 *
 * A file that parses has a definition of at most QUOTA_DEF_MAX bytes; the
 * RFC 9208 numbers never report less storage than is used, nor a limit
 * above the one defined; the same bytes parse the same way twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mail/quota.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quota q, q2;
	struct quota_imap im;
	char *copy = malloc(size ? size : 1);

	CHECK(copy != NULL);
	memcpy(copy, data, size);	/* exact size: no NUL after the text */
	if (quota_parse(copy, size, &q) == 0) {
		CHECK(strlen(q.def) >= 1 && strlen(q.def) <= QUOTA_DEF_MAX);
		quota_imap(&q, &im);
		if (q.storage_used > 0)
			CHECK(im.storage_used_kib * 1024 >= (uint64_t)q.storage_used);
		CHECK(im.storage_limit_kib * 1024 <= q.storage_limit);
		CHECK(quota_parse(copy, size, &q2) == 0 && memcmp(&q, &q2, sizeof(q)) == 0);
	}
	free(copy);
	return 0;
}
