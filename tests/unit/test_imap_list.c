/* test_imap_list.c - LIST patterns (RFC 9051 6.3.9). */
#include <string.h>

#include "../../common/proto/imap_list.h"
#include "tap.h"

static int
match(const char *pat, const char *name)
{
	char p[IMAP_LIST_PATTERN_MAX + 1];

	strcpy(p, pat);
	imap_list_canon(p, '.');
	return imap_list_match(p, name, '.');
}

int
main(void)
{
	static char big[IMAP_LIST_PATTERN_MAX + 2];

	CHECK(match("*", "INBOX.Lists.Debian") && match("*", ""), "* matches anything");
	CHECK(match("INBOX.%", "INBOX.Sent") && !match("INBOX.%", "INBOX.Lists.Debian"),
	    "% stops at the separator");
	CHECK(match("INBOX.*", "INBOX.Lists.Debian") && !match("INBOX.*", "INBOX"),
	    "* crosses separators, needs what precedes it");
	CHECK(match("inbox", "INBOX") && match("Inbox.%", "INBOX.Sent") && !match("inboxes", "INBOX"),
	    "a leading INBOX is case-insensitive, other names are not");
	CHECK(!match("Sent", "sent") && match("S%t", "Sent") && !match("", "x") && match("", ""),
	    "other bytes match themselves");
	CHECK(match("%.%", "a.b") && !match("%.%", "a.b.c") && match("*a*b*", "xxaxxbxx"),
	    "several wildcards");
	memset(big, '*', sizeof(big) - 1);
	CHECK(!match("*", big) && imap_list_match(big, "x", '.') == 0,
	    "over IMAP_LIST_PATTERN_MAX: no match, no work");
	return tap_done();
}
