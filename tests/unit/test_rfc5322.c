/* test_rfc5322 - header fields, HEADER.FIELDS, address lists, dates and
 * ENVELOPE (common/mail/rfc5322.h).  Expected ENVELOPEs are worked out by
 * hand from RFC 3501 7.4.2 (no Dovecot to compare with here); every
 * message is also checked with LF line ends, which must give the same. */
#include <stdlib.h>
#include <string.h>

#include "../../common/mail/rfc5322.h"
#include "tap.h"

/* m with every LF made CRLF (a malloc'd copy). */
static char *
crlf(const char *m, size_t *len_r)
{
	size_t i, n = 0, len = strlen(m);
	char *o = malloc(2 * len + 1);

	for (i = 0; i < len; i++) {
		if (m[i] == '\n')
			o[n++] = '\r';
		o[n++] = m[i];
	}
	o[n] = '\0';
	*len_r = n;
	return o;
}

/* The ENVELOPE of m (LF line ends) and of its CRLF form both equal want. */
static int
envelope_is(const char *m, const char *want)
{
	struct buf b;
	size_t hl, bo, len, pass;
	char *c = NULL;
	int ok = 1;

	for (pass = 0; pass < 2; pass++) {
		const char *x = pass ? (c = crlf(m, &len)) : m;
		if (!pass)
			len = strlen(m);
		buf_init(&b, 1 << 22);
		rfc5322_split((const uint8_t *)x, len, &hl, &bo);
		if (rfc5322_envelope_write((const uint8_t *)x, hl, &b) < 0 || b.len != strlen(want) ||
		    memcmp(b.data, want, b.len) != 0) {
			printf("# got %.*s\n", (int)b.len, (const char *)b.data);
			ok = 0;
		}
		buf_free(&b, 0);
	}
	free(c);
	return ok;
}

static const char plain[] =
    "Date: Tue, 1 Dec 2026 12:00:00 +0100\n"
    "From: Alice Example <alice@example.org>\n"
    "To: Bob <bob@example.net>, carol@example.net\n"
    "Cc: \"Doe, Jane\" <jane@example.com>\n"
    "Subject: Lunch\n"
    " tomorrow\n"
    "Message-ID: <20261201.1@example.org>\n"
    "In-Reply-To: <prev@example.net>\n"
    "\n"
    "See you.\n";

static void
envelopes(void)
{
	CHECK(envelope_is(plain,
	    "(\"Tue, 1 Dec 2026 12:00:00 +0100\" \"Lunch tomorrow\" "
	    "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
	    "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
	    "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
	    "((\"Bob\" NIL \"bob\" \"example.net\")(NIL NIL \"carol\" \"example.net\")) "
	    "((\"Doe, Jane\" NIL \"jane\" \"example.com\")) NIL "
	    "\"<prev@example.net>\" \"<20261201.1@example.org>\")"),
	    "plain message: sender and reply-to default to from, folded subject");
	CHECK(envelope_is("From: =?iso-8859-1?q?J=F6rg?= <joerg@example.de>\n"
	    "Subject: =?UTF-8?B?SGVsbG8gV29ybGQ=?=\nSender: \nReply-To: r@example.de\n\nx\n",
	    "(NIL \"=?UTF-8?B?SGVsbG8gV29ybGQ=?=\" "
	    "((\"=?iso-8859-1?q?J=F6rg?=\" NIL \"joerg\" \"example.de\")) "
	    "((\"=?iso-8859-1?q?J=F6rg?=\" NIL \"joerg\" \"example.de\")) "
	    "((NIL NIL \"r\" \"example.de\")) NIL NIL NIL NIL NIL)"),
	    "encoded-words stay as they are; an empty Sender is from's");
	CHECK(envelope_is("To: A Group:Ed Jones <c@a.test>,joe@where.test;, undisclosed:;\n"
	    "Subject: say \"hi\"\n\n",
	    "(NIL {8}\r\nsay \"hi\" NIL NIL NIL "
	    "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
	    "(NIL NIL \"joe\" \"where.test\")(NIL NIL NIL NIL)"
	    "(NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"),
	    "groups as start/end markers; a quote makes a literal");
	CHECK(envelope_is("Subject: Gr\xfc\xdf""e\nFrom: root\n",
	    "(NIL {5}\r\nGr\xfc\xdf""e ((NIL NIL \"root\" \"MISSING_DOMAIN\")) "
	    "((NIL NIL \"root\" \"MISSING_DOMAIN\")) ((NIL NIL \"root\" \"MISSING_DOMAIN\")) "
	    "NIL NIL NIL NIL NIL)"),
	    "8-bit subject as a literal; header without body; missing domain");
	CHECK(envelope_is("", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"), "empty message");
}

static int
addrs_are(const char *in, const char *want)
{
	struct rfc5322_addrs l;
	struct buf b;
	int ok;

	rfc5322_addrs_init(&l, RFC5322_ADDR_MAX, 1 << 20);
	buf_init(&b, 1 << 20);
	ok = rfc5322_addr_parse((const uint8_t *)in, strlen(in), &l) == 0 &&
	    rfc5322_addrs_write(&l, &b) == 0 && b.len == strlen(want) && memcmp(b.data, want, b.len) == 0;
	if (!ok)
		printf("# got %.*s\n", (int)b.len, (const char *)b.data);
	buf_free(&b, 0);
	rfc5322_addrs_free(&l);
	return ok;
}

static void
addresses(void)
{
	static const struct {
		const char *in, *want, *name;
	} t[] = {
		{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", "((\"Pete\" NIL \"pete\" \"silly.test\"))",
		    "RFC 5322 A.5: comments everywhere" },
		{ "user@host (Real Name)", "((\"Real Name\" NIL \"user\" \"host\"))",
		    "a comment after an addr-spec is its name" },
		{ "<@r1.test,@r2.test:x@y.test>", "((NIL \"@r1.test,@r2.test\" \"x\" \"y.test\"))",
		    "obsolete route is the adl" },
		{ "John Q. Public <john@x.test>, \"a\\\\b\" <q@z>", "((\"John Q. Public\" NIL \"john\" \"x.test\")({3}\r\na\\b NIL \"q\" \"z\"))",
		    "obs-phrase with a dot; quoted-pair undone (a backslash makes a literal)" },
		{ "\"john doe\"@example.com, a@[192.0.2.1]", "((NIL NIL \"john doe\" \"example.com\")(NIL NIL \"a\" \"[192.0.2.1]\"))",
		    "quoted local part, domain literal" },
		{ "<>, Name <>", "NIL",
		    "<> is no address" },
		{ "Name <a@b, Other <c@d>", "((\"Name\" NIL \"a\" \"b\")(\"Other\" NIL \"c\" \"d\"))",
		    "missing '>'" },
		{ "\"open <a@b>", "((NIL NIL \"open <a@b>\" \"MISSING_DOMAIN\"))",
		    "unterminated quote runs to the end" },
		{ "g: a@b", "((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))",
		    "an unclosed group is closed" },
		{ "A\r\n <a@b>,\r\n\tB <c@d>", "((\"A\" NIL \"a\" \"b\")(\"B\" NIL \"c\" \"d\"))",
		    "folded list" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(addrs_are(t[i].in, t[i].want), t[i].name);
}

static void
many_addresses(void)
{
	struct rfc5322_addrs l;
	struct buf h, e;
	size_t i, count = 0, hl, bo;
	const uint8_t *p;

	buf_init(&h, 1 << 22);
	buf_append_str(&h, "From: x@y\nTo: ");
	for (i = 0; i < 10001; i++)
		buf_printf(&h, "%sa%zu@b.test", i == 0 ? "" : i % 10 ? ", " : ",\n ", i);
	buf_append_str(&h, "\n\n");
	buf_init(&e, 1 << 24);
	rfc5322_split(h.data, h.len, &hl, &bo);
	CHECK(rfc5322_envelope_write(h.data, hl, &e) == 0, "ENVELOPE of 10,001 To: addresses");
	for (p = e.data; (p = memmem(p, e.len - (size_t)(p - e.data), "(NIL NIL \"a", 11)) != NULL; p++)
		count++;
	CHECK(count == RFC5322_ADDR_MAX, "the first 10,000 are kept");
	rfc5322_addrs_init(&l, RFC5322_ADDR_MAX, 1 << 22);
	CHECK(rfc5322_addr_parse(h.data + 14, hl - 14, &l) == 0 && l.n == RFC5322_ADDR_MAX &&
	    l.truncated, "the list says it was cut");
	rfc5322_addrs_free(&l);
	buf_free(&h, 0);
	buf_free(&e, 0);
}

static int
buf_is(const struct buf *b, const char *want)
{
	if (b->len == strlen(want) && memcmp(b->data, want, b->len) == 0)
		return 1;
	printf("# got %.*s\n", (int)b->len, (const char *)b->data);
	return 0;
}

static void
fields(void)
{
	static const struct rfc5322_name names[] = {
		{ (const uint8_t *)"SUBJECT", 7 }, { (const uint8_t *)"from", 4 },
	};
	const char *m = plain;
	struct rfc5322_field f;
	struct buf b;
	size_t hl, bo, len;
	char *c = crlf(plain, &len);

	rfc5322_split((const uint8_t *)m, strlen(m), &hl, &bo);
	CHECK(hl == strlen(m) - 10 && bo == hl + 1, "header/body boundary (LF)");
	CHECK(rfc5322_find((const uint8_t *)m, hl, "SUBJECT", &f) && f.value_len == 16 &&
	    memcmp(f.value, " Lunch\n tomorrow", 16) == 0, "case-insensitive find, folded value");
	buf_init(&b, 4096);
	rfc5322_header_fields((const uint8_t *)m, hl, names, 2, 0, &b);
	CHECK(buf_is(&b, "From: Alice Example <alice@example.org>\r\n"
	    "Subject: Lunch\r\n tomorrow\r\n\r\n"),
	    "HEADER.FIELDS: header order, exact bytes, CRLF, blank line");
	buf_reset(&b);
	rfc5322_split((const uint8_t *)c, len, &hl, &bo);
	CHECK(bo == hl + 2, "header/body boundary (CRLF)");
	rfc5322_header_fields((const uint8_t *)c, hl, names, 2, 1, &b);
	CHECK(buf_is(&b, "Date: Tue, 1 Dec 2026 12:00:00 +0100\r\n"
	    "To: Bob <bob@example.net>, carol@example.net\r\n"
	    "Cc: \"Doe, Jane\" <jane@example.com>\r\n"
	    "Message-ID: <20261201.1@example.org>\r\n"
	    "In-Reply-To: <prev@example.net>\r\n\r\n"),
	    "HEADER.FIELDS.NOT");
	buf_reset(&b);
	rfc5322_header_fields((const uint8_t *)"A: 1\nB: 2", 9, names, 0, 1, &b);
	CHECK(buf_is(&b, "A: 1\r\nB: 2\r\n\r\n"),
	    "a last field without a line end gets one");
	buf_free(&b, 0);
	free(c);
	rfc5322_split((const uint8_t *)"\r\nbody", 6, &hl, &bo);
	CHECK(hl == 0 && bo == 2, "empty header");
	rfc5322_split((const uint8_t *)"X: y\r\n", 6, &hl, &bo);
	CHECK(hl == 6 && bo == 6, "header without body");
	CHECK(!rfc5322_find((const uint8_t *)" cont: x\nnocolon\nA : b\n", 23, "cont", &f) &&
	    rfc5322_find((const uint8_t *)" cont: x\nnocolon\nA : b\n", 23, "a", &f),
	    "continuation without a field and lines without a colon are skipped; 'A : b' is A");
}

static void
limits(void)
{
	struct buf h, e;
	size_t hl, bo;

	buf_init(&h, 1 << 22);
	buf_append_str(&h, "Subject: ");
	for (hl = 0; hl < 100000; hl++)
		buf_append(&h, "x", 1);
	buf_append_str(&h, "\nSubject: a\0b\n\n");
	buf_init(&e, 1 << 22);
	rfc5322_split(h.data, h.len, &hl, &bo);
	CHECK(rfc5322_envelope_write(h.data, hl, &e) == 0 &&
	    e.len == 5 + RFC5322_VALUE_MAX + 2 + 8 * 4 + 1 &&
	    memcmp(e.data, "(NIL \"xxx", 9) == 0, "a 100,000-byte Subject is cut at RFC5322_VALUE_MAX");
	buf_reset(&h);
	buf_reset(&e);
	buf_append(&h, "Subject: a\0b\nFrom: a\0b@c\n", 25);
	rfc5322_envelope_write(h.data, h.len, &e);
	CHECK(e.len > 15 && memcmp(e.data, "(NIL {2}\r\nab ((NIL NIL {2}\r\nab \"c\"))", 36) == 0,
	    "NUL bytes never go out");
	buf_free(&h, 0);
	buf_free(&e, 0);
}

static int
date_is(const char *s, int want_r, time_t want)
{
	time_t t = 12345;
	int r = rfc5322_date_parse((const uint8_t *)s, strlen(s), &t);

	if (r != want_r || (r == 0 && t != want))
		printf("# %s: %d %lld\n", s, r, (long long)t);
	return r == want_r && (r < 0 || t == want);
}

static void
dates(void)
{
	CHECK(date_is("Tue, 1 Dec 2026 12:00:00 +0100", 0, 1796122800), "date-time");
	CHECK(date_is("Mon, 7 Feb 1994 21:52:25 -0800 (PST)", 0, 760686745), "with a comment");
	CHECK(date_is("7 Feb 94 21:52 EST", 0, 760675920), "two-digit year, no seconds, EST");
	CHECK(date_is("1 Jan 49 00:00:00 GMT", 0, 2493072000), "49 is 2049 (RFC 5322 4.3)");
	CHECK(date_is("1 Jan 50 00:00:00 UT", 0, -631152000), "50 is 1950");
	CHECK(date_is("1 Jan 100 00:00:00 +0000", 0, 946684800), "three-digit year is +1900");
	CHECK(date_is("Thu Jan  1 00:00:00 1970", 0, 0), "asctime form");
	CHECK(date_is("29 Feb 2024 23:59:60 -0000", 0, 1709251200), "leap day, leap second");
	CHECK(date_is("30 November 2026 09:00 -05:00", 0, 1796047200), "full month name, +hh:mm");
	CHECK(date_is("1 Jan 2000 00:00:00 Z", 0, 946684800), "military zone is +0000");
	CHECK(date_is("1 Jan 2000 00:00:00", 0, 946684800), "no zone is +0000");
	CHECK(date_is("31 Feb 2000 00:00:00 +0000", -1, 0), "no 31 February");
	CHECK(date_is("1 Jan 2000 24:00:00 +0000", -1, 0), "no hour 24");
	CHECK(date_is("1 Foo 2000 00:00:00 +0000", -1, 0), "unknown month");
	CHECK(date_is("", -1, 0) && date_is("garbage", -1, 0) && date_is("Mon,", -1, 0),
	    "not dates");
}

int
main(void)
{
	envelopes();
	addresses();
	many_addresses();
	fields();
	limits();
	dates();
	return tap_done();
}
