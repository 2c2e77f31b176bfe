/* fuzz_dotstuff - the DATA decoder and the dot-stuffing encoder.
 *
 * Byte 0 picks the policy (bit 0: normalise bare line ends) and the
 * chunking (bits 1-3: one byte at a time, or sizes from the input), byte 1
 * a small max_size (0 = unlimited).  Properties:
 * - the decoder reads at most len bytes, writes at most 2 more than it read
 *   in one call (held-back bytes) and never more than it read in total, and
 *   gives the same result fed whole or in chunks;
 * - DONE comes only right after CRLF "." CRLF, and with no bare CR/LF in
 *   the data under the refuse policy, never after a bare one;
 * - decode(encode(m) + end) is m with every line end an LF (and a final one).
 */
#include <string.h>

#include "../common/proto/dotstuff.h"
#include "fuzz.h"

#define MAXIN 65536

static uint8_t out1[MAXIN], out2[MAXIN], enc[2 * MAXIN + 8], norm[MAXIN + 1];

static enum dotstuff_result
run(struct dotstuff_dec *d, const uint8_t *in, size_t len, size_t step, uint8_t *out,
    size_t *used_r, size_t *made_r)
{
	size_t off = 0, made = 0;
	enum dotstuff_result r = DOTSTUFF_MORE;

	while (off < len && r == DOTSTUFF_MORE) {
		size_t n = step && step < len - off ? step : len - off, c, p;
		r = dotstuff_decode(d, in + off, n, out + made, &c, &p);
		CHECK(c <= n && p <= c + 2);
		CHECK(r == DOTSTUFF_DONE || c == n);
		off += c;
		made += p;
	}
	*used_r = off;
	*made_r = made;
	return r;
}

/* m with CRLF, CR and LF all as LF, plus a final LF if missing. */
static size_t
normalise(const uint8_t *m, size_t len, uint8_t *o)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (m[i] == '\r' && i + 1 < len && m[i + 1] == '\n')
			continue;
		o[n++] = m[i] == '\r' ? '\n' : m[i];
	}
	if (n > 0 && o[n - 1] != '\n')
		o[n++] = '\n';
	return n;
}

static void
round_trip(const uint8_t *m, size_t len)
{
	struct dotstuff_enc e;
	struct dotstuff_dec d;
	size_t n, used, made, want;

	dotstuff_enc_init(&e);
	n = dotstuff_encode(&e, m, len, enc);
	CHECK(n <= dotstuff_enc_bound(len));
	n += dotstuff_encode_end(&e, enc + n);
	dotstuff_dec_init(&d, (size_t)-1 / 4, UINT64_MAX, DOTSTUFF_BARE_REFUSE);
	CHECK(run(&d, enc, n, 0, out1, &used, &made) == DOTSTUFF_DONE);
	CHECK(used == n && (d.flags & ~DOTSTUFF_F_NUL) == 0);
	want = normalise(m, len, norm);
	CHECK(made == want && memcmp(out1, norm, made) == 0);
}

/* BDAT: whole and chunked conversions agree; only CRLF pairs shrink (the
 * output is the input with exactly one CR less for each CRLF). */
static void
bdat(const uint8_t *m, size_t len, size_t step)
{
	size_t i, a = 0, b = 0, pairs = 0;
	int ca = 0, cb = 0;

	a = dotstuff_crlf_to_lf(&ca, m, len, out1);
	a += dotstuff_crlf_end(&ca, out1 + a);
	for (i = 0; i < len; i += step)
		b += dotstuff_crlf_to_lf(&cb, m + i, len - i < step ? len - i : step, out2 + b);
	b += dotstuff_crlf_end(&cb, out2 + b);
	for (i = 0; i + 1 < len; i++)
		pairs += m[i] == '\r' && m[i + 1] == '\n';
	CHECK(a == b && memcmp(out1, out2, a) == 0 && a == len - pairs && ca == 0 && cb == 0);
	CHECK(memmem(out1, a, "\r\n", 2) == NULL || memmem(m, len, "\r\r\n", 3) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dotstuff_dec a, b;
	size_t used1, used2, made1, made2, step;
	enum dotstuff_result r1, r2;
	enum dotstuff_bare bare;
	uint64_t max_size;

	if (size < 2 || size - 2 > MAXIN)
		return 0;
	bare = (data[0] & 1) ? DOTSTUFF_BARE_NORMALIZE : DOTSTUFF_BARE_REFUSE;
	step = (data[0] >> 1) & 7;
	max_size = data[1] ? data[1] : UINT64_MAX;
	data += 2;
	size -= 2;

	dotstuff_dec_init(&a, 1000, max_size, bare);
	dotstuff_dec_init(&b, 1000, max_size, bare);
	r1 = run(&a, data, size, 0, out1, &used1, &made1);
	r2 = run(&b, data, size, step ? step : 1, out2, &used2, &made2);
	CHECK(r1 == r2 && used1 == used2 && made1 == made2 && a.flags == b.flags);
	CHECK(memcmp(out1, out2, made1) == 0);
	CHECK(made1 <= used1 && made1 <= max_size);
	if (r1 == DOTSTUFF_DONE) {
		CHECK(used1 >= 3 && memcmp(data + used1 - 3, ".\r\n", 3) == 0);
		CHECK(used1 == 3 || (used1 >= 5 && data[used1 - 5] == '\r' && data[used1 - 4] == '\n'));
	}
	round_trip(data, size);
	bdat(data, size, step ? step : 1);
	return 0;
}
