/* test_pop3_encode.c - RETR/TOP encoding: CRLF, dot-stuffing, TOP's limit,
 * whole and one byte at a time. */
#include <string.h>

#include "../../common/proto/pop3_encode.h"
#include "tap.h"

static char out[4096];

/* Encode msg, step bytes per feed (0 = whole); returns out, NUL-terminated. */
static const char *
enc(const char *msg, long top, size_t step)
{
	struct pop3_enc e;
	size_t len = strlen(msg), pos = 0, o = 0, used, n;

	pop3_enc_init(&e, top);
	while (pos < len && !e.done) {
		n = step == 0 || step > len - pos ? len - pos : step;
		o += pop3_enc_feed(&e, (const uint8_t *)msg + pos, n, (uint8_t *)out + o, &used);
		pos += used;
	}
	o += pop3_enc_finish(&e, (uint8_t *)out + o);
	out[o] = '\0';
	return out;
}

int
main(void)
{
	static const char msg[] = "A: 1\nB: 2\n\nl1\n.l2\nl3\n";
	size_t step;

	for (step = 0; step <= 1; step++) {
		CHECK(!strcmp(enc(msg, -1, step), "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n"),
		    step ? "RETR byte by byte" : "RETR: CRLF and dot-stuffing");
		CHECK(!strcmp(enc(msg, 0, step), "A: 1\r\nB: 2\r\n\r\n.\r\n"), "TOP 0: header only");
		CHECK(!strcmp(enc(msg, 2, step), "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n"), "TOP 2");
		CHECK(!strcmp(enc(msg, 9, step), enc(msg, -1, step)), "TOP past the end = RETR");
	}
	CHECK(!strcmp(enc("a\r\nb", -1, 0), "a\r\nb\r\n.\r\n"), "CRLF kept, last line ended");
	CHECK(!strcmp(enc("", -1, 0), ".\r\n"), "empty message");
	CHECK(!strcmp(enc(".\n", -1, 0), "..\r\n.\r\n"), "a lone dot line is stuffed");
	CHECK(!strcmp(enc("a\rb\n", -1, 0), "a\rb\r\n.\r\n"), "bare CR passes");
	return tap_done();
}
