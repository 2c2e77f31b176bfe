/* pop3_encode.c - LF->CRLF, dot-stuffing and TOP's line limit (moved out of
 * pop3d's send_message so it can be fuzzed without files or sockets). */
#include "pop3_encode.h"

#include <string.h>

void
pop3_enc_init(struct pop3_enc *e, int64_t body_lines)
{
	memset(e, 0, sizeof(*e));
	e->body_lines = body_lines;
	e->bol = 1;
}

size_t
pop3_enc_feed(struct pop3_enc *e, const uint8_t *in, size_t len, uint8_t *out,
    size_t *consumed_r)
{
	size_t i, o = 0;

	for (i = 0; i < len && !e->done; i++) {
		uint8_t ch = in[i];

		/* TOP: the header ends at the first empty line (RFC 5322
		 * section 2.1); stop at the start of body line n + 1 */
		if (e->bol && e->in_body && e->body_lines >= 0 &&
		    e->lines >= (uint64_t)e->body_lines) {
			e->done = 1;
			break;
		}
		if (e->bol && ch == '.')
			out[o++] = '.';
		if (ch == '\n') {
			if (!e->prev_cr)
				out[o++] = '\r';
			out[o++] = '\n';
			if (e->in_body)
				e->lines++;
			else if (e->line_len == 0)
				e->in_body = 1;
			e->bol = 1;
			e->line_len = 0;
		} else {
			out[o++] = ch;
			if (ch != '\r')
				e->line_len++;
			e->bol = 0;
		}
		e->prev_cr = ch == '\r';
	}
	*consumed_r = i;
	return o;
}

size_t
pop3_enc_finish(const struct pop3_enc *e, uint8_t *out)
{
	size_t o = 0;

	if (!e->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}
