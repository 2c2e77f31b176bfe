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
	uint64_t lf, bare;

	imap_count_lf(p, len, &lf, &bare);
	return (uint64_t)len + bare;
}

#define LF_ONES 0x0101010101010101ULL
#define LF_LOW7 0x7f7f7f7f7f7f7f7fULL
/* the byte of a loaded word that came first in memory, and a mask moved
 * one byte later in memory */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LF_FIRST 0x8000000000000000ULL
#define LF_LATER(m) ((m) >> 8)
#else
#define LF_FIRST 0x80ULL
#define LF_LATER(m) ((m) << 8)
#endif

/* 0x80 in every byte of w that is c, 0 in the others (exact: no carry
 * crosses a byte, unlike the usual has-zero test) */
static uint64_t
bytes_eq(uint64_t w, uint8_t c)
{
	uint64_t x = w ^ (LF_ONES * c);

	return ~(((x & LF_LOW7) + LF_LOW7) | x | LF_LOW7);
}

/* how many bytes of m are 0x80 (each 0x80 or 0) */
static uint64_t
marks(uint64_t m)
{
	return ((m >> 7) * LF_ONES) >> 56;
}

size_t
imap_find_lf(const uint8_t *p, size_t len)
{
	uint64_t w, m;
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		if ((m = bytes_eq(w, '\n')) != 0)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			return i + (size_t)(__builtin_clzll(m) >> 3);
#else
			return i + (size_t)(__builtin_ctzll(m) >> 3);
#endif
	}
	for (; i < len; i++)
		if (p[i] == '\n')
			return i;
	return len;
}

void
imap_count_lf(const uint8_t *p, size_t len, uint64_t *lf_r, uint64_t *bare_r)
{
	uint64_t lf = 0, crlf = 0, w, mlf, mcr;
	int prev_cr = 0;	/* the byte before p + i is a CR */
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		mlf = bytes_eq(w, '\n');
		if (mlf != 0) {
			mcr = bytes_eq(w, '\r');
			lf += marks(mlf);
			/* a CR just before a LF, in the word and across words */
			crlf += marks(LF_LATER(mcr) & mlf) + (prev_cr && (mlf & LF_FIRST));
		}
		prev_cr = p[i + 7] == '\r';
	}
	for (; i < len; i++) {
		if (p[i] == '\n') {
			lf++;
			crlf += prev_cr;
		}
		prev_cr = p[i] == '\r';
	}
	*lf_r = lf;
	*bare_r = lf - crlf;
}
