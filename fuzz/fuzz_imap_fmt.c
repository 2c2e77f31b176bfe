/* fuzz_imap_fmt.c - the small value parsers of APPEND and SEARCH: dates,
 * date-times and flag lists.  Byte 0 picks the parser.  An accepted date
 * is a real calendar day; an accepted date-time formats back to text that
 * parses to the same instant and zone; an accepted flag list holds only
 * known system flags and valid keywords, at most IMAP_FLAGS_MAX_KEYWORDS. */
#include <string.h>

#include "../common/proto/imap_fmt.h"
#include "fuzz.h"

static void
dates(const uint8_t *s, size_t len)
{
	static const uint8_t mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char back[IMAP_DATETIME_LEN + 1];
	struct imap_date d;
	int64_t t, t2;
	int tz, tz2;

	if (imap_date_parse(s, len, &d) == 0)
		CHECK(d.mon >= 1 && d.mon <= 12 && d.day >= 1 && d.day <= mdays[d.mon - 1]);
	if (imap_datetime_parse(s, len, &t, &tz) == 0 && imap_datetime_format(t, tz, back) == 0) {
		CHECK(imap_datetime_parse((const uint8_t *)back, strlen(back), &t2, &tz2) == 0);
		CHECK(t2 == t && tz2 == tz);
	}
}

static void
flags(const uint8_t *s, size_t len)
{
	struct imap_limits lim;
	struct imap_parser *p;
	struct imap_flags f;
	struct imap_event ev;
	size_t used, off = 0;
	unsigned i;

	imap_limits_default(&lim);
	p = imap_parser_new(&lim, IMAP_PF_LITERAL_PLUS);
	if (p == NULL)
		return;
	while (off < len) {
		enum imap_ev e = imap_parser_feed(p, s + off, len - off, &used, &ev);
		off += used;
		if (e == IMAP_EV_COMMAND) {
			const struct imap_cmd *c = imap_parser_cmd(p);
			if (c->args != NULL && imap_flags_parse(c->args, &f) == IMAP_FLAGS_OK) {
				CHECK(f.nkeywords <= IMAP_FLAGS_MAX_KEYWORDS && (f.system & ~0x1fu) == 0);
				for (i = 0; i < f.nkeywords; i++)
					CHECK(imap_is_keyword(f.keyword[i]));
			}
		} else if (e == IMAP_EV_CONTINUE) {
			imap_parser_accept(p);
		} else if (e == IMAP_EV_NEED_MORE || used == 0) {
			break;
		}
	}
	imap_parser_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		flags(data + 1, size - 1);
	else
		dates(data + 1, size - 1);
	return 0;
}
