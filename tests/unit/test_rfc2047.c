/* test_rfc2047 - charsets, RFC 2047 encoded-words, base64, quoted-printable
 * and case folding (common/mail/decode.h); the streaming decoders also one
 * byte at a time. */
#include <string.h>

#include "../../common/mail/decode.h"
#include "tap.h"

static int
ew_is(const char *in, enum decode_charset raw, int want_r, const char *want)
{
	struct buf b;
	int r, ok;

	buf_init(&b, 1 << 20);
	r = decode_rfc2047((const uint8_t *)in, strlen(in), raw, &b);
	ok = r == want_r && b.len == strlen(want) && (b.len == 0 || memcmp(b.data, want, b.len) == 0);
	if (!ok)
		printf("# got %d [%.*s]\n", r, (int)b.len, b.len ? (const char *)b.data : "");
	buf_free(&b, 0);
	return ok;
}

static void
encoded_words(void)
{
	/* the "8:" cases are the examples of RFC 2047 section 8 */
	static const struct {
		const char *in;
		enum decode_charset raw;
		int r;
		const char *want, *name;
	} t[] = {
		{ "=?iso-8859-1?q?Andr=E9?= Pirard", DECODE_CS_UTF8, 0, "Andr\xc3\xa9 Pirard",
		    "Q, ISO-8859-1" },
		{ "(=?ISO-8859-1?Q?a?=)", DECODE_CS_UTF8, 0, "(a)",
		    "8: (a)" },
		{ "(=?ISO-8859-1?Q?a?= b)", DECODE_CS_UTF8, 0, "(a b)",
		    "8: word then text" },
		{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", DECODE_CS_UTF8, 0, "(ab)",
		    "8: blank between words dropped" },
		{ "(=?ISO-8859-1?Q?a?=  \t =?ISO-8859-1?Q?b?=)", DECODE_CS_UTF8, 0, "(ab)",
		    "8: any blanks between words dropped" },
		{ "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", DECODE_CS_UTF8, 0, "(ab)",
		    "8: a fold between words dropped" },
		{ "(=?ISO-8859-1?Q?a_b?=)", DECODE_CS_UTF8, 0, "(a b)",
		    "8: underscore" },
		{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", DECODE_CS_UTF8, DECODE_UNKNOWN_CHARSET, "(a =?ISO-8859-2?Q?_b?=)",
		    "unknown charset: word kept with its blank, result says so" },
		{ "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IFdvcmxk?=", DECODE_CS_UTF8, 0, "Hello World",
		    "B words joined" },
		{ "=?utf-8?b?4oI=?= =?utf-8?b?rA==?=", DECODE_CS_UTF8, 0, "\xe2\x82\xac",
		    "a UTF-8 character split across two words" },
		{ "=?utf-8?q?caf=c3=a9?=", DECODE_CS_UTF8, 0, "caf\xc3\xa9",
		    "lowercase hex" },
		{ "=?windows-1252?Q?=80=93=9F?=", DECODE_CS_UTF8, 0, "\xe2\x82\xac\xe2\x80\x9c\xc5\xb8",
		    "Windows-1252 (80 euro, 93 left quote, 9F Y diaeresis)" },
		{ "=?ISO-8859-15?Q?=A4?= =?ISO-8859-1?Q?=A4?=", DECODE_CS_UTF8, 0, "\xe2\x82\xac\xc2\xa4",
		    "ISO-8859-15 and -1 differ at A4" },
		{ "=?us-ascii*en?q?a=E9?=", DECODE_CS_UTF8, 0, "a\xef\xbf\xbd",
		    "US-ASCII with an RFC 2231 language; 8-bit is U+FFFD" },
		{ "=?utf-8?x?abc?= =?utf-8?q?a b?=", DECODE_CS_UTF8, 0, "=?utf-8?x?abc?= =?utf-8?q?a b?=",
		    "malformed words are text" },
		{ "x=?utf-8?q?y?=z", DECODE_CS_UTF8, 0, "xyz",
		    "a word inside text" },
		{ "Gr\xfc\xdf =?utf-8?q?x?=", DECODE_CS_LATIN1, 0, "Gr\xc3\xbc\xc3\x9f x",
		    "raw 8-bit text in the caller's charset" },
		{ "bad \xc3( utf-8", DECODE_CS_UTF8, 0, "bad \xef\xbf\xbd( utf-8",
		    "malformed raw UTF-8 becomes U+FFFD" },
		{ "", DECODE_CS_UTF8, 0, "",
		    "empty" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(ew_is(t[i].in, t[i].raw, t[i].r, t[i].want), t[i].name);
}

static void
charsets(void)
{
	static const struct {
		const char *name;
		enum decode_charset cs;
	} t[] = {
		{ "UTF-8", DECODE_CS_UTF8 }, { "utf8", DECODE_CS_UTF8 }, { "US-ASCII", DECODE_CS_ASCII },
		{ "Latin1", DECODE_CS_LATIN1 }, { "ISO_8859-1", DECODE_CS_LATIN1 },
		{ "iso-8859-15", DECODE_CS_LATIN9 }, { "CP1252", DECODE_CS_CP1252 },
		{ "utf-8*de", DECODE_CS_UTF8 }, { "koi8-r", DECODE_CS_UNKNOWN },
		{ "utf-88", DECODE_CS_UNKNOWN }, { "", DECODE_CS_UNKNOWN },
	};
	size_t i, ok = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok += decode_charset_lookup((const uint8_t *)t[i].name, strlen(t[i].name)) == t[i].cs;
	CHECK(ok == sizeof(t) / sizeof(t[0]), "charset names and aliases");
}

enum codec { B64, QP };

/* Decode in whole or one byte at a time; compare with want. */
static int
stream_is(enum codec c, const char *in, size_t inlen, int bytewise, const char *want, size_t wlen)
{
	uint8_t out[4096];
	struct decode_b64 b;
	struct decode_qp q;
	size_t i = 0, n = 0, step;

	decode_b64_init(&b);
	decode_qp_init(&q);
	while (i < inlen) {
		step = bytewise ? 1 : inlen - i;
		n += c == B64 ? decode_b64(&b, (const uint8_t *)in + i, step, out + n) :
		    decode_qp(&q, (const uint8_t *)in + i, step, out + n);
		i += step;
	}
	n += c == B64 ? decode_b64_end(&b, out + n) : decode_qp_end(&q, out + n);
	if (n != wlen || memcmp(out, want, n) != 0) {
		printf("# got [%.*s]\n", (int)n, (const char *)out);
		return 0;
	}
	return 1;
}

#define T(s) s, sizeof(s) - 1

static const struct {
	enum codec c;
	const char *in;
	size_t inlen;
	const char *want;
	size_t wlen;
	const char *name;
} stream_cases[] = {
	{ B64, T("SGVsbG8gV29ybGQ="), T("Hello World"), "base64" },
	{ B64, T("JVBE\r\nRi0x*LjQK\n"), T("%PDF-1.4\n"), "base64 with line breaks and junk skipped" },
	{ B64, T("SGVsbG"), T("Hell"), "base64 truncated group" },
	{ B64, T("YQ==Yg=="), T("ab"), "base64 concatenated after padding" },
	{ B64, T("!!==\r\n"), T(""), "base64 of nothing but junk" },
	{ QP, T("soft=\r\nbreak a=3Db\r\nx"), T("softbreak a=b\r\nx"), "QP soft break, escape, CRLF" },
	{ QP, T("l1\nl2\n"), T("l1\r\nl2\r\n"), "QP LF line ends come out CRLF" },
	{ QP, T("a  b \t \r\nc  "), T("a  b\r\nc"), "QP trailing blanks deleted, inner kept" },
	{ QP, T("caf=c3=a9"), T("caf\xc3\xa9"), "QP lowercase hex" },
	{ QP, T("=ZZ =4 =4x end="), T("=ZZ =4 =4x end="), "QP bad escapes kept" },
	{ QP, T("a= \t\r\nb=  c"), T("ab=  c"), "QP '=' then blanks then line end is soft" },
};

static void
streams(int bw)
{
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", stream_cases[i].name, bw ? " (bytewise)" : "");
		CHECK(stream_is(stream_cases[i].c, stream_cases[i].in, stream_cases[i].inlen, bw,
		    stream_cases[i].want, stream_cases[i].wlen), name);
	}
}

static void
long_blanks(void)
{
	char in[300], want[300];
	size_t n;

	memset(in, ' ', 200);
	in[0] = 'x';
	in[200] = 'y';
	memcpy(want, in, 201);
	n = 201;
	CHECK(stream_is(QP, in, 201, 1, want, n), "QP: 199 blanks inside a line pass through");
}

static int
fold_is(const char *in, const char *want)
{
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	ok = decode_fold((const uint8_t *)in, strlen(in), &b) == 0 && b.len == strlen(want) &&
	    memcmp(b.data, want, b.len) == 0;
	buf_free(&b, 0);
	return ok;
}

static void
folding(void)
{
	static const struct {
		const char *in, *want, *name;
	} t[] = {
		{ "MiXeD 123", "mixed 123",
		    "fold: ASCII" },
		{ "\xc3\x84\xc3\x96\xc3\x9c\xc3\x9f\xc3\x97", "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\x97",
		    "fold: Latin-1 (sharp s and times sign stay)" },
		{ "\xc5\xbd\xc5\x81\xc4\x8c\xc5\xb8", "\xc5\xbe\xc5\x82\xc4\x8d\xc3\xbf",
		    "fold: Latin Extended-A and Y diaeresis" },
		{ "\xce\xa3\xcf\x82\xd0\x96\xd0\x81", "\xcf\x83\xcf\x83\xd0\xb6\xd1\x91",
		    "fold: Greek (final sigma) and Cyrillic" },
		{ "\xe2\x82\xac\xff", "\xe2\x82\xac\xef\xbf\xbd",
		    "fold: others kept, bad UTF-8 U+FFFD" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(fold_is(t[i].in, t[i].want), t[i].name);
}

int
main(void)
{
	encoded_words();
	charsets();
	streams(0);
	streams(1);
	long_blanks();
	folding();
	return tap_done();
}
