/* fuzz_rfc2047 - encoded-words, base64, quoted-printable, charsets, folding.
 *
 * Byte 0 picks the chunk size for the streaming decoders (1..8, or sizes
 * from the input) and the charset of raw header text; the rest is the
 * data.  Properties:
 * - decode_rfc2047() and every charset conversion give valid UTF-8;
 * - base64 and quoted-printable give the same bytes fed whole or in
 *   chunks, each call within its documented bound;
 * - base64 of any bytes (encoded here, with line breaks) decodes to them;
 * - decode_fold() gives valid UTF-8 and is idempotent.
 */
#include <string.h>

#include "../common/mail/decode.h"
#include "fuzz.h"

#define MAXIN 65536

static uint8_t out1[2 * MAXIN + 128], out2[2 * MAXIN + 128], enc[2 * MAXIN];

static int
valid_utf8(const uint8_t *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		size_t n = decode_utf8_next(s + i, len - i, &cp);
		if (cp == 0xFFFD && n == 1)
			return 0;
		i += n;
	}
	return 1;
}

static size_t
chunk(const uint8_t *data, size_t size, size_t off, unsigned step)
{
	size_t n = step ? step : (size_t)(data[off % size] & 15) + 1;

	return n < size - off ? n : size - off;
}

static void
b64(const uint8_t *data, size_t size, unsigned step)
{
	struct decode_b64 a, b;
	size_t n1, n2 = 0, off = 0;

	decode_b64_init(&a);
	n1 = decode_b64(&a, data, size, out1);
	CHECK(n1 <= decode_b64_bound(size));
	n1 += decode_b64_end(&a, out1 + n1);
	decode_b64_init(&b);
	while (off < size) {
		size_t n = chunk(data, size, off, step), k;
		k = decode_b64(&b, data + off, n, out2 + n2);
		CHECK(k <= decode_b64_bound(n));
		n2 += k;
		off += n;
	}
	n2 += decode_b64_end(&b, out2 + n2);
	CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
}

static void
qp(const uint8_t *data, size_t size, unsigned step)
{
	struct decode_qp a, b;
	size_t n1, n2 = 0, off = 0;

	decode_qp_init(&a);
	n1 = decode_qp(&a, data, size, out1);
	CHECK(n1 <= decode_qp_bound(size));
	n1 += decode_qp_end(&a, out1 + n1);
	decode_qp_init(&b);
	while (off < size) {
		size_t n = chunk(data, size, off, step), k;
		k = decode_qp(&b, data + off, n, out2 + n2);
		CHECK(k <= decode_qp_bound(n));
		n2 += k;
		off += n;
	}
	n2 += decode_qp_end(&b, out2 + n2);
	CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
}

/* base64 with a CRLF every 76 characters (RFC 2045 6.8) */
static size_t
b64_encode(const uint8_t *in, size_t len, uint8_t *o)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, n = 0, col = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
		    (i + 2 < len ? in[i + 2] : 0);
		o[n++] = (uint8_t)al[v >> 18];
		o[n++] = (uint8_t)al[(v >> 12) & 63];
		o[n++] = i + 1 < len ? (uint8_t)al[(v >> 6) & 63] : '=';
		o[n++] = i + 2 < len ? (uint8_t)al[v & 63] : '=';
		if ((col += 4) == 76) {
			o[n++] = '\r';
			o[n++] = '\n';
			col = 0;
		}
	}
	return n;
}

static void
b64_round_trip(const uint8_t *data, size_t size)
{
	struct decode_b64 d;
	size_t n = b64_encode(data, size, enc), k;

	decode_b64_init(&d);
	k = decode_b64(&d, enc, n, out1);
	k += decode_b64_end(&d, out1 + k);
	CHECK(k == size && memcmp(out1, data, size) == 0);
}

static void
text(const uint8_t *data, size_t size, enum decode_charset cs)
{
	struct buf a, b, c;

	buf_init(&a, 1 << 24);
	buf_init(&b, 1 << 24);
	buf_init(&c, 1 << 24);
	CHECK(decode_rfc2047(data, size, cs, &a) >= 0 && valid_utf8(a.data, a.len));
	CHECK(decode_to_utf8(cs, data, size, &b) == 0 && valid_utf8(b.data, b.len));
	buf_reset(&b);
	CHECK(decode_fold(a.data, a.len, &b) == 0 && valid_utf8(b.data, b.len));
	CHECK(decode_fold(b.data, b.len, &c) == 0 && c.len == b.len &&
	    (b.len == 0 || memcmp(b.data, c.data, b.len) == 0));
	buf_free(&a, 0);
	buf_free(&b, 0);
	buf_free(&c, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum decode_charset cs[4] = {
		DECODE_CS_UTF8, DECODE_CS_LATIN1, DECODE_CS_CP1252, DECODE_CS_ASCII,
	};
	unsigned step;
	uint8_t sel;

	if (size < 1 || size - 1 > MAXIN)
		return 0;
	sel = data[0];
	step = sel & 7;
	data++;
	size--;
	text(data, size, cs[(sel >> 3) & 3]);
	if (size == 0)
		return 0;
	b64(data, size, step);
	qp(data, size, step);
	b64_round_trip(data, size);
	return 0;
}
