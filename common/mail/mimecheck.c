/* mimecheck.c - the MIME conformance check (see mimecheck.h). */
#include <string.h>
#include <strings.h>

#include "../proto/smtp_parse.h"
#include "mimecheck.h"

enum body_kind {
	BODY_7BIT, BODY_8BIT, BODY_QP, BODY_BASE64,
	BODY_TEXT,	/* a preamble or epilogue: only the transport's rules */
};

enum field_kind { F_OTHER, F_CT, F_CTE, F_MV, F_NKINDS };

/* One open multipart, or one embedded message (message/rfc822). */
struct level {
	int multipart;
	int digest;		/* multipart/digest: its parts default to message/rfc822 */
	const uint8_t *bnd;
	size_t blen;
	int parts;		/* a delimiter was seen */
};

struct ck {
	unsigned flags, max_depth;
	struct level lv[MIMECHECK_DEPTH_MAX];
	unsigned n;
	struct mimecheck_result *r;
	/* the header being read */
	int in_header;
	int ent_msg;		/* a message's own header (MIME-Version's place) */
	int ent_digest;		/* a part of a digest */
	int have_field;
	enum field_kind fkind;
	const uint8_t *fs, *fe;	/* the current field's value, continuations included */
	const uint8_t *vs[F_NKINDS], *ve[F_NKINDS];
	/* the body being read */
	enum body_kind body;
	int nonmime;		/* the body of a message without MIME-Version */
};

static const struct {
	const char *name, *text;
} defects[MIMECHECK_NDEFECTS] = {
	[MIMECHECK_OK] = { "ok", "conformant" },
	[MIMECHECK_NUL] = { "nul", "a NUL byte" },
	[MIMECHECK_BARE_CR] = { "bare_cr", "a CR without LF" },
	[MIMECHECK_LONG_LINE] = { "long_line", "a line over 998 octets" },
	[MIMECHECK_8BIT_HEADER] = { "8bit_header", "8-bit bytes in a header without SMTPUTF8" },
	[MIMECHECK_BAD_UTF8_HEADER] = { "bad_utf8_header", "a header that is not valid UTF-8" },
	[MIMECHECK_8BIT_BODY] = { "8bit_body", "8-bit bytes in the body without 8BITMIME" },
	[MIMECHECK_HEADER_SYNTAX] = { "header_syntax", "a header line that is not a field" },
	[MIMECHECK_NO_MIME_VERSION] = { "no_mime_version", "MIME content without MIME-Version" },
	[MIMECHECK_BAD_MIME_VERSION] = { "bad_mime_version", "a MIME-Version that does not parse" },
	[MIMECHECK_DUP_FIELD] = { "duplicate_field", "a MIME header field given twice" },
	[MIMECHECK_BAD_CONTENT_TYPE] = { "bad_content_type", "a Content-Type that does not parse" },
	[MIMECHECK_NO_BOUNDARY] = { "no_boundary", "a multipart without a boundary" },
	[MIMECHECK_BAD_BOUNDARY] = { "bad_boundary", "a multipart boundary that is not valid" },
	[MIMECHECK_NO_PARTS] = { "no_parts", "a multipart without any part" },
	[MIMECHECK_UNCLOSED] = { "unclosed_multipart", "a multipart that is not closed" },
	[MIMECHECK_TOO_DEEP] = { "too_deep", "MIME parts nested too deep" },
	[MIMECHECK_UNKNOWN_CTE] = { "unknown_encoding", "an unknown Content-Transfer-Encoding" },
	[MIMECHECK_BINARY_CTE] = { "binary_encoding", "binary content without BINARYMIME" },
	[MIMECHECK_COMPOSITE_CTE] = { "encoded_composite", "an encoded multipart or message part" },
	[MIMECHECK_CTE_MISMATCH] = { "encoding_mismatch", "8-bit bytes in a 7-bit encoded part" },
	[MIMECHECK_BAD_QP] = { "bad_quoted_printable", "quoted-printable that does not decode" },
	[MIMECHECK_BAD_BASE64] = { "bad_base64", "base64 with bytes outside its alphabet" },
};

const char *
mimecheck_name(enum mimecheck_defect d)
{
	return (unsigned)d < MIMECHECK_NDEFECTS ? defects[d].name : "unknown";
}

const char *
mimecheck_text(enum mimecheck_defect d)
{
	return (unsigned)d < MIMECHECK_NDEFECTS ? defects[d].text : "unknown";
}

static int
fail(struct ck *c, enum mimecheck_defect d)
{
	c->r->defect = d;
	c->r->depth = c->n;
	return -1;
}

static int
wsp(uint8_t b)
{
	return b == ' ' || b == '\t';
}

/* RFC 2045 5.1: token characters (no tspecials, no controls, no space). */
static int
tchar(uint8_t b)
{
	return b > 32 && b < 127 && strchr("()<>@,;:\\\"/[]?=", b) == NULL;
}

/* ASCII case-insensitive: is s[0..n) the word w? */
static int
is_word(const uint8_t *s, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp((const char *)s, w, n) == 0;
}

/* Skip blanks, folding (line ends inside a field value are always followed
 * by a blank) and RFC 5322 comments, nested, with quoted pairs.  Returns
 * the index after them; *bad when a comment does not end. */
static size_t
cfws(const uint8_t *s, size_t i, size_t e, int *bad)
{
	unsigned depth;

	for (;;) {
		while (i < e && (wsp(s[i]) || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i >= e || s[i] != '(')
			return i;
		for (depth = 0; i < e; i++) {
			if (s[i] == '\\' && i + 1 < e)
				i++;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth == 0)
				break;
		}
		if (i >= e) {
			*bad = 1;
			return e;
		}
		i++;
	}
}

static size_t
token(const uint8_t *s, size_t i, size_t e)
{
	while (i < e && tchar(s[i]))
		i++;
	return i;
}

/* A quoted string at s[i] == '"': its inside in [*vs, *ve); the index after
 * it, or e with *bad. */
static size_t
quoted(const uint8_t *s, size_t i, size_t e, size_t *vs, size_t *ve, int *bad)
{
	*vs = ++i;
	while (i < e && s[i] != '"')
		i += s[i] == '\\' && i + 1 < e ? 2 : 1;
	if (i >= e) {
		*bad = 1;
		return e;
	}
	*ve = i;
	return i + 1;
}

struct ctype {
	const uint8_t *type, *sub, *bnd;
	size_t tlen, slen, blen;
	int have_bnd;
};

/* One parameter (after its ';'): name = token / quoted-string.  The index
 * after it, or e with *bad. */
static size_t
param(const uint8_t *s, size_t i, size_t e, struct ctype *t, int *bad)
{
	size_t a0 = i, a1, v0, v1;

	a1 = i = token(s, i, e);
	if (a1 == a0)
		goto bad;
	i = cfws(s, i, e, bad);
	if (i >= e || s[i] != '=')
		goto bad;
	i = cfws(s, i + 1, e, bad);
	if (i < e && s[i] == '"') {
		i = quoted(s, i, e, &v0, &v1, bad);
	} else {
		v0 = i;
		v1 = i = token(s, i, e);
		if (v1 == v0)
			goto bad;
	}
	if (!*bad && is_word(s + a0, a1 - a0, "boundary")) {
		if (t->have_bnd)
			goto bad;	/* two boundaries: which one? */
		t->have_bnd = 1;
		t->bnd = s + v0;
		t->blen = v1 - v0;
	}
	return i;
bad:
	*bad = 1;
	return e;
}

/* RFC 2045 5.1: type "/" subtype *(";" parameter).  A ';' with nothing
 * after it is taken (RFC 7103 7.3's robustness).  Returns 0 or -1. */
static int
ctype_parse(const uint8_t *s, size_t e, struct ctype *t)
{
	size_t i, t0;
	int bad = 0;

	memset(t, 0, sizeof(*t));
	t0 = i = cfws(s, 0, e, &bad);
	i = token(s, i, e);
	t->type = s + t0;
	t->tlen = i - t0;
	i = cfws(s, i, e, &bad);
	if (t->tlen == 0 || i >= e || s[i] != '/')
		return -1;
	t0 = i = cfws(s, i + 1, e, &bad);
	i = token(s, i, e);
	t->sub = s + t0;
	t->slen = i - t0;
	if (t->slen == 0)
		return -1;
	while (!bad) {
		i = cfws(s, i, e, &bad);
		if (i >= e)
			break;
		if (s[i] != ';')
			return -1;
		i = cfws(s, i + 1, e, &bad);
		if (i >= e)
			break;
		i = param(s, i, e, t, &bad);
	}
	return bad ? -1 : 0;
}

/* A value that is one token, in comments and blanks: [*t0, *t1). */
static int
one_token(const uint8_t *s, size_t e, size_t *t0, size_t *t1)
{
	int bad = 0;
	size_t i = cfws(s, 0, e, &bad);

	*t0 = i;
	*t1 = i = token(s, i, e);
	i = cfws(s, i, e, &bad);
	return bad || *t1 == *t0 || i != e ? -1 : 0;
}

/* RFC 2045 4: 1*DIGIT "." 1*DIGIT, comments allowed around. */
static int
version_ok(const uint8_t *s, size_t e)
{
	size_t t0, t1, i, dot = 0;

	if (one_token(s, e, &t0, &t1) < 0)
		return 0;
	for (i = t0; i < t1; i++) {
		if (s[i] == '.' && dot == 0 && i > t0 && i + 1 < t1)
			dot = i;
		else if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return dot != 0;
}

/* RFC 2046 5.1.1: 1..70 bchars, not ending in a space. */
static int
boundary_ok(const uint8_t *b, size_t n)
{
	size_t i;

	if (n == 0 || n > MIMECHECK_BOUNDARY_MAX || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') ||
		    (b[i] >= 'A' && b[i] <= 'Z') || strchr("'()+_,-./:=? ", b[i]) != NULL))
			return 0;
	return 1;
}

/* The field being read is complete. */
static void
field_close(struct ck *c)
{
	if (c->have_field && c->fkind != F_OTHER) {
		c->vs[c->fkind] = c->fs;
		c->ve[c->fkind] = c->fe;
	}
	c->have_field = 0;
}

/* A new header starts (a message's, or a part's). */
static void
header_start(struct ck *c, int msg, int digest)
{
	c->in_header = 1;
	c->ent_msg = msg;
	c->ent_digest = digest;
	c->have_field = 0;
	memset(c->vs, 0, sizeof(c->vs));
	memset(c->ve, 0, sizeof(c->ve));
}

static int
push(struct ck *c, int multipart, const struct ctype *t)
{
	struct level *l;

	if (c->n >= c->max_depth)
		return fail(c, MIMECHECK_TOO_DEEP);
	l = &c->lv[c->n++];
	memset(l, 0, sizeof(*l));
	l->multipart = multipart;
	if (multipart) {
		l->digest = is_word(t->sub, t->slen, "digest");
		l->bnd = t->bnd;
		l->blen = t->blen;
	}
	return 0;
}

/* The encoding named by the header, or -1 (unknown). */
static int
cte_of(const struct ck *c, enum body_kind *k, int *binary)
{
	const uint8_t *s = c->vs[F_CTE];
	size_t t0, t1;

	*k = BODY_7BIT;
	*binary = 0;
	if (s == NULL)
		return 0;	/* RFC 2045 6.1: 7bit by default */
	if (one_token(s, (size_t)(c->ve[F_CTE] - s), &t0, &t1) < 0)
		return -1;
	if (is_word(s + t0, t1 - t0, "7bit"))
		*k = BODY_7BIT;
	else if (is_word(s + t0, t1 - t0, "8bit"))
		*k = BODY_8BIT;
	else if (is_word(s + t0, t1 - t0, "binary"))
		*binary = 1;
	else if (is_word(s + t0, t1 - t0, "quoted-printable"))
		*k = BODY_QP;
	else if (is_word(s + t0, t1 - t0, "base64"))
		*k = BODY_BASE64;
	else
		return -1;
	return 0;
}

/* A header has ended: what its entity is, and what comes next. */
static int
header_end(struct ck *c)
{
	struct ctype t;
	enum body_kind k;
	int binary, composite;

	field_close(c);
	c->in_header = 0;
	c->nonmime = 0;
	if (c->vs[F_MV] != NULL && !version_ok(c->vs[F_MV], (size_t)(c->ve[F_MV] - c->vs[F_MV])))
		return fail(c, MIMECHECK_BAD_MIME_VERSION);
	if (c->ent_msg && c->vs[F_MV] == NULL) {
		/* RFC 2045 4: required at the top; an embedded message need
		 * not claim MIME, and its Content-* fields are read anyway */
		if (c->n == 0 && (c->vs[F_CT] != NULL || c->vs[F_CTE] != NULL))
			return fail(c, MIMECHECK_NO_MIME_VERSION);
		if (c->vs[F_CT] == NULL && c->vs[F_CTE] == NULL) {
			c->body = BODY_7BIT;
			c->nonmime = 1;
			return 0;
		}
	}
	if (c->vs[F_CT] != NULL) {
		if (ctype_parse(c->vs[F_CT], (size_t)(c->ve[F_CT] - c->vs[F_CT]), &t) < 0)
			return fail(c, MIMECHECK_BAD_CONTENT_TYPE);
	} else {
		/* RFC 2046 5.1.5: a digest's parts are messages */
		memset(&t, 0, sizeof(t));
		t.type = (const uint8_t *)(c->ent_digest ? "message" : "text");
		t.sub = (const uint8_t *)(c->ent_digest ? "rfc822" : "plain");
		t.tlen = strlen((const char *)t.type);
		t.slen = strlen((const char *)t.sub);
	}
	if (cte_of(c, &k, &binary) < 0)
		return fail(c, MIMECHECK_UNKNOWN_CTE);
	if (binary)
		return fail(c, MIMECHECK_BINARY_CTE);
	composite = is_word(t.type, t.tlen, "multipart") ||
	    (is_word(t.type, t.tlen, "message") && is_word(t.sub, t.slen, "rfc822"));
	if (composite && k != BODY_7BIT && k != BODY_8BIT)
		return fail(c, MIMECHECK_COMPOSITE_CTE);	/* RFC 2045 6.4 */
	if (is_word(t.type, t.tlen, "multipart")) {
		if (!t.have_bnd)
			return fail(c, MIMECHECK_NO_BOUNDARY);
		if (!boundary_ok(t.bnd, t.blen))
			return fail(c, MIMECHECK_BAD_BOUNDARY);
		c->body = BODY_TEXT;
		return push(c, 1, &t);
	}
	if (composite) {
		if (push(c, 0, &t) < 0)
			return -1;
		header_start(c, 1, 0);
		return 0;
	}
	c->body = k;
	return 0;
}

/* RFC 5322 2.2: a field, or the continuation of one. */
static int
header_line(struct ck *c, const uint8_t *l, size_t n, int eight)
{
	static const char *const names[F_NKINDS] = { NULL, "content-type",
	    "content-transfer-encoding", "mime-version" };
	enum field_kind k;
	size_t i = 0, j;

	if (n == 0)
		return header_end(c);
	if (eight && !(c->flags & MIMECHECK_SMTPUTF8))
		return fail(c, MIMECHECK_8BIT_HEADER);
	if (eight && !smtp_utf8_valid(l, n))
		return fail(c, MIMECHECK_BAD_UTF8_HEADER);
	if (wsp(l[0])) {
		if (!c->have_field)
			return fail(c, MIMECHECK_HEADER_SYNTAX);
		c->fe = l + n;
		return 0;
	}
	while (i < n && l[i] > 32 && l[i] < 127 && l[i] != ':')
		i++;
	for (j = i; j < n && wsp(l[j]); j++)
		;	/* RFC 5322 4.5's obsolete blanks before the colon */
	if (i == 0 || j >= n || l[j] != ':')
		return fail(c, MIMECHECK_HEADER_SYNTAX);
	field_close(c);
	for (k = F_CT; k < F_NKINDS; k++)
		if (is_word(l, i, names[k]))
			break;
	if (k == F_NKINDS)
		k = F_OTHER;
	if (k != F_OTHER && c->vs[k] != NULL)
		return fail(c, MIMECHECK_DUP_FIELD);
	c->have_field = 1;
	c->fkind = k;
	c->fs = l + j + 1;
	c->fe = l + n;
	return 0;
}

static int
hex(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F') || (b >= 'a' && b <= 'f');
}

/* RFC 2045 6.7: "=" before two hex digits, or a soft line break (blanks
 * after it are transport padding, 6.7 (3)).  Lower-case hex is taken, as
 * 6.7 (1) asks of robust decoders. */
static int
qp_ok(const uint8_t *l, size_t n)
{
	const uint8_t *p = l, *e = l + n;
	size_t i;

	while ((p = memchr(p, '=', (size_t)(e - p))) != NULL) {
		if (e - p >= 3 && hex(p[1]) && hex(p[2])) {
			p += 3;
			continue;
		}
		for (i = 1; p + i < e && wsp(p[i]); i++)
			;
		if (p + i != e)
			return 0;
		break;
	}
	return 1;
}

static int
base64_ok(const uint8_t *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((l[i] >= 'A' && l[i] <= 'Z') || (l[i] >= 'a' && l[i] <= 'z') ||
		    (l[i] >= '0' && l[i] <= '9') || l[i] == '+' || l[i] == '/' || l[i] == '=' ||
		    wsp(l[i])))
			return 0;
	return 1;
}

static int
body_line(struct ck *c, const uint8_t *l, size_t n, int eight)
{
	if (eight) {
		if (!(c->flags & MIMECHECK_8BITMIME))
			return fail(c, MIMECHECK_8BIT_BODY);
		if (c->nonmime)
			return fail(c, MIMECHECK_NO_MIME_VERSION);
		if (c->body == BODY_7BIT || c->body == BODY_QP || c->body == BODY_BASE64)
			return fail(c, MIMECHECK_CTE_MISMATCH);
	}
	if (c->body == BODY_QP && !qp_ok(l, n))
		return fail(c, MIMECHECK_BAD_QP);
	if (c->body == BODY_BASE64 && !base64_ok(l, n))
		return fail(c, MIMECHECK_BAD_BASE64);
	return 0;
}

/* The innermost open multipart whose delimiter line l is, or -1; *close
 * when it is the close delimiter.  RFC 2046 5.1.1: "--" boundary, then
 * "--" for the close, then only transport padding. */
static int
boundary_match(const struct ck *c, const uint8_t *l, size_t n, int *close)
{
	unsigned k = c->n;
	size_t i;

	if (n < 3 || l[0] != '-' || l[1] != '-')
		return -1;
	while (k-- > 0) {
		const struct level *v = &c->lv[k];
		if (!v->multipart || n < 2 + v->blen || memcmp(l + 2, v->bnd, v->blen) != 0)
			continue;
		i = 2 + v->blen;
		*close = n - i >= 2 && l[i] == '-' && l[i + 1] == '-';
		if (*close)
			i += 2;
		while (i < n && wsp(l[i]))
			i++;
		if (i == n)
			return (int)k;
	}
	return -1;
}

/* A delimiter of level k: the levels inside it end here (a multipart
 * among them was never closed). */
static int
on_boundary(struct ck *c, unsigned k, int close)
{
	if (c->in_header && header_end(c) < 0)
		return -1;
	while (c->n > k + 1) {
		if (c->lv[c->n - 1].multipart)
			return fail(c, MIMECHECK_UNCLOSED);
		c->n--;
	}
	if (!close) {
		c->lv[k].parts = 1;
		header_start(c, 0, c->lv[k].digest);
		return 0;
	}
	if (!c->lv[k].parts)
		return fail(c, MIMECHECK_NO_PARTS);
	c->n--;
	c->in_header = 0;
	c->nonmime = 0;
	c->body = BODY_TEXT;	/* the epilogue */
	return 0;
}

static int
line(struct ck *c, const uint8_t *l, size_t n, int eight)
{
	int k, close = 0;

	if (c->n > 0 && (k = boundary_match(c, l, n, &close)) >= 0)
		return on_boundary(c, (unsigned)k, close);
	if (c->in_header)
		return header_line(c, l, n, eight);
	return body_line(c, l, n, eight);
}

/* The bytes of one line: NUL, a CR not before the LF, 8-bit. */
static int
raw(struct ck *c, const uint8_t *l, size_t n, int *eight)
{
	size_t i;

	*eight = 0;
	if (n > MIMECHECK_LINE_MAX)
		return fail(c, MIMECHECK_LONG_LINE);
	for (i = 0; i < n; i++) {
		if (l[i] == 0)
			return fail(c, MIMECHECK_NUL);
		if (l[i] == '\r')
			return fail(c, MIMECHECK_BARE_CR);
		if (l[i] >= 0x80)
			*eight = 1;
	}
	if (*eight)
		c->r->eightbit = 1;
	return 0;
}

static int
rfc5322_defect(enum mimecheck_defect d, unsigned depth)
{
	return d == MIMECHECK_NUL || d == MIMECHECK_BARE_CR || d == MIMECHECK_LONG_LINE ||
	    d == MIMECHECK_8BIT_HEADER || d == MIMECHECK_BAD_UTF8_HEADER ||
	    d == MIMECHECK_8BIT_BODY || (d == MIMECHECK_HEADER_SYNTAX && depth == 0);
}

static int
finish(struct ck *c)
{
	unsigned k;

	if (c->in_header && header_end(c) < 0)
		return -1;
	for (k = c->n; k-- > 0;)
		if (c->lv[k].multipart)
			return fail(c, MIMECHECK_UNCLOSED);
	return 0;
}

int
mimecheck_run(const uint8_t *msg, size_t len, unsigned flags, unsigned max_depth,
    struct mimecheck_result *r)
{
	struct ck c;
	size_t pos = 0, n, next;
	const uint8_t *lf;
	int eight, rc = 0;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.flags = flags;
	c.max_depth = max_depth > MIMECHECK_DEPTH_MAX ? MIMECHECK_DEPTH_MAX : max_depth;
	c.r = r;
	header_start(&c, 1, 0);
	while (pos < len && rc == 0) {
		lf = memchr(msg + pos, '\n', len - pos);
		next = lf != NULL ? (size_t)(lf - msg) + 1 : len;
		n = (lf != NULL ? (size_t)(lf - msg) : len) - pos;
		if (lf != NULL && n > 0 && msg[pos + n - 1] == '\r')
			n--;
		r->line++;
		rc = raw(&c, msg + pos, n, &eight);
		if (rc == 0)
			rc = line(&c, msg + pos, n, eight);
		pos = next;
	}
	if (rc == 0)
		rc = finish(&c);
	if (rc == 0) {
		r->line = 0;
		r->rfc5322 = 1;
		return 0;
	}
	r->rfc5322 = !rfc5322_defect(r->defect, r->depth);
	return -1;
}

int
mimecheck_raw(const uint8_t *msg, size_t len, int *eightbit_r)
{
	size_t i, col = 0;

	*eightbit_r = 0;
	for (i = 0; i < len; i++, col++) {
		if (msg[i] == '\n') {
			col = (size_t)-1;
		} else if (msg[i] == '\r') {
			if (i + 1 >= len || msg[i + 1] != '\n')
				return -1;
			col--;	/* the CR of a CRLF is no content */
		} else if (msg[i] == 0 || col >= MIMECHECK_LINE_MAX) {
			return -1;
		} else if (msg[i] >= 0x80) {
			*eightbit_r = 1;
		}
	}
	return 0;
}

/* Is the field f[0..n) clean to copy into another header? */
static int
field_clean(const uint8_t *f, size_t n, unsigned flags)
{
	size_t i, col = 0;
	int eight = 0;

	for (i = 0; i < n; i++, col++) {
		if (f[i] == '\n') {
			col = (size_t)-1;
			continue;
		}
		if (col >= MIMECHECK_LINE_MAX || f[i] == 0 ||
		    (f[i] == '\r' && (i + 1 >= n || f[i + 1] != '\n')) ||
		    (f[i] < 32 && f[i] != '\t' && f[i] != '\r') || f[i] == 127)
			return 0;
		eight |= f[i] >= 0x80;
	}
	return !eight || ((flags & MIMECHECK_SMTPUTF8) && smtp_utf8_valid(f, n));
}

int
mimecheck_field(const uint8_t *msg, size_t len, const char *name, unsigned flags,
    size_t *off_r, size_t *len_r)
{
	size_t pos = 0, n, next, i, start = 0, end = 0;
	const uint8_t *lf, *l;
	int in = 0;

	while (pos < len) {
		lf = memchr(msg + pos, '\n', len - pos);
		next = lf != NULL ? (size_t)(lf - msg) + 1 : len;
		n = (lf != NULL ? (size_t)(lf - msg) : len) - pos;
		l = msg + pos;
		if (lf != NULL && n > 0 && l[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (wsp(l[0])) {
			if (in)
				end = pos + n;
			pos = next;
			continue;
		}
		if (in)
			break;
		for (i = 0; i < n && l[i] > 32 && l[i] < 127 && l[i] != ':'; i++)
			;
		if (i == 0 || i >= n || (l[i] != ':' && !wsp(l[i])))
			break;
		if (is_word(l, i, name)) {
			in = 1;
			start = pos;
			end = pos + n;
		}
		pos = next;
	}
	if (!in || end - start > MIMECHECK_FIELD_MAX || !field_clean(msg + start, end - start, flags))
		return -1;
	*off_r = start;
	*len_r = end - start;
	return 0;
}
