/* test_imap_search.c - SEARCH programs as clients send them, through the
 * command parser into the key transcript, and every refusal.  The transcript is shown
 * as text: AND(...), OR(a,b), NOT(a), KEY, KEY:arg. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/proto/imap_parse.h"
#include "../../common/proto/imap_search.h"
#include "tap.h"
#include "transcript.h"

static const char *const opname[] = {
	"AND", "OR", "NOT", "ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW", "OLD",
	"RECENT", "SEEN", "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "BCC",
	"BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO", "HEADER", "KEYWORD", "UNKEYWORD",
	"BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "LARGER", "SMALLER",
	"MODSEQ", "SET", "UID",
};




/* The key's argument as text. */
static void
show_arg(const struct imap_search_key *k)
{
	char n[64];

	if (k->str != NULL) {
		adds(":");
		add((const char *)k->str, k->len);
	}
	if (k->str2 != NULL) {
		adds("=");
		add((const char *)k->str2, k->len2);
	}
	if (k->op >= IMAP_SK_BEFORE && k->op <= IMAP_SK_SENTSINCE) {
		snprintf(n, sizeof(n), ":%04u-%02u-%02u", k->date.year, k->date.mon, k->date.day);
		adds(n);
	}
	if (k->op == IMAP_SK_LARGER || k->op == IMAP_SK_SMALLER || k->op == IMAP_SK_MODSEQ) {
		snprintf(n, sizeof(n), ":%llu", (unsigned long long)k->num);
		adds(n);
	}
	if (k->op == IMAP_SK_MODSEQ && k->entry != IMAP_SE_NONE) {
		snprintf(n, sizeof(n), "/%d", (int)k->entry);
		adds(n);
	}
	if (k->op == IMAP_SK_SEQSET || k->op == IMAP_SK_UID) {
		char f[256];
		adds(":");
		if (k->set.searchres)
			adds("$");
		else if (imap_seqset_format(&k->set, f, sizeof(f)) > 0)
			adds(f);
	}
}

/* Tests may recurse: their trees are small. */
static void
show(const struct imap_search_key *k)
{
	for (; k != NULL; k = k->next) {
		adds(opname[k->op]);
		show_arg(k);
		if (k->op == IMAP_SK_AND || k->op == IMAP_SK_OR || k->op == IMAP_SK_NOT) {
			adds("(");
			show(k->child);
			adds(")");
		}
		if (k->next != NULL)
			adds(",");
	}
}

static struct imap_limits plim;
static struct imap_search_limits slim;

/* Parse line as a command, then its arguments as a search; the result
 * code, and the transcript in transcript[]. */
static int
search(const char *line, size_t len)
{
	struct imap_parser *p = imap_parser_new(&plim, IMAP_PF_LITERAL_PLUS);
	struct imap_search s;
	struct imap_event ev;
	size_t off = 0, used;
	int r = -100;

	transcript[0] = '\0';
	if (p == NULL || imap_search_init(&s, &slim) < 0)
		return -200;
	while (off < len) {
		imap_parser_feed(p, (const uint8_t *)line + off, len - off, &used, &ev);
		off += used;
		if (ev.type == IMAP_EV_ERROR) {
			r = -1000 - (int)ev.err;
			break;
		}
		if (ev.type == IMAP_EV_COMMAND) {
			r = imap_search_parse(&s, imap_parser_cmd(p)->args);
			if (r == IMAP_SEARCH_OK) {
				show(s.root);
				if (s.esearch) {
					char n[32];
					snprintf(n, sizeof(n), " RET%02x", s.ret);
					adds(n);
				}
				if (s.charset != NULL) {
					adds(" CHARSET ");
					add((const char *)s.charset, s.charset_len);
				}
			}
			break;
		}
	}
	imap_search_free(&s);
	imap_parser_free(p);
	return r;
}

static void
ok(const char *line, const char *want)
{
	char name[200];
	int r = search(line, strlen(line));

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "\r"), line);
	CHECK(r == IMAP_SEARCH_OK && !strcmp(transcript, want), name);
	if (r != IMAP_SEARCH_OK || strcmp(transcript, want))
		printf("#   r=%d got \"%s\"\n", r, transcript);
}

static void
bad(const char *line, int want, const char *what)
{
	char name[200];
	int r = search(line, strlen(line));

	snprintf(name, sizeof(name), "%s: %.*s", what, (int)strcspn(line, "\r"), line);
	CHECK(r == want, name);
	if (r != want)
		printf("#   r=%d\n", r);
}

static void
test_clients(void)
{
	ok("a SEARCH ALL\r\n", "AND(ALL)");
	ok("a UID SEARCH UNDELETED UNSEEN\r\n", "AND(UNDELETED,UNSEEN)");
	ok("a UID SEARCH 1:* NOT DELETED\r\n", "AND(SET:1:*,NOT(DELETED))");
	ok("a UID SEARCH OR SUBJECT foo FROM \"Bar Baz\"\r\n", "AND(OR(SUBJECT:foo,FROM:Bar Baz))");
	ok("a SEARCH CHARSET UTF-8 TEXT {5+}\r\nt\xc3\xa9t!\r\n",
	    "AND(TEXT:t\xc3\xa9t!) CHARSET UTF-8");
	ok("a SEARCH OR (FROM a TO b) NOT (SEEN FLAGGED)\r\n",
	    "AND(OR(AND(FROM:a,TO:b),NOT(AND(SEEN,FLAGGED))))");
	ok("a SEARCH HEADER Message-ID \"<x@y>\" KEYWORD $Junk UNKEYWORD NonJunk\r\n",
	    "AND(HEADER:Message-ID=<x@y>,KEYWORD:$Junk,UNKEYWORD:NonJunk)");
	ok("a SEARCH LARGER 1000 SMALLER 9223372036854775807\r\n",
	    "AND(LARGER:1000,SMALLER:9223372036854775807)");
	ok("a SEARCH SINCE 1-Feb-2024 BEFORE \"29-Feb-2024\" SENTON 01-jan-1999\r\n",
	    "AND(SINCE:2024-02-01,BEFORE:2024-02-29,SENTON:1999-01-01)");
	ok("a SEARCH SENTBEFORE 31-Dec-2023 SENTSINCE 2-Mar-2020 ON 15-Jun-2021\r\n",
	    "AND(SENTBEFORE:2023-12-31,SENTSINCE:2020-03-02,ON:2021-06-15)");
	ok("a SEARCH ANSWERED DRAFT NEW OLD RECENT UNANSWERED UNDRAFT UNFLAGGED\r\n",
	    "AND(ANSWERED,DRAFT,NEW,OLD,RECENT,UNANSWERED,UNDRAFT,UNFLAGGED)");
	ok("a SEARCH BCC x CC y BODY z\r\n", "AND(BCC:x,CC:y,BODY:z)");
	ok("a SEARCH RETURN (MIN MAX COUNT) UNSEEN\r\n", "AND(UNSEEN) RET0b");
	ok("a SEARCH RETURN () ALL\r\n", "AND(ALL) RET04");
	ok("a SEARCH RETURN (SAVE) SINCE 1-Feb-2024\r\n", "AND(SINCE:2024-02-01) RET10");
	ok("a UID SEARCH RETURN (ALL) CHARSET US-ASCII UID 1:4294967295\r\n",
	    "AND(UID:1:4294967295) RET04 CHARSET US-ASCII");
	ok("a SEARCH $\r\n", "AND(SET:$)");
	ok("a UID SEARCH UID $ SEEN\r\n", "AND(UID:$,SEEN)");
	ok("a SEARCH UID *:* 5,3,1:2\r\n", "AND(UID:*,SET:1:3,5)");
	ok("a SEARCH MODSEQ 12345\r\n", "AND(MODSEQ:12345)");
	ok("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\r\n",
	    "AND(MODSEQ:/flags/\\draft:620162338/3)");
	ok("a SEARCH MODSEQ \"/flags/$Junk\" priv 0\r\n", "AND(MODSEQ:/flags/$Junk:0/1)");
	ok("a SEARCH NOT NOT OR OR SEEN DRAFT DELETED ALL\r\n",
	    "AND(NOT(NOT(OR(OR(SEEN,DRAFT),DELETED))),ALL)");
	ok("a SEARCH SUBJECT NIL\r\n", "AND(SUBJECT:NIL)");
}



static void
test_bad(void)
{
	size_t n;

	bad("a SEARCH\r\n", IMAP_SEARCH_ERR_EMPTY, "no key");
	bad("a SEARCH CHARSET UTF-8\r\n", IMAP_SEARCH_ERR_EMPTY, "charset only");
	bad("a SEARCH CHARSET\r\n", IMAP_SEARCH_ERR_MISSING, "CHARSET without charset");
	bad("a SEARCH CHARSET (x) ALL\r\n", IMAP_SEARCH_ERR_ARG, "CHARSET with a list");
	bad("a SEARCH FOO\r\n", IMAP_SEARCH_ERR_UNKNOWN, "unknown key");
	bad("a SEARCH \"ALL\"\r\n", IMAP_SEARCH_ERR_UNKNOWN, "quoted key");
	bad("a SEARCH ()\r\n", IMAP_SEARCH_ERR_EMPTY_GROUP, "empty group");
	bad("a SEARCH (SEEN ())\r\n", IMAP_SEARCH_ERR_EMPTY_GROUP, "nested empty group");
	bad("a SEARCH OR SEEN\r\n", IMAP_SEARCH_ERR_MISSING, "OR with one key");
	bad("a SEARCH (OR SEEN) DRAFT\r\n", IMAP_SEARCH_ERR_MISSING, "OR cut by its group");
	bad("a SEARCH NOT\r\n", IMAP_SEARCH_ERR_MISSING, "NOT alone");
	bad("a SEARCH SUBJECT\r\n", IMAP_SEARCH_ERR_MISSING, "SUBJECT without string");
	bad("a SEARCH HEADER X\r\n", IMAP_SEARCH_ERR_MISSING, "HEADER without value");
	bad("a SEARCH SUBJECT (a)\r\n", IMAP_SEARCH_ERR_ARG, "SUBJECT with a list");
	bad("a SEARCH LARGER -1\r\n", IMAP_SEARCH_ERR_NUMBER, "negative size");
	bad("a SEARCH LARGER 9223372036854775808\r\n", IMAP_SEARCH_ERR_NUMBER, "size over 63 bits");
	bad("a SEARCH LARGER \"5\"\r\n", IMAP_SEARCH_ERR_NUMBER, "quoted number");
	bad("a SEARCH SINCE 29-Feb-2023\r\n", IMAP_SEARCH_ERR_DATE, "no 29 February in 2023");
	bad("a SEARCH SINCE 1-Foo-2024\r\n", IMAP_SEARCH_ERR_DATE, "bad month");
	bad("a SEARCH SINCE 1-Feb-24\r\n", IMAP_SEARCH_ERR_DATE, "two-digit year");
	bad("a SEARCH SINCE 0-Feb-2024\r\n", IMAP_SEARCH_ERR_DATE, "day 0");
	bad("a SEARCH UID 0\r\n", IMAP_SEARCH_ERR_SEQSET, "UID 0");
	bad("a SEARCH 4294967296\r\n", IMAP_SEARCH_ERR_SEQSET, "set over 32 bits");
	bad("a SEARCH 1,,2\r\n", IMAP_SEARCH_ERR_SEQSET, "empty set part");
	bad("a SEARCH 1,$\r\n", IMAP_SEARCH_ERR_SEQSET, "$ in a list");
	bad("a SEARCH KEYWORD \\Seen\r\n", IMAP_SEARCH_ERR_KEYWORD, "system flag as keyword");
	bad("a SEARCH KEYWORD a%\r\n", IMAP_SEARCH_ERR_KEYWORD, "wildcard in keyword");
	bad("a SEARCH MODSEQ \"/x\" all 1\r\n", IMAP_SEARCH_ERR_MODSEQ, "entry not /flags/");
	bad("a SEARCH MODSEQ \"/flags/x\" every 1\r\n", IMAP_SEARCH_ERR_MODSEQ, "bad entry type");
	bad("a SEARCH MODSEQ \"/flags/x\" all\r\n", IMAP_SEARCH_ERR_MISSING, "entry without value");
	bad("a SEARCH RETURN (FOO) ALL\r\n", IMAP_SEARCH_ERR_RETURN, "unknown RETURN option");
	bad("a SEARCH RETURN ALL\r\n", IMAP_SEARCH_ERR_RETURN, "RETURN without list");

	n = build("a SEARCH ", "(", 100000, "ALL\r\n");
	CHECK(search(big, n) == -1000 - IMAP_ERR_TOO_DEEP,
	    "100000 ( stopped by the command parser (TOO_DEEP)");
	plim.max_depth = 200000;
	plim.max_args = 300000;
	plim.max_line = sizeof(big);
	plim.max_command = sizeof(big);
	n = build("a SEARCH ", "(", 100000, "ALL");
	memset(big + n, ')', 100000);
	memcpy(big + n + 100000, "\r\n", 2);
	CHECK(search(big, n + 100002) == IMAP_SEARCH_ERR_TOO_DEEP,
	    "100000 ( past a permissive parser: search TOO_DEEP");
	n = build("a SEARCH ", "NOT ", 100000, "ALL\r\n");
	CHECK(search(big, n) == IMAP_SEARCH_ERR_TOO_DEEP, "100000 NOT: TOO_DEEP");
	n = build("a SEARCH ", "OR ", 100000, "ALL\r\n");
	CHECK(search(big, n) == IMAP_SEARCH_ERR_TOO_DEEP, "100000 OR: TOO_DEEP");
	n = build("a SEARCH", " SEEN", 100000, "\r\n");
	CHECK(search(big, n) == IMAP_SEARCH_ERR_TOO_MANY, "100000 keys: TOO_MANY");
	n = build("a SEARCH", " SEEN", IMAP_SEARCH_DEFAULT_MAX_KEYS, "\r\n");
	CHECK(search(big, n) == IMAP_SEARCH_OK, "max_keys keys accepted");
	n = build("a SEARCH ", "NOT ", IMAP_SEARCH_DEFAULT_MAX_DEPTH, "ALL\r\n");
	CHECK(search(big, n) == IMAP_SEARCH_OK, "max_depth NOTs accepted");
	slim.max_ranges = 3;
	CHECK(search("a SEARCH 1,3 UID 5,7\r\n", 22) == IMAP_SEARCH_ERR_RANGES,
	    "sets over max_ranges");
	imap_limits_default(&plim);
	imap_search_limits_default(&slim);
	CHECK(!strcmp(imap_search_err_text(IMAP_SEARCH_ERR_TOO_DEEP), "Search nested too deeply") &&
	    !strcmp(imap_search_err_text(IMAP_SEARCH_ERR_COUNT), "Invalid search"), "error texts");
}

int
main(void)
{
	imap_limits_default(&plim);
	imap_search_limits_default(&slim);
	test_clients();
	test_bad();
	return tap_done();
}
