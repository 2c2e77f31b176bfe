/* storeimap.c - encoding and decoding the IMAP view's messages. */
#include "storeimap.h"

#include <string.h>

#include "storeproto.h"

int
storeimap_uidset_valid(const struct store_range *r, uint32_t n)
{
	uint32_t i;

	if (n > STORE_UIDSET_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (r[i].lo == 0 || r[i].lo > r[i].hi)
			return 0;
		/* disjoint and ascending; adjacent ranges are allowed */
		if (i > 0 && r[i].lo <= r[i - 1].hi)
			return 0;
	}
	return 1;
}

uint64_t
storeimap_uidset_count(const struct store_range *r, uint32_t n)
{
	uint64_t c = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		c += (uint64_t)r[i].hi - r[i].lo + 1;
	return c;
}

static void
put_name(struct ipc_out *o, const char *name)
{
	if (name == NULL || strlen(name) > STORE_NAME_MAX)
		o->err = 1;
	else
		ipc_put_str(o, name);
}

static void
get_name(struct ipc_in *in, char out[STORE_NAME_MAX + 1])
{
	ipc_get_str(in, out, STORE_NAME_MAX + 1);
	if (in->err)
		out[0] = '\0';
}

static void
put_set(struct ipc_out *o, const struct store_range *r, uint32_t n)
{
	uint32_t i;

	if (!storeimap_uidset_valid(r, n))
		o->err = 1;
	ipc_put_u32(o, n);
	for (i = 0; i < n && !o->err; i++) {
		ipc_put_u32(o, r[i].lo);
		ipc_put_u32(o, r[i].hi);
	}
}

static int
get_set(struct ipc_in *in, struct store_uidset *set)
{
	uint32_t i;

	set->n = ipc_get_u32(in);
	if (in->err || set->n > STORE_UIDSET_MAX) {
		set->n = 0;
		return -1;
	}
	for (i = 0; i < set->n; i++) {
		set->r[i].lo = ipc_get_u32(in);
		set->r[i].hi = ipc_get_u32(in);
	}
	if (in->err || !storeimap_uidset_valid(set->r, set->n)) {
		set->n = 0;
		return -1;
	}
	return 0;
}

static int
keyword_valid(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '\\')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		/* ATOM-CHAR (RFC 9051 section 9) */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return 1;
}

static void
put_kwlist(struct ipc_out *o, const struct store_kwlist *k)
{
	uint8_t i;

	if (k->count > STORE_STORE_KEYWORDS)
		o->err = 1;
	ipc_put_u8(o, k->count);
	for (i = 0; i < k->count && !o->err; i++) {
		if (strlen(k->name[i]) > STORE_KEYWORD_MAX || !keyword_valid(k->name[i]))
			o->err = 1;
		ipc_put_str(o, k->name[i]);
	}
}

static int
get_kwlist(struct ipc_in *in, struct store_kwlist *k)
{
	uint8_t i;

	k->count = ipc_get_u8(in);
	if (in->err || k->count > STORE_STORE_KEYWORDS) {
		k->count = 0;
		return -1;
	}
	for (i = 0; i < k->count; i++) {
		ipc_get_str(in, k->name[i], STORE_KEYWORD_MAX + 1);
		if (in->err || !keyword_valid(k->name[i])) {
			k->count = 0;
			return -1;
		}
	}
	return 0;
}

/* Which request types carry what, for the name codec. */
static int
name_has_u8(uint16_t type)
{
	return type == MSG_STORE_IMAP_LIST || type == MSG_STORE_IMAP_UNSELECT ||
	    type == MSG_STORE_IMAP_SELECT || type == MSG_STORE_IMAP_SUBSCRIBE;
}

static int
name_has_name(uint16_t type)
{
	return type != MSG_STORE_IMAP_LIST && type != MSG_STORE_IMAP_UNSELECT;
}

void
storeimap_name_put(struct ipc_out *o, uint16_t type, uint8_t u8, uint32_t attr,
    const char *name, const char *name2)
{
	ipc_out_init(o, type);
	if (name_has_u8(type))
		ipc_put_u8(o, u8);
	if (type == MSG_STORE_IMAP_CREATE)
		ipc_put_u32(o, attr);
	if (name_has_name(type))
		put_name(o, name);
	if (type == MSG_STORE_IMAP_RENAME)
		put_name(o, name2);
}

int
storeimap_name_get(struct ipc_in *in, struct store_req_name *r)
{
	memset(r, 0, sizeof(*r));
	if (name_has_u8(in->type)) {
		r->u8 = ipc_get_u8(in);
		if (r->u8 > 1)
			return -1;
	}
	if (in->type == MSG_STORE_IMAP_CREATE)
		r->attr = ipc_get_u32(in);
	if (name_has_name(in->type))
		get_name(in, r->name);
	if (in->type == MSG_STORE_IMAP_RENAME)
		get_name(in, r->name2);
	if (ipc_in_end_no_fd(in) < 0)
		return -1;
	/* a request that names a folder names one */
	if (name_has_name(in->type) && r->name[0] == '\0')
		return -1;
	if (in->type == MSG_STORE_IMAP_RENAME && r->name2[0] == '\0')
		return -1;
	return 0;
}

void
storeimap_empty_put(struct ipc_out *o, uint16_t type)
{
	ipc_out_init(o, type);
}

int
storeimap_empty_get(struct ipc_in *in)
{
	return ipc_in_end_no_fd(in);
}

void
storeimap_set_put(struct ipc_out *o, uint16_t type, uint8_t u8, const char *name,
    const struct store_range *r, uint32_t n)
{
	ipc_out_init(o, type);
	if (type != MSG_STORE_IMAP_META && type != MSG_STORE_IMAP_STRUCTS)
		ipc_put_u8(o, u8);
	if (type == MSG_STORE_IMAP_COPY)
		put_name(o, name);
	put_set(o, r, n);
}

int
storeimap_set_get(struct ipc_in *in, uint8_t *u8_r, char name_r[STORE_NAME_MAX + 1],
    struct store_uidset *set)
{
	*u8_r = 0;
	name_r[0] = '\0';
	if (in->type != MSG_STORE_IMAP_META && in->type != MSG_STORE_IMAP_STRUCTS) {
		*u8_r = ipc_get_u8(in);
		if (*u8_r > 1)
			return -1;
	}
	if (in->type == MSG_STORE_IMAP_COPY) {
		get_name(in, name_r);
		if (!in->err && name_r[0] == '\0')
			return -1;
	}
	if (get_set(in, set) < 0)
		return -1;
	return ipc_in_end_no_fd(in);
}

void
storeimap_uid_put(struct ipc_out *o, uint32_t uid)
{
	ipc_out_init(o, MSG_STORE_IMAP_MSGFD);
	ipc_put_u32(o, uid);
}

int
storeimap_uid_get(struct ipc_in *in, uint32_t *uid_r)
{
	*uid_r = ipc_get_u32(in);
	if (ipc_in_end_no_fd(in) < 0 || *uid_r == 0)
		return -1;
	return 0;
}

void
storeimap_store_put(struct ipc_out *o, const struct store_req_store *r)
{
	ipc_out_init(o, MSG_STORE_IMAP_STORE);
	if (r->mode > STORE_MODE_REMOVE || (r->flags & ~0x1fu) != 0)
		o->err = 1;
	ipc_put_u8(o, r->mode);
	ipc_put_u32(o, r->flags);
	put_kwlist(o, &r->kw);
	ipc_put_u64(o, r->unchangedsince);
	put_set(o, r->set.r, r->set.n);
}

int
storeimap_store_get(struct ipc_in *in, struct store_req_store *r)
{
	r->mode = ipc_get_u8(in);
	r->flags = ipc_get_u32(in);
	if (in->err || r->mode > STORE_MODE_REMOVE || (r->flags & ~0x1fu) != 0)
		return -1;
	if (get_kwlist(in, &r->kw) < 0)
		return -1;
	r->unchangedsince = ipc_get_u64(in);
	if (get_set(in, &r->set) < 0)
		return -1;
	return ipc_in_end_no_fd(in);
}

void
storeimap_append_put(struct ipc_out *o, const struct store_req_append *r, int fd)
{
	ipc_out_init(o, r->parts ? MSG_STORE_IMAP_APPEND_PART : MSG_STORE_IMAP_APPEND);
	put_name(o, r->name);
	if ((r->flags & ~0x1fu) != 0 || r->len > STORE_APPEND_MAX || r->date < 0 ||
	    (r->parts != 0 && (r->parts < 2 || r->parts > STORE_APPEND_PARTS_MAX ||
	    r->part >= r->parts)))
		o->err = 1;
	ipc_put_u32(o, r->flags);
	put_kwlist(o, &r->kw);
	ipc_put_u64(o, (uint64_t)r->date);
	ipc_put_u64(o, r->len);
	if (r->parts) {
		ipc_put_u32(o, r->part);
		ipc_put_u32(o, r->parts);
	}
	ipc_put_fd(o, fd);
}

int
storeimap_append_get(struct ipc_in *in, struct store_req_append *r)
{
	get_name(in, r->name);
	r->flags = ipc_get_u32(in);
	if (in->err || r->name[0] == '\0' || (r->flags & ~0x1fu) != 0)
		return -1;
	if (get_kwlist(in, &r->kw) < 0)
		return -1;
	r->date = (int64_t)ipc_get_u64(in);
	r->len = ipc_get_u64(in);
	r->part = r->parts = 0;
	if (in->type == MSG_STORE_IMAP_APPEND_PART) {
		r->part = ipc_get_u32(in);
		r->parts = ipc_get_u32(in);
		if (r->parts < 2 || r->parts > STORE_APPEND_PARTS_MAX || r->part >= r->parts)
			return -1;
	}
	if (ipc_in_end(in) < 0 || in->fd < 0 || r->len > STORE_APPEND_MAX || r->date < 0)
		return -1;
	return 0;
}

void
storeimap_folders_put(struct ipc_out *o, const struct store_folder *f, uint32_t count)
{
	uint32_t i;

	ipc_out_init(o, MSG_STORE_FOLDERS);
	if (count > STORE_FOLDERS_PAGE)
		o->err = 1;
	ipc_put_u32(o, count);
	for (i = 0; i < count && !o->err; i++) {
		ipc_put_u32(o, f[i].attr);
		put_name(o, f[i].name);
	}
}

int
storeimap_folders_get(struct ipc_in *in, struct store_folders *r)
{
	uint32_t i;

	r->count = ipc_get_u32(in);
	if (in->err || r->count > STORE_FOLDERS_PAGE) {
		r->count = 0;
		return -1;
	}
	for (i = 0; i < r->count; i++) {
		r->f[i].attr = ipc_get_u32(in);
		get_name(in, r->f[i].name);
		if (in->err || r->f[i].name[0] == '\0') {
			r->count = 0;
			return -1;
		}
	}
	return ipc_in_end_no_fd(in);
}

void
storeimap_keywords_put(struct ipc_out *o, const struct store_keywords *k)
{
	uint8_t i;

	ipc_out_init(o, MSG_STORE_KEYWORDS);
	if (k->count > STORE_KEYWORDS_MAX)
		o->err = 1;
	ipc_put_u8(o, k->count);
	for (i = 0; i < k->count && !o->err; i++) {
		if (k->slot[i] >= STORE_KEYWORDS_MAX || strlen(k->name[i]) > STORE_KEYWORD_MAX ||
		    !keyword_valid(k->name[i]))
			o->err = 1;
		ipc_put_u8(o, k->slot[i]);
		ipc_put_str(o, k->name[i]);
	}
}

int
storeimap_keywords_get(struct ipc_in *in, struct store_keywords *r)
{
	uint32_t seen = 0;
	uint8_t i;

	r->count = ipc_get_u8(in);
	if (in->err || r->count > STORE_KEYWORDS_MAX) {
		r->count = 0;
		return -1;
	}
	for (i = 0; i < r->count; i++) {
		r->slot[i] = ipc_get_u8(in);
		ipc_get_str(in, r->name[i], STORE_KEYWORD_MAX + 1);
		if (in->err || r->slot[i] >= STORE_KEYWORDS_MAX || (seen & (1u << r->slot[i])) ||
		    !keyword_valid(r->name[i])) {
			r->count = 0;
			return -1;
		}
		seen |= 1u << r->slot[i];
	}
	return ipc_in_end_no_fd(in);
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* RECORDS pages carry a whole folder at SELECT: their fields are written
 * and read in one pass over reserved room, not one call per field. */
void
storeimap_records_put(struct ipc_out *o, const struct store_record *r, uint32_t count)
{
	uint8_t *p;
	uint32_t i;

	ipc_out_init(o, MSG_STORE_RECORDS);
	if (count > STORE_RECORDS_PAGE)
		o->err = 1;
	ipc_put_u32(o, count);
	if (o->err || (p = ipc_put_reserve(o, (size_t)count * 16)) == NULL)
		return;
	for (i = 0; i < count; i++, p += 16) {
		be32(p, r[i].uid);
		be32(p + 4, r[i].flags);
		be32(p + 8, (uint32_t)(r[i].modseq >> 32));
		be32(p + 12, (uint32_t)r[i].modseq);
	}
}

int
storeimap_records_get(struct ipc_in *in, struct store_records *r)
{
	const uint8_t *p;
	uint32_t i;

	r->count = ipc_get_u32(in);
	if (in->err || r->count > STORE_RECORDS_PAGE ||
	    (p = ipc_get_raw(in, (size_t)r->count * 16)) == NULL) {
		r->count = 0;
		return -1;
	}
	for (i = 0; i < r->count; i++, p += 16) {
		r->r[i].uid = rd32(p);
		r->r[i].flags = rd32(p + 4);
		r->r[i].modseq = ((uint64_t)rd32(p + 8) << 32) | rd32(p + 12);
		/* ascending UIDs: the worker merges pages into its view in order */
		if (r->r[i].uid == 0 || (i > 0 && r->r[i].uid <= r->r[i - 1].uid)) {
			r->count = 0;
			return -1;
		}
	}
	if (ipc_in_end_no_fd(in) < 0) {
		r->count = 0;
		return -1;
	}
	return 0;
}

void
storeimap_meta_put(struct ipc_out *o, const struct store_meta_rec *m, uint32_t count)
{
	uint32_t i;

	ipc_out_init(o, MSG_STORE_META);
	if (count > STORE_META_PAGE)
		o->err = 1;
	ipc_put_u32(o, count);
	for (i = 0; i < count && !o->err; i++) {
		ipc_put_u32(o, m[i].uid);
		ipc_put_u32(o, m[i].flags);
		ipc_put_u64(o, m[i].modseq);
		ipc_put_u64(o, m[i].size);
		ipc_put_u64(o, (uint64_t)m[i].date);
	}
}

int
storeimap_meta_get(struct ipc_in *in, struct store_meta *r)
{
	uint32_t i;

	r->count = ipc_get_u32(in);
	if (in->err || r->count > STORE_META_PAGE) {
		r->count = 0;
		return -1;
	}
	for (i = 0; i < r->count; i++) {
		r->m[i].uid = ipc_get_u32(in);
		r->m[i].flags = ipc_get_u32(in);
		r->m[i].modseq = ipc_get_u64(in);
		r->m[i].size = ipc_get_u64(in);
		r->m[i].date = (int64_t)ipc_get_u64(in);
		if (r->m[i].uid == 0 || (i > 0 && r->m[i].uid <= r->m[i - 1].uid)) {
			r->count = 0;
			return -1;
		}
	}
	if (ipc_in_end_no_fd(in) < 0) {
		r->count = 0;
		return -1;
	}
	return 0;
}

void
storeimap_uidset_put(struct ipc_out *o, uint8_t kind, const struct store_range *r, uint32_t n)
{
	ipc_out_init(o, MSG_STORE_UIDSET);
	if (kind < STORE_SET_EXPUNGED || kind > STORE_SET_VIEW)
		o->err = 1;
	ipc_put_u8(o, kind);
	put_set(o, r, n);
}

int
storeimap_uidset_get(struct ipc_in *in, uint8_t *kind_r, struct store_uidset *set)
{
	*kind_r = ipc_get_u8(in);
	if (in->err || *kind_r < STORE_SET_EXPUNGED || *kind_r > STORE_SET_VIEW)
		return -1;
	/* COPY_DST keeps the order of the sources, which is ascending too */
	if (get_set(in, set) < 0)
		return -1;
	return ipc_in_end_no_fd(in);
}

void
storeimap_selected_put(struct ipc_out *o, const struct store_selected *s)
{
	ipc_out_init(o, MSG_STORE_SELECTED);
	ipc_put_u32(o, s->uidvalidity);
	ipc_put_u32(o, s->uidnext);
	ipc_put_u32(o, s->messages);
	ipc_put_u32(o, s->unseen);
	ipc_put_u32(o, s->first_unseen);
	ipc_put_u64(o, s->highestmodseq);
	ipc_put_u8(o, s->read_only);
}

int
storeimap_selected_get(struct ipc_in *in, struct store_selected *s)
{
	s->uidvalidity = ipc_get_u32(in);
	s->uidnext = ipc_get_u32(in);
	s->messages = ipc_get_u32(in);
	s->unseen = ipc_get_u32(in);
	s->first_unseen = ipc_get_u32(in);
	s->highestmodseq = ipc_get_u64(in);
	s->read_only = ipc_get_u8(in);
	if (ipc_in_end_no_fd(in) < 0 || s->read_only > 1 || s->uidvalidity == 0 ||
	    s->uidnext == 0 || s->unseen > s->messages)
		return -1;
	return 0;
}

void
storeimap_pair_put(struct ipc_out *o, uint16_t type, uint32_t a, uint32_t b, uint64_t v)
{
	ipc_out_init(o, type);
	ipc_put_u32(o, a);
	ipc_put_u32(o, b);
	ipc_put_u64(o, v);
}

int
storeimap_pair_get(struct ipc_in *in, uint32_t *a_r, uint32_t *b_r, uint64_t *v_r)
{
	*a_r = ipc_get_u32(in);
	*b_r = ipc_get_u32(in);
	*v_r = ipc_get_u64(in);
	return ipc_in_end_no_fd(in);
}

void
storeimap_status_put(struct ipc_out *o, const struct store_status *s)
{
	ipc_out_init(o, MSG_STORE_STATUS);
	ipc_put_u32(o, s->messages);
	ipc_put_u32(o, s->uidnext);
	ipc_put_u32(o, s->uidvalidity);
	ipc_put_u32(o, s->unseen);
	ipc_put_u32(o, s->deleted);
	ipc_put_u32(o, s->recent);
	ipc_put_u64(o, s->size);
	ipc_put_u64(o, s->highestmodseq);
}

int
storeimap_status_get(struct ipc_in *in, struct store_status *s)
{
	s->messages = ipc_get_u32(in);
	s->uidnext = ipc_get_u32(in);
	s->uidvalidity = ipc_get_u32(in);
	s->unseen = ipc_get_u32(in);
	s->deleted = ipc_get_u32(in);
	s->recent = ipc_get_u32(in);
	s->size = ipc_get_u64(in);
	s->highestmodseq = ipc_get_u64(in);
	if (ipc_in_end_no_fd(in) < 0 || s->unseen > s->messages || s->deleted > s->messages ||
	    s->recent > s->messages)
		return -1;
	return 0;
}

void
storeimap_quota_put(struct ipc_out *o, const struct store_quota *q)
{
	ipc_out_init(o, MSG_STORE_QUOTA);
	ipc_put_u64(o, q->storage_used);
	ipc_put_u64(o, q->storage_limit);
	ipc_put_u64(o, q->messages_used);
	ipc_put_u64(o, q->messages_limit);
}

int
storeimap_quota_get(struct ipc_in *in, struct store_quota *q)
{
	q->storage_used = ipc_get_u64(in);
	q->storage_limit = ipc_get_u64(in);
	q->messages_used = ipc_get_u64(in);
	q->messages_limit = ipc_get_u64(in);
	return ipc_in_end_no_fd(in);
}

/* --- STRUCTS ------------------------------------------------------------- */

#define STRUCTS_COUNT_AT	IPC_HDR_LEN	/* the count: the payload's first u32 */

void
storeimap_structs_start(struct ipc_out *o)
{
	ipc_out_init(o, MSG_STORE_STRUCTS);
	ipc_put_u32(o, 0);
}

/* The count so far, from the page itself. */
static uint32_t
structs_count(const struct ipc_out *o)
{
	const uint8_t *c = o->data + STRUCTS_COUNT_AT;

	return (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
}

int
storeimap_structs_add(struct ipc_out *o, const struct store_struct *e)
{
	size_t need = 4 + 12 + (size_t)e->env_len + e->body_len + e->bs_len;
	uint32_t n = structs_count(o);
	uint8_t *c = o->data + STRUCTS_COUNT_AT;

	if ((size_t)e->env_len + e->body_len + e->bs_len > STORE_STRUCT_TEXT_MAX)
		o->err = 1;
	if (o->err || n == STORE_STRUCTS_PAGE || o->len + need > IPC_MAX_MSG)
		return -1;
	ipc_put_u32(o, e->uid);
	ipc_put_bytes(o, e->env, e->env_len);
	ipc_put_bytes(o, e->body, e->body_len);
	ipc_put_bytes(o, e->bs, e->bs_len);
	n++;
	c[0] = (uint8_t)(n >> 24);
	c[1] = (uint8_t)(n >> 16);
	c[2] = (uint8_t)(n >> 8);
	c[3] = (uint8_t)n;
	return 0;
}

int
storeimap_structs_get(struct ipc_in *in, struct store_structs *r)
{
	uint32_t i;

	r->count = ipc_get_u32(in);
	if (in->err || r->count > STORE_STRUCTS_PAGE)
		return -1;
	for (i = 0; i < r->count; i++) {
		struct store_struct *e = &r->s[i];
		size_t a, b, c;
		e->uid = ipc_get_u32(in);
		a = ipc_get_bytes(in, &e->env, STORE_STRUCT_TEXT_MAX);
		b = ipc_get_bytes(in, &e->body, STORE_STRUCT_TEXT_MAX);
		c = ipc_get_bytes(in, &e->bs, STORE_STRUCT_TEXT_MAX);
		if (in->err || e->uid == 0 || a + b + c > STORE_STRUCT_TEXT_MAX)
			return -1;
		e->env_len = (uint32_t)a;
		e->body_len = (uint32_t)b;
		e->bs_len = (uint32_t)c;
	}
	return ipc_in_end_no_fd(in);
}
