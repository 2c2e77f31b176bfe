/* test_dotstuff - the DATA decoder and the dot-stuffing encoder, whole and
 * one byte at a time. */
#include <string.h>

#include "../../common/proto/dotstuff.h"
#include "tap.h"

struct res {
	enum dotstuff_result r;
	size_t used;
	unsigned flags;
	char out[4096];
	size_t outlen;
};

static struct res
dec(const char *in, size_t len, int bytewise, enum dotstuff_bare bare, uint64_t max_size)
{
	struct dotstuff_dec d;
	struct res x;
	size_t off = 0;

	memset(&x, 0, sizeof(x));
	dotstuff_dec_init(&d, 1000, max_size, bare);
	x.r = DOTSTUFF_MORE;
	while (off < len && x.r == DOTSTUFF_MORE) {
		size_t n = bytewise ? 1 : len - off, c, p;
		x.r = dotstuff_decode(&d, (const uint8_t *)in + off, n, (uint8_t *)x.out + x.outlen, &c, &p);
		off += c;
		x.outlen += p;
	}
	x.used = off;
	x.flags = d.flags;
	return x;
}

static int
same(struct res a, const char *out, size_t used, enum dotstuff_result r, unsigned flags)
{
	return a.r == r && a.used == used && a.flags == flags && a.outlen == strlen(out) &&
	    memcmp(a.out, out, a.outlen) == 0;
}

#define D(in, bw, bare, max) dec(in, sizeof(in) - 1, bw, bare, max)

static void
decoder_cases(int bw)
{
	const char *tag = bw ? " (bytewise)" : "";
	char name[128];
	struct res r;

	r = D("Subject: x\r\n\r\nhi\r\n..dots\r\n.\r\nQUIT\r\n", bw, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	snprintf(name, sizeof(name), "end marker, unstuffing, trailing bytes left%s", tag);
	CHECK(same(r, "Subject: x\n\nhi\n.dots\n", 29, DOTSTUFF_DONE, 0), name);

	r = D("a\n.\nMAIL FROM:<evil>\r\n.\r\n", bw, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	snprintf(name, sizeof(name), "LF.LF never ends the data; refused%s", tag);
	CHECK(r.r == DOTSTUFF_DONE && r.used == 25 && r.flags == DOTSTUFF_F_BARE_EOL, name);

	r = D("a\r.\rb\r\n.\r\n", bw, DOTSTUFF_BARE_NORMALIZE, UINT64_MAX);
	snprintf(name, sizeof(name), "CR.CR never ends the data; normalised%s", tag);
	CHECK(same(r, "a\n.\nb\n", 10, DOTSTUFF_DONE, 0), name);

	r = D("x\r\n.\n.\r\n.\r\n", bw, DOTSTUFF_BARE_NORMALIZE, UINT64_MAX);
	snprintf(name, sizeof(name), "CRLF . LF is text, and so is LF . CRLF%s", tag);
	CHECK(same(r, "x\n.\n.\n", 11, DOTSTUFF_DONE, 0), name);

	r = D("\r\n.\r\n", bw, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	snprintf(name, sizeof(name), "one empty line%s", tag);
	CHECK(same(r, "\n", 5, DOTSTUFF_DONE, 0), name);

	r = D(".\r\n", bw, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	snprintf(name, sizeof(name), "empty message%s", tag);
	CHECK(same(r, "", 3, DOTSTUFF_DONE, 0), name);

	r = D("0123456789\r\n.\r\n", bw, DOTSTUFF_BARE_REFUSE, 4);
	snprintf(name, sizeof(name), "max_size stops output, data read to its end%s", tag);
	CHECK(same(r, "0123", 15, DOTSTUFF_DONE, DOTSTUFF_F_TOO_BIG), name);

	r = D("no end\r\n.", bw, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	snprintf(name, sizeof(name), "no end yet%s", tag);
	CHECK(same(r, "no end\n", 9, DOTSTUFF_MORE, 0), name);
}

static void
limits(void)
{
	char big[1100];
	struct res r;

	memset(big, 'x', 998);
	memcpy(big + 998, "\r\n.\r\n", 6);
	r = dec(big, strlen(big), 0, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	CHECK(r.r == DOTSTUFF_DONE && r.flags == 0, "a 1000-byte line with CRLF is allowed");
	memset(big, 'x', 999);
	memcpy(big + 999, "\r\n.\r\n", 6);
	r = dec(big, strlen(big), 0, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	CHECK(r.r == DOTSTUFF_DONE && r.flags == DOTSTUFF_F_LINE_LONG, "1001 bytes is too long");
	r = D("a\0b\r\n.\r\n", 0, DOTSTUFF_BARE_REFUSE, UINT64_MAX);
	CHECK(r.flags == DOTSTUFF_F_NUL && r.outlen == 4, "a NUL is flagged");
}

static void
encoder(void)
{
	static const char msg[] = ".top\nmid\r\n..two\rlast";
	static const char want[] = "..top\r\nmid\r\n...two\r\nlast\r\n.\r\n";
	uint8_t out[128];
	struct dotstuff_enc e;
	size_t n, i;

	dotstuff_enc_init(&e);
	n = dotstuff_encode(&e, (const uint8_t *)msg, sizeof(msg) - 1, out);
	n += dotstuff_encode_end(&e, out + n);
	CHECK(n == sizeof(want) - 1 && memcmp(out, want, n) == 0, "encoder: stuffing, CRLF, end");
	dotstuff_enc_init(&e);
	for (i = 0, n = 0; i < sizeof(msg) - 1; i++)
		n += dotstuff_encode(&e, (const uint8_t *)msg + i, 1, out + n);
	n += dotstuff_encode_end(&e, out + n);
	CHECK(n == sizeof(want) - 1 && memcmp(out, want, n) == 0, "encoder bytewise");
	dotstuff_enc_init(&e);
	n = dotstuff_encode_end(&e, out);
	CHECK(n == 3 && memcmp(out, ".\r\n", 3) == 0, "encoder: empty message");
}

int
main(void)
{
	decoder_cases(0);
	decoder_cases(1);
	limits();
	encoder();
	return tap_done();
}
