/* test_mimecheck - the MIME conformance check: conformant messages, each
 * defect, line ends, nesting, and the field copier. */
#include <string.h>

#include "../../common/mail/mimecheck.h"
#include "tap.h"

static struct mimecheck_result res;

static enum mimecheck_defect
check(const char *msg, unsigned flags, unsigned depth)
{
	(void)mimecheck_run((const uint8_t *)msg, strlen(msg), flags, depth, &res);
	return res.defect;
}

/* The same message with CRLF line ends gets the same answer. */
static enum mimecheck_defect
check_crlf(const char *msg, unsigned flags)
{
	static char out[8192];
	size_t i, o = 0;

	for (i = 0; msg[i] != '\0' && o + 2 < sizeof(out); i++) {
		if (msg[i] == '\n')
			out[o++] = '\r';
		out[o++] = msg[i];
	}
	out[o] = '\0';
	return check(out, flags, 20);
}

#define MV "MIME-Version: 1.0\n"
#define MP(b) MV "Content-Type: multipart/mixed; boundary=\"" b "\"\n\n"

static const char multi[] = "From: a@example.org\n" MP("b1")
    "preamble\n--b1\nContent-Type: text/plain\n\nhello\n--b1\n"
    "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n"
    "--b1--\nepilogue\n";

static void
conformant(void)
{
	CHECK(check("", 0, 20) == MIMECHECK_OK, "empty message");
	CHECK(check("Subject: plain\n\nJust text.\n", 0, 20) == MIMECHECK_OK,
	    "7-bit RFC 5322 without MIME fields");
	CHECK(check(multi, 0, 20) == MIMECHECK_OK && res.line == 0 && res.rfc5322, "a multipart");
	CHECK(check_crlf(multi, 0) == MIMECHECK_OK, "the same with CRLF");
	CHECK(check(MV "Content-Type: text/plain (comment (nested)) ; charset = \"utf-8\";\n"
	    "Content-Transfer-Encoding: 8bit\n\n\xc3\xa9t\xc3\xa9\n", MIMECHECK_8BITMIME, 20) ==
	    MIMECHECK_OK && res.eightbit, "8bit under 8BITMIME, comments, blanks, quoted value");
	CHECK(check("Subject: =?utf-8?q?x?=\n" MV "Content-Type: text/plain\n"
	    "Content-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 =\nsoft=3d\n", 0, 20) ==
	    MIMECHECK_OK, "quoted-printable, soft break, lower-case hex");
	CHECK(check("Subject: \xc3\xa9t\xc3\xa9\n\nx\n", MIMECHECK_SMTPUTF8, 20) == MIMECHECK_OK,
	    "UTF-8 header under SMTPUTF8");
	CHECK(check(MV "Content-Type: multipart/mixed;\n boundary=folded\n\n--folded\n\nx\n--folded--\n",
	    0, 20) == MIMECHECK_OK, "folded Content-Type, part without header");
	CHECK(check(MP("o") "--o\nContent-Type: message/rfc822\n\nSubject: inner\n" MV
	    "Content-Type: multipart/alternative; boundary=i\n\n--i\n\na\n--i--\n--o--\n", 0, 20) ==
	    MIMECHECK_OK, "an embedded message with its own multipart");
	CHECK(check(MV "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: m1\n\nbody\n"
	    "--d--\n", 0, 20) == MIMECHECK_OK, "digest parts are messages");
	CHECK(check(MP("b") "--b\nContent-Type: text/plain\n--b--\n", 0, 20) == MIMECHECK_OK,
	    "a part that is only a header");
	CHECK(check(MP("b") "--b  \n\nx\n--b--\t\n", 0, 20) == MIMECHECK_OK, "transport padding");
	CHECK(check("Subject: x", 0, 20) == MIMECHECK_OK, "header only, no final LF");
}

static void
raw_defects(void)
{
	CHECK(mimecheck_run((const uint8_t *)"Subject: x\n\na\0b\n", 16, 0, 20, &res) < 0 &&
	    res.defect == MIMECHECK_NUL && res.line == 3 && !res.rfc5322, "NUL, its line");
	CHECK(check("Subject: x\n\na\rb\n", 0, 20) == MIMECHECK_BARE_CR, "bare CR");
	CHECK(check("Subject: x\n\nab\r", 0, 20) == MIMECHECK_BARE_CR, "CR at the very end");
	{
		static char m[1200];
		memset(m, 'a', sizeof(m) - 1);
		memcpy(m, "S: x\n\n", 6);
		CHECK(check(m, 0, 20) == MIMECHECK_LONG_LINE && res.line == 3, "line over 998");
		m[6 + 998] = '\n';
		CHECK(check(m, 0, 20) == MIMECHECK_OK, "998 is allowed");
	}
	CHECK(check("Subject: \xe9t\xe9\n\nx\n", 0, 20) == MIMECHECK_8BIT_HEADER && !res.rfc5322,
	    "8-bit header without SMTPUTF8");
	CHECK(check("Subject: \xe9t\xe9\n\nx\n", MIMECHECK_SMTPUTF8, 20) == MIMECHECK_BAD_UTF8_HEADER,
	    "Latin-1 header under SMTPUTF8");
	CHECK(check(MV "Content-Transfer-Encoding: 8bit\n\n\xc3\xa9\n", 0, 20) == MIMECHECK_8BIT_BODY &&
	    !res.rfc5322, "8-bit body without 8BITMIME");
	CHECK(check("Subject: x\nnot a field\n\nx\n", 0, 20) == MIMECHECK_HEADER_SYNTAX &&
	    res.line == 2 && !res.rfc5322, "a header line that is no field");
	CHECK(check(" folded first\n\nx\n", 0, 20) == MIMECHECK_HEADER_SYNTAX, "continuation first");
}

static void
mime_defects(void)
{
	CHECK(check("Content-Type: text/plain\n\nx\n", 0, 20) == MIMECHECK_NO_MIME_VERSION &&
	    res.rfc5322, "Content-Type without MIME-Version");
	CHECK(check("Subject: x\n\n\xc3\xa9\n", MIMECHECK_8BITMIME, 20) == MIMECHECK_NO_MIME_VERSION,
	    "8-bit text without MIME headers");
	CHECK(check("MIME-Version: one\n\nx\n", 0, 20) == MIMECHECK_BAD_MIME_VERSION, "bad version");
	CHECK(check(MV MV "\nx\n", 0, 20) == MIMECHECK_DUP_FIELD, "MIME-Version twice");
	CHECK(check(MV "Content-Type: text/plain\ncontent-type: text/html\n\nx\n", 0, 20) ==
	    MIMECHECK_DUP_FIELD, "Content-Type twice");
	CHECK(check(MV "Content-Type: text\n\nx\n", 0, 20) == MIMECHECK_BAD_CONTENT_TYPE,
	    "no subtype");
	CHECK(check(MV "Content-Type: text/plain; charset\n\nx\n", 0, 20) ==
	    MIMECHECK_BAD_CONTENT_TYPE, "a parameter without a value");
	CHECK(check(MV "Content-Type: text/plain; a=\"open\n\nx\n", 0, 20) ==
	    MIMECHECK_BAD_CONTENT_TYPE, "an unclosed quoted string");
	CHECK(check(MV "Content-Type: text/plain (open\n\nx\n", 0, 20) ==
	    MIMECHECK_BAD_CONTENT_TYPE, "an unclosed comment");
	CHECK(check(MV "Content-Type: multipart/mixed\n\n--x\n\n--x--\n", 0, 20) ==
	    MIMECHECK_NO_BOUNDARY, "no boundary");
	CHECK(check(MV "Content-Type: multipart/mixed; boundary=\"a\"; boundary=b\n\n", 0, 20) ==
	    MIMECHECK_BAD_CONTENT_TYPE, "two boundaries");
	CHECK(check(MV "Content-Type: multipart/mixed; boundary=\"\"\n\n", 0, 20) ==
	    MIMECHECK_BAD_BOUNDARY, "empty boundary");
	CHECK(check(MV "Content-Type: multipart/mixed; boundary=\"a b \"\n\n", 0, 20) ==
	    MIMECHECK_BAD_BOUNDARY, "boundary ending in a space");
	CHECK(check(MV "Content-Type: multipart/mixed; boundary=\"a<b\"\n\n", 0, 20) ==
	    MIMECHECK_BAD_BOUNDARY, "boundary with a character outside bchars");
	CHECK(check(MP("b") "--b\n\nx\n", 0, 20) == MIMECHECK_UNCLOSED && res.line == 6,
	    "not closed at the end");
	CHECK(check(MP("b") "no delimiter at all\n", 0, 20) == MIMECHECK_UNCLOSED, "no delimiter");
	CHECK(check(MP("b") "--b--\n", 0, 20) == MIMECHECK_NO_PARTS, "closed without a part");
	CHECK(check(MP("o") "--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n\nx\n--o--\n",
	    0, 20) == MIMECHECK_UNCLOSED && res.line == 10, "inner multipart ended by the outer");
	CHECK(check(MV "Content-Transfer-Encoding: x-uuencode\n\nx\n", 0, 20) ==
	    MIMECHECK_UNKNOWN_CTE, "unknown encoding");
	CHECK(check(MV "Content-Transfer-Encoding: binary\n\nx\n", 0, 20) == MIMECHECK_BINARY_CTE,
	    "binary");
	CHECK(check(MV "Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: base64"
	    "\n\n--b\n\nx\n--b--\n", 0, 20) == MIMECHECK_COMPOSITE_CTE, "encoded multipart");
	CHECK(check(MV "Content-Type: text/plain\n\n\xc3\xa9\n", MIMECHECK_8BITMIME, 20) ==
	    MIMECHECK_CTE_MISMATCH && res.rfc5322 && res.eightbit, "8-bit in a 7bit part");
	CHECK(check(MV "Content-Transfer-Encoding: quoted-printable\n\na=zz\n", 0, 20) ==
	    MIMECHECK_BAD_QP, "bad quoted-printable escape");
	CHECK(check(MV "Content-Transfer-Encoding: base64\n\naGVs*G8=\n", 0, 20) ==
	    MIMECHECK_BAD_BASE64, "bad base64");
}

/* Nesting: each part of depth d opens another multipart. */
static void
nesting(void)
{
	static char m[8192];
	size_t o = 0;
	unsigned d;

	o += (size_t)snprintf(m + o, sizeof(m) - o, MV);
	for (d = 0; d < 10; d++)
		o += (size_t)snprintf(m + o, sizeof(m) - o,
		    "Content-Type: multipart/mixed; boundary=l%u\n\n--l%u\n", d, d);
	o += (size_t)snprintf(m + o, sizeof(m) - o, "\nleaf\n");
	for (d = 10; d-- > 0;)
		o += (size_t)snprintf(m + o, sizeof(m) - o, "--l%u--\n", d);
	CHECK(check(m, 0, 10) == MIMECHECK_OK, "ten levels at a limit of ten");
	CHECK(check(m, 0, 9) == MIMECHECK_TOO_DEEP && res.depth == 9, "ten levels at nine");
	CHECK(check(m, 0, 1000) == MIMECHECK_OK, "a limit past the stack is the stack's");
}

static void
fields(void)
{
	const char *m = "Received: x\nSubject: hello\n  world\nfrom: a@example.org\n\nFrom: body\n";
	size_t off = 0, len = 0;

	CHECK(mimecheck_field((const uint8_t *)m, strlen(m), "subject", 0, &off, &len) == 0 &&
	    len == 22 && memcmp(m + off, "Subject: hello\n  world", 22) == 0, "a folded field");
	CHECK(mimecheck_field((const uint8_t *)m, strlen(m), "From", 0, &off, &len) == 0 &&
	    memcmp(m + off, "from: a@example.org", len) == 0, "any case");
	CHECK(mimecheck_field((const uint8_t *)m, strlen(m), "Date", 0, &off, &len) < 0,
	    "not in the header (the body's does not count)");
	m = "Subject: \xe9\n\n";
	CHECK(mimecheck_field((const uint8_t *)m, strlen(m), "Subject", MIMECHECK_SMTPUTF8, &off,
	    &len) < 0, "not clean: not copied");
	CHECK(strcmp(mimecheck_name(MIMECHECK_UNCLOSED), "unclosed_multipart") == 0 &&
	    strcmp(mimecheck_text(MIMECHECK_NDEFECTS), "unknown") == 0, "names");
}

int
main(void)
{
	conformant();
	raw_defects();
	mime_defects();
	nesting();
	fields();
	return tap_done();
}
