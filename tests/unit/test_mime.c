/* test_mime - MIME structure, BODYSTRUCTURE/BODY and section numbers
 * (common/mail/mime.h).  The expected strings are worked out by hand from
 * RFC 3501 7.4.2 and 9 (no Dovecot to compare with here).  Each message is
 * given with LF line ends and checked again with CRLF: IMAP sizes count
 * CRLF, so both must give the very same BODYSTRUCTURE. */
#include <stdlib.h>
#include <string.h>

#include "../../common/mail/decode.h"
#include "../../common/mail/imapstr.h"
#include "../../common/mail/mime.h"
#include "tap.h"

static uint8_t *
to_crlf(const uint8_t *m, size_t len, size_t *len_r)
{
	uint8_t *o = malloc(2 * len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			o[n++] = '\r';
		o[n++] = m[i];
	}
	*len_r = n;
	return o;
}

static int
write_is(const struct mime_msg *mm, int ext, const char *want)
{
	struct buf b;
	int ok;

	buf_init(&b, 1 << 24);
	ok = mime_bodystructure_write(mm, ext, &b) == 0 && b.len == strlen(want) &&
	    memcmp(b.data, want, b.len) == 0;
	if (!ok)
		printf("# got  %.*s\n# want %s\n", (int)b.len, (const char *)b.data, want);
	buf_free(&b, 0);
	return ok;
}

/* BODYSTRUCTURE (and BODY if body != NULL) of m, LF and CRLF. */
static int
structure_is(const char *m, const char *bs, const char *body)
{
	struct mime_msg mm;
	size_t len;
	uint8_t *c = to_crlf((const uint8_t *)m, strlen(m), &len);
	int ok;

	mime_init(&mm, 0, 0);
	ok = mime_parse(&mm, (const uint8_t *)m, strlen(m)) == 0 && write_is(&mm, 1, bs) &&
	    (body == NULL || write_is(&mm, 0, body));
	ok = ok && mime_parse(&mm, c, len) == 0 && write_is(&mm, 1, bs);
	mime_free(&mm);
	free(c);
	return ok;
}

/* Section spec of mm resolves to want (raw bytes), or fails if want is NULL. */
static int
section_is(const struct mime_msg *mm, const char *spec, const char *want)
{
	struct mime_section s;
	int r = mime_section(mm, spec, strlen(spec), &s);

	if (want == NULL)
		return r < 0;
	if (r == 0 && s.len == strlen(want) && memcmp(mm->m + s.off, want, s.len) == 0)
		return 1;
	printf("# %s: %d [%.*s]\n", spec, r, r == 0 ? (int)s.len : 0, r == 0 ? (const char *)mm->m + s.off : "");
	return 0;
}

static const char plain[] =
    "From: a@example.org\n"
    "Subject: plain\n"
    "\n"
    "Line one\n"
    "Line two\n";

static void
plain_text(void)
{
	struct mime_msg mm;

	CHECK(structure_is(plain,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2)"),
	    "plain text: defaults (RFC 2045 5.2), CRLF size 20, 2 lines");
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)plain, strlen(plain));
	CHECK(mm.n == 1 && mm.parts[0].hdr_size == 39 && mm.parts[0].body_size == 20, "one part, sizes");
	CHECK(section_is(&mm, "", plain) && section_is(&mm, "1", "Line one\nLine two\n") &&
	    section_is(&mm, "TEXT", "Line one\nLine two\n") &&
	    section_is(&mm, "HEADER", "From: a@example.org\nSubject: plain\n\n") &&
	    section_is(&mm, "header.fields", "From: a@example.org\nSubject: plain\n\n"),
	    "sections of a non-multipart message: 1 is its body");
	CHECK(section_is(&mm, "2", NULL) && section_is(&mm, "1.1", NULL) &&
	    section_is(&mm, "1.HEADER", NULL) && section_is(&mm, "0", NULL) &&
	    section_is(&mm, "1.", NULL) && section_is(&mm, "MIME", NULL) &&
	    section_is(&mm, "1x", NULL) && section_is(&mm, "99999999999", NULL),
	    "sections that do not exist");
	mime_free(&mm);
}

static const char alternative[] =
    "From: a@example.org\n"
    "To: b@example.net\n"
    "Subject: alt\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\n"
    "\n"
    "This is a multi-part message.\n"
    "--b1\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=C3=A9\n"
    "--b1\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>caf&eacute;</p>\n"
    "--b1--\n";

static void
multipart_alternative(void)
{
	struct mime_msg mm;

	CHECK(structure_is(alternative,
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 9 0 NIL NIL NIL NIL)"
	    "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 18 0 NIL NIL NIL NIL)"
	    " \"alternative\" (\"boundary\" \"b1\") NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 9 0)"
	    "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 18 0) \"alternative\")"),
	    "multipart/alternative: the line end before a delimiter is the delimiter's");
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)alternative, strlen(alternative));
	CHECK(section_is(&mm, "1", "caf=C3=A9") && section_is(&mm, "2", "<p>caf&eacute;</p>") &&
	    section_is(&mm, "2.MIME", "Content-Type: text/html; charset=utf-8\n\n") &&
	    section_is(&mm, "3", NULL) && section_is(&mm, "1.TEXT", NULL),
	    "sections of multipart/alternative");
	mime_free(&mm);
}

static const char mixed[] =
    "From: a@example.org\n"
    "Subject: report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"=_mix\"\n"
    "\n"
    "--=_mix\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "See attached.\n"
    "\n"
    "--=_mix\n"
    "Content-Type: application/pdf; name=\"r.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment; filename=\"r.pdf\"\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--=_mix--\n"
    "epilogue\n";

static void
multipart_mixed(void)
{
	struct mime_msg mm;
	struct mime_section s;
	struct decode_b64 d;
	uint8_t out[64];
	size_t n;

	CHECK(structure_is(mixed,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1 NIL NIL NIL NIL)"
	    "(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL \"base64\" 12 NIL"
	    " (\"attachment\" (\"filename\" \"r.pdf\")) NIL NIL)"
	    " \"mixed\" (\"boundary\" \"=_mix\") NIL NIL NIL)", NULL),
	    "multipart/mixed with a base64 attachment");
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)mixed, strlen(mixed));
	CHECK(mime_section(&mm, "2", 1, &s) == 0, "section 2 (BINARY[2] source)");
	decode_b64_init(&d);
	n = decode_b64(&d, mm.m + s.off, s.len, out);
	n += decode_b64_end(&d, out + n);
	CHECK(n == 9 && memcmp(out, "%PDF-1.4\n", 9) == 0, "BINARY[2] decodes");
	CHECK(section_is(&mm, "1", "See attached.\n") && section_is(&mm, "TEXT", strstr(mixed, "\n\n") + 2),
	    "part 1 keeps its own last line end; TEXT is the whole body");
	mime_free(&mm);
}

static const char forwarded[] =
    "From: a@example.org\n"
    "Subject: Fwd: hello\n"
    "Content-Type: multipart/mixed; boundary=out\n"
    "\n"
    "--out\n"
    "Content-Type: text/plain\n"
    "\n"
    "Forwarded below.\n"
    "--out\n"
    "Content-Type: message/rfc822\n"
    "Content-Description: original\n"
    "\n"
    "From: Carol <carol@example.com>\n"
    "Date: Mon, 30 Nov 2026 09:00:00 -0500\n"
    "Subject: hello\n"
    "Message-ID: <c1@example.com>\n"
    "\n"
    "Hi there.\n"
    "--out--\n";

#define CAROL "((\"Carol\" NIL \"carol\" \"example.com\"))"

static void
message_rfc822(void)
{
	struct mime_msg mm;

	CHECK(structure_is(forwarded,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 0 NIL NIL NIL NIL)"
	    "(\"message\" \"rfc822\" NIL NIL \"original\" \"7bit\" 129"
	    " (\"Mon, 30 Nov 2026 09:00:00 -0500\" \"hello\" " CAROL " " CAROL " " CAROL
	    " NIL NIL NIL NIL \"<c1@example.com>\")"
	    " (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)"
	    " 5 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"out\") NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 0)"
	    "(\"message\" \"rfc822\" NIL NIL \"original\" \"7bit\" 129"
	    " (\"Mon, 30 Nov 2026 09:00:00 -0500\" \"hello\" " CAROL " " CAROL " " CAROL
	    " NIL NIL NIL NIL \"<c1@example.com>\")"
	    " (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0) 5) \"mixed\")"),
	    "forwarded message/rfc822: envelope, body, lines");
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)forwarded, strlen(forwarded));
	CHECK(mm.n == 4 && mm.parts[3].parent == 2 && mm.parts[2].first_child == 3, "four parts");
	CHECK(section_is(&mm, "2.HEADER", "From: Carol <carol@example.com>\n"
	    "Date: Mon, 30 Nov 2026 09:00:00 -0500\nSubject: hello\nMessage-ID: <c1@example.com>\n\n") &&
	    section_is(&mm, "2.TEXT", "Hi there.") && section_is(&mm, "2.1", "Hi there.") &&
	    section_is(&mm, "2.MIME", "Content-Type: message/rfc822\nContent-Description: original\n\n") &&
	    section_is(&mm, "2.HEADER.FIELDS.NOT", "From: Carol <carol@example.com>\n"
	    "Date: Mon, 30 Nov 2026 09:00:00 -0500\nSubject: hello\nMessage-ID: <c1@example.com>\n\n") &&
	    section_is(&mm, "1.MIME", "Content-Type: text/plain\n\n") && section_is(&mm, "2.2", NULL) &&
	    section_is(&mm, "1.HEADER", NULL),
	    "sections inside message/rfc822 (RFC 3501 6.4.5)");
	CHECK(mm.parts[2].body_len == 124 && mm.parts[2].body_size == 129 &&
	    mm.parts[2].body_lines == 5, "the encapsulated message's sizes");
	mime_free(&mm);
}

static void
rfc822_multipart(void)
{
	static const char m[] =
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\n"
	    "Subject: in\nContent-Type: multipart/alternative; boundary=i\n\n"
	    "--i\n\none\n--i\n\ntwo\n--i--\n--o--\n";
	struct mime_msg mm;

#define ONE_LINE(n) "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" " n " 0 NIL NIL NIL NIL)"
	CHECK(structure_is(m, "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 93"
	    " (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) (" ONE_LINE("3") ONE_LINE("3")
	    " \"alternative\" (\"boundary\" \"i\") NIL NIL NIL) 9 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"o\") NIL NIL NIL)", NULL),
	    "message/rfc822 holding a multipart");
#undef ONE_LINE
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)m, sizeof(m) - 1);
	CHECK(section_is(&mm, "1.1", "one") && section_is(&mm, "1.2", "two") &&
	    section_is(&mm, "1.1.MIME", "\n") && section_is(&mm, "1.3", NULL) &&
	    section_is(&mm, "1.TEXT", "--i\n\none\n--i\n\ntwo\n--i--") &&
	    section_is(&mm, "1.1.1", NULL),
	    "numbers go on in the encapsulated multipart (RFC 3501 6.4.5)");
	mime_free(&mm);
}

static void
latin1(void)
{
	static const char m[] =
	    "From: =?iso-8859-1?q?J=F6rg_M=FCller?= <joerg@example.de>\n"
	    "Subject: Gr\xfc\xdf""e\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Gr\xfc\xdf""e aus K\xf6ln\n";
	struct mime_msg mm;
	struct buf b, f;
	enum decode_charset cs;
	struct mime_ctype ct;

	CHECK(structure_is(m, "(\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"8bit\" 16 1"
	    " NIL NIL NIL NIL)", NULL), "8-bit Latin-1 text");
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)m, strlen(m));
	buf_init(&b, 4096);
	buf_init(&f, 4096);
	mime_content_type(mm.m, mm.parts[0].body_off, 0, &ct);
	CHECK(mime_param_get(ct.params, ct.params_len, "charset", &b, &cs) == 1 &&
	    decode_charset_lookup(b.data, b.len) == DECODE_CS_LATIN1, "charset parameter");
	buf_reset(&b);
	decode_to_utf8(DECODE_CS_LATIN1, mm.m + mm.parts[0].body_off, mm.parts[0].body_len, &b);
	decode_fold(b.data, b.len, &f);
	CHECK(f.len == 18 && memcmp(f.data, "gr\xc3\xbc\xc3\x9f""e aus k\xc3\xb6ln\n", 18) == 0,
	    "SEARCH form of the body: UTF-8, folded");
	buf_free(&b, 0);
	buf_free(&f, 0);
	mime_free(&mm);
}

static void
parameters(void)
{
	static const char m[] =
	    "Content-Type: application/x; name*0*=utf-8'en'%E2%82%AC; name*1=\"-1\";\n"
	    " name*2*=%41; other=\"a\\\"b\"\n"
	    "Content-Disposition: attachment; filename*=iso-8859-1''%E9t%E9.txt; size=3\n"
	    "Content-Language: en, de-CH\n"
	    "Content-Location: http://example.org/x\n"
	    "Content-ID: <id@example.org>\n"
	    "\n"
	    "abc";
	struct mime_ctype ct;
	struct buf b;
	enum decode_charset cs;

	CHECK(structure_is(m, "(\"application\" \"x\" (\"name\" {6}\r\n\xe2\x82\xac-1A"
	    " \"other\" {3}\r\na\"b) \"<id@example.org>\" NIL \"7bit\" 3 NIL"
	    " (\"attachment\" (\"filename\" {9}\r\n\xc3\xa9t\xc3\xa9.txt \"size\" \"3\"))"
	    " (\"en\" \"de-CH\") \"http://example.org/x\")", NULL),
	    "RFC 2231 continuations and charsets decoded; language list; location");
	mime_content_type((const uint8_t *)m, sizeof(m) - 1, 0, &ct);
	buf_init(&b, 4096);
	CHECK(mime_param_get(ct.params, ct.params_len, "name", &b, &cs) == 1 && cs == DECODE_CS_UTF8 &&
	    b.len == 6 && memcmp(b.data, "\xe2\x82\xac-1A", 6) == 0, "mime_param_get joins and decodes");
	buf_reset(&b);
	CHECK(mime_param_get(ct.params, ct.params_len, "missing", &b, &cs) == 0, "absent parameter");
	buf_free(&b, 0);
	CHECK(structure_is("Content-Type: text/plain; format=flowed\nContent-Language: en\n\nx",
	    "(\"text\" \"plain\" (\"format\" \"flowed\") NIL NIL \"7bit\" 1 0 NIL NIL \"en\" NIL)",
	    NULL), "one language is a string");
	CHECK(structure_is("Content-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: x@y\n\nz\n--d--\n",
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 14"
	    " (NIL NIL ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\"))"
	    " NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0"
	    " NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \"digest\" (\"boundary\" \"d\") NIL NIL NIL)", NULL),
	    "multipart/digest parts default to message/rfc822 (RFC 2046 5.1.5)");
}

#define EMPTY_TEXT "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"

static void
bad_boundaries(void)
{
	char m[512], want[512], b71[72];

	CHECK(structure_is("Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nleaf\n--x--\n",
	    "((" EMPTY_TEXT " \"mixed\" (\"boundary\" \"x\") NIL NIL NIL)"
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"x\") NIL NIL NIL)", NULL),
	    "cyclic boundary: the inner multipart has no parts of its own");
	CHECK(structure_is("Content-Type: multipart/mixed; boundary=t\n\n--t\n\none\n--t\n\ntwo, cut",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL)"
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"t\") NIL NIL NIL)", NULL),
	    "missing close delimiter: the last part runs to the end");
	CHECK(structure_is("Content-Type: multipart/mixed; boundary=t\n\n--t\nContent-Type: text/h",
	    "((\"text\" \"h\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"t\") NIL NIL NIL)", NULL),
	    "truncated inside a part's header");
	CHECK(structure_is("Content-Type: multipart/mixed; boundary=zz\n\nno delimiter\n",
	    "(" EMPTY_TEXT " \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)", NULL),
	    "a boundary that never appears: no parts, one empty text/plain written");
	CHECK(structure_is("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx\n----\n",
	    "(" EMPTY_TEXT " \"mixed\" (\"boundary\" \"\") NIL NIL NIL)", NULL), "empty boundary");
	CHECK(structure_is("Content-Type: multipart/mixed\n\n--\n\nx\n",
	    "(" EMPTY_TEXT " \"mixed\" NIL NIL NIL NIL)", NULL), "no boundary parameter");
	CHECK(structure_is("Content-Type: multipart/mixed; boundary=w\n\n--w \t\n\nx\n--w--  \n",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"w\") NIL NIL NIL)", NULL),
	    "delimiter lines with trailing blanks");
	memset(b71, 'b', 71);
	b71[71] = '\0';
	snprintf(m, sizeof(m), "Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\n\nx\n--%s--\n",
	    b71, b71, b71);
	snprintf(want, sizeof(want), "(" EMPTY_TEXT " \"mixed\" (\"boundary\" \"%s\") NIL NIL NIL)", b71);
	CHECK(structure_is(m, want, NULL), "a 71-character boundary is not used (RFC 2046 5.1.1: 70)");
	b71[70] = '\0';
	snprintf(m, sizeof(m), "Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\n\nx\n--%s--\n",
	    b71, b71, b71);
	snprintf(want, sizeof(want), "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0"
	    " NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"%s\") NIL NIL NIL)", b71);
	CHECK(structure_is(m, want, NULL), "a 70-character boundary is");
}

/* depth levels of multipart (or message/rfc822) nesting */
static void
deep(int rfc822, size_t levels, struct buf *b)
{
	size_t i;

	buf_init(b, 1 << 24);
	for (i = 0; i < levels; i++)
		if (rfc822)
			buf_append_str(b, "Content-Type: message/rfc822\n\n");
		else
			buf_printf(b, "Content-Type: multipart/mixed; boundary=a%zu\n\n--a%zu\n", i, i);
	buf_append_str(b, "\nbottom\n");
}

static size_t
count(const struct buf *b, const char *s)
{
	size_t n = 0, l = strlen(s);
	const uint8_t *p = b->data;

	while ((p = memmem(p, b->len - (size_t)(p - b->data), s, l)) != NULL) {
		n++;
		p += l;
	}
	return n;
}

static void
limits(void)
{
	struct mime_msg mm;
	struct buf m, out;
	int kind;
	size_t i;

	for (kind = 0; kind < 2; kind++) {
		deep(kind, 5000, &m);
		mime_init(&mm, 0, 0);
		CHECK(mime_parse(&mm, m.data, m.len) == 0 && mm.n == MIME_DEPTH_MAX + 1 && mm.truncated &&
		    (mm.parts[MIME_DEPTH_MAX].flags & MIME_F_OPAQUE),
		    kind ? "message/rfc822 5000 deep: stops at depth 32" :
		    "multipart 5000 deep: stops at depth 32");
		buf_init(&out, 1 << 24);
		CHECK(mime_bodystructure_write(&mm, 1, &out) == 0 &&
		    count(&out, "(") == count(&out, ")") && count(&out, "\"text\" \"plain\"") == 1,
		    "... and BODYSTRUCTURE is balanced, one empty text/plain at the bottom");
		buf_free(&out, 0);
		buf_free(&m, 0);
		mime_free(&mm);
	}
	buf_init(&m, 1 << 24);
	buf_append_str(&m, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 10001; i++)
		buf_append_str(&m, "--p\n\nx\n");
	mime_init(&mm, 0, 0);
	CHECK(mime_parse(&mm, m.data, m.len) == 0 && mm.n == MIME_PARTS_MAX && mm.truncated,
	    "10,001 parts: 10,000 kept");
	CHECK(section_is(&mm, "9999", "x") && section_is(&mm, "10000", NULL), "the last one kept");
	buf_free(&m, 0);
	mime_init(&mm, 3, 2);
	CHECK(mime_parse(&mm, (const uint8_t *)forwarded, strlen(forwarded)) == 0 && mm.n == 3 &&
	    (mm.parts[2].flags & MIME_F_OPAQUE), "max_parts 3: the message part is not looked into");
	CHECK(section_is(&mm, "2.HEADER", "From: Carol <carol@example.com>\n"
	    "Date: Mon, 30 Nov 2026 09:00:00 -0500\nSubject: hello\nMessage-ID: <c1@example.com>\n\n") &&
	    section_is(&mm, "2.1", NULL), "... its HEADER still resolves, 2.1 does not");
	mime_free(&mm);
}

static void
odd_messages(void)
{
	struct mime_msg mm;
	static const char nul[] = "Subject: a\0b\nContent-Type: text/plain; charset=\"x\0y\"\n\nbody\0\n";

	CHECK(structure_is("From: a@b\nSubject: no body",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)", NULL),
	    "header without body");
	mime_init(&mm, 0, 0);
	mime_parse(&mm, (const uint8_t *)"From: a@b\nSubject: no body", 26);
	CHECK(section_is(&mm, "HEADER", "From: a@b\nSubject: no body") && section_is(&mm, "TEXT", ""),
	    "... HEADER is all, TEXT empty");
	CHECK(mime_parse(&mm, (const uint8_t *)nul, sizeof(nul) - 1) == 0 && mm.n == 1 &&
	    write_is(&mm, 1, "(\"text\" \"plain\" (\"charset\" {2}\r\nxy) NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL)"),
	    "NUL bytes in headers: never written");
	CHECK(mime_parse(&mm, (const uint8_t *)"", 0) == 0 && mm.n == 1 &&
	    write_is(&mm, 1, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"),
	    "empty message");
	mime_free(&mm);
}

/* imap_count_lf against a byte loop: every offset and length of buffers
 * dense in CR and LF (words, word edges, CR ending a word before a LF) */
static void
count_lf(void)
{
	static const uint8_t alphabet[] = { '\n', '\r', 'a', '\n', '\r', 0x8a, 0x8d, 0x0b };
	uint8_t b[80];
	uint32_t x = 12345;
	size_t i, off, len;
	int bad = 0, runs;

	for (runs = 0; runs < 200; runs++) {
		for (i = 0; i < sizeof(b); i++) {
			x = x * 1103515245u + 12345u;
			b[i] = alphabet[(x >> 16) % sizeof(alphabet)];
		}
		for (off = 0; off < 9; off++)
			for (len = 0; off + len <= sizeof(b); len++) {
				uint64_t lf, bare, wl = 0, wb = 0;
				const uint8_t *nl = memchr(b + off, '\n', len);
				bad += imap_find_lf(b + off, len) != (nl ? (size_t)(nl - (b + off)) : len);
				for (i = 0; i < len; i++)
					if (b[off + i] == '\n') {
						wl++;
						wb += i == 0 || b[off + i - 1] != '\r';
					}
				imap_count_lf(b + off, len, &lf, &bare);
				bad += lf != wl || bare != wb ||
				    imap_crlf_size(b + off, len) != len + wb;
			}
	}
	CHECK(bad == 0, "imap_count_lf: LFs and bare LFs as a byte loop counts them; "
	    "imap_find_lf as memchr");
}

int
main(void)
{
	count_lf();
	plain_text();
	multipart_alternative();
	multipart_mixed();
	message_rfc822();
	rfc822_multipart();
	latin1();
	parameters();
	bad_boundaries();
	limits();
	odd_messages();
	return tap_done();
}
