/* test_imap_eval - SEARCH keys against messages (common/mail/imap_eval.h).
 * Searches go through the command parser and imap_search_parse() as a
 * client's would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/mail/imap_eval.h"
#include "../../common/mail/mindex.h"
#include "../../common/proto/imap_parse.h"
#include "../../common/proto/imap_search.h"
#include "tap.h"

static struct imap_parser *parser;
static struct imap_search search;

static int
parse(const char *keys)
{
	char line[4096];
	size_t used, off = 0, n;
	struct imap_event ev;
	int r = -1;

	/* the whole line, also after an error (the parser skips to its end) */
	n = (size_t)snprintf(line, sizeof(line), "a SEARCH %s\r\n", keys);
	while (off < n) {
		imap_parser_feed(parser, (const uint8_t *)line + off, n - off, &used, &ev);
		off += used;
		if (ev.type == IMAP_EV_COMMAND)
			r = imap_search_parse(&search, imap_parser_cmd(parser)->args) ==
			    IMAP_SEARCH_OK ? 0 : -1;
	}
	return r;
}

static int
keyword(void *arg, const uint8_t *name, size_t len, uint32_t *bit_r)
{
	(void)arg;
	if (len == 5 && memcmp(name, "$Junk", 5) == 0) {
		*bit_r = MINDEX_KEYWORD0;
		return 1;
	}
	if (len == 7 && strncasecmp((const char *)name, "$Urgent", 7) == 0) {
		*bit_r = MINDEX_KEYWORD0 << 3;
		return 1;
	}
	return 0;
}

static const uint32_t saved[] = { 3, 42, 99 };
static struct imap_eval_ctx ctx = {
	.max_seq = 5, .max_uid = 50, .keyword = keyword, .saved = saved, .nsaved = 3,
};

static const char msg1[] =
    "From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.org>\n"
    "To: Bob <bob@example.net>, carl@example.com\n"
    "Cc: dora@example.org\n"
    "Subject: =?ISO-8859-1?Q?Caf=E9?= talk\n"
    " continued\n"
    "X-Empty:\n"
    "X-Cyr: =?UTF-8?B?0J/RgNC40LLQtdGC?=\n"
    "Date: Mon, 30 Nov 2026 23:30:00 -0500\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain; charset=ISO-8859-1\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "R3L832UgYXVzIEvWTE4K\n"
    "--b\n"
    "Content-Type: application/octet-stream\n"
    "\n"
    "secretattachment\n"
    "--b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner subject\n"
    "\n"
    "inner text\n"
    "--b--\n";

/* msg1 as the index sees it */
static struct imap_eval_msg m1 = {
	.seq = 3, .uid = 42, .flags = MINDEX_SEEN | MINDEX_FLAGGED | MINDEX_KEYWORD0,
	.modseq = 9, .size = 700, .date = 1764633600 /* 2025-12-02 00:00:00 UTC */,
	.msg = (const uint8_t *)msg1,
};

/* The keys as a one-line ASCII test name (the runner reads UTF-8 text). */
static const char *
name_of(const char *keys)
{
	static char n[256];
	size_t i;

	for (i = 0; keys[i] != '\0' && i < sizeof(n) - 1; i++)
		n[i] = keys[i] < ' ' || keys[i] > '~' ? '.' : keys[i];
	n[i] = '\0';
	return n;
}

/* The result of keys against m (-9: did not parse). */
static int
eval(const char *keys, const struct imap_eval_msg *m)
{
	if (parse(keys) < 0) {
		printf("# parse: %s\n", name_of(keys));
		return -9;
	}
	return imap_eval_match(&search, &ctx, m);
}

#define IS(keys, want) CHECK(eval(keys, &m1) == (want), name_of(keys))

static void
test_flags(void)
{
	IS("SEEN", 1);
	IS("UNSEEN", 0);
	IS("FLAGGED", 1);
	IS("UNFLAGGED", 0);
	IS("ANSWERED", 0);
	IS("UNANSWERED", 1);
	IS("DELETED", 0);
	IS("UNDELETED", 1);
	IS("DRAFT", 0);
	IS("UNDRAFT", 1);
	IS("ALL", 1);
	IS("NEW", 0);
	IS("RECENT", 0);
	IS("OLD", 1);
	IS("KEYWORD $Junk", 1);
	IS("UNKEYWORD $Junk", 0);
	IS("KEYWORD $Urgent", 0);
	IS("UNKEYWORD $urgent", 1);
	IS("KEYWORD $Nothing", 0);
	IS("UNKEYWORD $Nothing", 1);
	IS("MODSEQ 9", 1);
	IS("MODSEQ 10", 0);
	IS("MODSEQ \"/flags/\\\\Seen\" all 9", 1);
}

static void
test_sets(void)
{
	IS("3", 1);
	IS("1:2,4:5", 0);
	IS("*", 0);
	IS("3:*", 1);
	IS("7:*", 0);	/* 5:7 */
	IS("UID 42", 1);
	IS("UID 1:41,43", 0);
	IS("UID *", 0);
	IS("UID 60:*", 0);	/* 50:60 */
	IS("UID 40:*", 1);
	IS("UID $", 1);
	IS("$", 1);	/* the saved UIDs */
	CHECK(eval("*", &(struct imap_eval_msg){ .seq = 5 }) == 1, "* is the last");
	CHECK(eval("2:*", &(struct imap_eval_msg){ .seq = 5 }) == 1, "2:* holds the last");
	CHECK(eval("UID *", &(struct imap_eval_msg){ .uid = 50 }) == 1, "UID * is the largest");
	CHECK(eval("UID $", &(struct imap_eval_msg){ .uid = 43 }) == 0, "not saved");
	CHECK(eval("UID 60:*", &(struct imap_eval_msg){ .uid = 55 }) == 1, "60:* with 50 is 50:60");
}

static void
test_logic(void)
{
	IS("SEEN FLAGGED", 1);
	IS("SEEN DELETED", 0);
	IS("NOT SEEN", 0);
	IS("NOT NOT SEEN", 1);
	IS("OR DELETED SEEN", 1);
	IS("OR DELETED DRAFT", 0);
	IS("NOT (SEEN FLAGGED)", 0);
	IS("NOT (SEEN DELETED)", 1);
	IS("OR (SEEN DELETED) (UID 42 NOT UID 43)", 1);
	IS("OR (SEEN DELETED) (UID 41 NOT UID 43)", 0);
	IS("(OR DRAFT (NOT (OR DELETED ANSWERED))) SEEN (3)", 1);
	IS("NOT OR DRAFT NOT OR DELETED ANSWERED", 0);
	IS("OR SEEN BODY nothing-there", 1);
}

static void
test_meta(void)
{
	IS("LARGER 699", 1);
	IS("LARGER 700", 0);
	IS("SMALLER 701", 1);
	IS("SMALLER 700", 0);
	IS("ON 2-Dec-2025", 1);
	IS("ON 1-Dec-2025", 0);
	IS("BEFORE 2-Dec-2025", 0);
	IS("BEFORE 3-Dec-2025", 1);
	IS("SINCE 2-Dec-2025", 1);
	IS("SINCE 3-Dec-2025", 0);
	/* Date: 30 Nov 23:30 -0500 is 1 Dec in UTC: its own zone counts */
	IS("SENTON 30-Nov-2026", 1);
	IS("SENTON 1-Dec-2026", 0);
	IS("SENTBEFORE 30-Nov-2026", 0);
	IS("SENTBEFORE 1-Dec-2026", 1);
	IS("SENTSINCE 30-Nov-2026", 1);
	IS("SENTSINCE 1-Dec-2026", 0);
	CHECK(eval("SENTSINCE 1-Jan-1970", &(struct imap_eval_msg){ .msg = (const uint8_t *)"X: y\n\n",
	    .len = 6 }) == 0, "no Date: no SENT* match");
}

static void
test_strings(void)
{
	IS("FROM renee", 1);
	IS("FROM \"Renée\"", -9);	/* 8-bit outside a literal: the parser refuses */
	IS("FROM {6+}\r\nRENÉE", 1);
	IS("FROM bob", 0);
	IS("TO BOB@EXAMPLE.NET", 1);
	IS("TO carl", 1);
	IS("CC dora", 1);
	IS("BCC dora", 0);
	IS("SUBJECT \"talk continued\"", 1);	/* unfolded */
	IS("SUBJECT {5+}\r\nCAFÉ", 1);		/* RFC 2047 Latin-1, folded */
	IS("SUBJECT inner", 0);
	IS("HEADER X-Cyr {12+}\r\nПРИВЕТ", 1);	/* Cyrillic folding */
	IS("HEADER X-Empty \"\"", 1);
	IS("HEADER X-None \"\"", 0);
	IS("HEADER subject CAF", 1);
	IS("BODY {7+}\r\nGRÜSSE", 0);
	IS("BODY {7+}\r\ngrÜße", 1);	/* base64, ISO-8859-1 */
	IS("BODY \"aus kö\"", -9);
	IS("BODY {8+}\r\naus KÖL", 1);
	IS("BODY secretattachment", 0);	/* not a text part */
	IS("BODY \"inner subject\"", 1);	/* an encapsulated header is body */
	IS("BODY \"INNER TEXT\"", 1);
	IS("BODY talk", 0);
	IS("TEXT talk", 1);
	IS("TEXT \"x-cyr:\"", 1);
	IS("TEXT \"inner text\"", 1);
	IS("TEXT nowhere", 0);
	IS("BODY \"\"", 1);
	ctx.charset = DECODE_CS_LATIN1;
	IS("CHARSET ISO-8859-1 BODY {3+}\r\nGR\xdc", 1);
	IS("CHARSET ISO-8859-1 SUBJECT {4+}\r\ncaf\xc9", 1);
	ctx.charset = DECODE_CS_UTF8;
}

static void
test_unknown(void)
{
	struct imap_eval_msg m = m1;

	m.msg = NULL;
	m.len = 0;
	CHECK(eval("UNSEEN BODY x", &m) == 0, "flags decide without the message");
	CHECK(eval("SEEN BODY x", &m) == IMAP_EVAL_UNKNOWN, "content needed");
	CHECK(eval("OR SEEN BODY x", &m) == 1, "OR decided");
	CHECK(eval("NOT SUBJECT x", &m) == IMAP_EVAL_UNKNOWN, "NOT of unknown");
	CHECK(eval("OR DELETED NOT SENTON 1-Jan-2000", &m) == IMAP_EVAL_UNKNOWN, "OR of unknown");
}

static void
test_needs(void)
{
	CHECK(parse("SEEN UID 1:* NOT KEYWORD x MODSEQ 3 $") == 0 &&
	    imap_eval_needs(&search) == 0, "flags, sets: nothing");
	CHECK(parse("SEEN OR LARGER 3 SINCE 1-Jan-2020") == 0 &&
	    imap_eval_needs(&search) == IMAP_FETCH_NEED_META, "meta");
	CHECK(parse("NOT (SEEN (FROM x))") == 0 &&
	    imap_eval_needs(&search) == IMAP_FETCH_NEED_HEADER, "header");
	CHECK(parse("SENTON 1-Jan-2020") == 0 &&
	    imap_eval_needs(&search) == IMAP_FETCH_NEED_HEADER, "Date: is header");
	CHECK(parse("OR BEFORE 1-Jan-2020 TEXT x") == 0 && imap_eval_needs(&search) ==
	    (IMAP_FETCH_NEED_META | IMAP_FETCH_NEED_HEADER | IMAP_FETCH_NEED_BODY), "body");
}

static void
test_charsets(void)
{
	CHECK(imap_eval_charset((const uint8_t *)"utf-8", 5) == 0, "UTF-8");
	CHECK(imap_eval_charset((const uint8_t *)"US-ASCII", 8) == 0, "US-ASCII");
	CHECK(imap_eval_charset((const uint8_t *)"iso-8859-15", 11) == 0, "ISO-8859-15");
	CHECK(imap_eval_charset((const uint8_t *)"windows-1252", 12) == 0, "Windows-1252");
	CHECK(imap_eval_charset((const uint8_t *)"KOI8-R", 6) == -1, "KOI8-R refused");
	CHECK(strcmp(imap_eval_charsets(), "UTF-8 US-ASCII ISO-8859-1 ISO-8859-15 WINDOWS-1252") == 0,
	    "BADCHARSET list");
}

static void
test_limits(void)
{
	struct imap_eval_scratch *small = imap_eval_scratch_new(16), *keep = ctx.scratch;

	ctx.scratch = small;
	CHECK(eval("SUBJECT x", &m1) == -1, "text over the scratch's max: error");
	CHECK(eval("SEEN", &m1) == 1, "flags need no scratch room");
	ctx.scratch = NULL;
	CHECK(eval("SUBJECT x", &m1) == -1, "content key without a scratch");
	ctx.scratch = keep;
	imap_eval_scratch_free(small);
}

int
main(void)
{
	struct imap_limits lim;
	struct imap_search_limits slim;

	imap_limits_default(&lim);
	imap_search_limits_default(&slim);
	parser = imap_parser_new(&lim, IMAP_PF_LITERAL_PLUS);
	imap_search_init(&search, &slim);
	m1.len = strlen(msg1);
	ctx.scratch = imap_eval_scratch_new(1 << 20);
	ctx.charset = DECODE_CS_UTF8;
	test_flags();
	test_sets();
	test_logic();
	test_meta();
	test_strings();
	test_unknown();
	test_needs();
	test_charsets();
	test_limits();
	imap_eval_scratch_free(ctx.scratch);
	imap_search_free(&search);
	imap_parser_free(parser);
	return tap_done();
}
