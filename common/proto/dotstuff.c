/* dotstuff.c - SMTP DATA transparency: decode what a client sends, encode
 * what we send (RFC 5321 4.5.2). */
#include "dotstuff.h"

enum {
	S_START,	/* at the start of a line: a "." is stuffing or the end */
	S_DOT,		/* the line began with a "." (dropped) */
	S_DOT_CR,	/* ... then a CR: an LF now ends the data */
	S_LINE,		/* inside a line (also right after a bare line end) */
	S_CR,		/* a CR inside a line: only an LF makes it a line end */
};

void
dotstuff_dec_init(struct dotstuff_dec *d, size_t max_line, uint64_t max_size,
    enum dotstuff_bare bare)
{
	d->max_line = max_line;
	d->max_size = max_size;
	d->bare = bare;
	d->state = S_START;
	d->line_len = 0;
	d->size = 0;
	d->flags = 0;
}

/* One byte of the message; stops writing (and flags) past max_size. */
static void
put(struct dotstuff_dec *d, uint8_t c, uint8_t *out, size_t *o)
{
	if (d->size >= d->max_size) {
		d->flags |= DOTSTUFF_F_TOO_BIG;
		return;
	}
	out[(*o)++] = c;
	d->size++;
}

/* A byte of line text on the wire (a stuffing dot counts, RFC 5321 4.5.3.1.6). */
static void
count(struct dotstuff_dec *d)
{
	if (++d->line_len + 2 > d->max_line)
		d->flags |= DOTSTUFF_F_LINE_LONG;
}

static void
line_end(struct dotstuff_dec *d, uint8_t *out, size_t *o)
{
	put(d, '\n', out, o);
	d->line_len = 0;
}

/* A CR or LF that is not part of a CRLF.  It ends the line in the stored
 * message either way, but the next line is never at S_START: a "." after
 * it is plain text, never stuffing and never the end of the data. */
static void
bare_end(struct dotstuff_dec *d, uint8_t *out, size_t *o)
{
	if (d->bare == DOTSTUFF_BARE_REFUSE)
		d->flags |= DOTSTUFF_F_BARE_EOL;
	line_end(d, out, o);
	d->state = S_LINE;
}

static void
text(struct dotstuff_dec *d, uint8_t c, uint8_t *out, size_t *o)
{
	if (c == '\r') {
		d->state = S_CR;
		return;
	}
	if (c == '\n') {
		bare_end(d, out, o);
		return;
	}
	if (c == '\0')
		d->flags |= DOTSTUFF_F_NUL;
	count(d);
	put(d, c, out, o);
	d->state = S_LINE;
}

enum dotstuff_result
dotstuff_decode(struct dotstuff_dec *d, const uint8_t *in, size_t len, uint8_t *out,
    size_t *consumed_r, size_t *produced_r)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		uint8_t c = in[i];
		switch (d->state) {
		case S_START:
			if (c == '.') {
				count(d);
				d->state = S_DOT;
			} else {
				text(d, c, out, &o);
			}
			break;
		case S_DOT:
			if (c == '\r') {
				d->state = S_DOT_CR;
			} else if (c == '\n') {	/* "." alone, bare LF: text */
				put(d, '.', out, &o);
				bare_end(d, out, &o);
			} else {
				text(d, c, out, &o);
			}
			break;
		case S_DOT_CR:
			if (c == '\n') {
				*consumed_r = i + 1;
				*produced_r = o;
				return DOTSTUFF_DONE;
			}
			put(d, '.', out, &o);	/* "." then a bare CR: text */
			bare_end(d, out, &o);
			text(d, c, out, &o);
			break;
		case S_LINE:
			text(d, c, out, &o);
			break;
		case S_CR:
			if (c == '\n') {
				line_end(d, out, &o);
				d->state = S_START;
			} else {
				bare_end(d, out, &o);
				text(d, c, out, &o);
			}
			break;
		}
	}
	*consumed_r = len;
	*produced_r = o;
	return DOTSTUFF_MORE;
}

void
dotstuff_enc_init(struct dotstuff_enc *e)
{
	e->line_start = 1;
	e->after_cr = 0;
}

size_t
dotstuff_encode(struct dotstuff_enc *e, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (e->after_cr) {
			e->after_cr = 0;
			if (c == '\n')
				continue;	/* the CRLF went out with the CR */
		}
		if (c == '\r' || c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			e->line_start = 1;
			e->after_cr = c == '\r';
			continue;
		}
		if (e->line_start && c == '.')
			out[o++] = '.';
		out[o++] = c;
		e->line_start = 0;
	}
	return o;
}

size_t
dotstuff_encode_end(struct dotstuff_enc *e, uint8_t *out)
{
	size_t o = 0;

	if (!e->line_start) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	e->line_start = 1;
	e->after_cr = 0;
	return o;
}

size_t
dotstuff_crlf_to_lf(int *cr_held, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (*cr_held && in[i] != '\n')
			out[n++] = '\r';	/* a CR not followed by LF stays */
		*cr_held = in[i] == '\r';
		if (!*cr_held)
			out[n++] = in[i];
	}
	return n;
}

size_t
dotstuff_crlf_end(int *cr_held, uint8_t *out)
{
	size_t n = *cr_held ? 1 : 0;

	if (n)
		out[0] = '\r';
	*cr_held = 0;
	return n;
}
