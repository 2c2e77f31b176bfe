/* test_imap_fmt.c - server-side strings, INTERNALDATE, APPEND dates and flags. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../common/proto/imap_fmt.h"
#include "../../common/proto/imap_parse.h"
#include "tap.h"

static int
put(int (*fn)(struct buf *, const uint8_t *, size_t), const char *s, size_t len,
    const char *want)
{
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	ok = fn(&b, (const uint8_t *)s, len) == 0 && b.len == strlen(want) &&
	    memcmp(b.data, want, b.len) == 0;
	if (!ok)
		printf("#   got \"%.*s\"\n", (int)b.len, b.data ? (const char *)b.data : "");
	buf_free(&b, 0);
	return ok;
}

#define PUT(fn, s, want, name) CHECK(put(fn, s, sizeof(s) - 1, want), name)

static void
test_strings(void)
{
	struct buf b;
	static char longs[IMAP_QUOTED_MAX + 1];

	PUT(imap_put_astring, "INBOX", "INBOX", "atom stays an atom");
	PUT(imap_put_astring, "Sent]", "Sent]", "] is an ASTRING-CHAR");
	PUT(imap_put_astring, "My Mail", "\"My Mail\"", "space: quoted");
	PUT(imap_put_astring, "a\"b\\c", "\"a\\\"b\\\\c\"", "quote and backslash escaped");
	PUT(imap_put_astring, "NIL", "\"NIL\"", "NIL quoted so it is not nil");
	PUT(imap_put_astring, "", "\"\"", "empty: quoted");
	PUT(imap_put_astring, "a%b", "\"a%b\"", "wildcard: quoted");
	PUT(imap_put_astring, "caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9", "8-bit: literal");
	PUT(imap_put_astring, "a\r\nb", "{4}\r\na\r\nb", "CRLF: literal");
	PUT(imap_put_string, "INBOX", "\"INBOX\"", "string is never an atom");
	PUT(imap_put_nstring, "x", "\"x\"", "nstring");
	CHECK(!put(imap_put_astring, "a\0b", 3, ""), "NUL refused");
	buf_init(&b, 64);
	CHECK(imap_put_nstring(&b, NULL, 0) == 0 && b.len == 3 && !memcmp(b.data, "NIL", 3),
	    "nstring NULL is NIL");
	buf_free(&b, 0);
	memset(longs, 'a', sizeof(longs));
	longs[0] = ' ';
	buf_init(&b, 4096);
	CHECK(imap_put_astring(&b, (const uint8_t *)longs, sizeof(longs)) == 0 &&
	    !memcmp(b.data, "{1025}\r\n", 8), "over IMAP_QUOTED_MAX: literal");
	buf_free(&b, 0);
	buf_init(&b, 4);
	CHECK(imap_put_astring(&b, (const uint8_t *)"abcdef", 6) == -1, "buffer max respected");
	buf_free(&b, 0);
}

static void
dt_ok(const char *s, int64_t t, int tz, const char *name)
{
	int64_t got = 0;
	int gtz = 0;

	CHECK(imap_datetime_parse((const uint8_t *)s, strlen(s), &got, &gtz) == 0 && got == t &&
	    gtz == tz, name);
}

static void
dt_bad(const char *s, const char *name)
{
	int64_t t;
	int tz;

	CHECK(imap_datetime_parse((const uint8_t *)s, strlen(s), &t, &tz) == -1, name);
}

static void
test_dates(void)
{
	char out[IMAP_DATETIME_LEN + 1];
	struct imap_date d;

	dt_ok("01-Jan-1970 00:00:00 +0000", 0, 0, "epoch");
	dt_ok(" 1-Feb-2024 10:00:00 +0100", 1706778000, 60, "date-day-fixed with space");
	dt_ok("1-Feb-2024 10:00:00 +0100", 1706778000, 60, "one-digit day");
	dt_ok("29-Feb-2024 23:59:59 -0830", 1709281799, -510, "leap day, negative zone");
	dt_ok("17-jul-1996 02:44:25 -0700", 837596665, -420, "RFC 3501 example, lower-case month");
	dt_bad("29-Feb-2023 00:00:00 +0000", "no leap day in 2023");
	dt_bad("01-Jan-1970 24:00:00 +0000", "hour 24");
	dt_bad("01-Jan-1970 00:60:00 +0000", "minute 60");
	dt_bad("01-Jan-1970 00:00:00 0000", "zone without sign");
	dt_bad("01-Jan-1970 00:00:00 +0060", "zone minutes 60");
	dt_bad("01-Jan-1970 00:00:00 +0000 ", "trailing space");
	dt_bad("01-Jan-70 00:00:00 +0000", "two-digit year");
	dt_bad("001-Jan-1970 00:00:00 +0000", "three-digit day");
	dt_bad("", "empty");
	CHECK(imap_datetime_format(0, 0, out) == 0 && !strcmp(out, "01-Jan-1970 00:00:00 +0000"),
	    "format epoch");
	CHECK(imap_datetime_format(837596665, -420, out) == 0 &&
	    !strcmp(out, "17-Jul-1996 02:44:25 -0700"), "format RFC 3501 example");
	CHECK(imap_datetime_format(1709281799, -510, out) == 0 &&
	    !strcmp(out, "29-Feb-2024 23:59:59 -0830"), "format with a half-hour zone");
	CHECK(imap_datetime_format(-1, 0, out) == 0 && !strcmp(out, "31-Dec-1969 23:59:59 +0000"),
	    "format before 1970");
	CHECK(imap_datetime_format(0, 24 * 60, out) == -1, "zone of 24 hours refused");
	CHECK(imap_datetime_format(253402300800LL, 0, out) == -1, "year 10000 refused");
	CHECK(imap_date_parse((const uint8_t *)"1-Feb-2024", 10, &d) == 0 && d.day == 1 &&
	    d.mon == 2 && d.year == 2024 && imap_date_days(&d) == 19754, "date");
	CHECK(imap_date_parse((const uint8_t *)"31-Apr-2024", 11, &d) == -1, "31 April refused");
	CHECK(imap_date_parse((const uint8_t *)" 1-Feb-2024", 11, &d) == -1,
	    "SEARCH date has no leading space");
}

static struct imap_parser *p;	/* the last command's, which f points into */

/* The flag list of "a X <list>\r\n". */
static int
flags(const char *list, struct imap_flags *f)
{
	struct imap_limits lim;
	struct imap_event ev;
	char line[1024];
	size_t used;
	int r = -100;

	imap_limits_default(&lim);
	imap_parser_free(p);
	p = imap_parser_new(&lim, 0);
	snprintf(line, sizeof(line), "a X %s\r\n", list);
	if (imap_parser_feed(p, (const uint8_t *)line, strlen(line), &used, &ev) == IMAP_EV_COMMAND)
		r = imap_flags_parse(imap_parser_cmd(p)->args, f);
	return r;
}

static void
test_flags(void)
{
	struct imap_flags f;

	CHECK(flags("(\\Seen \\answered \\Flagged \\Deleted \\Draft)", &f) == IMAP_FLAGS_OK &&
	    f.system == 0x1f && f.nkeywords == 0, "system flags");
	CHECK(flags("($Junk NonJunk \\Seen)", &f) == IMAP_FLAGS_OK && f.system == IMAP_FLAG_SEEN &&
	    f.nkeywords == 2 && !strcmp((const char *)f.keyword[1]->text, "NonJunk"), "keywords");
	CHECK(flags("()", &f) == IMAP_FLAGS_OK && f.system == 0 && f.nkeywords == 0, "empty list");
	CHECK(flags("\\Seen", &f) == IMAP_FLAGS_ERR_LIST, "not a list");
	CHECK(flags("(\\Recent)", &f) == IMAP_FLAGS_ERR_FLAG, "\\Recent refused");
	CHECK(flags("(\\Foo)", &f) == IMAP_FLAGS_ERR_FLAG, "unknown system flag refused");
	CHECK(flags("(\"quoted\")", &f) == IMAP_FLAGS_ERR_FLAG, "quoted flag refused");
	CHECK(flags("(a%b)", &f) == IMAP_FLAGS_ERR_FLAG, "wildcard in keyword refused");
	CHECK(flags("((\\Seen))", &f) == IMAP_FLAGS_ERR_FLAG, "nested list refused");
	CHECK(flags("(k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 k11 k12 k13 k14 k15 k16 k17 k18 k19 k20 k21 "
	    "k22 k23 k24 k25 k26 k27 k28 k29 k30 k31 k32 k33 k34 k35 k36 k37 k38 k39 k40 k41 k42 k43 "
	    "k44 k45 k46 k47 k48 k49 k50 k51 k52 k53 k54 k55 k56 k57 k58 k59 k60 k61 k62 k63 k64 k65)",
	    &f) == IMAP_FLAGS_ERR_TOO_MANY, "65 keywords refused");
}

int
main(void)
{
	test_strings();
	test_dates();
	test_flags();
	imap_parser_free(p);
	return tap_done();
}
