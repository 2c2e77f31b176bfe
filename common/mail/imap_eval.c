/* imap_eval.c - SEARCH keys against one message.  See imap_eval.h. */
#include "imap_eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mindex.h"
#include "rfc5322.h"

/* One header field in the cache: its raw name, its folded value in hdr. */
struct hfield {
	const uint8_t *name;
	size_t name_len;
	size_t val_off, val_len;
};

struct imap_eval_scratch {
	size_t max_text;
	int have_hdr, have_body, have_date;
	int date_ok;
	int64_t sent_day;
	struct buf hdr;		/* "name: folded value\n" per field */
	struct buf fields;	/* struct hfield[] */
	struct buf body;	/* folded text of the text parts */
	struct buf tmp, tmp2, needle;
	struct mime_msg mm;
};

struct imap_eval_scratch *
imap_eval_scratch_new(size_t max_text)
{
	struct imap_eval_scratch *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		return NULL;
	sc->max_text = max_text;
	buf_init(&sc->hdr, max_text);
	buf_init(&sc->fields, max_text);
	buf_init(&sc->body, max_text);
	buf_init(&sc->tmp, max_text);
	buf_init(&sc->tmp2, max_text);
	buf_init(&sc->needle, max_text);
	mime_init(&sc->mm, 0, 0);
	return sc;
}

void
imap_eval_scratch_free(struct imap_eval_scratch *sc)
{
	if (sc == NULL)
		return;
	buf_free(&sc->hdr, 0);
	buf_free(&sc->fields, 0);
	buf_free(&sc->body, 0);
	buf_free(&sc->tmp, 0);
	buf_free(&sc->tmp2, 0);
	buf_free(&sc->needle, 0);
	mime_free(&sc->mm);
	free(sc);
}

/* charsets ----------------------------------------------------------- */

int
imap_eval_charset(const uint8_t *name, size_t len)
{
	return decode_charset_lookup(name, len) == DECODE_CS_UNKNOWN ? -1 : 0;
}

const char *
imap_eval_charsets(void)
{
	return "UTF-8 US-ASCII ISO-8859-1 ISO-8859-15 WINDOWS-1252";
}

/* what a search needs ------------------------------------------------ */

static unsigned
key_needs(enum imap_search_op op)
{
	switch (op) {
	case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
	case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE:
		return IMAP_FETCH_NEED_META;
	case IMAP_SK_FROM: case IMAP_SK_TO: case IMAP_SK_CC: case IMAP_SK_BCC:
	case IMAP_SK_SUBJECT: case IMAP_SK_HEADER:
	case IMAP_SK_SENTBEFORE: case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE:
		return IMAP_FETCH_NEED_HEADER;
	case IMAP_SK_BODY: case IMAP_SK_TEXT:
		return IMAP_FETCH_NEED_HEADER | IMAP_FETCH_NEED_BODY;
	default:
		return 0;
	}
}

unsigned
imap_eval_needs(const struct imap_search *s)
{
	const struct imap_search_key *stack[IMAP_EVAL_MAX_DEPTH];
	unsigned depth = 0, need = 0;

	if (s->root == NULL)
		return 0;
	stack[0] = s->root;
	for (;;) {
		const struct imap_search_key *k = stack[depth];
		if (k == NULL) {
			if (depth == 0)
				break;
			depth--;
			continue;
		}
		stack[depth] = k->next;
		need |= key_needs(k->op);
		if (k->child != NULL) {
			if (depth + 1 >= IMAP_EVAL_MAX_DEPTH)
				return IMAP_FETCH_NEED_META | IMAP_FETCH_NEED_HEADER |
				    IMAP_FETCH_NEED_BODY;	/* match fails on it anyway */
			stack[++depth] = k->child;
		}
	}
	return need;
}

/* the per-message cache ---------------------------------------------- */

/* A buffer's bytes, never NULL (the decoders take no NULL, even empty). */
static const uint8_t *
bytes(const struct buf *b)
{
	return b->data != NULL ? b->data : (const uint8_t *)"";
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static int
cache_field(struct imap_eval_scratch *sc, const struct rfc5322_field *f)
{
	struct hfield h = { .name = f->name, .name_len = f->name_len };
	size_t i;

	if (buf_reserve(&sc->hdr, f->name_len + 2) < 0)
		return -1;
	for (i = 0; i < f->name_len; i++)
		sc->hdr.data[sc->hdr.len++] = lower(f->name[i]);
	sc->hdr.data[sc->hdr.len++] = ':';
	sc->hdr.data[sc->hdr.len++] = ' ';
	buf_reset(&sc->tmp);
	buf_reset(&sc->tmp2);
	if (rfc5322_unfold(f->value, f->value_len, f->value_len, &sc->tmp) < 0 ||
	    decode_rfc2047(bytes(&sc->tmp), sc->tmp.len, DECODE_CS_UTF8, &sc->tmp2) < 0)
		return -1;
	h.val_off = sc->hdr.len;
	if (decode_fold(bytes(&sc->tmp2), sc->tmp2.len, &sc->hdr) < 0)
		return -1;
	h.val_len = sc->hdr.len - h.val_off;
	if (buf_append(&sc->hdr, "\n", 1) < 0)
		return -1;
	return buf_append(&sc->fields, &h, sizeof(h));
}

static int
header_cache(struct imap_eval_scratch *sc, const struct imap_eval_msg *m)
{
	struct rfc5322_iter it;
	struct rfc5322_field f;
	size_t hl, bo;

	if (sc->have_hdr)
		return 0;
	buf_reset(&sc->hdr);
	buf_reset(&sc->fields);
	rfc5322_split(m->msg, m->len, &hl, &bo);
	rfc5322_iter_init(&it, m->msg, hl);
	while (rfc5322_iter_next(&it, &f))
		if (cache_field(sc, &f) < 0)
			return -1;
	sc->have_hdr = 1;
	return 0;
}

/* A text part's body decoded, in UTF-8, folded, onto sc->body. */
static int
body_text_part(struct imap_eval_scratch *sc, uint32_t i)
{
	const struct mime_msg *mm = &sc->mm;
	const struct mime_part *p = &mm->parts[i];
	struct mime_ctype ct;
	enum decode_charset cs = DECODE_CS_UNKNOWN, pcs;
	int digest = p->parent != MIME_NONE && (mm->parts[p->parent].flags & MIME_F_DIGEST);
	int r;

	buf_reset(&sc->tmp);
	buf_reset(&sc->tmp2);
	mime_content_type(mm->m + p->hdr_off, p->body_off - p->hdr_off, digest, &ct);
	if (mime_param_get(ct.params, ct.params_len, "charset", &sc->tmp2, &pcs) < 0)
		return -1;
	if (sc->tmp2.len > 0)
		cs = decode_charset_lookup(bytes(&sc->tmp2), sc->tmp2.len);
	if ((r = imap_fetch_part_decode(mm, i, &sc->tmp, NULL)) == IMAP_FETCH_ERR_NOMEM)
		return -1;
	if (r == IMAP_FETCH_ERR_CTE &&	/* searched as it stands */
	    buf_append(&sc->tmp, mm->m + p->body_off, p->body_len) < 0)
		return -1;
	buf_reset(&sc->tmp2);
	if (cs != DECODE_CS_UNKNOWN && cs != DECODE_CS_UTF8) {
		if (decode_to_utf8(cs, bytes(&sc->tmp), sc->tmp.len, &sc->tmp2) < 0 ||
		    decode_fold(bytes(&sc->tmp2), sc->tmp2.len, &sc->body) < 0)
			return -1;
	} else if (decode_fold(bytes(&sc->tmp), sc->tmp.len, &sc->body) < 0) {
		return -1;
	}
	return buf_append(&sc->body, "\n", 1);
}

/* The header of the message a message/rfc822 part holds, decoded. */
static int
body_inner_header(struct imap_eval_scratch *sc, uint32_t c)
{
	const struct mime_part *p = &sc->mm.parts[c];

	buf_reset(&sc->tmp);
	if (decode_rfc2047(sc->mm.m + p->hdr_off, p->body_off - p->hdr_off, DECODE_CS_UTF8,
	    &sc->tmp) < 0 || decode_fold(bytes(&sc->tmp), sc->tmp.len, &sc->body) < 0)
		return -1;
	return buf_append(&sc->body, "\n", 1);
}

static int
body_cache(struct imap_eval_scratch *sc, const struct imap_eval_msg *m)
{
	size_t i;

	if (sc->have_body)
		return 0;
	buf_reset(&sc->body);
	if (mime_parse(&sc->mm, m->msg, m->len) < 0)
		return -1;
	for (i = 0; i < sc->mm.n; i++) {
		const struct mime_part *p = &sc->mm.parts[i];
		if ((p->flags & MIME_F_RFC822) && p->first_child != MIME_NONE) {
			if (body_inner_header(sc, p->first_child) < 0)
				return -1;
		} else if ((p->flags & MIME_F_TEXT) &&
		    !(p->flags & (MIME_F_MULTIPART | MIME_F_RFC822))) {
			if (body_text_part(sc, (uint32_t)i) < 0)
				return -1;
		}
	}
	sc->have_body = 1;
	return 0;
}

static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static int
date_cache(struct imap_eval_scratch *sc, const struct imap_eval_msg *m)
{
	struct rfc5322_field f;
	size_t hl, bo;
	time_t t;
	int zone;

	if (sc->have_date)
		return 0;
	rfc5322_split(m->msg, m->len, &hl, &bo);
	sc->date_ok = rfc5322_find(m->msg, hl, "date", &f) &&
	    rfc5322_date_parse_zone(f.value, f.value_len, &t, &zone) == 0;
	if (sc->date_ok)
		sc->sent_day = day_of((int64_t)t + zone);
	sc->have_date = 1;
	return 0;
}

/* keys --------------------------------------------------------------- */

/* The search string of k (str2 for HEADER), in UTF-8, folded. */
static int
needle(struct imap_eval_scratch *sc, const struct imap_eval_ctx *c,
    const struct imap_search_key *k)
{
	const uint8_t *s = k->op == IMAP_SK_HEADER ? k->str2 : k->str;
	size_t len = k->op == IMAP_SK_HEADER ? k->len2 : k->len;

	buf_reset(&sc->needle);
	if (c->charset == DECODE_CS_UNKNOWN || c->charset == DECODE_CS_UTF8 ||
	    c->charset == DECODE_CS_ASCII)
		return decode_fold(s, len, &sc->needle);
	buf_reset(&sc->tmp);
	if (decode_to_utf8(c->charset, s, len, &sc->tmp) < 0)
		return -1;
	return decode_fold(bytes(&sc->tmp), sc->tmp.len, &sc->needle);
}

static int
has(const struct buf *hay, size_t off, size_t len, const struct buf *n)
{
	if (n->len == 0)
		return 1;
	return len >= n->len && memmem(hay->data + off, len, n->data, n->len) != NULL;
}

/* FROM ... SUBJECT, HEADER: a field named name holding the needle. */
static int
header_has(struct imap_eval_scratch *sc, const uint8_t *name, size_t name_len)
{
	const struct hfield *h = (const struct hfield *)(const void *)sc->fields.data;
	size_t i, n = sc->fields.len / sizeof(*h), j;

	for (i = 0; i < n; i++) {
		if (h[i].name_len != name_len)
			continue;
		for (j = 0; j < name_len && lower(h[i].name[j]) == lower(name[j]); j++)
			;
		if (j == name_len && has(&sc->hdr, h[i].val_off, h[i].val_len, &sc->needle))
			return 1;
	}
	return 0;
}

static const char *
field_of(enum imap_search_op op)
{
	switch (op) {
	case IMAP_SK_FROM: return "from";
	case IMAP_SK_TO: return "to";
	case IMAP_SK_CC: return "cc";
	case IMAP_SK_BCC: return "bcc";
	default: return "subject";
	}
}

static int
string_key(const struct imap_search_key *k, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m)
{
	struct imap_eval_scratch *sc = c->scratch;
	const char *name;

	if (sc == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (header_cache(sc, m) < 0 || needle(sc, c, k) < 0)
		return -1;
	if (k->op == IMAP_SK_HEADER)
		return header_has(sc, k->str, k->len);
	if (k->op != IMAP_SK_BODY && k->op != IMAP_SK_TEXT) {
		name = field_of(k->op);
		return header_has(sc, (const uint8_t *)name, strlen(name));
	}
	if (k->op == IMAP_SK_TEXT && has(&sc->hdr, 0, sc->hdr.len, &sc->needle))
		return 1;
	if (body_cache(sc, m) < 0)
		return -1;
	return has(&sc->body, 0, sc->body.len, &sc->needle);
}

static int
sent_key(const struct imap_search_key *k, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m)
{
	int64_t d = imap_date_days(&k->date);

	if (c->scratch == NULL) {
		errno = EINVAL;
		return -1;
	}
	date_cache(c->scratch, m);
	if (!c->scratch->date_ok)
		return 0;
	if (k->op == IMAP_SK_SENTBEFORE)
		return c->scratch->sent_day < d;
	if (k->op == IMAP_SK_SENTON)
		return c->scratch->sent_day == d;
	return c->scratch->sent_day >= d;
}

/* A set with "*" read as max, without resolving it (RFC 9051 9: "5:*"
 * with max 3 is 3:5). */
static int
set_has(const struct imap_seqset *set, uint32_t v, uint32_t max)
{
	if (set->star && max > 0) {
		uint32_t lo = set->star_lo != 0 ? set->star_lo : max;
		if ((lo <= max && v >= lo && v <= max) || (lo > max && v >= max && v <= lo))
			return 1;
	}
	return imap_seqset_contains(set, v);
}

static int
saved_has(const struct imap_eval_ctx *c, uint32_t uid)
{
	size_t lo = 0, hi = c->nsaved;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->saved[mid] == uid)
			return 1;
		if (c->saved[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
keyword_key(const struct imap_search_key *k, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m)
{
	uint32_t bit = 0;
	int set = c->keyword != NULL && c->keyword(c->keyword_arg, k->str, k->len, &bit) == 1 &&
	    (m->flags & bit) != 0;

	return k->op == IMAP_SK_KEYWORD ? set : !set;
}

static int
flag_key(enum imap_search_op op, uint32_t f)
{
	switch (op) {
	case IMAP_SK_ANSWERED: return (f & MINDEX_ANSWERED) != 0;
	case IMAP_SK_DELETED: return (f & MINDEX_DELETED) != 0;
	case IMAP_SK_DRAFT: return (f & MINDEX_DRAFT) != 0;
	case IMAP_SK_FLAGGED: return (f & MINDEX_FLAGGED) != 0;
	case IMAP_SK_SEEN: return (f & MINDEX_SEEN) != 0;
	case IMAP_SK_UNANSWERED: return !(f & MINDEX_ANSWERED);
	case IMAP_SK_UNDELETED: return !(f & MINDEX_DELETED);
	case IMAP_SK_UNDRAFT: return !(f & MINDEX_DRAFT);
	case IMAP_SK_UNFLAGGED: return !(f & MINDEX_FLAGGED);
	case IMAP_SK_UNSEEN: return !(f & MINDEX_SEEN);
	case IMAP_SK_ALL: case IMAP_SK_OLD: return 1;
	default: return 0;	/* NEW, RECENT: no \Recent here */
	}
}

/* One leaf: 1, 0, IMAP_EVAL_UNKNOWN, or -1. */
static int
leaf(const struct imap_search_key *k, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m)
{
	int64_t day = day_of(m->date);

	switch (k->op) {
	case IMAP_SK_KEYWORD: case IMAP_SK_UNKEYWORD:
		return keyword_key(k, c, m);
	case IMAP_SK_BEFORE: return day < imap_date_days(&k->date);
	case IMAP_SK_ON: return day == imap_date_days(&k->date);
	case IMAP_SK_SINCE: return day >= imap_date_days(&k->date);
	case IMAP_SK_LARGER: return m->size > k->num;
	case IMAP_SK_SMALLER: return m->size < k->num;
	case IMAP_SK_MODSEQ: return m->modseq >= k->num;
	case IMAP_SK_SEQSET:
		return k->set.searchres ? saved_has(c, m->uid) : set_has(&k->set, m->seq, c->max_seq);
	case IMAP_SK_UID:
		return k->set.searchres ? saved_has(c, m->uid) : set_has(&k->set, m->uid, c->max_uid);
	default:
		break;
	}
	if (!key_needs(k->op))
		return flag_key(k->op, m->flags);
	if (m->msg == NULL)
		return IMAP_EVAL_UNKNOWN;
	if (k->op == IMAP_SK_SENTBEFORE || k->op == IMAP_SK_SENTON || k->op == IMAP_SK_SENTSINCE)
		return sent_key(k, c, m);
	return string_key(k, c, m);
}

/* the tree, without recursion ---------------------------------------- */

struct frame {
	const struct imap_search_key *k, *cur;	/* cur: the child being evaluated */
	int acc;		/* AND/OR so far: 1, 0 or IMAP_EVAL_UNKNOWN */
};

/* Give child result r to frame f.  1: f is decided (*r_r its value). */
static int
combine(struct frame *f, int r, int *r_r)
{
	if (f->k->op == IMAP_SK_NOT) {
		*r_r = r == IMAP_EVAL_UNKNOWN ? r : !r;
		return 1;
	}
	if (r == (f->k->op == IMAP_SK_OR)) {	/* AND meets 0, OR meets 1 */
		*r_r = r;
		return 1;
	}
	if (r == IMAP_EVAL_UNKNOWN)
		f->acc = r;
	if ((f->cur = f->cur->next) == NULL) {
		*r_r = f->acc;
		return 1;
	}
	return 0;
}

static int
is_group(const struct imap_search_key *k)
{
	return (k->op == IMAP_SK_AND || k->op == IMAP_SK_OR || k->op == IMAP_SK_NOT) &&
	    k->child != NULL;
}

static int
eval_tree(const struct imap_search_key *root, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m)
{
	struct frame st[IMAP_EVAL_MAX_DEPTH];
	const struct imap_search_key *k = root;
	unsigned n = 0;
	int r;

	for (;;) {
		/* descend to a leaf, pushing groups */
		while (is_group(k)) {
			if (n >= IMAP_EVAL_MAX_DEPTH) {
				errno = EINVAL;
				return -1;
			}
			st[n++] = (struct frame){ .k = k, .cur = k->child,
			    .acc = k->op != IMAP_SK_OR };
			k = k->child;
		}
		r = k->op == IMAP_SK_AND ? 1 : leaf(k, c, m);	/* an empty group: none */
		/* climb while frames are decided */
		for (;;) {
			if (r < 0)
				return -1;
			if (n == 0)
				return r;
			if (!combine(&st[n - 1], r, &r))
				break;
			n--;
		}
		k = st[n - 1].cur;
	}
}

int
imap_eval_match(const struct imap_search *s, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m)
{
	if (c->scratch != NULL)
		c->scratch->have_hdr = c->scratch->have_body = c->scratch->have_date = 0;
	if (s->root == NULL)
		return 1;
	return eval_tree(s->root, c, m);
}
