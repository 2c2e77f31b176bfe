/* mutf7.c - modified UTF-7 (RFC 3501 section 5.1.3), strict, and mailbox
 * names for Maildir++. */
#include "mutf7.h"

#include <string.h>

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(uint8_t c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* One code point of strict UTF-8 (no overlongs, surrogates, > U+10FFFF)
 * at s[*i]; advances *i.  0 or -1. */
static int
utf8_next(const uint8_t *s, size_t len, size_t *i, uint32_t *cp_r)
{
	static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
	uint8_t c = s[*i];
	unsigned n, k;
	uint32_t cp;

	if (c < 0x80) {
		*cp_r = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return -1;
	if (len - *i <= n)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	*cp_r = cp;
	return 0;
}

struct out {
	char *p;
	size_t len, cap;
};

static int
out_byte(struct out *o, char c)
{
	if (o->len + 1 >= o->cap || o->len >= MUTF7_NAME_MAX)
		return -1;
	o->p[o->len++] = c;
	o->p[o->len] = '\0';
	return 0;
}

static int
out_utf8(struct out *o, uint32_t cp)
{
	if (cp < 0x80)
		return out_byte(o, (char)cp);
	if (cp < 0x800)
		return out_byte(o, (char)(0xc0 | cp >> 6)) || out_byte(o, (char)(0x80 | (cp & 0x3f)));
	if (cp < 0x10000)
		return out_byte(o, (char)(0xe0 | cp >> 12)) ||
		    out_byte(o, (char)(0x80 | ((cp >> 6) & 0x3f))) ||
		    out_byte(o, (char)(0x80 | (cp & 0x3f)));
	return out_byte(o, (char)(0xf0 | cp >> 18)) ||
	    out_byte(o, (char)(0x80 | ((cp >> 12) & 0x3f))) ||
	    out_byte(o, (char)(0x80 | ((cp >> 6) & 0x3f))) ||
	    out_byte(o, (char)(0x80 | (cp & 0x3f)));
}

/* One UTF-16 unit of a shifted run; *high holds a pending high surrogate. */
static enum mutf7_err
take_unit(struct out *o, uint32_t unit, uint32_t *high)
{
	uint32_t cp = unit;

	if (*high != 0) {
		if (unit < 0xdc00 || unit > 0xdfff)
			return MUTF7_ERR_SURROGATE;
		cp = 0x10000 + ((*high - 0xd800) << 10) + (unit - 0xdc00);
		*high = 0;
	} else if (unit >= 0xd800 && unit <= 0xdbff) {
		*high = unit;
		return MUTF7_OK;
	} else if (unit >= 0xdc00 && unit <= 0xdfff) {
		return MUTF7_ERR_SURROGATE;
	}
	if (cp >= 0x20 && cp <= 0x7e)
		return MUTF7_ERR_ASCII;
	if (cp == 0)
		return MUTF7_ERR_NUL;
	return out_utf8(o, cp) < 0 ? MUTF7_ERR_TOO_LONG : MUTF7_OK;
}

/* The base64 run after "&" at in[*i]; *i ends after its "-". */
static enum mutf7_err
decode_run(const uint8_t *in, size_t len, size_t *i, struct out *o)
{
	uint32_t acc = 0, high = 0;
	unsigned nbits = 0;
	enum mutf7_err e;

	for (;;) {
		int v;
		if (*i == len)
			return MUTF7_ERR_UNTERMINATED;
		if (in[*i] == '-')
			break;
		if ((v = b64_value(in[*i])) < 0)
			return MUTF7_ERR_BASE64;
		(*i)++;
		acc = (acc << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits >= 16) {
			nbits -= 16;
			if ((e = take_unit(o, (acc >> nbits) & 0xffff, &high)) != MUTF7_OK)
				return e;
		}
	}
	(*i)++;
	if (high != 0)
		return MUTF7_ERR_SURROGATE;
	/* what the encoder leaves: under 6 zero bits */
	if (nbits >= 6 || (acc & ((1u << nbits) - 1)) != 0)
		return MUTF7_ERR_PADDING;
	return MUTF7_OK;
}

enum mutf7_err
mutf7_decode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *outlen_r)
{
	struct out o = { out, 0, cap };
	size_t i = 0, run_end = (size_t)-1;
	enum mutf7_err e;

	if (cap == 0 || len > MUTF7_NAME_MAX)
		return MUTF7_ERR_TOO_LONG;
	out[0] = '\0';
	while (i < len) {
		uint8_t c = in[i];
		if (c < 0x20 || c > 0x7e)
			return MUTF7_ERR_CHAR;
		if (c != '&') {
			if (out_byte(&o, (char)c) < 0)
				return MUTF7_ERR_TOO_LONG;
			i++;
			continue;
		}
		if (i + 1 < len && in[i + 1] == '-') {
			if (out_byte(&o, '&') < 0)
				return MUTF7_ERR_TOO_LONG;
			i += 2;
			continue;
		}
		if (i == run_end)
			return MUTF7_ERR_NONCANON;
		i++;
		if ((e = decode_run(in, len, &i, &o)) != MUTF7_OK)
			return e;
		run_end = i;
	}
	*outlen_r = o.len;
	return MUTF7_OK;
}

/* Close a shifted run: spare bits (zero-filled), then "-". */
static int
flush_run(struct out *o, uint32_t acc, unsigned nbits)
{
	if (nbits > 0 && out_byte(o, b64[(acc << (6 - nbits)) & 0x3f]) < 0)
		return -1;
	return out_byte(o, '-');
}

static int
put_unit(struct out *o, uint32_t unit, uint32_t *acc, unsigned *nbits)
{
	*acc = (*acc << 16 | unit) & 0x3fffff;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		if (out_byte(o, b64[(*acc >> *nbits) & 0x3f]) < 0)
			return -1;
	}
	return 0;
}

static int
put_shifted(struct out *o, uint32_t cp, uint32_t *acc, unsigned *nbits)
{
	if (cp < 0x10000)
		return put_unit(o, cp, acc, nbits);
	cp -= 0x10000;
	return put_unit(o, 0xd800 + (cp >> 10), acc, nbits) ||
	    put_unit(o, 0xdc00 + (cp & 0x3ff), acc, nbits);
}

enum mutf7_err
mutf7_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *outlen_r)
{
	struct out o = { out, 0, cap };
	uint32_t acc = 0, cp;
	unsigned nbits = 0;
	int shifted = 0, r = 0;
	size_t i = 0;

	if (cap == 0 || len > MUTF7_NAME_MAX)
		return MUTF7_ERR_TOO_LONG;
	out[0] = '\0';
	while (i < len && r == 0) {
		if (utf8_next(in, len, &i, &cp) < 0)
			return MUTF7_ERR_UTF8;
		if (cp == 0)
			return MUTF7_ERR_NUL;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (shifted)
				r = flush_run(&o, acc, nbits);
			shifted = 0;
			r = r || out_byte(&o, (char)cp) || (cp == '&' && out_byte(&o, '-'));
			continue;
		}
		if (!shifted) {
			r = out_byte(&o, '&');
			shifted = 1;
			acc = 0;
			nbits = 0;
		}
		r = r || put_shifted(&o, cp, &acc, &nbits);
	}
	if (r == 0 && shifted)
		r = flush_run(&o, acc, nbits);
	if (r != 0)
		return MUTF7_ERR_TOO_LONG;
	*outlen_r = o.len;
	return MUTF7_OK;
}

/* One character of a name: controls, "/", wildcards. */
static enum mutf7_mbox_err
check_char(uint32_t cp, char sep, unsigned flags)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return MUTF7_MBOX_CTRL;
	if (cp == '/' && sep != '/')
		return MUTF7_MBOX_SLASH;
	if ((cp == '%' || cp == '*') && !(flags & MUTF7_MBOX_PATTERN))
		return MUTF7_MBOX_WILDCARD;
	return MUTF7_MBOX_OK;
}

/* Components: none empty, none "." (a path element with "/" as separator). */
static enum mutf7_mbox_err
check_parts(const uint8_t *name, size_t len, char sep)
{
	size_t start = 0, i;

	if (name[0] == (uint8_t)sep || name[len - 1] == (uint8_t)sep)
		return MUTF7_MBOX_EDGE;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != (uint8_t)sep)
			continue;
		if (i == start)
			return MUTF7_MBOX_EMPTY_PART;
		if (i - start == 1 && name[start] == '.')
			return MUTF7_MBOX_DOTDOT;
		start = i + 1;
	}
	return MUTF7_MBOX_OK;
}

enum mutf7_mbox_err
mutf7_mailbox_check(const uint8_t *name, size_t len, char sep, unsigned flags)
{
	enum mutf7_mbox_err e;
	size_t i = 0;
	uint32_t cp;

	if (len == 0)
		return MUTF7_MBOX_EMPTY;
	if (len > MUTF7_MAILBOX_MAX)
		return MUTF7_MBOX_TOO_LONG;
	while (i < len) {
		if (utf8_next(name, len, &i, &cp) < 0)
			return MUTF7_MBOX_UTF8;
		if ((e = check_char(cp, sep, flags)) != MUTF7_MBOX_OK)
			return e;
	}
	/* ".." climbs out of a Maildir (and is an empty part with "."). */
	for (i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			return MUTF7_MBOX_DOTDOT;
	return check_parts(name, len, sep);
}
