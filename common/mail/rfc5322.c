/* rfc5322.c - header fields, HEADER.FIELDS and ENVELOPE (RFC 5322, RFC 3501). */
#include "rfc5322.h"

#include <stdlib.h>
#include <string.h>

#include "imapstr.h"

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static int
is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The offset just past the line starting at pos (its LF included). */
static size_t
line_end(const uint8_t *m, size_t len, size_t pos)
{
	size_t nl = pos + imap_find_lf(m + pos, len - pos);

	return nl == len ? len : nl + 1;
}

void
rfc5322_split(const uint8_t *m, size_t len, size_t *hdr_len_r, size_t *body_off_r)
{
	size_t pos = 0, next;

	while (pos < len) {
		next = line_end(m, len, pos);
		/* an empty line: "\n" or "\r\n" */
		if (m[pos] == '\n' || (m[pos] == '\r' && next - pos == 2 && m[next - 1] == '\n')) {
			*hdr_len_r = pos;
			*body_off_r = next;
			return;
		}
		pos = next;
	}
	*hdr_len_r = len;
	*body_off_r = len;
}

void
rfc5322_iter_init(struct rfc5322_iter *it, const uint8_t *hdr, size_t hdr_len)
{
	it->h = hdr;
	it->len = hdr_len;
	it->pos = 0;
}

/* The bytes of a line without its line end. */
static size_t
text_len(const uint8_t *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	return n;
}

int
rfc5322_iter_next(struct rfc5322_iter *it, struct rfc5322_field *f)
{
	while (it->pos < it->len) {
		size_t start = it->pos, colon = start, end, name_end;

		/* the name, up to the colon: on the field's first line (a colon
		 * on a continuation line is no field), and short, so bytewise;
		 * the line end is looked for from there */
		while (colon < it->len && it->h[colon] != ':' && it->h[colon] != '\n')
			colon++;
		end = line_end(it->h, it->len, colon);
		while (end < it->len && is_wsp(it->h[end]))
			end = line_end(it->h, it->len, end);
		it->pos = end;
		if (is_wsp(it->h[start]) || colon >= it->len || it->h[colon] != ':')
			continue;
		for (name_end = colon; name_end > start && is_wsp(it->h[name_end - 1]); name_end--)
			;
		if (name_end == start)
			continue;
		f->name = it->h + start;
		f->name_len = name_end - start;
		f->value = it->h + colon + 1;
		f->value_len = text_len(it->h + colon + 1, end - colon - 1);
		f->off = start;
		f->len = end - start;
		return 1;
	}
	return 0;
}

int
rfc5322_name_is(const struct rfc5322_field *f, const uint8_t *name, size_t len)
{
	size_t i;

	if (f->name_len != len)
		return 0;
	for (i = 0; i < len; i++)
		if (lower(f->name[i]) != lower(name[i]))
			return 0;
	return 1;
}

int
rfc5322_find(const uint8_t *hdr, size_t hdr_len, const char *name, struct rfc5322_field *f)
{
	struct rfc5322_iter it;

	rfc5322_iter_init(&it, hdr, hdr_len);
	while (rfc5322_iter_next(&it, f))
		if (rfc5322_name_is(f, (const uint8_t *)name, strlen(name)))
			return 1;
	return 0;
}

int
rfc5322_unfold(const uint8_t *v, size_t len, size_t max, struct buf *out)
{
	size_t i, start = out->len, n = 0;

	while (len > 0 && (is_wsp(v[0]) || v[0] == '\r' || v[0] == '\n'))
		v++, len--;
	/* the runs between line ends at once, not a byte at a time */
	for (i = 0; i < len && n < max;) {
		size_t j = i;
		while (j < len && n + (j - i) < max && v[j] != '\r' && v[j] != '\n')
			j++;
		if (buf_append(out, v + i, j - i) < 0)
			return -1;
		n += j - i;
		for (i = j; i < len && (v[i] == '\r' || v[i] == '\n'); i++)
			;
	}
	while (out->len > start && is_wsp(out->data[out->len - 1]))
		out->len--;
	return 0;
}

static int
name_listed(const struct rfc5322_field *f, const struct rfc5322_name *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rfc5322_name_is(f, names[i].s, names[i].len))
			return 1;
	return 0;
}

int
rfc5322_header_fields(const uint8_t *hdr, size_t hdr_len, const struct rfc5322_name *names,
    size_t n, int negate, struct buf *out)
{
	struct rfc5322_iter it;
	struct rfc5322_field f;

	rfc5322_iter_init(&it, hdr, hdr_len);
	while (rfc5322_iter_next(&it, &f)) {
		if (name_listed(&f, names, n) == negate)
			continue;
		if (imap_out_crlf(out, hdr + f.off, f.len) < 0)
			return -1;
		/* the last field of a header without a body may lack its line end */
		if (hdr[f.off + f.len - 1] != '\n' && buf_append(out, "\r\n", 2) < 0)
			return -1;
	}
	return buf_append(out, "\r\n", 2);
}

/* address lists (RFC 5322 3.4, 4.4) ---------------------------------- */

enum {
	T_END,
	T_ATOM,		/* atext run (8-bit bytes count as atext, RFC 6532) */
	T_QUOTED,	/* span without the quotes; escapes still in */
	T_DLIT,		/* [domain literal], brackets included */
	T_SPECIAL,	/* one of < > @ , ; : . */
};

struct tok {
	int type;
	uint8_t c;		/* T_SPECIAL */
	size_t off, len;
	int ws;			/* blanks or a comment came before it */
};

struct lex {
	const uint8_t *p;
	size_t len, pos;
	size_t cmt_off, cmt_len;	/* the last comment (inside the parens) */
	int has_cmt;
};

/* RFC 5322 3.2.3 specials (a switch the compiler makes a bit test: strchr
 * on the set for every byte was a tenth of a cold ENVELOPE's time) */
static int
is_special(uint8_t c)
{
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
	case '\\': case '"': case '.': case '[': case ']':
		return 1;
	default:
		return 0;
	}
}

/* Skip a comment at l->pos ('('), nested, with quoted-pairs; to the end
 * if it is not closed. */
static void
skip_comment(struct lex *l)
{
	size_t depth = 0, start = l->pos + 1, end = l->len;

	for (; l->pos < l->len; l->pos++) {
		uint8_t c = l->p[l->pos];
		if (c == '\\') {
			l->pos++;
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			end = l->pos++;
			break;
		}
	}
	if (l->pos > l->len)
		l->pos = l->len;	/* a backslash was the last byte */
	l->cmt_off = start;
	l->cmt_len = end - start;
	l->has_cmt = 1;
}

/* Skip white space, folds and comments; 1 if there was any. */
static int
skip_cfws(struct lex *l)
{
	size_t start = l->pos;

	while (l->pos < l->len) {
		uint8_t c = l->p[l->pos];
		if (is_wsp(c) || c == '\r' || c == '\n')
			l->pos++;
		else if (c == '(')
			skip_comment(l);
		else
			break;
	}
	return l->pos != start;
}

size_t
rfc5322_cfws(const uint8_t *p, size_t len, size_t pos)
{
	struct lex l = { .p = p, .len = len, .pos = pos };

	skip_cfws(&l);
	return l.pos;
}

/* The end of a run that ends at the byte `close` (quoted-pairs skipped). */
static size_t
run_to(const struct lex *l, size_t pos, uint8_t close)
{
	for (; pos < l->len && l->p[pos] != close; pos++)
		if (l->p[pos] == '\\')
			pos++;
	return pos < l->len ? pos : l->len;
}

static void
lex_next(struct lex *l, struct tok *t)
{
	uint8_t c;

	t->c = 0;
	for (;;) {
		t->ws = skip_cfws(l);
		if (l->pos >= l->len) {
			t->type = T_END;
			return;
		}
		c = l->p[l->pos];
		if (c != ')' && c != ']' && c != '\\')
			break;
		l->pos++;	/* stray closers and backslashes are junk */
	}
	t->off = l->pos;
	if (c == '"') {
		size_t e = run_to(l, l->pos + 1, '"');
		t->type = T_QUOTED;
		t->off = l->pos + 1;
		t->len = e - t->off;
		l->pos = e < l->len ? e + 1 : e;
	} else if (c == '[') {
		size_t e = run_to(l, l->pos + 1, ']');
		t->type = T_DLIT;
		l->pos = e < l->len ? e + 1 : e;
		t->len = l->pos - t->off;
	} else if (is_special(c)) {
		t->type = T_SPECIAL;
		t->c = c;
		t->len = 1;
		l->pos++;
	} else {
		while (l->pos < l->len && !is_special(l->p[l->pos]) && !is_wsp(l->p[l->pos]) &&
		    l->p[l->pos] != '\r' && l->p[l->pos] != '\n')
			l->pos++;
		t->type = T_ATOM;
		t->len = l->pos - t->off;
	}
}

static void
lex_peek(const struct lex *l, struct tok *t)
{
	struct lex copy = *l;

	lex_next(&copy, t);
}

/* Append s[0..len) to the list's text with quoted-pairs undone. */
static int
text_unescape(struct rfc5322_addrs *a, const uint8_t *s, size_t len)
{
	size_t i;

	if (buf_reserve(&a->text, len) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		if (s[i] != '\r' && s[i] != '\n')
			a->text.data[a->text.len++] = s[i];
	}
	return 0;
}

enum take_mode {
	TAKE_PHRASE,	/* words joined by one space where the source had any */
	TAKE_TIGHT,	/* local parts, domains, routes: no spaces */
};

/* Take the tokens up to (not including) a special in stop or the end and
 * append their text; *s_r is the span (NIL if there were no tokens). */
static int
take(struct lex *l, struct rfc5322_addrs *a, const char *stop, enum take_mode mode,
    struct rfc5322_span *s_r)
{
	struct tok t;
	size_t start = a->text.len;
	int any = 0;

	for (;;) {
		lex_peek(l, &t);
		if (t.type == T_END || (t.type == T_SPECIAL && strchr(stop, t.c) != NULL))
			break;
		lex_next(l, &t);
		if (mode == TAKE_PHRASE && any && t.ws && t.c != '.' && buf_append(&a->text, " ", 1) < 0)
			return -1;
		if (text_unescape(a, l->p + t.off, t.len) < 0)
			return -1;
		any = 1;
	}
	s_r->off = any ? start : RFC5322_NIL;
	s_r->len = a->text.len - start;
	return 0;
}

static const char missing_domain[] = "MISSING_DOMAIN";

void
rfc5322_addrs_init(struct rfc5322_addrs *l, size_t max_addrs, size_t max_text)
{
	l->v = NULL;
	l->n = l->cap = 0;
	l->max = max_addrs;
	l->truncated = 0;
	buf_init(&l->text, max_text);
}

void
rfc5322_addrs_free(struct rfc5322_addrs *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
	buf_free(&l->text, 0);
}

/* A new entry, all NIL: 1, 0 when the list is full (truncated), -1 ENOMEM.
 * One slot past max stays for the end marker of an open group. */
static int
addr_push(struct rfc5322_addrs *l, enum rfc5322_addr_kind kind, struct rfc5322_addr **x_r)
{
	static const struct rfc5322_span nil = { RFC5322_NIL, 0 };
	size_t lim = kind == RFC5322_ADDR_GROUP_END ? l->max + 1 : l->max;

	if (l->n >= lim) {
		l->truncated = 1;
		return 0;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct rfc5322_addr *nv;
		if (ncap > l->max + 1)
			ncap = l->max + 1;
		nv = reallocarray(l->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	*x_r = &l->v[l->n++];
	(*x_r)->kind = kind;
	(*x_r)->name = (*x_r)->adl = (*x_r)->mailbox = (*x_r)->host = nil;
	return 1;
}

/* An empty or absent part as a present, empty or default string. */
static int
span_default(struct rfc5322_addrs *l, struct rfc5322_span *s, const char *def)
{
	if (s->off != RFC5322_NIL && s->len > 0)
		return 0;
	s->off = l->text.len;
	s->len = strlen(def);
	return buf_append(&l->text, def, s->len);
}

static int
push_mailbox(struct rfc5322_addrs *l, struct rfc5322_span name, struct rfc5322_span adl,
    struct rfc5322_span mbox, struct rfc5322_span host)
{
	struct rfc5322_addr *x;
	int r;

	if (span_default(l, &mbox, "") < 0 || span_default(l, &host, missing_domain) < 0)
		return -1;
	if ((r = addr_push(l, RFC5322_ADDR_MAILBOX, &x)) <= 0)
		return r;
	x->name = name;
	x->adl = adl;
	x->mailbox = mbox;
	x->host = host;
	return 1;
}

struct actx {
	struct lex l;
	struct rfc5322_addrs *a;
	int in_group;
};

static int
lex_peek_is(const struct lex *l, uint8_t c)
{
	struct tok t;

	lex_peek(l, &t);
	return t.type == T_SPECIAL && t.c == c;
}

static void
lex_skip_if(struct lex *l, uint8_t c)
{
	struct tok t;

	if (lex_peek_is(l, c))
		lex_next(l, &t);
}

/* The comment seen while reading an address, as its name (or NIL). */
static int
comment_name(struct actx *c, struct rfc5322_span *name)
{
	name->off = RFC5322_NIL;
	name->len = 0;
	if (!c->l.has_cmt || c->l.cmt_len == 0)
		return 0;
	name->off = c->a->text.len;
	if (text_unescape(c->a, c->l.p + c->l.cmt_off, c->l.cmt_len) < 0)
		return -1;
	name->len = c->a->text.len - name->off;
	return 0;
}

/* local-part "@" domain, with no angle brackets (RFC 5322 3.4.1). */
static int
addr_spec(struct actx *c)
{
	struct rfc5322_span local, dom, name, adl = { RFC5322_NIL, 0 };

	if (take(&c->l, c->a, "@,;<>", TAKE_TIGHT, &local) < 0)
		return -1;
	lex_skip_if(&c->l, '@');
	if (take(&c->l, c->a, ",;<>", TAKE_TIGHT, &dom) < 0)
		return -1;
	skip_cfws(&c->l);	/* "user@host (Name)": read the comment */
	if (comment_name(c, &name) < 0)
		return -1;
	return push_mailbox(c->a, name, adl, local, dom);
}

/* After "phrase <": [route ":"] local-part ["@" domain] [">"] (3.4, 4.4). */
static int
angle_addr(struct actx *c, struct rfc5322_span phrase)
{
	struct rfc5322_span adl = { RFC5322_NIL, 0 }, local, dom = { RFC5322_NIL, 0 };
	struct tok t;
	int at;

	if (lex_peek_is(&c->l, '@')) {
		if (take(&c->l, c->a, ":>", TAKE_TIGHT, &adl) < 0)
			return -1;
		lex_skip_if(&c->l, ':');
	}
	if (take(&c->l, c->a, "@>,;<", TAKE_TIGHT, &local) < 0)
		return -1;
	at = lex_peek_is(&c->l, '@');
	if (at) {
		lex_skip_if(&c->l, '@');
		if (take(&c->l, c->a, ">,;<", TAKE_TIGHT, &dom) < 0)
			return -1;
	}
	lex_skip_if(&c->l, '>');
	/* junk after the '>' up to the next address */
	for (lex_peek(&c->l, &t); t.type != T_END && !(t.type == T_SPECIAL &&
	    strchr(",;<", t.c) != NULL); lex_peek(&c->l, &t))
		lex_next(&c->l, &t);
	if (!at && local.off == RFC5322_NIL && adl.off == RFC5322_NIL)
		return 1;	/* "<>": no mailbox */
	return push_mailbox(c->a, phrase, adl, local, dom);
}

static int
group_start(struct actx *c, struct rfc5322_span phrase)
{
	struct rfc5322_addr *x;
	int r;

	if (span_default(c->a, &phrase, "") < 0)
		return -1;
	if ((r = addr_push(c->a, RFC5322_ADDR_GROUP_START, &x)) <= 0)
		return r;
	x->mailbox = phrase;
	c->in_group = 1;
	return 1;
}

static int
group_end(struct actx *c)
{
	struct rfc5322_addr *x;

	c->in_group = 0;
	return addr_push(c->a, RFC5322_ADDR_GROUP_END, &x);
}

/* One address, group start or end.  1 to go on, 0 at the end (or full),
 * -1 on error. */
static int
parse_one(struct actx *c)
{
	struct rfc5322_span phrase, nil = { RFC5322_NIL, 0 };
	size_t pos = c->l.pos, text = c->a->text.len;
	struct tok t;
	int r = 1;

	c->l.has_cmt = 0;
	if (take(&c->l, c->a, "<:@,;>", TAKE_PHRASE, &phrase) < 0)
		return -1;
	lex_next(&c->l, &t);
	if (t.type == T_END || t.c == ',' || t.c == ';' || t.c == '>') {
		if (phrase.off != RFC5322_NIL)
			r = push_mailbox(c->a, nil, nil, phrase, nil);
		if (r > 0 && t.c == ';' && c->in_group)
			r = group_end(c);
		return r > 0 && t.type == T_END ? 0 : r;
	}
	if (t.c == ':') {
		if (!c->in_group)
			return group_start(c, phrase);
		c->a->text.len = text;	/* a ':' inside a group is junk */
		return 1;
	}
	if (t.c == '<')
		return angle_addr(c, phrase);
	/* '@': the words were a local part; read them again as one */
	c->l.pos = pos;
	c->a->text.len = text;
	return addr_spec(c);
}

int
rfc5322_addr_parse(const uint8_t *v, size_t len, struct rfc5322_addrs *l)
{
	struct actx c = { .l = { .p = v, .len = len }, .a = l };
	int r;

	while ((r = parse_one(&c)) > 0)
		;
	if (r == 0 && c.in_group && group_end(&c) < 0)
		return -1;
	return r;
}

static int
out_span(const struct rfc5322_addrs *l, struct rfc5322_span s, struct buf *out)
{
	if (s.off == RFC5322_NIL)
		return imap_out_nil(out);
	return imap_out_string(out, s.len > 0 ? l->text.data + s.off : (const uint8_t *)"", s.len);
}

int
rfc5322_addrs_write(const struct rfc5322_addrs *l, struct buf *out)
{
	size_t i;

	if (l->n == 0)
		return imap_out_nil(out);
	if (buf_append(out, "(", 1) < 0)
		return -1;
	for (i = 0; i < l->n; i++) {
		const struct rfc5322_addr *x = &l->v[i];
		if (buf_append(out, "(", 1) < 0 || out_span(l, x->name, out) < 0 ||
		    buf_append(out, " ", 1) < 0 || out_span(l, x->adl, out) < 0 ||
		    buf_append(out, " ", 1) < 0 || out_span(l, x->mailbox, out) < 0 ||
		    buf_append(out, " ", 1) < 0 || out_span(l, x->host, out) < 0 ||
		    buf_append(out, ")", 1) < 0)
			return -1;
	}
	return buf_append(out, ")", 1);
}

/* dates (RFC 5322 3.3, 4.3) ------------------------------------------ */

struct dcur {
	const uint8_t *p;
	size_t len, pos;
};

static void
date_skip(struct dcur *d)
{
	struct lex l = { .p = d->p, .len = d->len, .pos = d->pos };

	for (;;) {
		skip_cfws(&l);
		if (l.pos >= l.len || l.p[l.pos] != ',')
			break;
		l.pos++;
	}
	d->pos = l.pos;
}

/* A run of digits (at most 9): its value and length, 0 if none. */
static size_t
date_num(struct dcur *d, int *v)
{
	size_t n = 0;

	date_skip(d);
	*v = 0;
	while (d->pos < d->len && n < 9 && d->p[d->pos] >= '0' && d->p[d->pos] <= '9') {
		*v = *v * 10 + (d->p[d->pos++] - '0');
		n++;
	}
	return n;
}

/* A run of letters, lowercased into w (at most 15 kept); its length. */
static size_t
date_word(struct dcur *d, char w[16])
{
	size_t n = 0;

	date_skip(d);
	while (d->pos < d->len && ((d->p[d->pos] | 32) >= 'a' && (d->p[d->pos] | 32) <= 'z')) {
		if (n < 15)
			w[n] = (char)lower(d->p[d->pos]);
		n++;
		d->pos++;
	}
	w[n < 15 ? n : 15] = '\0';
	return n;
}

/* Month 1..12 from a name ("jan" or longer, as some mailers write), or 0. */
static int
month_of(const char *w)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int i;

	if (strlen(w) < 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (memcmp(w, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

static int
is_weekday(const char *w)
{
	static const char days[] = "monmontuetuewedwedthuthufrifrisatsatsunsun";
	int i;

	for (i = 0; i < 7; i++)
		if (strlen(w) >= 3 && memcmp(w, days + 6 * i, 3) == 0)
			return 1;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y, m 1..12, d). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : n[m - 1];
}

/* hh:mm[:ss] */
static int
date_time(struct dcur *d, int *h, int *mi, int *s)
{
	*s = 0;
	if (date_num(d, h) == 0 || d->pos >= d->len || d->p[d->pos] != ':')
		return -1;
	d->pos++;
	if (date_num(d, mi) == 0)
		return -1;
	if (d->pos < d->len && d->p[d->pos] == ':') {
		d->pos++;
		if (date_num(d, s) == 0)
			return -1;
	}
	return *h <= 23 && *mi <= 59 && *s <= 60 ? 0 : -1;
}

/* The zone's offset east of UTC in seconds; obsolete names (4.3), an
 * unknown or missing zone counts as +0000. */
static int
date_zone(struct dcur *d)
{
	static const struct {
		const char *name;
		int hours;
	} names[] = {
		{ "est", -5 }, { "edt", -4 }, { "cst", -6 }, { "cdt", -5 },
		{ "mst", -7 }, { "mdt", -6 }, { "pst", -8 }, { "pdt", -7 },
	};
	char w[16];
	size_t i, n;
	int sign, v, v2 = 0;

	date_skip(d);
	if (d->pos < d->len && (d->p[d->pos] == '+' || d->p[d->pos] == '-')) {
		sign = d->p[d->pos++] == '-' ? -1 : 1;
		n = date_num(d, &v);
		if (n <= 2 && d->pos < d->len && d->p[d->pos] == ':') {	/* +01:00 */
			d->pos++;
			date_num(d, &v2);
			v = v * 100 + v2;
			n = 4;
		}
		if (n != 4 || v % 100 > 59 || v / 100 > 23)
			return 0;
		return sign * (v / 100 * 3600 + v % 100 * 60);
	}
	date_word(d, w);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(w, names[i].name) == 0)
			return names[i].hours * 3600;
	return 0;
}

static int
full_year(int y, size_t digits)
{
	if (digits == 2)
		return y < 50 ? 2000 + y : 1900 + y;
	if (digits == 3)
		return 1900 + y;
	return y;
}

struct date {
	int year, mon, day, h, mi, s;
	size_t ny;		/* digits of the year */
};

/* "2 Jan 2006 15:04:05" (RFC 5322 3.3) once the day is read */
static int
date_rfc(struct dcur *d, struct date *t)
{
	char w[16];

	date_word(d, w);
	if ((t->mon = month_of(w)) == 0 || (t->ny = date_num(d, &t->year)) == 0)
		return -1;
	return date_time(d, &t->h, &t->mi, &t->s);
}

/* "Jan  2 15:04:05 2006" (asctime) once the month is read */
static int
date_asctime(struct dcur *d, struct date *t)
{
	if (date_num(d, &t->day) == 0 || date_time(d, &t->h, &t->mi, &t->s) < 0)
		return -1;
	t->ny = date_num(d, &t->year);
	return t->ny == 0 ? -1 : 0;
}

int
rfc5322_date_parse(const uint8_t *s, size_t len, time_t *t_r)
{
	int zone;

	return rfc5322_date_parse_zone(s, len, t_r, &zone);
}

int
rfc5322_date_parse_zone(const uint8_t *s, size_t len, time_t *t_r, int *zone_r)
{
	struct dcur d = { .p = s, .len = len };
	struct date t;
	char w[16];
	int zone, r;

	if (date_word(&d, w) > 0 && is_weekday(w))
		date_word(&d, w);
	if (w[0] != '\0')
		r = (t.mon = month_of(w)) == 0 ? -1 : date_asctime(&d, &t);
	else
		r = date_num(&d, &t.day) == 0 ? -1 : date_rfc(&d, &t);
	if (r < 0)
		return -1;
	zone = date_zone(&d);
	t.year = full_year(t.year, t.ny);
	if (t.year < 1000 || t.year > 9999 || t.day < 1 || t.day > days_in_month(t.year, t.mon))
		return -1;
	*t_r = (time_t)(days_from_civil(t.year, t.mon, t.day) * 86400 + t.h * 3600 + t.mi * 60 +
	    t.s - zone);
	*zone_r = zone;
	return 0;
}

/* ENVELOPE (RFC 3501 7.4.2) ------------------------------------------ */

enum {
	E_DATE, E_SUBJECT, E_FROM, E_SENDER, E_REPLY_TO, E_TO, E_CC, E_BCC,
	E_IN_REPLY_TO, E_MESSAGE_ID, E_N
};

/* arrays with their lengths: no strlen per header field and name, no
 * relocations */
static const struct {
	char s[12];
	uint8_t len;
} env_names[E_N] = {
	{ "date", 4 }, { "subject", 7 }, { "from", 4 }, { "sender", 6 }, { "reply-to", 8 },
	{ "to", 2 }, { "cc", 2 }, { "bcc", 3 }, { "in-reply-to", 11 }, { "message-id", 10 },
};

/* An unstructured value, unfolded (at most RFC5322_VALUE_MAX bytes), or NIL. */
static int
env_string(const struct rfc5322_field *f, struct buf *out)
{
	struct buf v;
	int r;

	if (f == NULL)
		return imap_out_nil(out);
	buf_init(&v, RFC5322_VALUE_MAX);
	r = rfc5322_unfold(f->value, f->value_len, RFC5322_VALUE_MAX, &v);
	if (r == 0)
		r = imap_out_string(out, v.data != NULL ? v.data : (const uint8_t *)"", v.len);
	buf_free(&v, 0);
	return r;
}

static int
env_parse(const struct rfc5322_field *f, struct rfc5322_addrs *l)
{
	size_t text_max = 2 * (f != NULL ? f->value_len : 0) +
	    (RFC5322_ADDR_MAX + 1) * sizeof(missing_domain) + 64;

	rfc5322_addrs_init(l, RFC5322_ADDR_MAX, text_max);
	return f == NULL ? 0 : rfc5322_addr_parse(f->value, f->value_len, l);
}

/* The six address lists; sender and reply-to fall back to from (7.4.2). */
static int
env_addresses(struct rfc5322_field *const f[E_N], struct buf *out)
{
	struct rfc5322_addrs from, l;
	int i, r;

	if ((r = env_parse(f[E_FROM], &from)) == 0)
		r = rfc5322_addrs_write(&from, out);
	for (i = E_SENDER; i <= E_BCC && r == 0; i++) {
		if ((r = env_parse(f[i], &l)) == 0 && buf_append(out, " ", 1) < 0)
			r = -1;
		if (r == 0) {
			int fallback = l.n == 0 && (i == E_SENDER || i == E_REPLY_TO);
			r = rfc5322_addrs_write(fallback ? &from : &l, out);
		}
		rfc5322_addrs_free(&l);
	}
	rfc5322_addrs_free(&from);
	return r;
}

int
rfc5322_envelope_write(const uint8_t *hdr, size_t hdr_len, struct buf *out)
{
	struct rfc5322_field fields[E_N], *f[E_N] = { NULL };
	struct rfc5322_iter it;
	struct rfc5322_field x;
	int i;

	rfc5322_iter_init(&it, hdr, hdr_len);
	while (rfc5322_iter_next(&it, &x))
		for (i = 0; i < E_N; i++)
			if (f[i] == NULL &&
			    rfc5322_name_is(&x, (const uint8_t *)env_names[i].s, env_names[i].len)) {
				fields[i] = x;
				f[i] = &fields[i];
			}
	if (buf_append(out, "(", 1) < 0 || env_string(f[E_DATE], out) < 0 ||
	    buf_append(out, " ", 1) < 0 || env_string(f[E_SUBJECT], out) < 0 ||
	    buf_append(out, " ", 1) < 0 || env_addresses(f, out) < 0 ||
	    buf_append(out, " ", 1) < 0 || env_string(f[E_IN_REPLY_TO], out) < 0 ||
	    buf_append(out, " ", 1) < 0 || env_string(f[E_MESSAGE_ID], out) < 0)
		return -1;
	return buf_append(out, ")", 1);
}
