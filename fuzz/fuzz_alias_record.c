/* fuzz_alias_record.c - alias records with several targets (bytes from the
 * user database, common/mail/aliases.h).
 *
 * A record that decodes has 1..ALIASES_TARGETS_MAX targets of 1..255
 * bytes without NUL, and encodes back to the very bytes; one that does
 * not is empty, has an empty or over-long target, or too many.  The
 * listing text fits its buffer and names each target.
 */
#include <string.h>

#include "../common/mail/aliases.h"
#include "fuzz.h"

static struct aliases_targets t;
static uint8_t rec[ALIASES_RECORD_MAX];

/* Why the splitting rule refuses data, or 0 if it does not. */
static int
refusal(const uint8_t *data, size_t size)
{
	size_t i, start = 0, n = 0;

	if (size == 0)
		return 1;
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\0')
			continue;
		if (i == start || i - start > USERDB_NAME_MAX)
			return 2;
		n++;
		start = i + 1;
	}
	return n > ALIASES_TARGETS_MAX ? 3 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512];
	unsigned i;
	long n;

	if (aliases_decode(data, size, &t) < 0) {
		CHECK(t.n == 0 && refusal(data, size) != 0);
		return 0;
	}
	CHECK(refusal(data, size) == 0);
	CHECK(t.n >= 1 && t.n <= ALIASES_TARGETS_MAX);
	for (i = 0; i < t.n; i++)
		CHECK(strlen(t.name[i]) >= 1 && strlen(t.name[i]) <= USERDB_NAME_MAX);
	n = aliases_encode(&t, rec, sizeof(rec));
	CHECK(n >= 0 && (size_t)n == size && memcmp(rec, data, size) == 0);
	aliases_text(&t, text, sizeof(text));
	CHECK(strlen(text) < sizeof(text));
	if (strlen(t.name[0]) < sizeof(text))
		CHECK(strncmp(text, t.name[0], strlen(t.name[0])) == 0);
	return 0;
}
