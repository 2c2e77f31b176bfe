/* fuzz_pop3_encode.c - pop3_enc_*(), the bytes RETR and TOP send.
 *
 * Byte 0: TOP's line count (0..254; 255 = RETR), byte 1: chunk size seed;
 * the rest is the message file.  The RETR output is the file with bare LF
 * made CRLF and leading dots doubled, then ".\r\n"; undone, it is exactly
 * the maildir_crlf_size() the client was promised (STAT, LIST, "+OK n
 * octets"), plus the CRLF the encoder must add when the file does not end
 * in LF.  Fed in chunks it is the same.  TOP's output is a prefix of RETR's
 * that ends at a line end, with the header and at most n body lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../common/mail/maildir.h"
#include "../common/proto/pop3_encode.h"
#include "fuzz.h"

/* Encode msg with body_lines, in chunks of 1 + (seed * k) % 97 bytes
 * (seed 0: whole).  Returns the output length; *out_r is malloc'ed. */
static size_t
encode(const uint8_t *msg, size_t len, int64_t body_lines, unsigned seed, uint8_t **out_r)
{
	struct pop3_enc e;
	uint8_t *out = malloc(POP3_ENC_OUT_MAX(len) + POP3_ENC_END_MAX);
	size_t pos = 0, o = 0, used, k = 0;

	CHECK(out != NULL);
	pop3_enc_init(&e, body_lines);
	while (pos < len && !e.done) {
		size_t chunk = seed == 0 ? len - pos : 1 + (seed * ++k) % 97;
		size_t w;

		if (chunk > len - pos)
			chunk = len - pos;
		w = pop3_enc_feed(&e, msg + pos, chunk, out + o, &used);
		CHECK(used <= chunk && w <= POP3_ENC_OUT_MAX(chunk));
		CHECK(used == chunk || e.done);
		o += w;
		pos += used;
	}
	o += pop3_enc_finish(&e, out + o);
	*out_r = out;
	return o;
}

/* Undo the dot-stuffing of out[0..len) (without the final ".\r\n") into
 * plain; every LF must follow a CR. */
static size_t
unstuff(const uint8_t *out, size_t len, uint8_t *plain)
{
	size_t i, n = 0;
	int bol = 1;

	for (i = 0; i < len; i++) {
		if (out[i] == '\n')
			CHECK(i > 0 && out[i - 1] == '\r');
		if (bol && out[i] == '.') {
			CHECK(i + 1 < len && out[i + 1] == '.');
			i++;
		}
		plain[n++] = out[i];
		bol = out[i] == '\n';
	}
	return n;
}

static uint64_t
announced(const uint8_t *msg, size_t len)
{
	uint64_t n = 0;
	int fd = memfd_create("msg", MFD_CLOEXEC);

	CHECK(fd >= 0 && write(fd, msg, len) == (ssize_t)len);
	CHECK(maildir_crlf_size(fd, &n) == 0);
	close(fd);
	return n;
}

static void
check_top(const uint8_t *retr, size_t rlen, const uint8_t *top, size_t tlen, unsigned nlines)
{
	size_t i, lines = 0, header_end = 0;

	CHECK(tlen <= rlen && tlen >= 3);
	CHECK(memcmp(top + tlen - 3, ".\r\n", 3) == 0);
	tlen -= 3;
	CHECK(memcmp(top, retr, tlen) == 0);
	if (tlen == rlen - 3)
		return;		/* the whole message */
	CHECK(tlen >= 2 && top[tlen - 1] == '\n');
	/* cut short: the header is complete and exactly n body lines follow */
	if (top[0] == '\r' && top[1] == '\n')
		header_end = 2;
	for (i = 0; i + 2 < tlen && header_end == 0; i++)
		if (top[i] == '\n' && top[i + 1] == '\r' && top[i + 2] == '\n')
			header_end = i + 3;
	/* A line of CRs only also ends the header for the encoder, earlier
	 * than found here: counting from here can only count fewer lines. */
	if (header_end == 0)
		return;
	for (i = header_end; i < tlen; i++)
		lines += top[i] == '\n';
	CHECK(lines <= nlines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *retr, *again, *top, *plain;
	size_t rlen, alen, tlen, plen, len;
	const uint8_t *msg;

	if (size < 2)
		return 0;
	msg = data + 2;
	len = size - 2;
	rlen = encode(msg, len, -1, 0, &retr);
	CHECK(rlen >= 3 && memcmp(retr + rlen - 3, ".\r\n", 3) == 0);
	plain = malloc(rlen);
	CHECK(plain != NULL);
	plen = unstuff(retr, rlen - 3, plain);
	CHECK(plen == announced(msg, len) + (len > 0 && msg[len - 1] != '\n' ? 2 : 0));
	CHECK(plen == 0 || (plen >= 2 && plain[plen - 2] == '\r' && plain[plen - 1] == '\n'));

	alen = encode(msg, len, -1, data[1] | 1u, &again);
	CHECK(alen == rlen && memcmp(again, retr, rlen) == 0);
	if (data[0] != 255) {
		tlen = encode(msg, len, data[0], data[1], &top);
		check_top(retr, rlen, top, tlen, data[0]);
		free(top);
	}
	free(again);
	free(plain);
	free(retr);
	return 0;
}
