/* test_util.c - numbers, UTF-8, base64, constant-time compare. */
#include <stdint.h>
#include <string.h>

#include "../../common/base/util.h"
#include "tap.h"

#define U(s) ((const uint8_t *)(s))

static int
parse(const char *s, uint64_t max, uint64_t *v)
{
	return util_parse_u64(U(s), strlen(s), max, v);
}

static void
test_parse_u64(void)
{
	uint64_t v = 77;

	CHECK(parse("0", UINT64_MAX, &v) == 0 && v == 0, "parse 0");
	CHECK(parse("42", 42, &v) == 0 && v == 42, "parse equal to max");
	CHECK(parse("18446744073709551615", UINT64_MAX, &v) == 0 && v == UINT64_MAX, "parse UINT64_MAX");
	v = 77;
	CHECK(parse("18446744073709551616", UINT64_MAX, &v) == -1 && v == 77, "UINT64_MAX+1 refused");
	CHECK(parse("99999999999999999999", UINT64_MAX, &v) == -1, "20 nines refused");
	CHECK(parse("-1", UINT64_MAX, &v) == -1, "minus sign refused");
	CHECK(parse("+1", UINT64_MAX, &v) == -1, "plus sign refused");
	CHECK(parse(" 1", UINT64_MAX, &v) == -1, "leading space refused");
	CHECK(parse("1 ", UINT64_MAX, &v) == -1, "trailing space refused");
	CHECK(parse("", UINT64_MAX, &v) == -1, "empty refused");
	CHECK(parse("1x", UINT64_MAX, &v) == -1, "trailing letter refused");
	CHECK(parse("000000000000000000001", UINT64_MAX, &v) == -1, "21 digits refused");
	CHECK(parse("00000000000000000007", UINT64_MAX, &v) == 0 && v == 7, "20 digits with leading zeros");
	CHECK(parse("007", UINT64_MAX, &v) == 0 && v == 7, "leading zeros ok");
	CHECK(parse("4294967295", UINT32_MAX, &v) == 0 && v == UINT32_MAX, "UINT32_MAX with max UINT32_MAX");
	CHECK(parse("4294967296", UINT32_MAX, &v) == -1, "over max refused");
	CHECK(util_parse_u64(U("12\0003"), 4, UINT64_MAX, &v) == -1, "embedded NUL refused");
	CHECK(util_parse_u64(U("123"), 2, UINT64_MAX, &v) == 0 && v == 12, "length respected");
	CHECK(util_str_to_u64("65536", 65536, &v) == 0 && v == 65536, "str_to_u64");
	CHECK(util_str_to_u64("65537", 65536, &v) == -1, "str_to_u64 over max");
}

static int
utf8(const char *s, size_t len)
{
	return util_utf8_valid(U(s), len);
}

static void
test_utf8(void)
{
	CHECK(utf8("", 0), "utf8 empty ok");
	CHECK(utf8("hello, world~", 13), "utf8 ASCII");
	CHECK(utf8("\xc3\xa9", 2), "utf8 2-byte (U+00E9)");
	CHECK(utf8("\xc2\x80", 2), "utf8 smallest 2-byte (U+0080)");
	CHECK(utf8("\xe2\x82\xac", 3), "utf8 3-byte (U+20AC)");
	CHECK(utf8("\xe0\xa0\x80", 3), "utf8 smallest 3-byte (U+0800)");
	CHECK(utf8("\xef\xbf\xbf", 3), "utf8 U+FFFF");
	CHECK(utf8("\xf0\x9f\x98\x80", 4), "utf8 4-byte (U+1F600)");
	CHECK(utf8("\xf4\x8f\xbf\xbf", 4), "utf8 U+10FFFF");
	CHECK(utf8("a\xc3\xa9z\xf0\x9f\x98\x80!", 8), "utf8 mixed");
	CHECK(!utf8("\xc0\x80", 2), "overlong C0 80 refused");
	CHECK(!utf8("\xc1\xbf", 2), "overlong C1 BF refused");
	CHECK(!utf8("\xe0\x80\xaf", 3), "overlong 3-byte '/' refused");
	CHECK(!utf8("\xf0\x80\x80\xaf", 4), "overlong 4-byte refused");
	CHECK(!utf8("\xed\xa0\x80", 3), "surrogate ED A0 80 refused");
	CHECK(!utf8("\xed\xbf\xbf", 3), "surrogate ED BF BF refused");
	CHECK(utf8("\xed\x9f\xbf", 3), "U+D7FF ok");
	CHECK(!utf8("\xf4\x90\x80\x80", 4), "U+110000 refused");
	CHECK(!utf8("\xf8\x88\x80\x80\x80", 5), "5-byte lead refused");
	CHECK(!utf8("\xff", 1), "0xFF refused");
	CHECK(!utf8("\x80", 1), "lone continuation refused");
	CHECK(!utf8("\xc3", 1), "truncated 2-byte refused");
	CHECK(!utf8("\xe2\x82", 2), "truncated 3-byte refused");
	CHECK(!utf8("\xf0\x9f\x98", 3), "truncated 4-byte refused");
	CHECK(!utf8("a\xf0\x9f", 3), "truncated at end refused");
	CHECK(!utf8("\xc3" "a", 2), "bad continuation refused");
	CHECK(!utf8("\xe2\x82" "a", 3), "bad second continuation refused");
	CHECK(!utf8("a\0b", 3), "NUL refused");
	CHECK(!utf8("\0", 1), "lone NUL refused");
}

static long
dec(const char *in, uint8_t *out, size_t cap)
{
	return util_base64_decode(U(in), strlen(in), out, cap);
}

static void
test_base64_decode(void)
{
	uint8_t out[64];

	CHECK(dec("", out, sizeof(out)) == 0, "b64 empty");
	CHECK(dec("Zg==", out, sizeof(out)) == 1 && out[0] == 'f', "b64 1 byte");
	CHECK(dec("Zm8=", out, sizeof(out)) == 2 && !memcmp(out, "fo", 2), "b64 2 bytes");
	CHECK(dec("Zm9v", out, sizeof(out)) == 3 && !memcmp(out, "foo", 3), "b64 3 bytes");
	CHECK(dec("Zm9vYmFy", out, sizeof(out)) == 6 && !memcmp(out, "foobar", 6), "b64 6 bytes");
	CHECK(dec("AAEC/w==", out, sizeof(out)) == 4 && out[0] == 0 && out[1] == 1 &&
	    out[2] == 2 && out[3] == 0xff, "b64 binary with '/'");
	CHECK(dec("+/+/", out, sizeof(out)) == 3 && out[0] == 0xfb, "b64 '+' and '/'");
	CHECK(dec("Zm9", out, sizeof(out)) == -1, "b64 length 3 refused");
	CHECK(dec("Zm9vY", out, sizeof(out)) == -1, "b64 length 5 refused");
	CHECK(dec("Zg", out, sizeof(out)) == -1, "b64 missing padding refused");
	CHECK(dec("Zm9v\n", out, sizeof(out)) == -1, "b64 newline refused");
	CHECK(dec("Zm 9", out, sizeof(out)) == -1, "b64 space refused");
	CHECK(dec("Zm9*", out, sizeof(out)) == -1, "b64 bad char refused");
	CHECK(dec("Zm-_", out, sizeof(out)) == -1, "b64 url alphabet refused");
	CHECK(util_base64_decode(U("Zm\0v"), 4, out, sizeof(out)) == -1, "b64 NUL refused");
	CHECK(dec("Z===", out, sizeof(out)) == -1, "b64 three '=' refused");
	CHECK(dec("====", out, sizeof(out)) == -1, "b64 all '=' refused");
	CHECK(dec("Zg=a", out, sizeof(out)) == -1, "b64 '=' then data refused");
	CHECK(dec("Zg==Zm9v", out, sizeof(out)) == -1, "b64 '=' in the middle refused");
	CHECK(dec("Zm=v", out, sizeof(out)) == -1, "b64 '=' inside a quantum refused");
	CHECK(dec("Zm9v=", out, sizeof(out)) == -1, "b64 extra '=' refused");
	CHECK(dec("Zm9vYmFy", out, 6) == 6, "b64 exact capacity");
	CHECK(dec("Zm9vYmFy", out, 5) == -1, "b64 capacity exceeded");
	CHECK(dec("Zm8=", out, 1) == -1, "b64 capacity exceeded in padded quantum");
	CHECK(dec("Zm8=", out, 2) == 2, "b64 padded quantum exact capacity");
}

static void
test_base64_roundtrip(void)
{
	uint8_t in[256], out[256];
	char text[400];
	size_t n;
	int ok = 1;

	for (n = 0; n < sizeof(in); n++)
		in[n] = (uint8_t)(n * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		long e = util_base64_encode(in, n, text, sizeof(text));
		long d = util_base64_decode(U(text), (size_t)e, out, sizeof(out));
		if (e != (long)((n + 2) / 3 * 4) || strlen(text) != (size_t)e ||
		    d != (long)n || memcmp(in, out, n) != 0)
			ok = 0;
	}
	CHECK(ok, "b64 roundtrip for lengths 0..256");
	CHECK(util_base64_encode(U("foobar"), 6, text, sizeof(text)) == 8 &&
	    !strcmp(text, "Zm9vYmFy"), "b64 encode foobar");
	CHECK(util_base64_encode(U("fo"), 2, text, sizeof(text)) == 4 && !strcmp(text, "Zm8="),
	    "b64 encode pads");
	CHECK(util_base64_encode(U(""), 0, text, 1) == 0 && text[0] == '\0', "b64 encode empty");
	CHECK(util_base64_encode(U("foo"), 3, text, 5) == 4, "b64 encode exact capacity");
	CHECK(util_base64_encode(U("foo"), 3, text, 4) == -1, "b64 encode no room for NUL");
	CHECK(util_base64_encode(U(""), 0, text, 0) == -1, "b64 encode zero capacity");
}

static void
test_ct_equal(void)
{
	CHECK(util_ct_equal("abc", "abc", 3), "ct_equal same");
	CHECK(!util_ct_equal("abc", "abd", 3), "ct_equal last byte differs");
	CHECK(!util_ct_equal("xbc", "abc", 3), "ct_equal first byte differs");
	CHECK(util_ct_equal("abc", "abd", 2), "ct_equal respects length");
	CHECK(util_ct_equal("", "x", 0), "ct_equal zero length");
	CHECK(!util_ct_equal("\x80", "\x00", 1), "ct_equal high bit");
}

static void
test_session_id(void)
{
	char a[25], b[25];
	size_t i;
	int hex = 1;

	util_session_id(a);
	util_session_id(b);
	for (i = 0; i < 24; i++)
		hex &= (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f');
	CHECK(hex && a[24] == '\0', "session id is 24 hex chars");
	CHECK(strcmp(a, b) != 0, "session ids differ");
}

static void
test_civil(void)
{
	static const struct { int64_t days, y; unsigned m, d; } v[] = {
		{ 0, 1970, 1, 1 }, { -1, 1969, 12, 31 }, { 11016, 2000, 2, 29 },
		{ 11017, 2000, 3, 1 }, { 20788, 2026, 12, 1 }, { 2932896, 9999, 12, 31 },
		{ -719468, 0, 3, 1 }, { -719469, 0, 2, 29 },
	};
	int64_t y;
	unsigned m, d, i;
	int ok = 1;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		util_civil_from_days(v[i].days, &y, &m, &d);
		ok &= y == v[i].y && m == v[i].m && d == v[i].d;
	}
	CHECK(ok, "civil_from_days: epoch, before it, leap days, 9999-12-31, year 0");
}

int
main(void)
{
	test_parse_u64();
	test_utf8();
	test_base64_decode();
	test_base64_roundtrip();
	test_ct_equal();
	test_session_id();
	test_civil();
	return tap_done();
}
