/* decode.c - charsets, RFC 2047 encoded-words, base64, quoted-printable and
 * case folding for IMAP (RFC 2045, RFC 2047, RFC 3501 6.4.4). */
#include "decode.h"

#include <string.h>

#include "../base/util.h"

#define REPLACEMENT 0xFFFDu

/* Windows-1252 0x80-0x9F; the five undefined bytes map to the C1 control
 * of the same value, as the WHATWG encoding standard does. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* ISO-8859-15 differs from ISO-8859-1 in eight places. */
static const struct {
	uint8_t byte;
	uint16_t cp;
} latin9_diff[] = {
	{ 0xA4, 0x20AC }, { 0xA6, 0x0160 }, { 0xA8, 0x0161 }, { 0xB4, 0x017D },
	{ 0xB8, 0x017E }, { 0xBC, 0x0152 }, { 0xBD, 0x0153 }, { 0xBE, 0x0178 },
};

static const struct {
	const char *name;
	enum decode_charset cs;
} charset_names[] = {
	{ "utf-8", DECODE_CS_UTF8 }, { "utf8", DECODE_CS_UTF8 },
	{ "us-ascii", DECODE_CS_ASCII }, { "ascii", DECODE_CS_ASCII },
	{ "ansi_x3.4-1968", DECODE_CS_ASCII },
	{ "iso-8859-1", DECODE_CS_LATIN1 }, { "iso8859-1", DECODE_CS_LATIN1 },
	{ "iso_8859-1", DECODE_CS_LATIN1 }, { "latin1", DECODE_CS_LATIN1 },
	{ "latin-1", DECODE_CS_LATIN1 }, { "l1", DECODE_CS_LATIN1 },
	{ "iso-8859-15", DECODE_CS_LATIN9 }, { "iso8859-15", DECODE_CS_LATIN9 },
	{ "iso_8859-15", DECODE_CS_LATIN9 }, { "latin9", DECODE_CS_LATIN9 },
	{ "latin-9", DECODE_CS_LATIN9 },
	{ "windows-1252", DECODE_CS_CP1252 }, { "cp1252", DECODE_CS_CP1252 },
	{ "x-cp1252", DECODE_CS_CP1252 },
};

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

enum decode_charset
decode_charset_lookup(const uint8_t *name, size_t len)
{
	size_t i, k;
	const uint8_t *star = memchr(name, '*', len);

	if (star != NULL)
		len = (size_t)(star - name);	/* RFC 2231 section 5 language */
	for (i = 0; i < sizeof(charset_names) / sizeof(charset_names[0]); i++) {
		const char *n = charset_names[i].name;
		if (strlen(n) != len)
			continue;
		for (k = 0; k < len && lower(name[k]) == (uint8_t)n[k]; k++)
			;
		if (k == len)
			return charset_names[i].cs;
	}
	return DECODE_CS_UNKNOWN;
}

int
decode_put_utf8(struct buf *out, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xC0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xE0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xF0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(out, u, n);
}

size_t
decode_utf8_next(const uint8_t *s, size_t len, uint32_t *cp_r)
{
	static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
	uint8_t c = s[0];
	size_t n, i;
	uint32_t cp;

	*cp_r = REPLACEMENT;
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 1, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3, cp = c & 0x07;
	else
		return 1;
	if (len <= n)
		return 1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 1;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 1;
	*cp_r = cp;
	return n + 1;
}

/* The code point of byte c in a single-byte charset. */
static uint32_t
sbcs_cp(enum decode_charset cs, uint8_t c)
{
	size_t i;

	if (c < 0x80)
		return c;
	if (cs == DECODE_CS_ASCII)
		return REPLACEMENT;
	if (cs == DECODE_CS_CP1252 && c < 0xA0)
		return cp1252_high[c - 0x80];
	if (cs == DECODE_CS_LATIN9)
		for (i = 0; i < sizeof(latin9_diff) / sizeof(latin9_diff[0]); i++)
			if (latin9_diff[i].byte == c)
				return latin9_diff[i].cp;
	return c;
}

int
decode_to_utf8(enum decode_charset cs, const uint8_t *in, size_t len, struct buf *out)
{
	size_t i = 0, run;
	uint32_t cp;

	while (i < len) {
		/* copy runs of ASCII at once: most text is */
		for (run = i; run < len && in[run] < 0x80; run++)
			;
		if (buf_append(out, in + i, run - i) < 0)
			return -1;
		if ((i = run) == len)
			break;
		if (cs == DECODE_CS_UTF8 || cs == DECODE_CS_UNKNOWN) {
			size_t n = decode_utf8_next(in + i, len - i, &cp);
			int bad = cp == REPLACEMENT && n == 1;
			if ((bad ? decode_put_utf8(out, cp) : buf_append(out, in + i, n)) < 0)
				return -1;
			i += n;
			continue;
		}
		if (decode_put_utf8(out, sbcs_cp(cs, in[i])) < 0)
			return -1;
		i++;
	}
	return 0;
}

int
decode_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
is_lwsp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct eword {
	const uint8_t *charset, *text;
	size_t charset_len, text_len;
	uint8_t enc;		/* 'b' or 'q' */
};

/* Is there an encoded-word (RFC 2047 section 2) at in[0..len)?  Returns its
 * length, or 0.  Its parts hold no blank and no '?'. */
static size_t
eword_parse(const uint8_t *in, size_t len, struct eword *w)
{
	size_t i = 2, cs;

	if (len < 8 || in[0] != '=' || in[1] != '?')
		return 0;
	for (cs = i; i < len && in[i] != '?' && !is_lwsp(in[i]); i++)
		;
	if (i == cs || i + 3 >= len || in[i] != '?' || in[i + 2] != '?')
		return 0;
	w->charset = in + cs;
	w->charset_len = i - cs;
	w->enc = lower(in[i + 1]);
	if (w->enc != 'b' && w->enc != 'q')
		return 0;
	i += 3;
	w->text = in + i;
	for (; i < len && in[i] != '?' && !is_lwsp(in[i]); i++)
		;
	if (i + 1 >= len || in[i] != '?' || in[i + 1] != '=')
		return 0;
	w->text_len = (size_t)(in + i - w->text);
	return i + 2;
}

int
decode_unescape(const uint8_t *in, size_t len, uint8_t esc, int underscore, struct buf *out)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		uint8_t c = in[i];
		size_t skip = 0;
		int h, l;
		if (c == esc && i + 2 < len && (h = decode_hex(in[i + 1])) >= 0 &&
		    (l = decode_hex(in[i + 2])) >= 0) {
			c = (uint8_t)(h << 4 | l);
			skip = 2;
		} else if (c == '_' && underscore) {
			c = ' ';	/* RFC 2047 4.2 (2) */
		} else {
			continue;
		}
		if (buf_append(out, in + start, i - start) < 0 || buf_append(out, &c, 1) < 0)
			return -1;
		i += skip;
		start = i + 1;
	}
	return buf_append(out, in + start, len - start);
}

/* Append the bytes an encoded-word's text stands for. */
static int
eword_bytes(const struct eword *w, struct buf *raw)
{
	struct decode_b64 b;

	if (w->enc == 'b') {
		if (buf_reserve(raw, decode_b64_bound(w->text_len) + 2) < 0)
			return -1;
		decode_b64_init(&b);
		raw->len += decode_b64(&b, w->text, w->text_len, raw->data + raw->len);
		raw->len += decode_b64_end(&b, raw->data + raw->len);
		return 0;
	}
	return decode_unescape(w->text, w->text_len, '=', 1, raw);
}

struct ew_state {
	struct buf raw;			/* bytes of adjacent words, not yet converted */
	enum decode_charset cs;		/* their charset */
	struct buf *out;
};

static int
ew_flush(struct ew_state *st)
{
	int r = 0;

	if (st->raw.len > 0)
		r = decode_to_utf8(st->cs, st->raw.data, st->raw.len, st->out);
	buf_reset(&st->raw);
	return r;
}

/* One encoded-word: joined to the words before it when the charset is the
 * same, else those go out first.  Returns 0, DECODE_UNKNOWN_CHARSET or -1. */
static int
ew_word(struct ew_state *st, const struct eword *w, const uint8_t *whole, size_t whole_len)
{
	enum decode_charset cs = decode_charset_lookup(w->charset, w->charset_len);

	if (cs == DECODE_CS_UNKNOWN) {
		if (ew_flush(st) < 0 || decode_to_utf8(DECODE_CS_UTF8, whole, whole_len, st->out) < 0)
			return -1;
		return DECODE_UNKNOWN_CHARSET;
	}
	if (cs != st->cs && ew_flush(st) < 0)
		return -1;
	st->cs = cs;
	return eword_bytes(w, &st->raw);
}

int
decode_rfc2047(const uint8_t *in, size_t len, enum decode_charset raw_cs, struct buf *out)
{
	struct ew_state st = { .cs = DECODE_CS_UTF8, .out = out };
	struct eword w;
	size_t i = 0, text = 0, n;
	int after_word = 0, only_ws = 1, known, r, result = 0;

	buf_init(&st.raw, out->max);
	while (i < len) {
		if ((n = eword_parse(in + i, len - i, &w)) == 0) {
			if (!is_lwsp(in[i]))
				only_ws = 0;
			i++;
			continue;
		}
		/* white space between two encoded-words is dropped (6.2); a
		 * word we cannot decode keeps it, as text would */
		known = decode_charset_lookup(w.charset, w.charset_len) != DECODE_CS_UNKNOWN;
		if (!(after_word && only_ws && known) &&
		    (ew_flush(&st) < 0 || decode_to_utf8(raw_cs, in + text, i - text, out) < 0))
			goto fail;
		if ((r = ew_word(&st, &w, in + i, n)) < 0)
			goto fail;
		result |= r;
		after_word = r == 0;
		i += n;
		text = i;
		only_ws = 1;
	}
	if (ew_flush(&st) < 0 || decode_to_utf8(raw_cs, in + text, len - text, out) < 0)
		goto fail;
	buf_free(&st.raw, 0);
	return result;
fail:
	buf_free(&st.raw, 0);
	return -1;
}

/* base64 ------------------------------------------------------------- */

void
decode_b64_init(struct decode_b64 *d)
{
	d->acc = 0;
	d->n = 0;
}

size_t
decode_b64_end(struct decode_b64 *d, uint8_t *out)
{
	size_t o = 0;

	/* two sextets make one byte, three make two (RFC 2045 6.8 padding) */
	if (d->n >= 2)
		out[o++] = (uint8_t)(d->acc >> (d->n == 2 ? 4 : 10));
	if (d->n == 3)
		out[o++] = (uint8_t)(d->acc >> 2);
	decode_b64_init(d);
	return o;
}

size_t
decode_b64(struct decode_b64 *d, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int v = util_base64_value(in[i]);
		if (v < 0) {
			if (in[i] == '=')
				o += decode_b64_end(d, out + o);
			continue;	/* junk is skipped (RFC 2045 6.8 says ignore) */
		}
		d->acc = d->acc << 6 | (uint32_t)v;
		if (++d->n == 4) {
			out[o++] = (uint8_t)(d->acc >> 16);
			out[o++] = (uint8_t)(d->acc >> 8);
			out[o++] = (uint8_t)d->acc;
			decode_b64_init(d);
		}
	}
	return o;
}

/* quoted-printable --------------------------------------------------- */

enum {
	QP_TEXT,	/* in a line; d->ws holds blanks not yet written */
	QP_EQ,		/* after '=' */
	QP_EQ_HEX,	/* after '=' and one hex digit (d->hex) */
	QP_EQ_WS,	/* after '=' and blanks (in d->ws): a soft break if a line end follows */
};

void
decode_qp_init(struct decode_qp *d)
{
	d->state = QP_TEXT;
	d->hex = 0;
	d->nws = 0;
}

static size_t
qp_put_ws(struct decode_qp *d, uint8_t *out)
{
	size_t n = d->nws;

	memcpy(out, d->ws, n);
	d->nws = 0;
	return n;
}

/* A byte in QP_TEXT. */
static size_t
qp_text(struct decode_qp *d, uint8_t c, uint8_t *out)
{
	size_t o = 0;

	if (c == '\r')
		return 0;
	if (c == '\n') {
		d->nws = 0;	/* trailing blanks are not data (rule 3) */
		out[0] = '\r';
		out[1] = '\n';
		return 2;
	}
	if (c == ' ' || c == '\t') {
		if (d->nws == DECODE_QP_WS_MAX)
			o = qp_put_ws(d, out);
		d->ws[d->nws++] = c;
		return o;
	}
	o = qp_put_ws(d, out);
	if (c == '=')
		d->state = QP_EQ;
	else
		out[o++] = c;
	return o;
}

/* A '=' that turned out not to start an escape goes out as it is. */
static size_t
qp_literal_eq(struct decode_qp *d, uint8_t *out)
{
	size_t o = 0;

	out[o++] = '=';
	if (d->state == QP_EQ_HEX)
		out[o++] = d->hex;
	d->state = QP_TEXT;
	return o;
}

static size_t
qp_byte(struct decode_qp *d, uint8_t c, uint8_t *out)
{
	size_t o;
	int h;

	switch (d->state) {
	case QP_EQ:
		if ((h = decode_hex(c)) >= 0) {
			d->hex = c;
			d->state = QP_EQ_HEX;
			return 0;
		}
		/* FALLTHROUGH */
	case QP_EQ_WS:
		if (c == '\r')
			return 0;
		if (c == '\n') {	/* soft line break */
			d->nws = 0;
			d->state = QP_TEXT;
			return 0;
		}
		if ((c == ' ' || c == '\t') && d->nws < DECODE_QP_WS_MAX) {
			d->ws[d->nws++] = c;
			d->state = QP_EQ_WS;
			return 0;
		}
		o = qp_literal_eq(d, out);
		o += qp_put_ws(d, out + o);
		return o + qp_text(d, c, out + o);
	case QP_EQ_HEX:
		if ((h = decode_hex(c)) >= 0) {
			out[0] = (uint8_t)(decode_hex(d->hex) << 4 | h);
			d->state = QP_TEXT;
			return 1;
		}
		o = qp_literal_eq(d, out);
		return o + qp_text(d, c, out + o);
	default:
		return qp_text(d, c, out);
	}
}

size_t
decode_qp(struct decode_qp *d, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++)
		o += qp_byte(d, in[i], out + o);
	return o;
}

size_t
decode_qp_end(struct decode_qp *d, uint8_t *out)
{
	size_t o = 0;

	/* blanks at the end of the data end its last line: dropped */
	if (d->state != QP_TEXT)
		o = qp_literal_eq(d, out);
	decode_qp_init(d);
	return o;
}

/* case folding -------------------------------------------------------- */

/* The simple lowercase mapping of cp for the ranges decode.h names. */
static uint32_t
fold_cp(uint32_t cp)
{
	if (cp < 0x80)
		return lower((uint8_t)cp);
	if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
		return cp + 0x20;
	if (cp == 0x178)
		return 0xFF;
	if (cp >= 0x100 && cp <= 0x17F) {
		/* Latin Extended-A pairs: even upper before U+0138 and from
		 * U+014A, odd upper from U+0139 to U+0148 and from U+0179 */
		int odd_upper = (cp >= 0x139 && cp <= 0x148) || cp >= 0x179;
		if (cp == 0x130 || cp == 0x138 || cp == 0x149 || cp == 0x17F)
			return cp;
		return (cp & 1) == (odd_upper ? 1u : 0u) ? cp + 1 : cp;
	}
	if (cp == 0x386)
		return 0x3AC;
	if (cp >= 0x388 && cp <= 0x38A)
		return cp + 0x25;
	if (cp == 0x38C)
		return 0x3CC;
	if (cp == 0x38E || cp == 0x38F)
		return cp + 0x3F;
	if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
		return cp + 0x20;
	if (cp == 0x3C2)
		return 0x3C3;
	if (cp >= 0x410 && cp <= 0x42F)
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40F)
		return cp + 0x50;
	return cp;
}

int
decode_fold(const uint8_t *in, size_t len, struct buf *out)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		i += decode_utf8_next(in + i, len - i, &cp);
		if (decode_put_utf8(out, fold_cp(cp)) < 0)
			return -1;
	}
	return 0;
}
