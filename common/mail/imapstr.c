/* imapstr.c - IMAP quoted strings and literals (RFC 3501 section 4.3). */
#include "imapstr.h"

#include <string.h>

int
imap_out_nil(struct buf *b)
{
	return buf_append(b, "NIL", 3);
}

/* May s go out as a quoted string?  We quote only TEXT-CHARs without the
 * two quoted-specials, so no escaping is ever needed (RFC 3501 section 9). */
static int
quotable(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (c == 0 || c == '\r' || c == '\n' || c == '"' || c == '\\' || c >= 0x80)
			return 0;
	}
	return 1;
}

static int
out_literal(struct buf *b, const uint8_t *s, size_t len)
{
	size_t i, start, nul = 0;

	for (i = 0; i < len; i++)
		nul += s[i] == 0;
	if (buf_printf(b, "{%zu}\r\n", len - nul) < 0)
		return -1;
	for (i = start = 0; i < len; i++) {
		if (s[i] != 0)
			continue;
		if (buf_append(b, s + start, i - start) < 0)
			return -1;
		start = i + 1;
	}
	return buf_append(b, s + start, len - start);
}

int
imap_out_string(struct buf *b, const uint8_t *s, size_t len)
{
	if (!quotable(s, len))
		return out_literal(b, s, len);
	if (buf_reserve(b, len + 2) < 0)
		return -1;
	b->data[b->len++] = '"';
	if (len > 0)
		memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len++] = '"';
	return 0;
}

int
imap_out_nstring(struct buf *b, const uint8_t *s, size_t len)
{
	return s == NULL ? imap_out_nil(b) : imap_out_string(b, s, len);
}

int
imap_out_nstr(struct buf *b, const char *s)
{
	return s == NULL ? imap_out_nil(b) : imap_out_string(b, (const uint8_t *)s, strlen(s));
}

int
imap_out_crlf(struct buf *b, const uint8_t *p, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
			continue;
		if (buf_append(b, p + start, i - start) < 0 || buf_append(b, "\r", 1) < 0)
			return -1;
		start = i;
	}
	return buf_append(b, p + start, len - start);
}

uint64_t
imap_crlf_size(const uint8_t *p, size_t len)
{
	uint64_t n = len;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			n++;
	return n;
}
