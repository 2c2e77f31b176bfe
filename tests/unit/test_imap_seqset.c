/* test_imap_seqset.c - sequence sets: parse, normalise, resolve "*", format. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../common/proto/imap_seqset.h"
#include "tap.h"

static struct imap_range store[IMAP_SEQSET_MAX_RANGES];
static struct imap_seqset set;

static enum imap_seqset_err
parse(const char *s)
{
	imap_seqset_init(&set, store, IMAP_SEQSET_MAX_RANGES);
	return imap_seqset_parse(&set, (const uint8_t *)s, strlen(s));
}

/* s parses and formats back as want. */
static void
norm(const char *s, const char *want)
{
	char out[256], name[160];
	long n;

	snprintf(name, sizeof(name), "\"%s\" -> \"%s\"", s, want);
	n = parse(s) == IMAP_SEQSET_OK ? imap_seqset_format(&set, out, sizeof(out)) : -1;
	CHECK(n >= 0 && strcmp(out, want) == 0, name);
	if (n >= 0 && strcmp(out, want) != 0)
		printf("#   got \"%s\"\n", out);
}

static void
bad(const char *s, enum imap_seqset_err want)
{
	char name[160];

	snprintf(name, sizeof(name), "\"%s\" refused with %d", s, (int)want);
	CHECK(parse(s) == want, name);
}

static void
test_parse(void)
{
	norm("1", "1");
	norm("1:5", "1:5");
	norm("5:1", "1:5");
	norm("*", "*");
	norm("*:*", "*");
	norm("5:*", "5:*");
	norm("*:3", "3:*");
	norm("1:4294967295", "1:4294967295");
	norm("4294967295", "4294967295");
	norm("3,1,2", "1:3");
	norm("1:5,3:7,10", "1:7,10");
	norm("10,1:3,5,4", "1:5,10");
	norm("1,3,5,7", "1,3,5,7");
	norm("7,5,3,1", "1,3,5,7");
	norm("1:3,2:*", "1:*");
	norm("1,5:*,7,9", "1,5:*");
	norm("1,*", "1,*");
	norm("1:5,6:*", "1:*");
	norm("1:3,5:6,4", "1:6");
	bad("", IMAP_SEQSET_ERR_EMPTY);
	bad("0", IMAP_SEQSET_ERR_ZERO);
	bad("0:5", IMAP_SEQSET_ERR_ZERO);
	bad("4294967296", IMAP_SEQSET_ERR_RANGE);
	bad("1:4294967296", IMAP_SEQSET_ERR_RANGE);
	bad("99999999999999999999999", IMAP_SEQSET_ERR_RANGE);
	bad("1,,2", IMAP_SEQSET_ERR_EMPTY);
	bad("1,", IMAP_SEQSET_ERR_EMPTY);
	bad(",1", IMAP_SEQSET_ERR_EMPTY);
	bad("1:", IMAP_SEQSET_ERR_SYNTAX);
	bad("1::2", IMAP_SEQSET_ERR_SYNTAX);
	bad("01", IMAP_SEQSET_ERR_SYNTAX);
	bad("1 2", IMAP_SEQSET_ERR_SYNTAX);
	bad("1,$", IMAP_SEQSET_ERR_SYNTAX);
	bad("-1", IMAP_SEQSET_ERR_SYNTAX);
	bad("**", IMAP_SEQSET_ERR_SYNTAX);
	CHECK(parse("$") == IMAP_SEQSET_OK && set.searchres && set.n == 0 && !set.star,
	    "\"$\" is SEARCHRES");
}

static void
test_limit(void)
{
	struct imap_range small[3];
	const char *s = "1,3,5,7";

	imap_seqset_init(&set, small, 3);
	CHECK(imap_seqset_parse(&set, (const uint8_t *)s, strlen(s)) == IMAP_SEQSET_ERR_TOO_MANY,
	    "four disjoint ranges in storage for three refused");
	s = "1,2,3,4,5,6,7,8";
	imap_seqset_init(&set, small, 3);
	CHECK(imap_seqset_parse(&set, (const uint8_t *)s, strlen(s)) == IMAP_SEQSET_OK && set.n == 1,
	    "eight adjacent numbers merge into one range");
}

static void
test_resolve(void)
{
	char out[64];
	uint32_t v, sum = 0;
	struct imap_seqset_iter it;

	parse("5:*");
	CHECK(imap_seqset_resolve(&set, 3) == IMAP_SEQSET_OK && set.n == 1 && set.r[0].lo == 3 &&
	    set.r[0].hi == 5, "5:* with max 3 is 3:5");
	parse("*");
	CHECK(imap_seqset_resolve(&set, 0) == IMAP_SEQSET_ERR_STAR, "* with an empty mailbox");
	parse("1:3,*");
	CHECK(imap_seqset_resolve(&set, 4) == IMAP_SEQSET_OK &&
	    imap_seqset_format(&set, out, sizeof(out)) > 0 && !strcmp(out, "1:4"),
	    "1:3,* with max 4 is 1:4");
	parse("2,4:6,9");
	CHECK(imap_seqset_contains(&set, 2) && imap_seqset_contains(&set, 5) &&
	    imap_seqset_contains(&set, 9) && !imap_seqset_contains(&set, 1) &&
	    !imap_seqset_contains(&set, 3) && !imap_seqset_contains(&set, 7) &&
	    !imap_seqset_contains(&set, 10), "membership");
	CHECK(imap_seqset_count(&set) == 5, "count");
	imap_seqset_iter_init(&it, &set);
	while (imap_seqset_iter_next(&it, &v))
		sum = sum * 10 + v;
	CHECK(sum == 24569, "iteration in order: 2 4 5 6 9");
	parse("4294967290:4294967295");
	CHECK(imap_seqset_count(&set) == 6 && imap_seqset_contains(&set, 4294967295u),
	    "top of the range");
	parse("1:100");
	CHECK(imap_seqset_format(&set, out, 4) == -1, "format into too small a buffer");
}

static void
test_build(void)
{
	char out[64];

	imap_seqset_init(&set, store, IMAP_SEQSET_MAX_RANGES);
	imap_seqset_add(&set, 7, 7);
	imap_seqset_add(&set, 3, 4);
	imap_seqset_add(&set, 5, 5);
	imap_seqset_add(&set, 10, 12);
	CHECK(imap_seqset_format(&set, out, sizeof(out)) > 0 && !strcmp(out, "3:5,7,10:12"),
	    "COPYUID set built and formatted compactly");
	CHECK(imap_seqset_format(&(struct imap_seqset){ .r = store }, out, sizeof(out)) == -1,
	    "empty set has no format");
}

int
main(void)
{
	test_parse();
	test_limit();
	test_resolve();
	test_build();
	return tap_done();
}
