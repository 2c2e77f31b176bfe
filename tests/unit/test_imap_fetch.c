/* test_imap_fetch - FETCH plans and answers (common/mail/imap_fetch.h).
 * Commands go through the real command parser; the expected answers are
 * worked out by hand from RFC 9051 7.5.2 and RFC 3516.  Messages are kept
 * with LF line ends, as a Maildir may hold them: every size in an answer
 * is the CRLF one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/mail/imap_fetch.h"
#include "../../common/proto/imap_parse.h"
#include "tap.h"

static struct imap_parser *parser;

/* Parse "a FETCH 1 <rest>" (or UID FETCH) into p.  0, or -1 (+ *err_r). */
static int
plan_of(const char *rest, int uid, struct imap_fetch_plan *p, const char **err_r)
{
	char line[2048];
	size_t used, off = 0, n;
	struct imap_event ev;
	const struct imap_cmd *cmd;
	int r = -1;

	/* the whole line, also after an error (the parser skips to its end) */
	*err_r = "command parser";
	n = (size_t)snprintf(line, sizeof(line), "a %sFETCH 1 %s\r\n", uid ? "UID " : "", rest);
	while (off < n) {
		imap_parser_feed(parser, (const uint8_t *)line + off, n - off, &used, &ev);
		off += used;
		if (ev.type != IMAP_EV_COMMAND)
			continue;
		cmd = imap_parser_cmd(parser);
		r = imap_fetch_parse(cmd->args->next, cmd->args->next->next, uid, p, err_r);
	}
	return r;
}

static const char simple_msg[] =
    "From: Ann <ann@example.org>\n"
    "To: bob@example.org\n"
    "Subject: hello\n"
    " world\n"
    "Date: Tue, 1 Dec 2026 10:00:00 +0100\n"
    "\n"
    "line one\n"
    "line two\n";

static const char multi_msg[] =
    "From: ann@example.org\n"
    "Subject: parts\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\n"
    "\n"
    "preamble\n"
    "--XX\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=E9 =\n"
    "ok\n"
    "--XX\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AGFiYwA=\n"
    "--XX\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: carl@example.org\n"
    "Subject: inner\n"
    "\n"
    "inner body\n"
    "--XX\n"
    "Content-Type: application/x-thing\n"
    "Content-Transfer-Encoding: x-uuencode\n"
    "\n"
    "begin 644 x\n"
    "--XX--\n";

/* Render rest against msg; compare with want (NUL-free text). */
static int
answer_is(const char *rest, int uid, const char *msg, const char *want)
{
	struct imap_fetch_plan p;
	struct imap_fetch_msg m = { .seq = 3, .uid = 42, .modseq = 7, .size = 1234,
	    .date = 1764583200, .flags = "(\\Seen)" };
	struct buf out;
	const char *err = NULL;
	int ok;

	if (plan_of(rest, uid, &p, &err) < 0) {
		printf("# %s: %s\n", rest, err);
		return 0;
	}
	if (msg != NULL) {
		m.msg = (const uint8_t *)msg;
		m.len = strlen(msg);
	}
	buf_init(&out, 1 << 20);
	ok = imap_fetch_render(&p, &m, &out) == 0 && out.len == strlen(want) &&
	    memcmp(out.data, want, out.len) == 0;
	if (!ok)
		printf("# %s\n# got  %.*s# want %s", rest, (int)out.len, (const char *)out.data, want);
	buf_free(&out, 0);
	return ok;
}

static int
refused(const char *rest)
{
	struct imap_fetch_plan p;
	const char *err = NULL;

	return plan_of(rest, 0, &p, &err) < 0 && err != NULL && err[0] != '\0';
}

static void
test_plans(void)
{
	struct imap_fetch_plan p;
	const char *err;

	CHECK(plan_of("FAST", 0, &p, &err) == 0 && p.nitems == 3 &&
	    p.need == IMAP_FETCH_NEED_META && !p.sets_seen, "FAST: meta only");
	CHECK(plan_of("(UID FLAGS MODSEQ)", 0, &p, &err) == 0 && p.need == 0, "flags only: nothing");
	CHECK(plan_of("ALL", 0, &p, &err) == 0 && p.nitems == 4 &&
	    p.need == (IMAP_FETCH_NEED_META | IMAP_FETCH_NEED_HEADER), "ALL: header");
	CHECK(plan_of("FULL", 0, &p, &err) == 0 && p.nitems == 5 && p.need_mime &&
	    (p.need & IMAP_FETCH_NEED_BODY), "FULL: body");
	CHECK(plan_of("BODY.PEEK[HEADER.FIELDS (From)]", 0, &p, &err) == 0 &&
	    p.need == IMAP_FETCH_NEED_HEADER && !p.sets_seen && !p.need_mime, "fields: header");
	CHECK(plan_of("RFC822.HEADER", 0, &p, &err) == 0 && !p.sets_seen, "RFC822.HEADER peeks");
	CHECK(plan_of("BODY[]", 0, &p, &err) == 0 && p.sets_seen, "BODY[] sets \\Seen");
	CHECK(plan_of("(RFC822.TEXT)", 0, &p, &err) == 0 && p.sets_seen, "RFC822.TEXT sets \\Seen");
	CHECK(plan_of("BINARY[1]", 0, &p, &err) == 0 && p.sets_seen && p.need_mime, "BINARY sets");
	CHECK(plan_of("BINARY.PEEK[1]", 0, &p, &err) == 0 && !p.sets_seen, "BINARY.PEEK peeks");
	CHECK(plan_of("BINARY.SIZE[1]", 0, &p, &err) == 0 && !p.sets_seen, "BINARY.SIZE peeks");
	CHECK(plan_of("(FLAGS BODY[TEXT])", 0, &p, &err) == 0 && p.flags_asked, "FLAGS asked");
	CHECK(plan_of("FLAGS (CHANGEDSINCE 12345)", 0, &p, &err) == 0 && p.changedsince_set &&
	    p.changedsince == 12345 && p.nitems == 2 && p.item[1].att == IMAP_FA_MODSEQ,
	    "CHANGEDSINCE adds MODSEQ");
	CHECK(plan_of("FLAGS", 1, &p, &err) == 0 && p.nitems == 2 && p.item[0].att == IMAP_FA_UID,
	    "UID FETCH adds UID first");
	CHECK(plan_of("(UID UID FLAGS uid)", 1, &p, &err) == 0 && p.nitems == 2, "once each");
	CHECK(refused("FOO"), "unknown item");
	CHECK(refused("(ALL)"), "macro inside a list");
	CHECK(refused("()"), "empty list");
	CHECK(refused("BODY[HEADER.FIELDS]"), "HEADER.FIELDS without list");
	CHECK(refused("BODY[HEADER.FIELDS ()]"), "empty field list");
	CHECK(refused("BODY[TEXT (From)]"), "list after TEXT");
	CHECK(refused("BODY[0]"), "part 0");
	CHECK(refused("BODY[01]"), "leading zero");
	CHECK(refused("BODY[1.]"), "trailing dot");
	CHECK(refused("BODY[MIME]"), "MIME without a part");
	CHECK(refused("BODY[1.FOO]"), "unknown section word");
	CHECK(refused("BINARY[HEADER]"), "BINARY words");
	CHECK(refused("BINARY.SIZE[1]<0.5>"), "BINARY.SIZE partial");
	CHECK(refused("BODY[]<5>"), "partial without count");
	CHECK(refused("BODY[]<5.0>"), "partial count 0");
	CHECK(refused("BODY[]<1.2>x"), "junk after partial");
	CHECK(refused("FLAGS (VANISHED)"), "unknown modifier");
	CHECK(refused("FLAGS (CHANGEDSINCE x)"), "bad CHANGEDSINCE");
	CHECK(refused("FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)"), "CHANGEDSINCE twice");
	CHECK(refused("FLAGS ()"), "empty modifiers");
	CHECK(refused("(FLAGS (UID))"), "nested list");
}

static void
test_too_many(void)
{
	char big[2048];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(big + n, sizeof(big) - n, "(");
	for (i = 0; i < IMAP_FETCH_MAX_SECTIONS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "BODY[%d] ", i + 1);
	snprintf(big + n - 1, sizeof(big) - n + 1, ")");
	CHECK(!refused(big), "64 sections");
	snprintf(big + n - 1, sizeof(big) - n + 1, " BODY[1])");
	CHECK(refused(big), "65 sections");
	n = (size_t)snprintf(big, sizeof(big), "BODY[HEADER.FIELDS (");
	for (i = 0; i < IMAP_FETCH_MAX_FIELDS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-%d ", i);
	snprintf(big + n - 1, sizeof(big) - n + 1, ")]");
	CHECK(!refused(big), "64 field names");
	snprintf(big + n - 1, sizeof(big) - n + 1, " Y)]");
	CHECK(refused(big), "65 field names");
}

static void
test_simple_items(void)
{
	CHECK(answer_is("(UID FLAGS MODSEQ)", 0, NULL, "* 3 FETCH (UID 42 FLAGS (\\Seen) MODSEQ (7))\r\n"),
	    "UID FLAGS MODSEQ");
	CHECK(answer_is("FAST", 0, NULL,
	    "* 3 FETCH (FLAGS (\\Seen) INTERNALDATE \"01-Dec-2025 10:00:00 +0000\" RFC822.SIZE 1234)\r\n"),
	    "FAST");
	CHECK(answer_is("RFC822.SIZE", 1, NULL, "* 3 FETCH (UID 42 RFC822.SIZE 1234)\r\n"),
	    "UID FETCH");
	CHECK(answer_is("ENVELOPE", 0, simple_msg,
	    "* 3 FETCH (ENVELOPE (\"Tue, 1 Dec 2026 10:00:00 +0100\" \"hello world\" "
	    "((\"Ann\" NIL \"ann\" \"example.org\")) ((\"Ann\" NIL \"ann\" \"example.org\")) "
	    "((\"Ann\" NIL \"ann\" \"example.org\")) ((NIL NIL \"bob\" \"example.org\")) "
	    "NIL NIL NIL NIL))\r\n"), "ENVELOPE");
	CHECK(answer_is("(BODY)", 0, simple_msg,
	    "* 3 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2))\r\n"),
	    "BODY");
	CHECK(answer_is("BODYSTRUCTURE", 0, simple_msg,
	    "* 3 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 20 2 NIL NIL NIL NIL))\r\n"), "BODYSTRUCTURE");
	CHECK(answer_is("RFC822.TEXT", 0, simple_msg,
	    "* 3 FETCH (RFC822.TEXT {20}\r\nline one\r\nline two\r\n)\r\n"), "RFC822.TEXT CRLF");
	CHECK(answer_is("RFC822.HEADER", 0, simple_msg,
	    "* 3 FETCH (RFC822.HEADER {114}\r\nFrom: Ann <ann@example.org>\r\nTo: bob@example.org\r\n"
	    "Subject: hello\r\n world\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\n\r\n)\r\n"),
	    "RFC822.HEADER");
	CHECK(answer_is("RFC822", 0, "a\nb\n", "* 3 FETCH (RFC822 {6}\r\na\r\nb\r\n)\r\n"), "RFC822");
	CHECK(answer_is("FULL", 0, simple_msg,
	    "* 3 FETCH (FLAGS (\\Seen) INTERNALDATE \"01-Dec-2025 10:00:00 +0000\" RFC822.SIZE 1234 "
	    "ENVELOPE (\"Tue, 1 Dec 2026 10:00:00 +0100\" \"hello world\" "
	    "((\"Ann\" NIL \"ann\" \"example.org\")) ((\"Ann\" NIL \"ann\" \"example.org\")) "
	    "((\"Ann\" NIL \"ann\" \"example.org\")) ((NIL NIL \"bob\" \"example.org\")) "
	    "NIL NIL NIL NIL) "
	    "BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2))\r\n"), "FULL");
}

static void
test_sections(void)
{
	CHECK(answer_is("BODY.PEEK[HEADER.FIELDS (SUBJECT to)]", 0, simple_msg,
	    "* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT to)] {47}\r\nTo: bob@example.org\r\n"
	    "Subject: hello\r\n world\r\n\r\n)\r\n"), "HEADER.FIELDS folded, echo as given");
	CHECK(answer_is("BODY.PEEK[header.fields.not (\"Subject\" From Date)]", 0, simple_msg,
	    "* 3 FETCH (BODY[HEADER.FIELDS.NOT (Subject From Date)] {23}\r\nTo: bob@example.org\r\n"
	    "\r\n)\r\n"), "HEADER.FIELDS.NOT");
	CHECK(answer_is("BODY[TEXT]<5.4>", 0, simple_msg,
	    "* 3 FETCH (BODY[TEXT]<5> {4}\r\none\r)\r\n"), "partial ends inside a CRLF");
	CHECK(answer_is("BODY[TEXT]<9.3>", 0, simple_msg,
	    "* 3 FETCH (BODY[TEXT]<9> {3}\r\n\nli)\r\n"), "partial starts inside a CRLF");
	CHECK(answer_is("BODY[TEXT]<15.100>", 0, simple_msg,
	    "* 3 FETCH (BODY[TEXT]<15> {5}\r\ntwo\r\n)\r\n"), "partial past the end");
	CHECK(answer_is("BODY[TEXT]<20.1>", 0, simple_msg,
	    "* 3 FETCH (BODY[TEXT]<20> \"\")\r\n"), "partial at the end");
	CHECK(answer_is("BODY[TEXT]<99.1>", 0, simple_msg,
	    "* 3 FETCH (BODY[TEXT]<99> \"\")\r\n"), "partial beyond the end");
	CHECK(answer_is("BODY[1]", 0, simple_msg,
	    "* 3 FETCH (BODY[1] {20}\r\nline one\r\nline two\r\n)\r\n"), "part 1 of a single part");
	CHECK(answer_is("BODY[2]", 0, simple_msg, "* 3 FETCH (BODY[2] \"\")\r\n"), "no part 2: \"\"");
	CHECK(answer_is("BODY[1]", 0, multi_msg,
	    "* 3 FETCH (BODY[1] {12}\r\ncaf=E9 =\r\nok)\r\n"), "multipart part 1");
	CHECK(answer_is("BODY[1.MIME]", 0, multi_msg,
	    "* 3 FETCH (BODY[1.MIME] {93}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n)\r\n"), "part MIME header");
	CHECK(answer_is("BODY[3.HEADER]", 0, multi_msg,
	    "* 3 FETCH (BODY[3.HEADER] {42}\r\nFrom: carl@example.org\r\nSubject: inner\r\n\r\n)\r\n"),
	    "message/rfc822 HEADER");
	CHECK(answer_is("BODY[3.TEXT]", 0, multi_msg,
	    "* 3 FETCH (BODY[3.TEXT] {10}\r\ninner body)\r\n"), "message/rfc822 TEXT");
	CHECK(answer_is("BODY.PEEK[3.HEADER.FIELDS (Subject)]", 0, multi_msg,
	    "* 3 FETCH (BODY[3.HEADER.FIELDS (Subject)] {18}\r\nSubject: inner\r\n\r\n)\r\n"),
	    "message/rfc822 HEADER.FIELDS");
	CHECK(answer_is("BODY[3.1]", 0, multi_msg,
	    "* 3 FETCH (BODY[3.1] {10}\r\ninner body)\r\n"), "inside message/rfc822");
	CHECK(answer_is("BODY[1.TEXT]", 0, multi_msg,
	    "* 3 FETCH (BODY[1.TEXT] \"\")\r\n"), "TEXT of a text part: \"\"");
	CHECK(answer_is("BODY[9]", 0, multi_msg, "* 3 FETCH (BODY[9] \"\")\r\n"), "no part 9");
	CHECK(answer_is("(UID BODY[HEADER.FIELDS (X-None)] FLAGS)", 0, simple_msg,
	    "* 3 FETCH (UID 42 BODY[HEADER.FIELDS (X-None)] {2}\r\n\r\n FLAGS (\\Seen))\r\n"),
	    "order as asked, no such field");
}

static int
binary_len_is(const char *rest, const char *msg, size_t len, const void *want, size_t want_len,
    int rc)
{
	struct imap_fetch_plan p;
	struct imap_fetch_msg m = { .seq = 1, .uid = 1, .flags = "()",
	    .msg = (const uint8_t *)msg, .len = len };
	struct buf out;
	const char *err;
	int r, ok;

	if (plan_of(rest, 0, &p, &err) < 0)
		return 0;
	buf_init(&out, 1 << 20);
	buf_append(&out, "keep", 4);
	r = imap_fetch_render(&p, &m, &out);
	ok = r == rc && (rc != 0 || (out.len == want_len + 4 &&
	    memcmp(out.data + 4, want, want_len) == 0)) && (rc == 0 || out.len == 4);
	if (!ok)
		printf("# %s: %d got %.*s\n", rest, r, (int)out.len, (const char *)out.data);
	buf_free(&out, 0);
	return ok;
}

/* want_len 0: strlen(want) */
static int
binary_is(const char *rest, const char *msg, const char *want, size_t want_len, int rc)
{
	return binary_len_is(rest, msg, strlen(msg), want, want_len ? want_len :
	    want != NULL ? strlen(want) : 0, rc);
}

static void
test_binary(void)
{
	static const char b64[] = "* 1 FETCH (BINARY[2] ~{5}\r\n\0abc\0)\r\n";
	static const char b64p[] = "* 1 FETCH (BINARY[2]<1> {3}\r\nabc)\r\n";

	CHECK(binary_is("BINARY.PEEK[1]", multi_msg, "* 1 FETCH (BINARY[1] {7}\r\ncaf\xe9 ok)\r\n",
	    0, 0), "BINARY of quoted-printable");
	CHECK(binary_is("BINARY[2]", multi_msg, b64, sizeof(b64) - 1, 0),
	    "BINARY of base64 with NUL: literal8");
	CHECK(binary_is("BINARY[2]<1.3>", multi_msg, b64p, sizeof(b64p) - 1, 0),
	    "BINARY partial without NUL: literal");
	CHECK(binary_is("BINARY.SIZE[2]", multi_msg, "* 1 FETCH (BINARY.SIZE[2] 5)\r\n", 0, 0),
	    "BINARY.SIZE base64");
	CHECK(binary_is("BINARY.SIZE[3]", multi_msg, "* 1 FETCH (BINARY.SIZE[3] 52)\r\n", 0, 0),
	    "BINARY.SIZE of message/rfc822: CRLF size");
	CHECK(binary_is("BINARY[4]", multi_msg, NULL, 0, IMAP_FETCH_ERR_CTE),
	    "unknown CTE: error, out untouched");
	CHECK(binary_is("BINARY.SIZE[4]", multi_msg, NULL, 0, IMAP_FETCH_ERR_CTE),
	    "unknown CTE: BINARY.SIZE too");
	CHECK(binary_is("BINARY[7]", multi_msg, "* 1 FETCH (BINARY[7] \"\")\r\n", 0, 0),
	    "BINARY of no such part");
	CHECK(binary_is("BINARY[]", "a\nb", "* 1 FETCH (BINARY[] {4}\r\na\r\nb)\r\n", 0, 0),
	    "BINARY[]: the message");
	CHECK(binary_len_is("BODY[2]", "x\n\nA\0B\n", 7, "* 1 FETCH (BODY[2] \"\")\r\n", 24, 0),
	    "BODY of a missing part");
	CHECK(binary_len_is("BODY[1]", "x\n\nA\0B\n", 7,
	    "* 1 FETCH (BODY[1] {5}\r\nA\x80" "B\r\n)\r\n", 32, 0), "NUL in BODY[] goes out as 0x80");
	CHECK(binary_len_is("BINARY[1]", "x\n\nA\0B\n", 7,
	    "* 1 FETCH (BINARY[1] ~{5}\r\nA\0B\r\n)\r\n", 35, 0), "NUL in BINARY[1]: literal8");
}

/* The same answer for the LF file and its CRLF form: sizes are CRLF's. */
static int
crlf_same(const char *rest, const char *lf)
{
	struct imap_fetch_plan p;
	struct imap_fetch_msg m = { .seq = 1, .flags = "()" };
	struct buf a, b, c;
	const char *err;
	size_t i;
	int ok;

	if (plan_of(rest, 0, &p, &err) < 0)
		return 0;
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	buf_init(&c, 1 << 20);
	for (i = 0; lf[i] != '\0'; i++)
		buf_append(&c, lf[i] == '\n' ? "\r\n" : &lf[i], lf[i] == '\n' ? 2 : 1);
	m.msg = (const uint8_t *)lf;
	m.len = strlen(lf);
	ok = imap_fetch_render(&p, &m, &a) == 0;
	m.msg = c.data;
	m.len = c.len;
	ok = ok && imap_fetch_render(&p, &m, &b) == 0 && a.len == b.len &&
	    memcmp(a.data, b.data, a.len) == 0;
	if (!ok)
		printf("# %s\n# LF   %.*s# CRLF %.*s", rest, (int)a.len, (const char *)a.data,
		    (int)b.len, (const char *)b.data);
	buf_free(&a, 0);
	buf_free(&b, 0);
	buf_free(&c, 0);
	return ok;
}

static void
test_crlf(void)
{
	static const char hdr_only[] = "Subject: only\nTo: x@example.org\n\n";

	CHECK(crlf_same("(RFC822 RFC822.HEADER RFC822.TEXT)", simple_msg), "RFC822.* LF = CRLF");
	CHECK(crlf_same("(BODYSTRUCTURE BODY[1] BODY[1.MIME] BODY[3.TEXT]<3.20>)", multi_msg),
	    "sections LF = CRLF");
	CHECK(crlf_same("(BINARY.PEEK[1] BINARY.SIZE[1] BINARY.SIZE[3] BINARY[2])", multi_msg),
	    "BINARY LF = CRLF");
	CHECK(crlf_same("BODY.PEEK[HEADER.FIELDS (Subject)]<4.12>", simple_msg), "fields LF = CRLF");
	CHECK(answer_is("(ENVELOPE BODY.PEEK[HEADER.FIELDS (To)])", 0, hdr_only,
	    "* 3 FETCH (ENVELOPE (NIL \"only\" NIL NIL NIL ((NIL NIL \"x\" \"example.org\")) NIL NIL "
	    "NIL NIL) BODY[HEADER.FIELDS (To)] {21}\r\nTo: x@example.org\r\n\r\n)\r\n"),
	    "a header-only message is enough for NEED_HEADER");
	CHECK(answer_is("(FLAGS) (CHANGEDSINCE 5)", 1, NULL,
	    "* 3 FETCH (UID 42 FLAGS (\\Seen) MODSEQ (7))\r\n"), "UID first, MODSEQ last");
}

static void
test_limits(void)
{
	struct imap_fetch_plan p;
	struct imap_fetch_msg m = { .seq = 1, .flags = "()", .msg = (const uint8_t *)simple_msg,
	    .len = strlen(simple_msg) };
	struct buf out;
	const char *err;

	CHECK(plan_of("BODY[]", 0, &p, &err) == 0, "plan");
	buf_init(&out, 64);
	CHECK(imap_fetch_render(&p, &m, &out) == IMAP_FETCH_ERR_NOMEM && out.len == 0,
	    "over the buffer's max");
	buf_free(&out, 0);
	m.msg = NULL;
	buf_init(&out, 1 << 16);
	CHECK(imap_fetch_render(&p, &m, &out) == IMAP_FETCH_ERR_MSG, "message needed");
	buf_free(&out, 0);
	m.add_flags = 1;
	m.flags = "(\\Seen)";
	CHECK(plan_of("RFC822.SIZE", 0, &p, &err) == 0, "plan");
	buf_init(&out, 1 << 16);
	CHECK(imap_fetch_render(&p, &m, &out) == 0 && out.len == 41 &&
	    memcmp(out.data, "* 1 FETCH (RFC822.SIZE 0 FLAGS (\\Seen))\r\n", 41) == 0,
	    "FLAGS added last");
	buf_free(&out, 0);
	CHECK(sizeof(struct imap_fetch_plan) < 4096, "plan fits a stack");
}

int
main(void)
{
	struct imap_limits lim;

	imap_limits_default(&lim);
	parser = imap_parser_new(&lim, IMAP_PF_LITERAL_PLUS);
	test_plans();
	test_too_many();
	test_simple_items();
	test_sections();
	test_binary();
	test_crlf();
	test_limits();
	imap_parser_free(parser);
	return tap_done();
}
