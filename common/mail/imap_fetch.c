/* imap_fetch.c - FETCH attributes into a plan, a plan and a message into
 * the untagged FETCH answer (RFC 3501 6.4.5, 7.4.2; RFC 9051; RFC 3516;
 * RFC 7162).  See imap_fetch.h for the choices made. */
#include "imap_fetch.h"

#include <errno.h>
#include <string.h>

#include "../proto/imap_fmt.h"
#include "imapstr.h"
#include "rfc5322.h"

static uint8_t
upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

/* s[0..len) is word (upper case), ignoring case. */
static int
word_is(const uint8_t *s, size_t len, const char *word)
{
	size_t i;

	if (strlen(word) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (upper(s[i]) != (uint8_t)word[i])
			return 0;
	return 1;
}

/* parsing ------------------------------------------------------------ */

static const struct {
	const char *name;
	enum imap_fetch_att att;
	unsigned need;
} simple_atts[] = {
	{ "UID", IMAP_FA_UID, 0 },
	{ "FLAGS", IMAP_FA_FLAGS, 0 },
	{ "INTERNALDATE", IMAP_FA_INTERNALDATE, IMAP_FETCH_NEED_META },
	{ "RFC822.SIZE", IMAP_FA_RFC822_SIZE, IMAP_FETCH_NEED_META },
	{ "ENVELOPE", IMAP_FA_ENVELOPE, IMAP_FETCH_NEED_HEADER },
	{ "BODY", IMAP_FA_BODY, IMAP_FETCH_NEED_BODY },
	{ "BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE, IMAP_FETCH_NEED_BODY },
	{ "MODSEQ", IMAP_FA_MODSEQ, 0 },
	{ "RFC822", IMAP_FA_RFC822, IMAP_FETCH_NEED_BODY },
	{ "RFC822.HEADER", IMAP_FA_RFC822_HEADER, IMAP_FETCH_NEED_HEADER },
	{ "RFC822.TEXT", IMAP_FA_RFC822_TEXT, IMAP_FETCH_NEED_BODY },
};

struct pstate {
	struct imap_fetch_plan *p;
	unsigned asked;		/* simple items already in the plan (1 << att) */
	const char *err;
};

static int
fail(struct pstate *st, const char *err)
{
	st->err = err;
	return -1;
}

static int
add_simple(struct pstate *st, enum imap_fetch_att att, unsigned need)
{
	struct imap_fetch_plan *p = st->p;

	if (st->asked & (1u << att))
		return 0;	/* answered once */
	st->asked |= 1u << att;
	p->item[p->nitems++] = (struct imap_fetch_item){ .att = (uint8_t)att };
	p->need |= need;
	if (att == IMAP_FA_BODY || att == IMAP_FA_BODYSTRUCTURE)
		p->need_mime = 1;
	if (att == IMAP_FA_RFC822 || att == IMAP_FA_RFC822_TEXT)
		p->sets_seen = 1;
	if (att == IMAP_FA_FLAGS)
		p->flags_asked = 1;
	return 0;
}

/* A decimal number64 at s[*i]; advances *i.  0 or -1 (none, overflow). */
static int
number(const uint8_t *s, size_t len, size_t *i, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t start = *i;

	for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[*i] - '0'), &v) || v > INT64_MAX)
			return -1;
	*v_r = v;
	return *i > start ? 0 : -1;
}

/* Part numbers of spec[0..len) ("1.2."): *end_r is where they stop (after
 * the '.' that follows them).  0 or -1 (nz-number: no 0, no "01"). */
static int
part_numbers(const uint8_t *spec, size_t len, size_t *end_r, int *nums_r)
{
	size_t i = 0;
	uint64_t v;

	*nums_r = 0;
	while (i < len && spec[i] >= '0' && spec[i] <= '9') {
		if (spec[i] == '0' || number(spec, len, &i, &v) < 0 || v > UINT32_MAX)
			return -1;
		(*nums_r)++;
		if (i == len)
			break;
		if (spec[i++] != '.')
			return -1;
		if (i == len)
			return -1;	/* "1." */
	}
	*end_r = i;
	return 0;
}

/* Check a section-spec and fields for sec->type; sets need.  0 or -1. */
static int
section_spec(struct pstate *st, struct imap_fetch_section *sec, const struct imap_arg *list)
{
	size_t rest;
	int nums, fields = 0;
	const uint8_t *w;
	size_t wl;

	if (part_numbers(sec->spec, sec->spec_len, &rest, &nums) < 0)
		return fail(st, "bad section part number");
	w = sec->spec + rest;
	wl = sec->spec_len - rest;
	if (sec->type != IMAP_FS_BODY && wl > 0)
		return fail(st, "BINARY takes part numbers only");
	if (wl == 0) {
		st->p->need |= IMAP_FETCH_NEED_BODY;
	} else if (word_is(w, wl, "HEADER")) {
		st->p->need |= nums ? IMAP_FETCH_NEED_BODY : IMAP_FETCH_NEED_HEADER;
	} else if (word_is(w, wl, "HEADER.FIELDS") || word_is(w, wl, "HEADER.FIELDS.NOT")) {
		st->p->need |= nums ? IMAP_FETCH_NEED_BODY : IMAP_FETCH_NEED_HEADER;
		fields = 1;
	} else if (word_is(w, wl, "TEXT")) {
		st->p->need |= IMAP_FETCH_NEED_BODY;
	} else if (word_is(w, wl, "MIME") && nums) {
		st->p->need |= IMAP_FETCH_NEED_BODY;
	} else {
		return fail(st, "bad section");
	}
	if (nums > 0)
		st->p->need_mime = 1;
	if (fields != (list != NULL))
		return fail(st, fields ? "HEADER.FIELDS needs a field list" : "bad section");
	return 0;
}

/* HEADER.FIELDS (names): astrings without NUL, 1..IMAP_FETCH_MAX_FIELDS. */
static int
field_list(struct pstate *st, struct imap_fetch_section *sec, const struct imap_arg *list)
{
	const struct imap_arg *a;
	unsigned n = 0;

	if (list->type != IMAP_ARG_LIST || list->child == NULL)
		return fail(st, "bad header field list");
	for (a = list->child; a != NULL; a = a->next) {
		if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
		    a->type != IMAP_ARG_LITERAL) || (a->flags & IMAP_ARGF_STREAMED) ||
		    memchr(a->text, 0, a->len) != NULL)
			return fail(st, "bad header field name");
		if (++n > IMAP_FETCH_MAX_FIELDS)
			return fail(st, "too many header field names");
	}
	sec->fields = list->child;
	sec->nfields = (uint8_t)n;
	return 0;
}

/* "]" [ "<" number "." nz-number ">" ] */
static int
section_tail(struct pstate *st, struct imap_fetch_section *sec, const uint8_t *t, size_t len)
{
	size_t i = 1;

	if (len == 0 || t[0] != ']')
		return fail(st, "bad section");
	if (len == 1)
		return 0;
	if (sec->type == IMAP_FS_BINARY_SIZE || t[i++] != '<' ||
	    number(t, len, &i, &sec->off) < 0 || i >= len || t[i++] != '.' ||
	    number(t, len, &i, &sec->count) < 0 || sec->count == 0 || i + 1 != len || t[i] != '>')
		return fail(st, "bad partial");
	sec->has_partial = 1;
	return 0;
}

static const struct {
	const char *name;
	enum imap_fetch_sec_type type;
	int peek;
} sec_names[] = {
	{ "BODY", IMAP_FS_BODY, 0 }, { "BODY.PEEK", IMAP_FS_BODY, 1 },
	{ "BINARY", IMAP_FS_BINARY, 0 }, { "BINARY.PEEK", IMAP_FS_BINARY, 1 },
	{ "BINARY.SIZE", IMAP_FS_BINARY_SIZE, 1 },
};

/* text[0..len) is "NAME[spec" (spec up to a ']' when tail is NULL, where
 * the rest is the tail; else tail is given apart, after the list). */
static int
add_section(struct pstate *st, const uint8_t *text, size_t len, const struct imap_arg *list,
    const uint8_t *tail, size_t tail_len)
{
	struct imap_fetch_plan *p = st->p;
	struct imap_fetch_section *sec;
	const uint8_t *br = memchr(text, '[', len), *end;
	size_t i;

	if (br == NULL)
		return fail(st, "bad section");
	if (p->nsections >= IMAP_FETCH_MAX_SECTIONS)
		return fail(st, "too many sections");
	sec = &p->section[p->nsections];
	memset(sec, 0, sizeof(*sec));
	for (i = 0; i < sizeof(sec_names) / sizeof(sec_names[0]); i++)
		if (word_is(text, (size_t)(br - text), sec_names[i].name))
			break;
	if (i == sizeof(sec_names) / sizeof(sec_names[0]))
		return fail(st, "unknown fetch item");
	sec->type = (uint8_t)sec_names[i].type;
	sec->peek = (uint8_t)sec_names[i].peek;
	sec->spec = br + 1;
	if (tail == NULL) {
		if ((end = memchr(sec->spec, ']', len - (size_t)(sec->spec - text))) == NULL)
			return fail(st, "bad section");
		tail = end;
		tail_len = len - (size_t)(end - text);
	} else {
		end = text + len;
	}
	if ((size_t)(end - sec->spec) > UINT16_MAX)
		return fail(st, "bad section");
	sec->spec_len = (uint16_t)(end - sec->spec);
	if (section_tail(st, sec, tail, tail_len) < 0 || section_spec(st, sec, list) < 0 ||
	    (list != NULL && field_list(st, sec, list) < 0))
		return -1;
	if (!sec->peek)
		p->sets_seen = 1;
	p->item[p->nitems++] = (struct imap_fetch_item){ .att = IMAP_FA_SECTION,
	    .sec = (uint8_t)p->nsections };
	p->nsections++;
	return 0;
}

static int
parse_item(struct pstate *st, const struct imap_arg *a)
{
	size_t i;

	if (a->type == IMAP_ARG_SECTION)
		return add_section(st, a->text, a->len, a->child, a->text2, a->len2);
	if (a->type != IMAP_ARG_ATOM)
		return fail(st, "bad fetch item");
	if (memchr(a->text, '[', a->len) != NULL)
		return add_section(st, a->text, a->len, NULL, NULL, 0);
	for (i = 0; i < sizeof(simple_atts) / sizeof(simple_atts[0]); i++)
		if (word_is(a->text, a->len, simple_atts[i].name))
			return add_simple(st, simple_atts[i].att, simple_atts[i].need);
	return fail(st, "unknown fetch item");
}

/* RFC 7162 3.1.4: (CHANGEDSINCE mod-sequence-valzer) */
static int
parse_modifiers(struct pstate *st, const struct imap_arg *mods)
{
	const struct imap_arg *a;
	size_t i;

	if (mods->type != IMAP_ARG_LIST || mods->child == NULL)
		return fail(st, "bad fetch modifiers");
	for (a = mods->child; a != NULL; a = a->next) {
		if (a->type != IMAP_ARG_ATOM || !word_is(a->text, a->len, "CHANGEDSINCE"))
			return fail(st, "unknown fetch modifier");
		if (st->p->changedsince_set)
			return fail(st, "CHANGEDSINCE given twice");
		a = a->next;
		i = 0;
		if (a == NULL || a->type != IMAP_ARG_ATOM ||
		    number(a->text, a->len, &i, &st->p->changedsince) < 0 || i != a->len)
			return fail(st, "bad CHANGEDSINCE value");
		st->p->changedsince_set = 1;
	}
	return add_simple(st, IMAP_FA_MODSEQ, 0);
}

/* ALL, FAST, FULL (RFC 9051 6.4.5) */
static int
parse_macro(struct pstate *st, const struct imap_arg *a)
{
	int full = word_is(a->text, a->len, "FULL");

	if (!full && !word_is(a->text, a->len, "ALL") && !word_is(a->text, a->len, "FAST"))
		return 1;
	add_simple(st, IMAP_FA_FLAGS, 0);
	add_simple(st, IMAP_FA_INTERNALDATE, IMAP_FETCH_NEED_META);
	add_simple(st, IMAP_FA_RFC822_SIZE, IMAP_FETCH_NEED_META);
	if (!word_is(a->text, a->len, "FAST"))
		add_simple(st, IMAP_FA_ENVELOPE, IMAP_FETCH_NEED_HEADER);
	if (full)
		add_simple(st, IMAP_FA_BODY, IMAP_FETCH_NEED_BODY);
	return 0;
}

static int
parse_att(struct pstate *st, const struct imap_arg *att)
{
	const struct imap_arg *a;
	int r;

	if (att->type == IMAP_ARG_ATOM && (r = parse_macro(st, att)) <= 0)
		return r;
	if (att->type != IMAP_ARG_LIST)
		return parse_item(st, att);
	if (att->child == NULL)
		return fail(st, "empty fetch item list");
	for (a = att->child; a != NULL; a = a->next)
		if (parse_item(st, a) < 0)
			return -1;
	return 0;
}

int
imap_fetch_parse(const struct imap_arg *att, const struct imap_arg *modifiers, int uid_cmd,
    struct imap_fetch_plan *p, const char **err_r)
{
	struct pstate st = { .p = p };

	memset(p, 0, sizeof(*p));
	if (att == NULL) {
		*err_r = "missing fetch items";
		return -1;
	}
	if (parse_att(&st, att) < 0 || (modifiers != NULL && parse_modifiers(&st, modifiers) < 0)) {
		*err_r = st.err;
		return -1;
	}
	if (uid_cmd && !(st.asked & (1u << IMAP_FA_UID))) {
		/* UID FETCH always answers UID (RFC 9051 6.4.9): first */
		memmove(&p->item[1], &p->item[0], p->nitems * sizeof(p->item[0]));
		p->item[0] = (struct imap_fetch_item){ .att = IMAP_FA_UID };
		p->nitems++;
	}
	if (p->need & IMAP_FETCH_NEED_BODY)
		p->need |= IMAP_FETCH_NEED_HEADER;
	p->structs_only = (p->need & IMAP_FETCH_NEED_HEADER) != 0;
	for (unsigned i = 0; i < p->nitems; i++) {
		enum imap_fetch_att a = (enum imap_fetch_att)p->item[i].att;
		if (a != IMAP_FA_UID && a != IMAP_FA_FLAGS && a != IMAP_FA_INTERNALDATE &&
		    a != IMAP_FA_RFC822_SIZE && a != IMAP_FA_ENVELOPE && a != IMAP_FA_BODY &&
		    a != IMAP_FA_BODYSTRUCTURE && a != IMAP_FA_MODSEQ)
			p->structs_only = 0;
	}
	return 0;
}

/* transfer encodings ------------------------------------------------- */

enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UNKNOWN };

static enum cte
cte_of(const uint8_t *hdr, size_t hdr_len)
{
	struct rfc5322_field f;
	size_t i, s;

	if (!rfc5322_find(hdr, hdr_len, "content-transfer-encoding", &f))
		return CTE_IDENTITY;
	s = rfc5322_cfws(f.value, f.value_len, 0);
	for (i = s; i < f.value_len && f.value[i] > ' ' && f.value[i] < 0x7f &&
	    f.value[i] != '(' && f.value[i] != ';'; i++)
		;
	if (i == s || word_is(f.value + s, i - s, "7BIT") || word_is(f.value + s, i - s, "8BIT") ||
	    word_is(f.value + s, i - s, "BINARY"))
		return CTE_IDENTITY;
	if (word_is(f.value + s, i - s, "BASE64"))
		return CTE_BASE64;
	if (word_is(f.value + s, i - s, "QUOTED-PRINTABLE"))
		return CTE_QP;
	return CTE_UNKNOWN;
}

#define DECODE_CHUNK 4096

/* Decoded through a stack buffer, so that out grows only by what the data
 * decodes to (the decoders' bounds are far above it, out's max is not). */
static int
decode_body(enum cte cte, const uint8_t *in, size_t len, struct buf *out)
{
	uint8_t chunk[decode_qp_bound(DECODE_CHUNK)];
	struct decode_b64 b;
	struct decode_qp q;
	size_t off, n, got;

	decode_b64_init(&b);
	decode_qp_init(&q);
	for (off = 0; off < len; off += n) {
		n = len - off < DECODE_CHUNK ? len - off : DECODE_CHUNK;
		got = cte == CTE_BASE64 ? decode_b64(&b, in + off, n, chunk) :
		    decode_qp(&q, in + off, n, chunk);
		if (buf_append(out, chunk, got) < 0)
			return -1;
	}
	got = cte == CTE_BASE64 ? decode_b64_end(&b, chunk) : decode_qp_end(&q, chunk);
	return buf_append(out, chunk, got);
}

/* Containers are never encoded (RFC 2045 6.4): their bodies as they are. */
static enum cte
part_cte(const struct mime_msg *mm, uint32_t part)
{
	const struct mime_part *pt = &mm->parts[part];

	if (pt->flags & (MIME_F_MULTIPART | MIME_F_RFC822))
		return CTE_IDENTITY;
	return cte_of(mm->m + pt->hdr_off, pt->body_off - pt->hdr_off);
}

int
imap_fetch_part_decode(const struct mime_msg *mm, uint32_t part, struct buf *out,
    int *identity_r)
{
	const struct mime_part *pt = &mm->parts[part];
	enum cte cte = part_cte(mm, part);

	if (identity_r != NULL)
		*identity_r = cte == CTE_IDENTITY;
	if (cte == CTE_UNKNOWN)
		return IMAP_FETCH_ERR_CTE;
	if (cte == CTE_IDENTITY)
		return buf_append(out, mm->m + pt->body_off, pt->body_len) < 0 ?
		    IMAP_FETCH_ERR_NOMEM : 0;
	return decode_body(cte, mm->m + pt->body_off, pt->body_len, out) < 0 ?
	    IMAP_FETCH_ERR_NOMEM : 0;
}

/* rendering ---------------------------------------------------------- */

struct render {
	const struct imap_fetch_plan *p;
	const struct imap_fetch_msg *m;
	struct buf *out;
	struct mime_msg mm;
	size_t hdr_len, body_off;	/* rfc5322_split of the message */
};

/* Section data: raw bytes (CRLF to make) or bytes to send as they are. */
struct sdata {
	const uint8_t *p;
	size_t len;
	int raw;		/* convert bare LFs to CRLF */
	int binary;		/* BINARY: literal8 when a NUL is in it */
	struct buf tmp;
};

static uint64_t
sdata_size(const struct sdata *d)
{
	return d->raw ? imap_crlf_size(d->p, d->len) : d->len;
}

/* Append bytes [start, start + n) of the CRLF form of p[0..len). */
static int
crlf_window(struct buf *out, const uint8_t *p, size_t len, uint64_t start, uint64_t n)
{
	uint64_t pos = 0, end = start + n;
	size_t i = 0;

	while (i < len && pos < end) {
		const uint8_t *lf = memchr(p + i, '\n', len - i);
		size_t seg = (lf == NULL ? len : (size_t)(lf - p)) - i;
		int bare = lf != NULL && (lf == p || lf[-1] != '\r');
		uint64_t a, b;

		/* the segment, then "\r\n" for a bare LF (else its "\n") */
		seg += lf != NULL && !bare;
		a = start > pos ? start - pos : 0;
		b = end - pos < seg ? end - pos : seg;
		if (a < b && buf_append(out, p + i + a, (size_t)(b - a)) < 0)
			return -1;
		pos += seg;
		i += seg;
		if (pos >= end)
			break;
		if (bare) {
			a = start > pos ? start - pos : 0;
			b = end - pos < 2 ? end - pos : 2;
			if (a < b && buf_append(out, &"\r\n"[a], (size_t)(b - a)) < 0)
				return -1;
			pos += 2;
			i++;
		}
	}
	return 0;
}

static int
put_data(struct render *r, const struct imap_fetch_section *sec, const struct sdata *d)
{
	uint64_t total = sdata_size(d), start = 0, n = total;
	size_t lit, at, i;
	struct buf *o = r->out;

	if (sec != NULL && sec->has_partial) {
		start = sec->off < total ? sec->off : total;
		n = total - start < sec->count ? total - start : sec->count;
	}
	if (n == 0)
		return buf_append(o, "\"\"", 2);
	lit = o->len;
	if (buf_printf(o, "{%llu}\r\n", (unsigned long long)n) < 0)
		return -1;
	at = o->len;
	if (d->raw ? crlf_window(o, d->p, d->len, start, n) < 0 :
	    buf_append(o, d->p + start, (size_t)n) < 0)
		return -1;
	if (d->binary && memchr(o->data + at, 0, o->len - at) != NULL) {
		/* RFC 3516 4.3: literal8 */
		if (buf_reserve(o, 1) < 0)
			return -1;
		memmove(o->data + lit + 1, o->data + lit, o->len - lit);
		o->data[lit] = '~';
		o->len++;
		return 0;
	}
	for (i = at; i < o->len; i++)	/* no NUL in a literal (RFC 9051 4.3) */
		if (o->data[i] == 0)
			o->data[i] = 0x80;
	return 0;
}

/* A field name of the answer: an atom when it is a plain header name,
 * else a string (an atom like "a[b" is valid, RFC 9051 9 ASTRING-CHAR, but
 * clients' section parsers choke on brackets in it). */
static int
put_field_name(struct buf *out, const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			break;
	if (len > 0 && i == len && !word_is(s, len, "NIL"))
		return buf_append(out, s, len);
	return imap_put_string(out, s, len);
}

/* "BODY[1.HEADER.FIELDS (From To)]<5>", as the answer names it. */
static int
put_section_name(struct render *r, const struct imap_fetch_section *sec)
{
	static const char *const names[] = { "BODY[", "BINARY[", "BINARY.SIZE[" };
	const struct imap_arg *a;
	size_t i;

	if (buf_append_str(r->out, names[sec->type]) < 0 || buf_reserve(r->out, sec->spec_len) < 0)
		return -1;
	for (i = 0; i < sec->spec_len; i++)
		r->out->data[r->out->len++] = upper(sec->spec[i]);
	if (sec->fields != NULL) {
		for (a = sec->fields; a != NULL; a = a->next)
			if (buf_append_str(r->out, a == sec->fields ? " (" : " ") < 0 ||
			    put_field_name(r->out, a->text, a->len) < 0)
				return -1;
		if (buf_append(r->out, ")", 1) < 0)
			return -1;
	}
	if (buf_append(r->out, "]", 1) < 0)
		return -1;
	if (sec->has_partial && buf_printf(r->out, "<%llu>", (unsigned long long)sec->off) < 0)
		return -1;
	return buf_append(r->out, " ", 1);
}

/* The filtered header of HEADER.FIELDS(.NOT) into d->tmp. */
static int
fields_data(const struct imap_fetch_section *sec, const uint8_t *hdr,
    size_t hdr_len, int negate, struct sdata *d)
{
	struct rfc5322_name names[IMAP_FETCH_MAX_FIELDS];
	const struct imap_arg *a;
	size_t n = 0;

	for (a = sec->fields; a != NULL && n < IMAP_FETCH_MAX_FIELDS; a = a->next)
		names[n++] = (struct rfc5322_name){ .s = a->text, .len = a->len };
	if (rfc5322_header_fields(hdr, hdr_len, names, n, negate, &d->tmp) < 0)
		return -1;
	d->p = d->tmp.data;
	d->len = d->tmp.len;
	d->raw = 0;
	return 0;
}

/* Top-level BODY[], [HEADER], [HEADER.FIELDS...], [TEXT] without MIME. */
static int
top_section(struct render *r, const struct imap_fetch_section *sec, struct mime_section *s)
{
	const uint8_t *w = sec->spec;
	size_t wl = sec->spec_len;

	s->part = 0;
	s->kind = wl == 0 ? MIME_SEC_BODY : word_is(w, wl, "HEADER") ? MIME_SEC_HEADER :
	    word_is(w, wl, "TEXT") ? MIME_SEC_TEXT :
	    word_is(w, wl, "HEADER.FIELDS") ? MIME_SEC_FIELDS : MIME_SEC_FIELDS_NOT;
	s->off = s->kind == MIME_SEC_TEXT ? r->body_off : 0;
	s->len = s->kind == MIME_SEC_BODY ? r->m->len : s->kind == MIME_SEC_TEXT ?
	    r->m->len - r->body_off : r->body_off;
	return 0;
}

/* The data a section names into d (empty when the part does not exist). */
static int
section_data(struct render *r, const struct imap_fetch_section *sec, struct sdata *d)
{
	struct mime_section s;
	enum cte cte;

	d->p = r->m->msg;
	d->len = 0;
	d->raw = 1;
	d->binary = sec->type != IMAP_FS_BODY;
	if (r->p->need_mime && r->mm.n > 0) {
		if (mime_section(&r->mm, (const char *)sec->spec, sec->spec_len, &s) < 0)
			return 0;	/* no such part: "" */
	} else {
		top_section(r, sec, &s);
	}
	if (s.kind == MIME_SEC_FIELDS || s.kind == MIME_SEC_FIELDS_NOT)
		return fields_data(sec, r->m->msg + s.off, s.len,
		    s.kind == MIME_SEC_FIELDS_NOT, d) < 0 ? IMAP_FETCH_ERR_NOMEM : 0;
	d->p = r->m->msg + s.off;
	d->len = s.len;
	if (sec->type == IMAP_FS_BODY || sec->spec_len == 0 || s.len == 0)
		return 0;
	if ((cte = part_cte(&r->mm, s.part)) == CTE_UNKNOWN)
		return IMAP_FETCH_ERR_CTE;	/* RFC 3516 4.3: NO [UNKNOWN-CTE] */
	if (cte == CTE_IDENTITY)
		return 0;
	if (decode_body(cte, d->p, d->len, &d->tmp) < 0)
		return IMAP_FETCH_ERR_NOMEM;
	d->p = d->tmp.data;
	d->len = d->tmp.len;
	d->raw = 0;
	return 0;
}

static int
put_section(struct render *r, const struct imap_fetch_section *sec)
{
	struct sdata d;
	int e;

	if (put_section_name(r, sec) < 0)
		return IMAP_FETCH_ERR_NOMEM;
	buf_init(&d.tmp, r->out->max - r->out->len);
	if ((e = section_data(r, sec, &d)) == 0 && sec->type == IMAP_FS_BINARY_SIZE)
		e = buf_printf(r->out, "%llu", (unsigned long long)sdata_size(&d)) < 0 ?
		    IMAP_FETCH_ERR_NOMEM : 0;
	else if (e == 0)
		e = put_data(r, sec, &d) < 0 ? IMAP_FETCH_ERR_NOMEM : 0;
	buf_free(&d.tmp, 0);
	return e;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT: the whole, the header, the body. */
static int
put_rfc822(struct render *r, const char *name, size_t off, size_t len)
{
	struct sdata d = { .p = r->m->msg + off, .len = len, .raw = 1 };

	if (buf_append_str(r->out, name) < 0)
		return -1;
	return put_data(r, NULL, &d);
}

static int
put_date(struct render *r)
{
	char s[IMAP_DATETIME_LEN + 1];

	if (imap_datetime_format(r->m->date, 0, s) < 0 && imap_datetime_format(0, 0, s) < 0)
		return -1;
	return buf_printf(r->out, "INTERNALDATE \"%s\"", s);
}

static int
put_item(struct render *r, const struct imap_fetch_item *it)
{
	const struct imap_fetch_msg *m = r->m;
	struct buf *o = r->out;

	switch ((enum imap_fetch_att)it->att) {
	case IMAP_FA_UID:
		return buf_append_u64(o, "UID ", m->uid);
	case IMAP_FA_FLAGS:
		return buf_append_str(o, "FLAGS ") < 0 ? -1 :
		    buf_append_str(o, m->flags != NULL ? m->flags : "()");
	case IMAP_FA_INTERNALDATE:
		return put_date(r);
	case IMAP_FA_RFC822_SIZE:
		return buf_append_u64(o, "RFC822.SIZE ", m->size);
	case IMAP_FA_ENVELOPE:
		if (buf_append_str(o, "ENVELOPE ") < 0)
			return -1;
		if (m->st != NULL)
			return buf_append(o, m->st->env, m->st->env_len);
		return rfc5322_envelope_write(m->msg, r->hdr_len, o);
	case IMAP_FA_BODY:
	case IMAP_FA_BODYSTRUCTURE:
		if (buf_append_str(o, it->att == IMAP_FA_BODY ? "BODY " : "BODYSTRUCTURE ") < 0)
			return -1;
		if (m->st != NULL)
			return it->att == IMAP_FA_BODY ? buf_append(o, m->st->body, m->st->body_len) :
			    buf_append(o, m->st->bs, m->st->bs_len);
		return mime_bodystructure_write(&r->mm, it->att == IMAP_FA_BODYSTRUCTURE, o);
	case IMAP_FA_MODSEQ:
		return buf_printf(o, "MODSEQ (%llu)", (unsigned long long)m->modseq);
	case IMAP_FA_RFC822:
		return put_rfc822(r, "RFC822 ", 0, m->len);
	case IMAP_FA_RFC822_HEADER:
		return put_rfc822(r, "RFC822.HEADER ", 0, r->body_off);
	case IMAP_FA_RFC822_TEXT:
		return put_rfc822(r, "RFC822.TEXT ", r->body_off, m->len - r->body_off);
	case IMAP_FA_SECTION:
		break;
	}
	return put_section(r, &r->p->section[it->sec]);
}

static int
render_items(struct render *r)
{
	const struct imap_fetch_plan *p = r->p;
	unsigned i;
	int e;

	if (buf_append_u64(r->out, "* ", r->m->seq) < 0 || buf_append_str(r->out, " FETCH (") < 0)
		return IMAP_FETCH_ERR_NOMEM;
	for (i = 0; i < p->nitems; i++) {
		if (i > 0 && buf_append(r->out, " ", 1) < 0)
			return IMAP_FETCH_ERR_NOMEM;
		if ((e = put_item(r, &p->item[i])) < 0)
			return e == IMAP_FETCH_ERR_CTE ? e : IMAP_FETCH_ERR_NOMEM;
	}
	if (r->m->add_flags && !p->flags_asked &&
	    (buf_append_str(r->out, p->nitems > 0 ? " " : "") < 0 ||
	    put_item(r, &(struct imap_fetch_item){ .att = IMAP_FA_FLAGS }) < 0))
		return IMAP_FETCH_ERR_NOMEM;
	return buf_append(r->out, ")\r\n", 3) < 0 ? IMAP_FETCH_ERR_NOMEM : 0;
}

int
imap_fetch_render(const struct imap_fetch_plan *p, const struct imap_fetch_msg *m,
    struct buf *out)
{
	struct render r = { .p = p, .m = m, .out = out };
	size_t start = out->len;
	int e;

	if ((p->need & (IMAP_FETCH_NEED_HEADER | IMAP_FETCH_NEED_BODY)) && m->msg == NULL &&
	    (m->st == NULL || !p->structs_only))
		return IMAP_FETCH_ERR_MSG;
	if (m->msg != NULL)
		rfc5322_split(m->msg, m->len, &r.hdr_len, &r.body_off);
	mime_init(&r.mm, p->mime_max_parts, p->mime_max_depth);
	if (p->need_mime && m->st == NULL && mime_parse(&r.mm, m->msg, m->len) < 0) {
		mime_free(&r.mm);
		return IMAP_FETCH_ERR_NOMEM;
	}
	e = render_items(&r);
	mime_free(&r.mm);
	if (e < 0)
		out->len = start;
	return e;
}

int
imap_fetch_structs(const uint8_t *msg, size_t len, size_t max_parts, unsigned max_depth,
    struct buf *env, struct buf *body, struct buf *bs)
{
	struct mime_msg mm;
	size_t hdr_len, body_off;
	int rc = 0;

	rfc5322_split(msg, len, &hdr_len, &body_off);
	mime_init(&mm, max_parts, max_depth);
	if (rfc5322_envelope_write(msg, hdr_len, env) < 0 || mime_parse(&mm, msg, len) < 0 ||
	    mime_bodystructure_write(&mm, 0, body) < 0 || mime_bodystructure_write(&mm, 1, bs) < 0)
		rc = IMAP_FETCH_ERR_NOMEM;
	mime_free(&mm);
	return rc;
}
