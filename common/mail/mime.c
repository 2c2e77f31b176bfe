/* mime.c - MIME structure, parameters and IMAP section numbers
 * (RFC 2045, 2046, 2231; RFC 3501 6.4.5). */
#include "mime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imapstr.h"
#include "rfc5322.h"

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static int
ieq(const uint8_t *a, size_t alen, const char *b)
{
	size_t i;

	if (alen != strlen(b))
		return 0;
	for (i = 0; i < alen; i++)
		if (lower(a[i]) != (uint8_t)b[i])
			return 0;
	return 1;
}

/* A token character (RFC 2045 5.1: no SPACE, CTLs or tspecials). */
static int
is_token(uint8_t c)
{
	switch (c) {	/* tspecials: a bit test, not strchr per byte */
	case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
	case '\\': case '"': case '/': case '[': case ']': case '?': case '=':
		return 0;
	default:
		return c > 0x20 && c != 0x7F;
	}
}

static size_t
token_end(const uint8_t *p, size_t len, size_t pos)
{
	while (pos < len && is_token(p[pos]))
		pos++;
	return pos;
}

void
mime_content_type(const uint8_t *hdr, size_t hdr_len, int digest, struct mime_ctype *ct)
{
	struct rfc5322_field f;
	size_t t, te, s, se;

	memset(ct, 0, sizeof(*ct));
	if (rfc5322_find(hdr, hdr_len, "content-type", &f)) {
		t = rfc5322_cfws(f.value, f.value_len, 0);
		te = token_end(f.value, f.value_len, t);
		s = rfc5322_cfws(f.value, f.value_len, te);
		if (te > t && s < f.value_len && f.value[s] == '/') {
			s = rfc5322_cfws(f.value, f.value_len, s + 1);
			se = token_end(f.value, f.value_len, s);
			if (se > s) {
				ct->type = f.value + t;
				ct->type_len = te - t;
				ct->subtype = f.value + s;
				ct->subtype_len = se - s;
				ct->params = f.value + se;
				ct->params_len = f.value_len - se;
				return;
			}
		}
	}
	/* RFC 2045 5.2; RFC 2046 5.1.5 in a digest */
	ct->is_default = 1;
	ct->type = (const uint8_t *)(digest ? "message" : "text");
	ct->type_len = digest ? 7 : 4;
	ct->subtype = (const uint8_t *)(digest ? "rfc822" : "plain");
	ct->subtype_len = digest ? 6 : 5;
	ct->params = (const uint8_t *)"";
}

/* parameters (RFC 2045 5.1, RFC 2231) -------------------------------- */

struct param {
	const uint8_t *name, *value;
	size_t name_len, value_len;
	int quoted;
	/* RFC 2231: base name, section (-1 for "name*"), extended ('*') */
	size_t base_len;
	long section;
	int ext, is2231;
};

/* Split "base*N*" (RFC 2231 3, 4) */
static void
param_2231(struct param *x)
{
	const uint8_t *star = memchr(x->name, '*', x->name_len);
	size_t i, d;

	x->is2231 = 0;
	x->base_len = x->name_len;
	if (star == NULL)
		return;
	i = (size_t)(star - x->name) + 1;
	x->base_len = i - 1;
	x->section = -1;
	x->ext = 0;
	if (i == x->name_len) {		/* "name*" */
		x->ext = 1;
		x->is2231 = x->base_len > 0;
		return;
	}
	for (x->section = 0, d = 0; i < x->name_len && x->name[i] >= '0' && x->name[i] <= '9'; i++)
		if (++d <= 6)
			x->section = x->section * 10 + (x->name[i] - '0');
	if (i < x->name_len && x->name[i] == '*') {
		x->ext = 1;
		i++;
	}
	x->is2231 = i == x->name_len && x->base_len > 0 && d > 0 && d <= 6;
}

/* The next parameter at *pos of params[0..len): 1, or 0 at the end. */
static int
param_next(const uint8_t *p, size_t len, size_t *pos, struct param *x)
{
	size_t i = *pos, n;

	for (;;) {
		while ((i = rfc5322_cfws(p, len, i)) < len && p[i] == ';')
			i++;
		if (i >= len)
			break;
		n = token_end(p, len, i);
		x->name = p + i;
		x->name_len = n - i;
		i = rfc5322_cfws(p, len, n);
		if (x->name_len == 0 || i >= len || p[i] != '=') {
			/* junk: skip to the next ';' */
			while (i < len && p[i] != ';')
				i++;
			continue;
		}
		i = rfc5322_cfws(p, len, i + 1);
		x->quoted = i < len && p[i] == '"';
		if (x->quoted) {
			size_t s = ++i;
			while (i < len && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			if (i > len)
				i = len;
			x->value = p + s;
			x->value_len = i - s;
			if (i < len)
				i++;
		} else {
			size_t s = i;
			/* tolerant: a value runs to a blank or ';' (real mail has
			 * unquoted tspecials in file names) */
			while (i < len && p[i] != ';' && p[i] != ' ' && p[i] != '\t' &&
			    p[i] != '\r' && p[i] != '\n')
				i++;
			x->value = p + s;
			x->value_len = i - s;
		}
		param_2231(x);
		*pos = i;
		return 1;
	}
	*pos = len;
	return 0;
}

/* Append a value with quoted-pairs undone and folds removed. */
static int
append_value(const struct param *x, struct buf *out)
{
	size_t i;

	for (i = 0; i < x->value_len; i++) {
		uint8_t c = x->value[i];
		if (x->quoted && c == '\\' && i + 1 < x->value_len)
			c = x->value[++i];
		if (c == '\r' || c == '\n')
			continue;	/* folds, even quoted ones */
		if (buf_append(out, &c, 1) < 0)
			return -1;
	}
	return 0;
}

static int
same_base(const struct param *x, const uint8_t *base, size_t base_len)
{
	size_t i;

	if (!x->is2231 || x->base_len != base_len)
		return 0;
	for (i = 0; i < base_len; i++)
		if (lower(x->name[i]) != lower(base[i]))
			return 0;
	return 1;
}

/* The first MIME_PARAMS_MAX parameters of a field, parsed once. */
struct params {
	struct param v[MIME_PARAMS_MAX];
	size_t n;
};

static void
params_parse(const uint8_t *p, size_t len, struct params *ps)
{
	size_t pos = 0;

	for (ps->n = 0; ps->n < MIME_PARAMS_MAX && param_next(p, len, &pos, &ps->v[ps->n]); ps->n++)
		;
}

/* Section sec of base's RFC 2231 value (sec 0 also matches "base*"). */
static const struct param *
find_section(const struct params *ps, const uint8_t *base, size_t base_len, long sec)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (same_base(&ps->v[i], base, base_len) &&
		    (ps->v[i].section == sec || (sec == 0 && ps->v[i].section == -1)))
			return &ps->v[i];
	return NULL;
}

/* Join the sections of base's RFC 2231 value into raw (RFC 2231 3, 4);
 * *cs_r is the charset named before the first "'".  1, 0 none, -1. */
static int
join_2231(const struct params *ps, const uint8_t *base, size_t base_len, struct buf *raw,
    enum decode_charset *cs_r)
{
	const struct param *x;
	long sec;

	*cs_r = DECODE_CS_UNKNOWN;
	for (sec = 0; sec < MIME_PARAMS_MAX && (x = find_section(ps, base, base_len, sec)); sec++) {
		const uint8_t *v = x->value;
		size_t vl = x->value_len;
		if (x->ext && sec == 0) {
			const uint8_t *q1 = memchr(v, '\'', vl), *q2;
			if (q1 != NULL && (q2 = memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v))) != NULL) {
				*cs_r = decode_charset_lookup(v, (size_t)(q1 - v));
				vl -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		if (x->ext ? decode_unescape(v, vl, '%', 0, raw) < 0 : append_value(x, raw) < 0)
			return -1;
		if (x->section == -1)
			return 1;
	}
	return sec > 0;
}

/* base's RFC 2231 value in UTF-8 when its charset is known.  1, 0, -1. */
static int
value_2231(const struct params *ps, const uint8_t *base, size_t base_len, struct buf *out,
    enum decode_charset *cs_r)
{
	struct buf raw;
	int r;

	buf_init(&raw, out->max);
	r = join_2231(ps, base, base_len, &raw, cs_r);
	if (r > 0 && raw.len > 0 && (*cs_r == DECODE_CS_UNKNOWN ?
	    buf_append(out, raw.data, raw.len) : decode_to_utf8(*cs_r, raw.data, raw.len, out)) < 0)
		r = -1;
	buf_free(&raw, 0);
	return r;
}

int
mime_param_get(const uint8_t *params, size_t len, const char *name, struct buf *out,
    enum decode_charset *cs_r)
{
	struct params ps;
	size_t i;
	int r;

	params_parse(params, len, &ps);
	if ((r = value_2231(&ps, (const uint8_t *)name, strlen(name), out, cs_r)) != 0)
		return r;
	*cs_r = DECODE_CS_UNKNOWN;
	for (i = 0; i < ps.n; i++)
		if (!ps.v[i].is2231 && ieq(ps.v[i].name, ps.v[i].name_len, name))
			return append_value(&ps.v[i], out) < 0 ? -1 : 1;
	return 0;
}

/* structure ---------------------------------------------------------- */

void
mime_init(struct mime_msg *mm, size_t max_parts, unsigned max_depth)
{
	memset(mm, 0, sizeof(*mm));
	mm->max_parts = max_parts ? max_parts : MIME_PARTS_MAX;
	if (mm->max_parts > UINT32_MAX - 1)
		mm->max_parts = UINT32_MAX - 1;
	mm->max_depth = max_depth ? max_depth : MIME_DEPTH_MAX;
	if (mm->max_depth > MIME_DEPTH_LIMIT)
		mm->max_depth = MIME_DEPTH_LIMIT;
}

void
mime_free(struct mime_msg *mm)
{
	free(mm->parts);
	mm->parts = NULL;
	mm->n = mm->cap = 0;
}

/* A region of the message still to be parsed as one part. */
struct pending {
	size_t start, end;
	uint32_t parent, depth;
	int digest;
};

struct pstack {
	struct pending *v;
	size_t n, cap;
};

static int
pstack_push(struct pstack *s, struct pending p)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 16;
		struct pending *nv = reallocarray(s->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = p;
	return 0;
}

static void
count_body(struct mime_part *p, const uint8_t *m)
{
	uint64_t lf, bare;

	imap_count_lf(m + p->body_off, p->body_len, &lf, &bare);
	p->body_size = p->body_len + bare;
	p->body_lines = lf;
	/* a last line without its line end is not counted: the lines are the
	 * line ends, as Dovecot and Courier count them */
}

/* Append a part for region r, linked to its parent. */
static int
part_add(struct mime_msg *mm, const struct pending *r, struct mime_part **p_r)
{
	struct mime_part *p;
	size_t hl, bo;
	uint32_t idx = (uint32_t)mm->n;

	if (mm->n >= mm->max_parts) {
		errno = ENOBUFS;	/* the callers queue no more than max_parts */
		return -1;
	}
	if (mm->n == mm->cap) {
		size_t ncap = mm->cap ? 2 * mm->cap : 16;
		struct mime_part *nv;
		if (ncap > mm->max_parts)
			ncap = mm->max_parts;
		nv = reallocarray(mm->parts, ncap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		mm->parts = nv;
		mm->cap = ncap;
	}
	p = &mm->parts[mm->n++];
	memset(p, 0, sizeof(*p));
	p->parent = r->parent;
	p->first_child = p->next = p->last_child = MIME_NONE;
	p->depth = r->depth;
	rfc5322_split(mm->m + r->start, r->end - r->start, &hl, &bo);
	p->hdr_off = r->start;
	p->body_off = r->start + bo;
	p->body_len = r->end - p->body_off;
	p->hdr_size = imap_crlf_size(mm->m + r->start, bo);
	count_body(p, mm->m);
	if (r->parent != MIME_NONE) {
		struct mime_part *par = &mm->parts[r->parent];
		if (par->first_child == MIME_NONE)
			par->first_child = idx;
		else
			mm->parts[par->last_child].next = idx;
		par->last_child = idx;
	}
	*p_r = p;
	return 0;
}

/* Is the line at pos (text up to eol) a delimiter of boundary b?  0 no,
 * 1 a delimiter, 2 the close delimiter (RFC 2046 5.1.1). */
static int
delimiter(const uint8_t *m, size_t pos, size_t eol, const uint8_t *b, size_t blen)
{
	size_t i = pos + 2 + blen;

	if (eol - pos < 2 + blen || m[pos] != '-' || m[pos + 1] != '-' ||
	    memcmp(m + pos + 2, b, blen) != 0)
		return 0;
	if (eol - i >= 2 && m[i] == '-' && m[i + 1] == '-')
		return 2;
	for (; i < eol; i++)
		if (m[i] != ' ' && m[i] != '\t')
			return 0;	/* "--b" followed by more text is not ours */
	return 1;
}

struct split {
	struct mime_msg *mm;
	struct pstack *st;
	const uint8_t *b;
	size_t blen;
	struct pending child;	/* parent, depth, digest of the children */
};

/* Queue a body part [start, end), if the part limit allows. */
static int
queue(struct split *sp, size_t start, size_t end)
{
	if (sp->mm->n + sp->st->n >= sp->mm->max_parts) {
		sp->mm->truncated = 1;
		return 0;
	}
	sp->child.start = start;
	sp->child.end = end < start ? start : end;
	return pstack_push(sp->st, sp->child);
}

/* Queue the body parts of the multipart body m[bs..be), in order. */
static int
split_body(struct split *sp, size_t bs, size_t be)
{
	const uint8_t *m = sp->mm->m;
	size_t pos = bs, part = SIZE_MAX, first = sp->st->n, i, j;
	int d;

	while (pos < be) {
		size_t next = pos + imap_find_lf(m + pos, be - pos);
		next = next < be ? next + 1 : be;
		size_t eol = next > pos && m[next - 1] == '\n' ? next - 1 : next;
		if (eol > pos && m[eol - 1] == '\r')
			eol--;
		if ((d = delimiter(m, pos, eol, sp->b, sp->blen)) != 0) {
			/* the line end before the delimiter belongs to it */
			size_t end = pos == bs ? pos : pos - 1 - (pos - 1 > bs && m[pos - 2] == '\r');
			if (part != SIZE_MAX && queue(sp, part, end) < 0)
				return -1;
			part = d == 2 ? SIZE_MAX : next;
			if (d == 2)
				break;
		}
		pos = next;
	}
	if (part != SIZE_MAX && queue(sp, part, be) < 0)
		return -1;
	/* the stack pops the last first: reverse this multipart's parts */
	for (i = first, j = sp->st->n; i + 1 < j; i++, j--) {
		struct pending t = sp->st->v[i];
		sp->st->v[i] = sp->st->v[j - 1];
		sp->st->v[j - 1] = t;
	}
	return 0;
}

static int
split_multipart(struct mime_msg *mm, struct pstack *st, uint32_t idx, const struct mime_ctype *ct)
{
	const struct mime_part *p = &mm->parts[idx];
	struct split sp = { .mm = mm, .st = st };
	enum decode_charset cs;
	struct buf b;
	int r;

	buf_init(&b, MIME_BOUNDARY_MAX);
	r = mime_param_get(ct->params, ct->params_len, "boundary", &b, &cs);
	if (r < 0 && errno == ENOBUFS)
		r = 0;		/* over 70 characters: not a boundary */
	if (r > 0 && b.len > 0) {
		sp.b = b.data;
		sp.blen = b.len;
		sp.child.parent = idx;
		sp.child.depth = p->depth + 1;
		sp.child.digest = (p->flags & MIME_F_DIGEST) != 0;
		r = split_body(&sp, p->body_off, p->body_off + p->body_len);
	}
	buf_free(&b, 0);
	return r < 0 ? -1 : 0;
}

/* Flags from the part's Content-Type; queue what is inside it. */
static int
classify(struct mime_msg *mm, struct pstack *st, uint32_t idx, int digest)
{
	struct mime_part *p = &mm->parts[idx];
	struct mime_ctype ct;
	struct pending child;

	mime_content_type(mm->m + p->hdr_off, p->body_off - p->hdr_off, digest, &ct);
	if (ct.is_default)
		p->flags |= MIME_F_DEFAULT;
	if (ieq(ct.type, ct.type_len, "text"))
		p->flags |= MIME_F_TEXT;
	if (ieq(ct.type, ct.type_len, "multipart")) {
		p->flags |= MIME_F_MULTIPART;
		if (ieq(ct.subtype, ct.subtype_len, "digest"))
			p->flags |= MIME_F_DIGEST;
	} else if (ieq(ct.type, ct.type_len, "message") && (ieq(ct.subtype, ct.subtype_len,
	    "rfc822") || ieq(ct.subtype, ct.subtype_len, "global"))) {
		p->flags |= MIME_F_RFC822;
	} else {
		return 0;
	}
	if (p->depth >= mm->max_depth) {
		p->flags |= MIME_F_OPAQUE;
		mm->truncated = 1;
		return 0;
	}
	if (p->flags & MIME_F_MULTIPART)
		return split_multipart(mm, st, idx, &ct);
	if (mm->n + st->n >= mm->max_parts) {
		p->flags |= MIME_F_OPAQUE;
		mm->truncated = 1;
		return 0;
	}
	child = (struct pending){ p->body_off, p->body_off + p->body_len, idx, p->depth + 1, 0 };
	return pstack_push(st, child);
}

int
mime_parse(struct mime_msg *mm, const uint8_t *m, size_t len)
{
	struct pstack st = { 0 };
	struct pending r = { 0, len, MIME_NONE, 0, 0 };
	struct mime_part *p;
	int rc = -1;

	mm->m = m;
	mm->len = len;
	mm->n = 0;
	mm->truncated = 0;
	if (pstack_push(&st, r) < 0)
		goto out;
	while (st.n > 0) {
		r = st.v[--st.n];
		if (part_add(mm, &r, &p) < 0 || classify(mm, &st, (uint32_t)(mm->n - 1), r.digest) < 0)
			goto out;
	}
	rc = 0;
out:
	free(st.v);
	return rc;
}

/* BODYSTRUCTURE and BODY (RFC 3501 7.4.2, 9 "body") ------------------ */

struct writer {
	const struct mime_msg *mm;
	struct buf *out;
	int ext;
	struct buf tmp;
	/* the Content- fields of part hp, from one pass over its header (a
	 * pass per field was most of a cold BODYSTRUCTURE's time) */
	const struct mime_part *hp;
	struct rfc5322_field hf[6];
	uint8_t have[6];
};

enum hfield { HF_ID, HF_DESCRIPTION, HF_ENCODING, HF_DISPOSITION, HF_LANGUAGE, HF_LOCATION };

static const struct {
	char name[26];	/* lowercase; an array, not a pointer: no relocation */
	uint8_t len;
} hf_names[] = {
	[HF_ID] = { "content-id", 10 },
	[HF_DESCRIPTION] = { "content-description", 19 },
	[HF_ENCODING] = { "content-transfer-encoding", 25 },
	[HF_DISPOSITION] = { "content-disposition", 19 },
	[HF_LANGUAGE] = { "content-language", 16 },
	[HF_LOCATION] = { "content-location", 16 },
};

/* Field i of part p (the first of its name, as rfc5322_find gives), or NULL. */
static const struct rfc5322_field *
hfield(struct writer *w, const struct mime_part *p, enum hfield i)
{
	struct rfc5322_iter it;
	struct rfc5322_field f;
	size_t k;

	if (w->hp != p) {
		memset(w->have, 0, sizeof(w->have));
		rfc5322_iter_init(&it, w->mm->m + p->hdr_off, p->body_off - p->hdr_off);
		while (rfc5322_iter_next(&it, &f)) {
			if (f.name_len < 10 || lower(f.name[0]) != 'c')
				continue;	/* every one is "content-..." */
			for (k = 0; k < sizeof(hf_names) / sizeof(hf_names[0]); k++)
				if (!w->have[k] && rfc5322_name_is(&f, (const uint8_t *)hf_names[k].name,
				    hf_names[k].len)) {
					w->hf[k] = f;
					w->have[k] = 1;
					break;
				}
		}
		w->hp = p;
	}
	return w->have[i] ? &w->hf[i] : NULL;
}

static int
put(struct writer *w, const char *s)
{
	return buf_append_str(w->out, s);
}

static int
put_string(struct writer *w, const uint8_t *s, size_t len)
{
	return imap_out_string(w->out, s, len);
}

/* The unfolded value of the part's field name (lowercase) in w->tmp:
 * 1, 0 absent, -1. */
static int
field(struct writer *w, const struct mime_part *p, enum hfield name)
{
	const struct rfc5322_field *f = hfield(w, p, name);

	buf_reset(&w->tmp);
	if (f == NULL)
		return 0;
	return rfc5322_unfold(f->value, f->value_len, RFC5322_VALUE_MAX, &w->tmp) < 0 ? -1 : 1;
}

static int
put_field(struct writer *w, const struct mime_part *p, enum hfield name)
{
	int r = field(w, p, name);

	if (r <= 0)
		return r < 0 ? -1 : imap_out_nil(w->out);
	return put_string(w, w->tmp.data != NULL ? w->tmp.data : (const uint8_t *)"", w->tmp.len);
}

/* Has a parameter before index k the same RFC 2231 base as k? */
static int
base_seen(const struct params *ps, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (same_base(&ps->v[i], ps->v[k].name, ps->v[k].base_len))
			return 1;
	return 0;
}

/* One name/value pair of body-fld-param: RFC 2231 values joined and, in a
 * known charset, converted to UTF-8, under their base name. */
static int
put_param(struct writer *w, const struct params *ps, size_t k, int *n)
{
	const struct param *x = &ps->v[k];
	enum decode_charset cs;
	struct buf v;
	int r;

	if (x->is2231 && base_seen(ps, k))
		return 0;
	buf_init(&v, w->out->max);
	r = x->is2231 ? value_2231(ps, x->name, x->base_len, &v, &cs) : append_value(x, &v);
	if (r >= 0)
		r = put(w, *n == 0 ? "(" : " ") < 0 || put_string(w, x->name, x->base_len) < 0 ||
		    put(w, " ") < 0 || put_string(w, v.data ? v.data : (const uint8_t *)"", v.len) < 0 ?
		    -1 : 0;
	buf_free(&v, 0);
	(*n)++;
	return r;
}

static int
put_params(struct writer *w, const uint8_t *p, size_t len)
{
	struct params ps;
	size_t k;
	int n = 0;

	params_parse(p, len, &ps);
	for (k = 0; k < ps.n; k++)
		if (put_param(w, &ps, k, &n) < 0)
			return -1;
	return n == 0 ? imap_out_nil(w->out) : put(w, ")");
}

/* body-fld-dsp: ("attachment" (params)) or NIL */
static int
put_disposition(struct writer *w, const struct mime_part *p)
{
	const struct rfc5322_field *f = hfield(w, p, HF_DISPOSITION);
	size_t t, te;

	if (f == NULL)
		return imap_out_nil(w->out);
	t = rfc5322_cfws(f->value, f->value_len, 0);
	te = token_end(f->value, f->value_len, t);
	if (te == t)
		return imap_out_nil(w->out);
	if (put(w, "(") < 0 || put_string(w, f->value + t, te - t) < 0 || put(w, " ") < 0 ||
	    put_params(w, f->value + te, f->value_len - te) < 0)
		return -1;
	return put(w, ")");
}

/* body-fld-lang: NIL, "tag" or ("tag" "tag") from Content-Language (RFC 3282) */
static int
put_language(struct writer *w, const struct mime_part *p)
{
	const struct rfc5322_field *lang = hfield(w, p, HF_LANGUAGE);
	struct rfc5322_field f;
	size_t pass, pos, e, n = 0, k;

	if (lang == NULL)
		return imap_out_nil(w->out);
	f = *lang;
	for (pass = 0; pass < 2; pass++) {
		for (pos = 0, k = 0; pos < f.value_len; pos = e) {
			pos = rfc5322_cfws(f.value, f.value_len, pos);
			e = token_end(f.value, f.value_len, pos);
			if (e == pos) {
				e = pos + 1;	/* ',' or junk */
				continue;
			}
			if (pass == 1 && (put(w, n == 1 ? "" : k == 0 ? "(" : " ") < 0 ||
			    put_string(w, f.value + pos, e - pos) < 0))
				return -1;
			k++;
		}
		if (pass == 0 && (n = k) == 0)
			return imap_out_nil(w->out);
	}
	return n > 1 ? put(w, ")") : 0;
}

/* body-ext-1part / the end of body-ext-mpart: [md5] dsp lang loc */
static int
put_ext(struct writer *w, const struct mime_part *p, int md5)
{
	if (!w->ext)
		return 0;
	if ((md5 && put(w, " NIL") < 0) || put(w, " ") < 0 || put_disposition(w, p) < 0 ||
	    put(w, " ") < 0 || put_language(w, p) < 0 || put(w, " ") < 0 ||
	    put_field(w, p, HF_LOCATION) < 0)
		return -1;
	return 0;
}

/* What stands for the parts a multipart lacks, or the body of a message
 * part not looked into: an empty text/plain. */
static int
put_empty_text(struct writer *w)
{
	return put(w, w->ext ? "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"
	    " NIL NIL NIL NIL)" : "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
}

/* body-fields: params id description encoding octets (after type subtype) */
static int
put_fields(struct writer *w, const struct mime_part *p, const struct mime_ctype *ct)
{
	struct param x;
	size_t pos = 0;
	int r;

	/* text without a charset is us-ascii (RFC 2045 5.2, RFC 2046 4.1.2) */
	if ((p->flags & MIME_F_TEXT) && !param_next(ct->params, ct->params_len, &pos, &x))
		r = put(w, "(\"charset\" \"us-ascii\")");
	else
		r = put_params(w, ct->params, ct->params_len);
	if (r < 0 || put(w, " ") < 0 || put_field(w, p, HF_ID) < 0 || put(w, " ") < 0 ||
	    put_field(w, p, HF_DESCRIPTION) < 0 || put(w, " ") < 0)
		return -1;
	if ((r = field(w, p, HF_ENCODING)) < 0)
		return -1;
	if (r == 0 || w->tmp.len == 0)
		r = put(w, "\"7bit\"");
	else
		r = put_string(w, w->tmp.data, w->tmp.len);
	return r < 0 ? -1 : buf_append_u64(w->out, " ", p->body_size);
}

static int
put_envelope(struct writer *w, const struct mime_part *p)
{
	size_t hl, bo;

	rfc5322_split(w->mm->m + p->body_off, p->body_len, &hl, &bo);
	return rfc5322_envelope_write(w->mm->m + p->body_off, hl, w->out);
}

static void
ctype_of(const struct writer *w, const struct mime_part *p, struct mime_ctype *ct)
{
	int digest = p->parent != MIME_NONE && (w->mm->parts[p->parent].flags & MIME_F_DIGEST);

	mime_content_type(w->mm->m + p->hdr_off, p->body_off - p->hdr_off, digest, ct);
}

/* Everything of part p before its children; a leaf part entire. */
static int
part_open(struct writer *w, const struct mime_part *p)
{
	struct mime_ctype ct;

	if (put(w, "(") < 0)
		return -1;
	if (p->flags & MIME_F_MULTIPART)
		return p->first_child == MIME_NONE ? put_empty_text(w) : 0;
	ctype_of(w, p, &ct);
	if (put_string(w, ct.type, ct.type_len) < 0 || put(w, " ") < 0 ||
	    put_string(w, ct.subtype, ct.subtype_len) < 0 || put(w, " ") < 0 ||
	    put_fields(w, p, &ct) < 0)
		return -1;
	if (p->flags & MIME_F_RFC822) {
		if (put(w, " ") < 0 || put_envelope(w, p) < 0 || put(w, " ") < 0)
			return -1;
		return p->first_child == MIME_NONE ? put_empty_text(w) : 0;
	}
	if ((p->flags & MIME_F_TEXT) &&
	    buf_append_u64(w->out, " ", p->body_lines) < 0)
		return -1;
	if (put_ext(w, p, 1) < 0)
		return -1;
	return put(w, ")");
}

/* Everything of a multipart or message part after its children. */
static int
part_close(struct writer *w, const struct mime_part *p)
{
	struct mime_ctype ct;

	if (p->flags & MIME_F_RFC822) {
		if (buf_append_u64(w->out, " ", p->body_lines) < 0 ||
		    put_ext(w, p, 1) < 0)
			return -1;
		return put(w, ")");
	}
	ctype_of(w, p, &ct);
	if (put(w, " ") < 0 || put_string(w, ct.subtype, ct.subtype_len) < 0)
		return -1;
	if (w->ext && (put(w, " ") < 0 || put_params(w, ct.params, ct.params_len) < 0 ||
	    put_ext(w, p, 0) < 0))
		return -1;
	return put(w, ")");
}

static int
is_container(const struct mime_part *p)
{
	return (p->flags & (MIME_F_MULTIPART | MIME_F_RFC822)) != 0;
}

int
mime_bodystructure_write(const struct mime_msg *mm, int extended, struct buf *out)
{
	struct writer w = { .mm = mm, .out = out, .ext = extended };
	uint32_t open[MIME_DEPTH_LIMIT + 2];
	size_t i, n = 0;
	int r = -1;

	buf_init(&w.tmp, RFC5322_VALUE_MAX);
	/* pre-order: close the open parts that are not the next part's parent */
	for (i = 0; i < mm->n; i++) {
		const struct mime_part *p = &mm->parts[i];
		while (n > 0 && open[n - 1] != p->parent)
			if (part_close(&w, &mm->parts[open[--n]]) < 0)
				goto out;
		if (part_open(&w, p) < 0)
			goto out;
		if (is_container(p) && n < MIME_DEPTH_LIMIT + 2)
			open[n++] = (uint32_t)i;
	}
	while (n > 0)
		if (part_close(&w, &mm->parts[open[--n]]) < 0)
			goto out;
	r = 0;
out:
	buf_free(&w.tmp, 0);
	return r;
}

/* section numbers (RFC 3501 6.4.5) ----------------------------------- */

/* The n-th (1-based) child of a multipart, or MIME_NONE. */
static uint32_t
nth_child(const struct mime_msg *mm, uint32_t i, unsigned long n)
{
	uint32_t c = mm->parts[i].first_child;

	while (c != MIME_NONE && --n > 0)
		c = mm->parts[c].next;
	return c;
}

/* The header (with its blank line) and body of the message in part i's
 * body (i is a message/rfc822 part), or of the message itself (i == 0). */
static void
message_ranges(const struct mime_msg *mm, uint32_t i, int whole, size_t r[4])
{
	const struct mime_part *p = &mm->parts[i];
	size_t hl, bo, base = whole ? 0 : p->body_off, len = whole ? mm->len : p->body_len;

	rfc5322_split(mm->m + base, len, &hl, &bo);
	r[0] = base;
	r[1] = bo;
	r[2] = base + bo;
	r[3] = len - bo;
}

static const struct {
	const char *word;
	enum mime_section_kind kind;
} sec_words[] = {
	{ "header", MIME_SEC_HEADER }, { "header.fields", MIME_SEC_FIELDS },
	{ "header.fields.not", MIME_SEC_FIELDS_NOT }, { "text", MIME_SEC_TEXT },
	{ "mime", MIME_SEC_MIME },
};

/* Walk the part numbers at the front of spec; *rest_r is where they end.
 * Sets s->part; *empty_r for part 1 of a multipart without parts.  msg:
 * cur is a message still (the top level, or one a message/rfc822 part
 * holds), so a non-multipart one has a part 1, its body. */
static int
walk_numbers(const struct mime_msg *mm, const char *spec, size_t len, size_t *rest_r,
    struct mime_section *s, int *nums_r, int *empty_r)
{
	uint32_t cur = 0;
	size_t i = 0;
	int msg = 1;

	*nums_r = *empty_r = 0;
	while (i < len && spec[i] >= '1' && spec[i] <= '9') {
		unsigned long n = 0;
		for (; i < len && spec[i] >= '0' && spec[i] <= '9'; i++)
			if ((n = n * 10 + (unsigned long)(spec[i] - '0')) > UINT32_MAX)
				return -1;
		if (*empty_r)
			return -1;	/* nothing below an empty part */
		if (*nums_r && (mm->parts[cur].flags & MIME_F_RFC822)) {
			if ((cur = mm->parts[cur].first_child) == MIME_NONE)
				return -1;	/* not looked into */
			msg = 1;
		}
		if (mm->parts[cur].flags & MIME_F_MULTIPART) {
			uint32_t c = nth_child(mm, cur, n);
			if (c == MIME_NONE && !(n == 1 && mm->parts[cur].first_child == MIME_NONE))
				return -1;
			*empty_r = c == MIME_NONE;
			cur = c == MIME_NONE ? cur : c;
		} else if (!(n == 1 && msg)) {
			return -1;
		}
		msg = 0;
		(*nums_r)++;
		if (i < len && spec[i] == '.')
			i++;
		else if (i < len)
			return -1;
	}
	s->part = cur;
	*rest_r = i;
	return 0;
}

static int
word_kind(const char *w, size_t len, enum mime_section_kind *k)
{
	size_t i, j;

	for (i = 0; i < sizeof(sec_words) / sizeof(sec_words[0]); i++) {
		if (strlen(sec_words[i].word) != len)
			continue;
		for (j = 0; j < len && lower((uint8_t)w[j]) == (uint8_t)sec_words[i].word[j]; j++)
			;
		if (j == len) {
			*k = sec_words[i].kind;
			return 0;
		}
	}
	return -1;
}

int
mime_section(const struct mime_msg *mm, const char *spec, size_t len, struct mime_section *s)
{
	const struct mime_part *p;
	size_t rest, r[4];
	int nums, empty;

	if (mm->n == 0 || walk_numbers(mm, spec, len, &rest, s, &nums, &empty) < 0)
		return -1;
	p = &mm->parts[s->part];
	s->kind = MIME_SEC_BODY;
	if (rest < len && word_kind(spec + rest, len - rest, &s->kind) < 0)
		return -1;
	if (rest == len && nums > 0 && spec[len - 1] == '.')
		return -1;
	if (empty) {	/* part 1 of a multipart without parts: empty */
		if (s->kind != MIME_SEC_BODY && s->kind != MIME_SEC_MIME)
			return -1;
		s->off = p->body_off + p->body_len;
		s->len = 0;
		return 0;
	}
	switch (s->kind) {
	case MIME_SEC_BODY:
		s->off = nums ? p->body_off : 0;
		s->len = nums ? p->body_len : mm->len;
		return 0;
	case MIME_SEC_MIME:
		if (!nums)
			return -1;
		s->off = p->hdr_off;
		s->len = p->body_off - p->hdr_off;
		return 0;
	default:
		/* HEADER, HEADER.FIELDS, TEXT: the message, or a message/rfc822 part */
		if (nums && !(p->flags & MIME_F_RFC822))
			return -1;
		message_ranges(mm, s->part, !nums, r);
		s->off = s->kind == MIME_SEC_TEXT ? r[2] : r[0];
		s->len = s->kind == MIME_SEC_TEXT ? r[3] : r[1];
		return 0;
	}
}
