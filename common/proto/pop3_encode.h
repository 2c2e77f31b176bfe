/* pop3_encode.h - a message as RETR and TOP send it (RFC 1939 section 3):
 * bare LF becomes CRLF, a '.' at the start of a line is doubled, and the
 * reply ends with ".\r\n" on a line of its own.  Pure: pop3d reads the
 * file and writes the bytes; this only transforms them (fuzzed:
 * fuzz/fuzz_pop3_encode.c). */
#ifndef POSTERN_POP3_ENCODE_H
#define POSTERN_POP3_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Room pop3_enc_feed() needs for len input bytes (each byte gives at most
 * two: "\r\n" for a bare LF, ".." for a leading dot). */
#define POP3_ENC_OUT_MAX(len)	(2 * (len))
/* Room pop3_enc_finish() needs: "\r\n" then ".\r\n". */
#define POP3_ENC_END_MAX	5

struct pop3_enc {
	int64_t body_lines;	/* TOP: body lines to send; -1 = the whole message */
	uint64_t lines;		/* body lines sent so far */
	uint64_t line_len;	/* bytes of the current line, CRs not counted */
	int bol;		/* at the start of a line */
	int prev_cr;
	int in_body;		/* past the empty line that ends the header */
	int done;		/* TOP has sent its lines: feed no more */
};

/* Start a message; body_lines < 0 for RETR, n >= 0 for TOP msg n. */
void pop3_enc_init(struct pop3_enc *e, int64_t body_lines);

/* Encode in[0..len) into out (POP3_ENC_OUT_MAX(len) bytes).  Returns the
 * bytes written; *consumed_r is how much input was used (less than len only
 * once e->done is set: the header and TOP's body lines are complete). */
size_t pop3_enc_feed(struct pop3_enc *e, const uint8_t *in, size_t len, uint8_t *out,
    size_t *consumed_r);

/* End the reply: a CRLF if the last line had no line end, then ".\r\n".
 * out has POP3_ENC_END_MAX bytes.  Returns the bytes written. */
size_t pop3_enc_finish(const struct pop3_enc *e, uint8_t *out);

#endif
