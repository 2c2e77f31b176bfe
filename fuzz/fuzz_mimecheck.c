/* fuzz_mimecheck.c - the MIME conformance check (client bytes).
 *
 * Byte 0: the transport's flags (bits 0-1) and max_depth (1 + bits 2-7);
 * the rest is the message.  Properties: the answer is the same twice; a
 * conformant message has no line, rfc5322 set and a depth within the
 * limit (and its raw bytes are clean: mimecheck_raw agrees, and sees
 * the same 8-bit); a defect's line is a line of the message; the same message with
 * CRLF line ends gets the same answer; without 8-bit bytes the flags do
 * not matter; a conformant message stays conformant at the largest
 * depth; a field found by mimecheck_field lies in the header, starts with
 * its name, and is clean to copy.
 */
#include <string.h>
#include <strings.h>

#include "../common/mail/mimecheck.h"
#include "fuzz.h"

static uint8_t crlf[2 * 65536 + 4];

static int
same(const struct mimecheck_result *a, const struct mimecheck_result *b)
{
	return a->defect == b->defect && a->line == b->line && a->depth == b->depth &&
	    a->rfc5322 == b->rfc5322 && a->eightbit == b->eightbit;
}

static void
field(const uint8_t *m, size_t len, const char *name, unsigned flags)
{
	size_t off, n, i, nl = strlen(name);

	if (mimecheck_field(m, len, name, flags, &off, &n) < 0)
		return;
	CHECK(off <= len && n <= len - off && n <= MIMECHECK_FIELD_MAX && n > nl);
	CHECK(strncasecmp((const char *)m + off, name, nl) == 0);
	CHECK(m[off + nl] == ':' || m[off + nl] == ' ' || m[off + nl] == '\t');
	CHECK(off == 0 || m[off - 1] == '\n');
	CHECK(m[off + n - 1] != '\n' && m[off + n - 1] != '\r');
	for (i = 0; i < n; i++) {
		CHECK(m[off + i] != 0);
		if (m[off + i] == '\n')
			CHECK(m[off + i + 1] == ' ' || m[off + i + 1] == '\t');
		if (!(flags & MIMECHECK_SMTPUTF8))
			CHECK(m[off + i] < 0x80);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mimecheck_result r, r2;
	unsigned flags, depth;
	uint64_t lines = 1;
	size_t i, o = 0;
	int rc;

	if (size < 1 || size > 65536 + 1)
		return 0;
	flags = data[0] & 3;
	depth = 1 + (data[0] >> 2);
	data++;
	size--;
	rc = mimecheck_run(data, size, flags, depth, &r);
	CHECK((rc == 0) == (r.defect == MIMECHECK_OK));
	CHECK(mimecheck_name(r.defect) != NULL && mimecheck_text(r.defect) != NULL);
	(void)mimecheck_run(data, size, flags, depth, &r2);
	CHECK(same(&r, &r2));
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (rc == 0) {
		int eight;
		CHECK(r.line == 0 && r.rfc5322 && r.depth == 0);
		CHECK(mimecheck_raw(data, size, &eight) == 0 && eight == r.eightbit);
	} else if (!r.rfc5322 && r.defect != MIMECHECK_HEADER_SYNTAX &&
	    r.defect != MIMECHECK_8BIT_HEADER && r.defect != MIMECHECK_BAD_UTF8_HEADER &&
	    r.defect != MIMECHECK_8BIT_BODY) {
		int eight;
		CHECK(mimecheck_raw(data, size, &eight) < 0);	/* NUL, bare CR, long line */
	}
	else
		CHECK(r.line >= 1 && r.line <= lines && r.depth <= depth);
	if (memchr(data, '\r', size) == NULL) {
		for (i = 0; i < size; i++) {
			if (data[i] == '\n')
				crlf[o++] = '\r';
			crlf[o++] = data[i];
		}
		(void)mimecheck_run(crlf, o, flags, depth, &r2);
		CHECK(same(&r, &r2));
	}
	if (!r.eightbit) {
		(void)mimecheck_run(data, size, flags ^ 3, depth, &r2);
		CHECK(same(&r, &r2));
	}
	if (rc == 0)
		CHECK(mimecheck_run(data, size, flags, MIMECHECK_DEPTH_MAX, &r2) == 0);
	field(data, size, "From", flags);
	field(data, size, "Subject", flags);
	return 0;
}
