/* fuzz_mutf7.c - modified UTF-7 decode and encode, both round trips.
 *
 * The input is decoded; whatever decode accepts must encode back to the
 * very same bytes (decode is exactly as strict as encode is canonical).
 * The input is also encoded as UTF-8; whatever encode accepts must decode
 * back to it.  Decoded names go through the mailbox check with both
 * separators and both modes.
 */
#include <stdint.h>
#include <string.h>

#include "../common/proto/mutf7.h"
#include "fuzz.h"

static char a[MUTF7_NAME_MAX + 1], b[MUTF7_NAME_MAX + 1];

static void
check_mailbox(const uint8_t *name, size_t len)
{
	static const char seps[2] = { '.', '/' };
	unsigned i, f;

	for (i = 0; i < 2; i++)
		for (f = 0; f < 2; f++) {
			int e = mutf7_mailbox_check(name, len, seps[i], f);
			CHECK(e <= 0 && e >= MUTF7_MBOX_WILDCARD);
			if (e == MUTF7_MBOX_OK)
				CHECK(len > 0 && len <= MUTF7_MAILBOX_MAX &&
				    memchr(name, '\0', len) == NULL);
		}
}

typedef enum mutf7_err (*codec)(const uint8_t *, size_t, char *, size_t, size_t *);

/* there(data) either fails or gives what back() turns into data again;
 * 1 if there accepted data. */
static int
round_trip(codec there, codec back, const uint8_t *data, size_t size)
{
	size_t n = 0, m = 0;
	int e = there(data, size, a, sizeof(a), &n);

	CHECK(e <= 0 && e >= MUTF7_ERR_TOO_LONG);
	if (e != MUTF7_OK)
		return 0;
	CHECK(n == strlen(a));
	CHECK(back((const uint8_t *)a, n, b, sizeof(b), &m) == MUTF7_OK);
	CHECK(m == size && memcmp(b, data, size) == 0);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (round_trip(mutf7_decode, mutf7_encode, data, size))
		check_mailbox((const uint8_t *)a, strlen(a));
	round_trip(mutf7_encode, mutf7_decode, data, size);
	check_mailbox(data, size);
	return 0;
}
