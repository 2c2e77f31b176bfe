/* test_imap_parse.c - IMAP commands as real clients send them, and every
 * refusal, fed whole, one byte at a time and in every chunk size.
 *
 * A transcript records the events: "tag NAME args;" for a command (atoms
 * bare, quoted strings in "", literals as {len}data, lists in (), a
 * SECTION as text(list)text2), "+N;" for a continuation request, "E<code>
 * tag;" for an error ("*" without a tag).  Streamed literal bytes are
 * gathered and shown as <data> in the command.  Each case must give the
 * same transcript however the input is cut. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/proto/imap_parse.h"
#include "tap.h"
#include "transcript.h"

static char streamed[4096];
static size_t nstreamed;
static uint32_t refuse_over = UINT32_MAX;	/* CONTINUE for larger literals: refused */



/* Literal data, with NUL shown as ^@. */
static void
put_bytes(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (b[i] == '\0')
			adds("^@");
		else
			add(b + i, 1);
	}
}

static void
put_args(const struct imap_arg *a)
{
	char n[32];

	for (; a != NULL; a = a->next) {
		switch (a->type) {
		case IMAP_ARG_ATOM: case IMAP_ARG_NIL:
			add(a->text, a->len);
			if (a->type == IMAP_ARG_NIL)
				adds("=NIL");
			break;
		case IMAP_ARG_QUOTED:
			adds("\"");
			add(a->text, a->len);
			adds("\"");
			break;
		case IMAP_ARG_LITERAL:
			snprintf(n, sizeof(n), "{%s%zu}", (a->flags & IMAP_ARGF_LITERAL8) ? "~" : "",
			    a->len);
			adds(n);
			if (a->flags & IMAP_ARGF_STREAMED) {
				adds("<");
				add(streamed, nstreamed);
				adds(">");
			} else {
				put_bytes(a->text, a->len);
			}
			break;
		case IMAP_ARG_LIST:
			adds("(");
			put_args(a->child);
			adds(")");
			break;
		case IMAP_ARG_SECTION:
			add(a->text, a->len);
			put_args(a->child);
			add(a->text2, a->len2);
			break;
		}
		if (a->next != NULL)
			adds(" ");
	}
}

/* The codes by name, so that each case names the one it expects. */
static const char *
errname(enum imap_err e)
{
	static const char *const names[IMAP_ERR_COUNT] = {
		"NONE", "EMPTY", "TAG", "NAME", "SPACE", "CHAR", "8BIT", "NUL", "ESCAPE",
		"QUOTED_EOL", "LITERAL", "LITERAL_TOO_BIG", "LITERAL_MINUS", "LITERAL_NONSYNC",
		"LITERAL_NUL", "TOO_MANY_LITERALS", "TOO_DEEP", "UNBALANCED", "TOO_MANY_ARGS",
		"LINE_TOO_LONG", "TOO_BIG", "SECTION",
	};

	return (unsigned)e < IMAP_ERR_COUNT ? names[e] : "?";
}

static void
record(struct imap_parser *p, const struct imap_event *ev)
{
	const struct imap_cmd *cmd = imap_parser_cmd(p);
	char n[128];

	switch (ev->type) {
	case IMAP_EV_COMMAND:
		snprintf(n, sizeof(n), "%s %s", cmd->tag, cmd->name);
		adds(n);
		if (cmd->args != NULL)
			adds(" ");
		put_args(cmd->args);
		adds(";");
		nstreamed = 0;
		break;
	case IMAP_EV_CONTINUE:
		snprintf(n, sizeof(n), "+%u;", ev->size);
		adds(n);
		if (ev->size > refuse_over)
			imap_parser_refuse(p);
		else
			imap_parser_accept(p);
		break;
	case IMAP_EV_LITERAL:
		if (nstreamed + ev->len <= sizeof(streamed)) {
			memcpy(streamed + nstreamed, ev->data, ev->len);
			nstreamed += ev->len;
		}
		break;
	case IMAP_EV_ERROR:
		snprintf(n, sizeof(n), "E%s %s;", errname(ev->err), ev->tag ? ev->tag : "*");
		adds(n);
		nstreamed = 0;
		break;
	case IMAP_EV_NEED_MORE:
		break;
	}
}

static const char *
run(const struct imap_limits *lim, unsigned flags, const char *in, size_t inlen, size_t chunk)
{
	struct imap_parser *p = imap_parser_new(lim, flags);
	size_t off = 0;

	transcript[0] = '\0';
	nstreamed = 0;
	if (p == NULL)
		return "NOPARSER";
	while (off < inlen) {
		size_t n = inlen - off < chunk ? inlen - off : chunk, used = 0;
		struct imap_event ev;
		imap_parser_feed(p, (const uint8_t *)in + off, n, &used, &ev);
		if (used == 0 || used > n) {
			adds("NOPROGRESS;");
			break;
		}
		record(p, &ev);
		off += used;
	}
	imap_parser_free(p);
	return transcript;
}

static void
check_case(const struct imap_limits *lim, unsigned flags, const char *in, size_t inlen,
    const char *expect, const char *name)
{
	char msg[200];
	size_t c, step = inlen > 400 ? inlen / 50 : 1;
	int ok = 1;

	snprintf(msg, sizeof(msg), "%s (whole)", name);
	CHECK(!strcmp(run(lim, flags, in, inlen, inlen), expect), msg);
	if (strcmp(transcript, expect))
		printf("#   got \"%.300s\"\n#  want \"%.300s\"\n", transcript, expect);
	snprintf(msg, sizeof(msg), "%s (byte at a time)", name);
	CHECK(!strcmp(run(lim, flags, in, inlen, 1), expect), msg);
	for (c = 2; c < inlen; c += step)
		if (strcmp(run(lim, flags, in, inlen, c), expect) != 0) {
			printf("#   chunk %zu: got \"%.300s\"\n", c, transcript);
			ok = 0;
			break;
		}
	snprintf(msg, sizeof(msg), "%s (chunked)", name);
	CHECK(ok, msg);
}

static struct imap_limits lim;

#define PF (IMAP_PF_LITERAL_PLUS)
#define TL(l, flags, in, expect, name) check_case(l, flags, in, sizeof(in) - 1, expect, name)
#define T(in, expect, name) check_case(&lim, PF, in, sizeof(in) - 1, expect, name)
#define TF(flags, in, expect, name) check_case(&lim, flags, in, sizeof(in) - 1, expect, name)

static void
test_clients(void)
{
	T("a001 CAPABILITY\r\n", "a001 CAPABILITY;", "CAPABILITY");
	T("a1 login \"user\" \"p\\\"w\\\\\"\r\n", "a1 LOGIN \"user\" \"p\"w\\\";",
	    "LOGIN with escapes (lower-case name upper-cased)");
	T("A2 LIST \"\" \"*\"\r\n", "A2 LIST \"\" \"*\";", "LIST \"\" \"*\"");
	T("A3 LIST (SUBSCRIBED) \"\" \"*\" RETURN (STATUS (MESSAGES UNSEEN))\r\n",
	    "A3 LIST (SUBSCRIBED) \"\" \"*\" RETURN (STATUS (MESSAGES UNSEEN));",
	    "LIST-EXTENDED with RETURN STATUS");
	T("1 ID (\"name\" \"x\" \"version\" NIL)\r\n", "1 ID (\"name\" \"x\" \"version\" NIL=NIL);",
	    "ID with NIL");
	T("2 ENABLE CONDSTORE\r\n", "2 ENABLE CONDSTORE;", "ENABLE CONDSTORE");
	T("3 SELECT INBOX (CONDSTORE)\r\n", "3 SELECT INBOX (CONDSTORE);", "SELECT (CONDSTORE)");
	T("4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n",
	    "4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345);", "UID FETCH CHANGEDSINCE joins UID");
	T("5 uid store 2,4:7 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\n",
	    "5 UID STORE 2,4:7 +FLAGS.SILENT (\\Seen \\Deleted $Junk);", "mutt UID STORE");
	T("6 UID FETCH 1:3 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc "
	  "Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To "
	  "Content-Type Reply-To)])\r\n",
	    "6 UID FETCH 1:3 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS(From To Cc Bcc "
	    "Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To "
	    "Content-Type Reply-To)]);", "Thunderbird header fetch");
	T("7 FETCH 1 BODY[HEADER.FIELDS (From To)]<0.100>\r\n",
	    "7 FETCH 1 BODY[HEADER.FIELDS(From To)]<0.100>;", "section list and partial");
	T("8 FETCH 2 (BODY.PEEK[]<0.2048> BINARY.PEEK[1.2] BODY[1.MIME])\r\n",
	    "8 FETCH 2 (BODY.PEEK[]<0.2048> BINARY.PEEK[1.2] BODY[1.MIME]);",
	    "brackets without a list stay in the atom");
	T("9 FETCH 1 BODY[HEADER.FIELDS.NOT (\"X-A\" {3+}\r\nX-B)]\r\n",
	    "9 FETCH 1 BODY[HEADER.FIELDS.NOT(\"X-A\" {3}X-B)];", "quoted and literal in a section");
	T("10 SELECT foo[bar]\r\n", "10 SELECT foo[bar];", "brackets in a mailbox atom");
	T("11 APPEND INBOX (\\Seen) \" 1-Feb-2024 10:00:00 +0100\" {10}\r\nHello\r\nBye\r\n",
	    "+10;11 APPEND INBOX (\\Seen) \" 1-Feb-2024 10:00:00 +0100\" {10}Hello\r\nBye;",
	    "APPEND with a synchronizing literal");
	T("12 APPEND Sent {5+}\r\nHello\r\n", "12 APPEND Sent {5}Hello;",
	    "APPEND with LITERAL+: no continuation");
	T("13 LOGIN {4}\r\nuser {4}\r\npass\r\n", "+4;+4;13 LOGIN {4}user {4}pass;",
	    "two synchronizing literals");
	T("14 APPEND INBOX ~{5}\r\nab\0cd\r\n", "+5;14 APPEND INBOX {~5}ab^@cd;",
	    "literal8 allows NUL");
	T("15 NOOP\r\n16 NOOP\n17 IDLE\r\nDONE\r\n", "15 NOOP;16 NOOP;17 IDLE;ENAME DONE;",
	    "pipelined; bare LF; IDLE's DONE is no command");
	T("18 SEARCH CHARSET UTF-8 SUBJECT {4+}\r\n\xc3\xa9t\xc3\r\n",
	    "18 SEARCH CHARSET UTF-8 SUBJECT {4}\xc3\xa9t\xc3;", "8-bit bytes in a literal");
	T("19 STATUS ~archive (MESSAGES)\r\n", "19 STATUS ~archive (MESSAGES);",
	    "~ starts an atom unless { follows");
	T("20 FETCH 1 (X)\r\n21 LOGOUT\r\n", "20 FETCH 1 (X);21 LOGOUT;", "pipelined pair");
	T("22 UID\r\n", "22 UID;", "UID alone keeps its name");
	T("23 SETQUOTA \"\" (STORAGE 512)\r\n", "23 SETQUOTA \"\" (STORAGE 512);", "empty quoted");
	T("24 X ()\r\n", "24 X ();", "empty list");
	T("27 UID FETCH 1:4294967295 (UID FLAGS)\r\n", "27 UID FETCH 1:4294967295 (UID FLAGS);",
	    "mbsync UID FETCH");
	T("28 APPEND \"INBOX\" (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {12+}\r\nSubject: x\r\n\r\n",
	    "28 APPEND \"INBOX\" (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {12}Subject: x\r\n;",
	    "mbsync APPEND with LITERAL+");
	T("29 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
	    "29 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED);", "iOS Mail QRESYNC fetch");
	T("30 UID FETCH 120 (BODYSTRUCTURE BODY.PEEK[1]<0.4096> BODY.PEEK[HEADER])\r\n",
	    "30 UID FETCH 120 (BODYSTRUCTURE BODY.PEEK[1]<0.4096> BODY.PEEK[HEADER]);",
	    "iOS Mail partial body fetch");
	T("25 X {0}\r\n\r\n", "+0;25 X {0};", "empty literal");
	TF(PF | IMAP_PF_UTF8, "26 CREATE \"caf\xc3\xa9\"\r\n", "26 CREATE \"caf\xc3\xa9\";",
	    "UTF8=ACCEPT: 8-bit in a quoted string");
}

static void
test_bad(void)
{
	T("\r\n", "EEMPTY *;", "empty line");
	T("\r\na NOOP\r\n", "EEMPTY *;a NOOP;", "empty line, then a command");
	T("a\r\n", "ENAME a;", "tag without command");
	T(" a NOOP\r\n", "ETAG *;", "leading space");
	T("a+ NOOP\r\n", "ETAG *;", "+ in a tag");
	T("a{ NOOP\r\nb NOOP\r\n", "ETAG *;b NOOP;", "{ in a tag, next line parses");
	T("a  NOOP\r\n", "ENAME a;", "double space after the tag");
	T("a NO_OP\r\n", "ENAME a;", "bad command name");
	T("a NOOP \r\n", "ESPACE a;", "trailing space");
	T("a X a  b\r\n", "ESPACE a;", "double space between arguments");
	T("a X ( a)\r\n", "ESPACE a;", "space after (");
	T("a X (a )\r\n", "ESPACE a;", "space before )");
	T("a X (a)(b)\r\n", "ESPACE a;", "missing space between lists");
	T("a X \"q\"b\r\n", "ESPACE a;", "missing space after a string");
	T("a X (a\r\nb NOOP\r\n", "EUNBALANCED a;b NOOP;", "line ends inside a list");
	T("a X a)\r\n", "EUNBALANCED a;", ") without (");
	T("a X \"ab\0c\"\r\nb NOOP\r\n", "ENUL a;b NOOP;", "NUL in a quoted string");
	T("a X ab\0c\r\n", "ENUL a;", "NUL in an atom");
	T("a LOGIN {3}\r\na\0b\r\nb NOOP\r\n", "+3;ELITERAL_NUL a;b NOOP;", "NUL in a literal");
	T("a LOGIN {3+}\r\n\0ab x\r\nb NOOP\r\n", "ELITERAL_NUL a;b NOOP;",
	    "NUL first in a literal: the rest skipped, no lines from it");
	T("a X \"a\\b\"\r\n", "EESCAPE a;", "bad escape");
	T("a X \"ab\r\nb NOOP\r\n", "EQUOTED_EOL a;b NOOP;", "CR in a quoted string");
	T("a X \"ab\nb NOOP\r\n", "EQUOTED_EOL a;b NOOP;", "LF in a quoted string ends the line");
	T("a X \xff\r\n", "E8BIT a;", "8-bit atom");
	T("a X \"\xc3\xa9\"\r\n", "E8BIT a;", "8-bit quoted without UTF8=ACCEPT");
	T("a X a\rb\r\n", "ECHAR a;", "bare CR");
	T("a X a\"b\r\n", "ECHAR a;", "quote inside an atom");
	T("a X {}\r\n", "ELITERAL a;", "literal without a size");
	T("a X {1x}\r\n", "ELITERAL a;", "literal with a bad size");
	T("a X {1}x\r\n", "ELITERAL a;", "literal not at the line end");
	T("a X {99999999999}\r\nb NOOP\r\n", "ELITERAL a;b NOOP;", "literal size over 32 bits");
	T("a X {123456789012}\r\n", "ELITERAL a;", "12-digit literal size");
	T("a X BODY[(a)]\r\n", "ESECTION a;", "( right after [");
	T("a X BODY[a b]\r\n", "ESECTION a;", "space in brackets not before (");
	T("a X BODY[a (b)x]\r\n", "ESECTION a;", "section list not followed by ]");
	T("a X BODY[a\r\n", "ESECTION a;", "unclosed [");
	T("a X BODY[a (b)]x[\r\n", "ESECTION a;", "[ after a section list");
	TF(0, "a X {3+}\r\nabc\r\nb NOOP\r\n", "ELITERAL_NONSYNC a;b NOOP;",
	    "LITERAL+ not enabled: refused, its bytes skipped");
}



static void
test_limits(void)
{
	struct imap_limits l = lim;
	size_t n;

	n = build("a X ", "(", 32, "");
	n += (size_t)snprintf(big + n, sizeof(big) - n, "%.32s\r\n",
	    "))))))))))))))))))))))))))))))))");
	check_case(&lim, PF, big, n, "a X (((((((((((((((((((((((((((((((())))))))))))))))))))))))))))))));",
	    "32 nested lists accepted");
	n = build("a X ", "(", 33, "\r\nb NOOP\r\n");
	check_case(&lim, PF, big, n, "ETOO_DEEP a;b NOOP;", "33 nested lists refused");
	n = build("a SEARCH ", "(", 100000, "ALL\r\nb NOOP\r\n");
	check_case(&lim, PF, big, n, "ETOO_DEEP a;b NOOP;", "100000 ( refused, next line parses");
	n = build("a X", " {1+}\r\nx", 64, "\r\n");
	CHECK(!strncmp(run(&lim, PF, big, n, n), "a X {1}x", 8), "64 literals accepted");
	n = build("a X", " {1+}\r\nx", 65, "\r\nb NOOP\r\n");
	check_case(&lim, PF, big, n, "ETOO_MANY_LITERALS a;b NOOP;",
	    "65 literals refused, the last one's byte skipped");
	n = build("a X", " {1}\r\nx", 65, "\r\nb NOOP\r\n");
	CHECK(strstr(run(&lim, PF, big, n, n), "ETOO_MANY_LITERALS a;") != NULL,
	    "65 synchronizing literals: the 65th refused before its bytes");
	T("a APPEND INBOX {4294967295}\r\nb NOOP\r\n", "ELITERAL_TOO_BIG a;b NOOP;",
	    "huge synchronizing literal refused; the client sends nothing");
	T("a APPEND INBOX {4294967295+}\r\nb NOOP\r\n", "ELITERAL_TOO_BIG a;",
	    "huge non-sync literal refused; its bytes would be skipped");
	refuse_over = 10;
	T("a APPEND INBOX {11}\r\nb NOOP\r\n", "+11;b NOOP;", "caller refuses a literal (quota)");
	refuse_over = UINT32_MAX;
	n = build("a X {4097+}\r\n", "x", 4097, "\r\nb NOOP\r\n");
	check_case(&lim, IMAP_PF_LITERAL_MINUS, big, n, "ELITERAL_MINUS a;b NOOP;",
	    "LITERAL-: 4097-byte non-sync literal refused, skipped");
	n = build("a X {4096+}\r\n", "x", 4096, "\r\n");
	CHECK(strstr(run(&lim, IMAP_PF_LITERAL_MINUS, big, n, 7), "ELITERAL") == NULL,
	    "LITERAL-: 4096-byte non-sync literal accepted");
	n = build("a X {4097}\r\n", "x", 4097, "\r\n");
	CHECK(strncmp(run(&lim, IMAP_PF_LITERAL_MINUS, big, n, 7), "+4097;a X {4097}", 16) == 0,
	    "LITERAL-: a big synchronizing literal is fine");

	l.max_line = 16;
	TL(&l, PF, "a X 0123456789\r\n", "a X 0123456789;", "line of max_line");
	TL(&l, PF, "a X 01234567890\r\nb NOOP\r\n", "ELINE_TOO_LONG a;b NOOP;",
	    "line over max_line refused once");
	TL(&l, PF, "a X {10+}\r\n0123456789 abcdefgh\r\n", "a X {10}0123456789 abcdefgh;",
	    "literal data does not count as line");
	l = lim;
	l.max_args = 4;
	TL(&l, PF, "a X a (b) c\r\n", "a X a (b) c;", "four nodes");
	TL(&l, PF, "a X a (b) c d\r\nb NOOP\r\n", "ETOO_MANY_ARGS a;b NOOP;",
	    "five nodes refused");
	l = lim;
	l.max_command = 20;
	l.max_buffered = 100;
	TL(&l, PF, "a X {30}\r\nb NOOP\r\n", "ETOO_BIG a;b NOOP;",
	    "buffered literal over the command size refused before its bytes");
	TL(&l, PF, "a X aaaaaaaa bbbbbbbbb\r\nb NOOP\r\n", "ETOO_BIG a;b NOOP;",
	    "command over max_command");
	l = lim;
	l.max_buffered = 4;
	TL(&l, PF, "a APPEND X {10+}\r\n0123456789 {3}\r\nabc\r\n",
	    "+3;a APPEND X {10}<0123456789> {3}abc;", "big literal streamed, small one buffered");
	TL(&l, PF, "a APPEND X {10+}\r\n012\0" "456789\r\nb NOOP\r\n",
	    "ELITERAL_NUL a;b NOOP;", "NUL in a streamed literal");
	l.max_depth = 0;
	CHECK(imap_parser_new(&(struct imap_limits){ 0 }, 0) == NULL, "zero limits refused");
}

static void
test_misc(void)
{
	struct imap_parser *p = imap_parser_new(&lim, 0);
	struct imap_event ev;
	size_t used;
	const char *in = "a APPEND X {3}\r\n";

	CHECK(imap_parser_feed(p, (const uint8_t *)in, strlen(in), &used, &ev) == IMAP_EV_CONTINUE &&
	    used == strlen(in) && ev.size == 3 && !strcmp(ev.tag, "a") &&
	    !strcmp(imap_parser_cmd(p)->name, "APPEND"), "CONTINUE names tag, command, size");
	CHECK(imap_parser_feed(p, (const uint8_t *)"abc\r\n", 5, &used, &ev) == IMAP_EV_COMMAND &&
	    used == 5, "feeding after CONTINUE accepts");
	imap_parser_free(p);
	CHECK(!strcmp(imap_err_text(IMAP_ERR_TOO_DEEP), "Lists nested too deeply") &&
	    !strcmp(imap_err_text(IMAP_ERR_COUNT), "Invalid command"), "error texts");
}

int
main(void)
{
	imap_limits_default(&lim);
	test_clients();
	test_bad();
	test_limits();
	test_misc();
	return tap_done();
}
