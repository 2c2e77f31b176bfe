/* fuzz_smtp_reply.c - smtp_reply_parse() on a remote server's replies.
 *
 * The input is cut at LF (a CR before it dropped) into reply lines.
 * Properties: a complete reply has a code of 200..599, an enhanced code
 * that is empty or valid for its class, text without control bytes that
 * fits its buffer; formatted again, it parses back to the same code and
 * enhanced code.
 */
#include <string.h>

#include "../common/proto/smtp_reply.h"
#include "fuzz.h"

static char out[SMTP_REPLY_TEXT_MAX * 2 + 256];

static void
check_done(const struct smtp_reply *r)
{
	struct smtp_reply_parser p;
	struct smtp_reply back;
	enum smtp_reply_result res = SMTP_REPLY_ERR;
	const char *line = out, *t;
	long n;

	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->esc[0] == '\0' || smtp_esc_valid(r->esc, strlen(r->esc), (char)('0' + r->code / 100)));
	CHECK(strlen(r->text) < sizeof(r->text));
	for (t = r->text; *t; t++)
		CHECK(*t == '\n' || ((unsigned char)*t >= 0x20 && *t != 0x7f));
	n = smtp_reply_format(r, out, sizeof(out));
	if (n < 0)
		return;		/* a line grew past 512 with the code added back */
	smtp_reply_parser_init(&p);
	while (line < out + n) {
		const char *crlf = strstr(line, "\r\n");
		CHECK(crlf != NULL);
		res = smtp_reply_parse(&p, (const uint8_t *)line, (size_t)(crlf - line), &back);
		if (res == SMTP_REPLY_ERR)
			return;	/* more than SMTP_REPLY_LINES_MAX lines once split */
		line = crlf + 2;
	}
	CHECK(res == SMTP_REPLY_DONE);
	CHECK(back.code == r->code);
	CHECK(r->esc[0] == '\0' || strcmp(back.esc, r->esc) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_reply r;
	struct smtp_reply_parser p;
	size_t off = 0;

	smtp_reply_parser_init(&p);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t end = nl ? (size_t)(nl - data) : size, ll = end - off;

		if (ll > 0 && data[off + ll - 1] == '\r')
			ll--;
		if (smtp_reply_parse(&p, data + off, ll, &r) == SMTP_REPLY_DONE)
			check_done(&r);
		off = end + 1;
	}
	return 0;
}
