/* test_mutf7.c - modified UTF-7 both ways, strictness, mailbox-name checks. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../common/proto/mutf7.h"
#include "tap.h"

static char out[MUTF7_NAME_MAX + 1];

/* wire decodes to utf8, and utf8 encodes back to wire. */
static void
both(const char *wire, const char *utf8)
{
	char name[200];
	size_t n = 0;

	snprintf(name, sizeof(name), "decode \"%s\"", wire);
	CHECK(mutf7_decode((const uint8_t *)wire, strlen(wire), out, sizeof(out), &n) == MUTF7_OK &&
	    n == strlen(utf8) && !strcmp(out, utf8), name);
	snprintf(name, sizeof(name), "encode to \"%s\"", wire);
	CHECK(mutf7_encode((const uint8_t *)utf8, strlen(utf8), out, sizeof(out), &n) == MUTF7_OK &&
	    n == strlen(wire) && !strcmp(out, wire), name);
}

static void
bad_dec(const char *wire, size_t len, enum mutf7_err want, const char *name)
{
	size_t n;

	CHECK(mutf7_decode((const uint8_t *)wire, len, out, sizeof(out), &n) == want, name);
}

static void
bad_enc(const char *utf8, size_t len, enum mutf7_err want, const char *name)
{
	size_t n;

	CHECK(mutf7_encode((const uint8_t *)utf8, len, out, sizeof(out), &n) == want, name);
}

#define BADD(s, want, name) bad_dec(s, sizeof(s) - 1, want, name)
#define BADE(s, want, name) bad_enc(s, sizeof(s) - 1, want, name)

static void
test_codec(void)
{
	both("INBOX", "INBOX");
	both("", "");
	both("&-", "&");
	both("Tom &- Jerry", "Tom & Jerry");
	both("&AOk-t&AOk-", "\xc3\xa9t\xc3\xa9");			/* été */
	both("Entw&APw-rfe", "Entw\xc3\xbc" "rfe");			/* Entwürfe */
	both("&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");	/* 日本語 (RFC 3501) */
	both("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	    "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	both("&2D3eAA-", "\xf0\x9f\x98\x80");				/* U+1F600, a pair */
	both("&AAk-", "\t");						/* control: shifted */
	both("a&AH8-", "a\x7f");
	both("&AOk-&-", "\xc3\xa9&");
	BADD("&Jjo!", MUTF7_ERR_BASE64, "'!' in base64");
	BADD("&U,BTFw", MUTF7_ERR_UNTERMINATED, "& unterminated");
	BADD("&", MUTF7_ERR_UNTERMINATED, "lone &");
	BADD("&AGE-", MUTF7_ERR_ASCII, "encoded printable ASCII 'a'");
	BADD("&ACY-", MUTF7_ERR_ASCII, "encoded '&'");
	BADD("&AOk-&AOk-", MUTF7_ERR_NONCANON, "two adjacent runs");
	BADD("&AOl-", MUTF7_ERR_PADDING, "non-zero spare bits");
	BADD("&AO-", MUTF7_ERR_PADDING, "partial unit");
	BADD("&AOkA-", MUTF7_ERR_PADDING, "six spare bits");
	BADD("&2D0-", MUTF7_ERR_SURROGATE, "lone high surrogate");
	BADD("&3gA-", MUTF7_ERR_SURROGATE, "lone low surrogate");
	BADD("&2D3YPQ-", MUTF7_ERR_SURROGATE, "high then high");
	BADD("&AAA-", MUTF7_ERR_NUL, "U+0000");
	BADD("caf\xc3\xa9", MUTF7_ERR_CHAR, "raw 8-bit");
	BADD("a\tb", MUTF7_ERR_CHAR, "raw control");
	BADD("a\0b", MUTF7_ERR_CHAR, "raw NUL");
	BADE("\xc3", MUTF7_ERR_UTF8, "truncated UTF-8");
	BADE("\xc0\xaf", MUTF7_ERR_UTF8, "overlong UTF-8");
	BADE("\xed\xa0\x80", MUTF7_ERR_UTF8, "UTF-8 surrogate");
	BADE("\xf4\x90\x80\x80", MUTF7_ERR_UTF8, "over U+10FFFF");
	BADE("\xff", MUTF7_ERR_UTF8, "0xff");
	BADE("a\0", MUTF7_ERR_NUL, "NUL");
}

static void
test_lengths(void)
{
	static char big[MUTF7_NAME_MAX + 2];
	char small[4];
	size_t n;

	memset(big, 'a', sizeof(big) - 1);
	bad_dec(big, MUTF7_NAME_MAX + 1, MUTF7_ERR_TOO_LONG, "decode: name over the limit");
	bad_enc(big, MUTF7_NAME_MAX + 1, MUTF7_ERR_TOO_LONG, "encode: name over the limit");
	CHECK(mutf7_decode((const uint8_t *)big, MUTF7_NAME_MAX, out, sizeof(out), &n) == MUTF7_OK &&
	    n == MUTF7_NAME_MAX, "decode: name of the limit");
	CHECK(mutf7_decode((const uint8_t *)"abcd", 4, small, sizeof(small), &n) ==
	    MUTF7_ERR_TOO_LONG, "decode: output buffer too small");
	CHECK(mutf7_encode((const uint8_t *)"\xc3\xa9", 2, small, sizeof(small), &n) ==
	    MUTF7_ERR_TOO_LONG, "encode: output buffer too small");
}

/* name with bytes outside printable ASCII as \xHH: TAP lines stay text. */
static const char *
printable(const char *name)
{
	static char esc[200];
	size_t i, o = 0;

	for (i = 0; name[i] != '\0' && o + 5 < sizeof(esc); i++) {
		uint8_t c = (uint8_t)name[i];
		if (c >= 0x20 && c < 0x7f)
			esc[o++] = (char)c;
		else
			o += (size_t)snprintf(esc + o, sizeof(esc) - o, "\\x%02x", c);
	}
	esc[o] = '\0';
	return esc;
}

static void
mbox(const char *name, char sep, unsigned flags, enum mutf7_mbox_err want)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "mailbox \"%s\" sep '%c'%s: %d", printable(name), sep,
	    flags ? " (pattern)" : "", (int)want);
	CHECK(mutf7_mailbox_check((const uint8_t *)name, strlen(name), sep, flags) == want, msg);
}

static void
test_mailbox(void)
{
	static char big[MUTF7_MAILBOX_MAX + 2];

	mbox("INBOX", '.', 0, MUTF7_MBOX_OK);
	mbox("Archive.2024", '.', 0, MUTF7_MBOX_OK);
	mbox("Archive/2024", '/', 0, MUTF7_MBOX_OK);
	mbox("Entw\xc3\xbc" "rfe", '.', 0, MUTF7_MBOX_OK);
	mbox("a.b.c", '/', 0, MUTF7_MBOX_OK);
	mbox("", '.', 0, MUTF7_MBOX_EMPTY);
	mbox("..", '.', 0, MUTF7_MBOX_DOTDOT);
	mbox("a..b", '.', 0, MUTF7_MBOX_DOTDOT);
	mbox("a/../b", '/', 0, MUTF7_MBOX_DOTDOT);
	mbox("..", '/', 0, MUTF7_MBOX_DOTDOT);
	mbox("a/./b", '/', 0, MUTF7_MBOX_DOTDOT);
	mbox("a/b", '.', 0, MUTF7_MBOX_SLASH);
	mbox("/etc", '.', 0, MUTF7_MBOX_SLASH);
	mbox("a%", '.', 0, MUTF7_MBOX_WILDCARD);
	mbox("a*", '/', 0, MUTF7_MBOX_WILDCARD);
	mbox("a%", '.', MUTF7_MBOX_PATTERN, MUTF7_MBOX_OK);
	mbox("Archive.*", '.', MUTF7_MBOX_PATTERN, MUTF7_MBOX_OK);
	mbox("*", '/', MUTF7_MBOX_PATTERN, MUTF7_MBOX_OK);
	mbox(".a", '.', 0, MUTF7_MBOX_EDGE);
	mbox("a.", '.', 0, MUTF7_MBOX_EDGE);
	mbox("/a", '/', 0, MUTF7_MBOX_EDGE);
	mbox("a/", '/', 0, MUTF7_MBOX_EDGE);
	mbox("a//b", '/', 0, MUTF7_MBOX_EMPTY_PART);
	mbox("a\tb", '.', 0, MUTF7_MBOX_CTRL);
	mbox("a\x7f", '.', 0, MUTF7_MBOX_CTRL);
	mbox("a\xc2\x85", '.', 0, MUTF7_MBOX_CTRL);
	mbox("a\xc3", '.', 0, MUTF7_MBOX_UTF8);
	memset(big, 'a', sizeof(big) - 1);
	CHECK(mutf7_mailbox_check((const uint8_t *)big, MUTF7_MAILBOX_MAX, '.', 0) == MUTF7_MBOX_OK,
	    "mailbox name of the limit");
	CHECK(mutf7_mailbox_check((const uint8_t *)big, MUTF7_MAILBOX_MAX + 1, '.', 0) ==
	    MUTF7_MBOX_TOO_LONG, "mailbox name over the limit");
}

int
main(void)
{
	test_codec();
	test_lengths();
	test_mailbox();
	return tap_done();
}
