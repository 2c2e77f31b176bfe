/* fuzz_rfc2047 - encoded-words, base64, quoted-printable, charsets, folding.
 *
 * Byte 0 picks the chunk size for the streaming decoders (1..8, or sizes
 * from the input) and the charset of raw header text; the rest is the
 * data.  Properties:
 * - decode_rfc2047() and every charset conversion give valid UTF-8;
 * - base64 and quoted-printable give the same bytes fed whole or in
 *   chunks, each call within its documented bound;
 * - base64 of any bytes (util_base64_encode()) decodes to them;
 * - decode_fold() gives valid UTF-8 and is idempotent.
 */
#include <string.h>

#include "../common/base/util.h"
#include "../common/mail/decode.h"
#include "fuzz.h"

#define MAXIN 65536

static uint8_t out1[2 * MAXIN + 128], out2[2 * MAXIN + 128], enc[2 * MAXIN + 8];

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

enum codec { B64, QP };

struct dec {
	enum codec c;
	struct decode_b64 b;
	struct decode_qp q;
};

static void
dec_init(struct dec *d, enum codec c)
{
	d->c = c;
	decode_b64_init(&d->b);
	decode_qp_init(&d->q);
}

/* One call of the decoder, checked against its bound. */
static size_t
dec_run(struct dec *d, const uint8_t *in, size_t n, uint8_t *out)
{
	size_t k = d->c == B64 ? decode_b64(&d->b, in, n, out) : decode_qp(&d->q, in, n, out);

	CHECK(k <= (d->c == B64 ? decode_b64_bound(n) : decode_qp_bound(n)));
	return k;
}

static size_t
dec_end(struct dec *d, uint8_t *out)
{
	return d->c == B64 ? decode_b64_end(&d->b, out) : decode_qp_end(&d->q, out);
}

/* The same bytes fed whole and in chunks. */
static void
whole_vs_chunked(enum codec c, const uint8_t *data, size_t size, unsigned step)
{
	struct dec a, b;
	size_t n1, n2 = 0, off = 0;

	dec_init(&a, c);
	n1 = dec_run(&a, data, size, out1);
	n1 += dec_end(&a, out1 + n1);
	dec_init(&b, c);
	while (off < size) {
		size_t n = chunk(data, size, off, step);
		n2 += dec_run(&b, data + off, n, out2 + n2);
		off += n;
	}
	n2 += dec_end(&b, out2 + n2);
	CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
}

/* base64 of any bytes (util_base64_encode(), RFC 4648) decodes to them. */
static void
b64_round_trip(const uint8_t *data, size_t size)
{
	struct decode_b64 d;
	long n = util_base64_encode(data, size, (char *)enc, sizeof(enc));
	size_t k;

	CHECK(n >= 0);
	decode_b64_init(&d);
	k = decode_b64(&d, enc, (size_t)n, out1);
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
	whole_vs_chunked(B64, data, size, step);
	whole_vs_chunked(QP, data, size, step);
	b64_round_trip(data, size);
	return 0;
}
