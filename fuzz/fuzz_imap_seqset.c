/* fuzz_imap_seqset.c - imap_seqset_parse() and what the worker does next.
 *
 * Input: byte 0 picks the range storage (1..64 ranges, 0: the default
 * capacity), bytes 1-4 the max "*" resolves to (big-endian); the rest is
 * the set.  An accepted set must be normalised, format to text that parses
 * back to the same set, and after resolving, iteration, membership and
 * count must agree.
 */
#include <stdint.h>
#include <string.h>

#include "../common/proto/imap_seqset.h"
#include "fuzz.h"

static struct imap_range ra[IMAP_SEQSET_MAX_RANGES], rb[IMAP_SEQSET_MAX_RANGES];
static char text[IMAP_SEQSET_MAX_RANGES * 24 + 32];

static void
check_norm(const struct imap_seqset *s)
{
	unsigned i;

	CHECK(s->n <= s->cap);
	for (i = 0; i < s->n; i++) {
		CHECK(s->r[i].lo >= 1 && s->r[i].lo <= s->r[i].hi);
		if (i > 0)
			CHECK((uint64_t)s->r[i - 1].hi + 1 < s->r[i].lo);
	}
	if (s->star && s->star_lo != 0 && s->n > 0)
		CHECK((uint64_t)s->r[s->n - 1].hi + 1 < s->star_lo);
}

static int
same(const struct imap_seqset *a, const struct imap_seqset *b)
{
	return a->n == b->n && a->star == b->star && a->star_lo == b->star_lo &&
	    memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0;
}

static void
check_resolved(struct imap_seqset *s, uint32_t max)
{
	struct imap_seqset_iter it;
	uint64_t count = 0;
	uint32_t v, prev = 0;

	if (imap_seqset_resolve(s, max) != IMAP_SEQSET_OK) {
		CHECK(max == 0 || s->n == s->cap);
		return;
	}
	CHECK(!s->star);
	check_norm(s);
	if (imap_seqset_count(s) > 100000)
		return;
	imap_seqset_iter_init(&it, s);
	while (imap_seqset_iter_next(&it, &v)) {
		CHECK(count == 0 || v > prev);
		CHECK(imap_seqset_contains(s, v));
		if (v > 1 && (count == 0 || v - 1 != prev))
			CHECK(!imap_seqset_contains(s, v - 1));
		prev = v;
		count++;
	}
	CHECK(count == imap_seqset_count(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_seqset a, b;
	unsigned cap;
	uint32_t max;
	long n;

	if (size < 5)
		return 0;
	cap = data[0] % 65 == 0 ? IMAP_SEQSET_MAX_RANGES : data[0] % 65;
	max = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
	imap_seqset_init(&a, ra, cap);
	if (imap_seqset_parse(&a, data + 5, size - 5) != IMAP_SEQSET_OK)
		return 0;
	if (a.searchres) {
		CHECK(size == 6 && data[5] == '$' && a.n == 0 && !a.star);
		return 0;
	}
	check_norm(&a);
	CHECK(a.n > 0 || a.star);
	n = imap_seqset_format(&a, text, sizeof(text));
	CHECK(n > 0 && (size_t)n == strlen(text));
	imap_seqset_init(&b, rb, cap);
	CHECK(imap_seqset_parse(&b, (const uint8_t *)text, (size_t)n) == IMAP_SEQSET_OK);
	CHECK(same(&a, &b));
	check_resolved(&a, max);
	return 0;
}
