/* fuzz_mime - MIME structure, BODYSTRUCTURE/BODY and section numbers.
 *
 * Byte 0 picks max_depth (1..8, or the default when its bit 3 is set) and
 * byte 1 max_parts (1..64, 0 = the default); the rest is the message.
 * Properties:
 * - every part lies inside the message and inside its parent's body,
 *   parents come before their children, depth and part count stay within
 *   the limits, sizes are the CRLF counts of the bytes;
 * - BODYSTRUCTURE and BODY are balanced lists (strings and literals
 *   skipped) that start with "(" and end with ")";
 * - the message with every bare LF made CRLF has the same structure, the
 *   same sizes and lines and the very same BODYSTRUCTURE;
 * - every section that resolves is a range inside the message.
 */
#include <string.h>

#include "../common/mail/imapstr.h"
#include "../common/mail/mime.h"
#include "fuzz.h"
#include "imapcheck.h"

#define MAXIN 65536

static uint8_t crlf[2 * MAXIN];

static void
check_parts(const struct mime_msg *mm, const uint8_t *m, size_t len)
{
	size_t i;

	CHECK(mm->n >= 1 && mm->n <= mm->max_parts);
	for (i = 0; i < mm->n; i++) {
		const struct mime_part *p = &mm->parts[i];
		CHECK(p->hdr_off <= p->body_off && p->body_off <= len && p->body_len <= len - p->body_off);
		CHECK(p->body_size == imap_crlf_size(m + p->body_off, p->body_len));
		CHECK(p->hdr_size == imap_crlf_size(m + p->hdr_off, p->body_off - p->hdr_off));
		CHECK(p->depth <= mm->max_depth);
		if (i == 0) {
			CHECK(p->parent == MIME_NONE && p->hdr_off == 0 && p->body_off + p->body_len == len);
			continue;
		}
		CHECK(p->parent < i);
		const struct mime_part *q = &mm->parts[p->parent];
		CHECK(p->depth == q->depth + 1 && (q->flags & (MIME_F_MULTIPART | MIME_F_RFC822)));
		CHECK(p->hdr_off >= q->body_off && p->body_off + p->body_len <= q->body_off + q->body_len);
	}
}

static size_t
to_crlf(const uint8_t *m, size_t len, uint8_t *o)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			o[n++] = '\r';
		o[n++] = m[i];
	}
	return n;
}

static void
sections(const struct mime_msg *mm, size_t len)
{
	static const char *const specs[] = {
		"", "TEXT", "HEADER", "HEADER.FIELDS", "1", "1.MIME", "2", "2.MIME", "1.1",
		"1.2", "1.1.1", "2.HEADER", "2.TEXT", "2.1", "2.1.TEXT", "3.2.1.MIME", "1.",
		"0", "1.x", "4294967296", "1.HEADER.FIELDS.NOT",
	};
	struct mime_section s;
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (mime_section(mm, specs[i], strlen(specs[i]), &s) < 0)
			continue;
		CHECK(s.part < mm->n && s.off <= len && s.len <= len - s.off);
	}
}

static void
structure(const uint8_t *m, size_t len, size_t max_parts, unsigned max_depth, struct buf *bs)
{
	struct mime_msg mm;
	struct buf body;

	mime_init(&mm, max_parts, max_depth);
	CHECK(mime_parse(&mm, m, len) == 0);
	check_parts(&mm, m, len);
	buf_init(bs, 1 << 24);
	buf_init(&body, 1 << 24);
	CHECK(mime_bodystructure_write(&mm, 1, bs) == 0 && imapcheck_list(bs->data, bs->len, 0));
	CHECK(mime_bodystructure_write(&mm, 0, &body) == 0 && imapcheck_list(body.data, body.len, 0));
	CHECK(body.len <= bs->len);
	sections(&mm, len);
	buf_free(&body, 0);
	mime_free(&mm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	unsigned max_depth;
	size_t max_parts, n;

	if (size < 2 || size - 2 > MAXIN)
		return 0;
	max_depth = (data[0] & 8) ? 0 : (data[0] & 7) + 1u;
	max_parts = data[1] ? (data[1] & 63) + 1u : 0;
	data += 2;
	size -= 2;
	structure(data, size, max_parts, max_depth, &a);
	n = to_crlf(data, size, crlf);
	structure(crlf, n, max_parts, max_depth, &b);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	buf_free(&a, 0);
	buf_free(&b, 0);
	return 0;
}
