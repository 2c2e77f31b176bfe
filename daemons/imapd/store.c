/* store.c - the channel to stored (common/ipc/storeimap.h) and the view of
 * the selected folder.
 *
 * Calls are request/reply: the worker waits for its own stored (which
 * serves this session alone).  A reply is data messages then one final
 * one; MSG_STORE_CHANGED may come in between and only marks the view as
 * worth a SYNC.  Everything stored says is checked as far as the worker
 * can (ascending UIDs, known messages): a stored that breaks the contract
 * ends the session. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/mindex.h"
#include "imapd.h"

static void __attribute__((noreturn))
store_failed(struct imap *p, const char *why)
{
	imap_puts(p, "* BYE [UNAVAILABLE] Mail storage failed\r\n");
	(void)wk_client_drain(&p->c);
	fatal("reason=\"%s\" errno=%d", why, errno);
}

static int
is_final(uint16_t t)
{
	switch (t) {
	case MSG_STORE_OK: case MSG_STORE_ERR: case MSG_STORE_MSGFD:
	case MSG_STORE_SELECTED: case MSG_STORE_SYNCED: case MSG_STORE_STORED:
	case MSG_STORE_COPIED: case MSG_STORE_APPENDED: case MSG_STORE_STATUS:
	case MSG_STORE_QUOTA:
		return 1;
	}
	return 0;
}

void
imap_store_call(struct imap *p, imap_store_data_fn *fn, void *ctx)
{
	if (p->store_fd < 0)
		store_failed(p, "no stored channel");
	if (ipc_send(p->store_fd, &ipc_scratch_out) < 0)
		store_failed(p, "stored channel failed");
	for (;;) {
		int rc = ipc_recv(p->store_fd, &ipc_scratch_in);
		if (rc != 1)
			store_failed(p, "stored channel failed");
		if (ipc_scratch_in.type == MSG_STORE_CHANGED) {
			if (storeproto_changed_get(&ipc_scratch_in) < 0)
				store_failed(p, "bad message from stored");
			p->store_changed = 1;
			continue;
		}
		if (is_final(ipc_scratch_in.type)) {
			/* only MSGFD carries an fd; any other is closed */
			if (ipc_scratch_in.type != MSG_STORE_MSGFD)
				ipc_in_close_fd(&ipc_scratch_in);
			return;
		}
		if (fn == NULL || fn(p, ctx) < 0)
			store_failed(p, "unexpected reply from stored");
		ipc_in_close_fd(&ipc_scratch_in);
	}
}

uint32_t
imap_store_err(void)
{
	char text[STORE_ERR_TEXT_MAX];
	uint32_t code;

	if (ipc_scratch_in.type != MSG_STORE_ERR)
		return 0;
	/* from the start of the message each time: callers may ask twice */
	ipc_scratch_in.off = 0;
	ipc_scratch_in.err = 0;
	return storeproto_err_get(&ipc_scratch_in, &code, text) == 0 ? code : STORE_ERR_IO;
}

/* stored pushes MSG_STORE_CHANGED between requests; in IDLE the client
 * hears of it at once, otherwise at the end of its next command. */
static void
on_store(int fd, short revents, void *ctx)
{
	struct imap *p = ctx;
	int rc;

	(void)revents;
	/* The readiness may be stale: a command handled in the same round of
	 * the loop may have read the message already (imap_store_call takes
	 * CHANGED too).  Look again without waiting. */
	if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 0) <= 0)
		return;
	rc = ipc_recv(fd, &ipc_scratch_in);
	if (rc == 0) {
		ev_del_fd(fd);
		store_failed(p, "stored went away");
	}
	if (rc < 0 || ipc_scratch_in.type != MSG_STORE_CHANGED ||
	    storeproto_changed_get(&ipc_scratch_in) < 0)
		store_failed(p, "unexpected message from stored");
	p->store_changed = 1;
	if (p->idling) {
		imap_sync(p, 1);
		wk_session_kick(&p->s);
	}
}

void
imap_store_watch(struct imap *p)
{
	if (ev_add_fd(p->store_fd, POLLIN, on_store, p) < 0)
		fatal("reason=\"event loop\"");
}

/* --- the view --- */

void
imap_view_reset(struct imap_view *v)
{
	free(v->uid);
	free(v->flags);
	free(v->modseq);
	free(v->saved);
	free(v->gone);
	memset(v, 0, sizeof(*v));
}

int
imap_view_add(struct imap_view *v, uint32_t uid, uint32_t flags, uint64_t modseq)
{
	if (v->n > 0 && uid <= v->uid[v->n - 1])
		return -1;	/* the view is in UID order */
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		uint32_t *u, *f;
		uint64_t *m;
		if (cap > MINDEX_FOLDER_MAX)
			return -1;
		u = realloc(v->uid, cap * sizeof(*u));
		if (u == NULL)
			return -1;
		v->uid = u;
		f = realloc(v->flags, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		v->flags = f;
		m = realloc(v->modseq, cap * sizeof(*m));
		if (m == NULL)
			return -1;
		v->modseq = m;
		v->cap = cap;
	}
	v->uid[v->n] = uid;
	v->flags[v->n] = flags;
	v->modseq[v->n] = modseq;
	v->n++;
	return 0;
}

int
imap_view_add_range(struct imap_view *v, uint32_t lo, uint32_t hi)
{
	size_t need, cap;
	uint32_t *u, *f;
	uint64_t *m;

	if (lo == 0 || lo > hi || (v->n > 0 && lo <= v->uid[v->n - 1]))
		return -1;
	if (__builtin_add_overflow(v->n, (size_t)(hi - lo) + 1, &need) || need > MINDEX_FOLDER_MAX)
		return -1;
	if (need > v->cap) {
		/* exactly what SELECT said, or doubling for what follows: the
		 * flag arrays are allocated, not touched, until they are loaded */
		cap = v->cap * 2 > need ? v->cap * 2 : need;
		if ((u = realloc(v->uid, cap * sizeof(*u))) == NULL)
			return -1;
		v->uid = u;
		if ((f = realloc(v->flags, cap * sizeof(*f))) == NULL)
			return -1;
		v->flags = f;
		if ((m = realloc(v->modseq, cap * sizeof(*m))) == NULL)
			return -1;
		v->modseq = m;
		v->cap = cap;
	}
	for (;;) {
		v->uid[v->n++] = lo;
		if (lo++ == hi)
			break;
	}
	return 0;
}

/* FLAGS: records of the view's messages, ascending; the ones of messages
 * expunged meanwhile do not come (their flags stay none). */
static struct store_records sync_recs;	/* decoded RECORDS pages of SYNC and FLAGS */

static int
flags_data(struct imap *p, void *ctx)
{
	struct store_records *page = &sync_recs;
	size_t *at = ctx;
	uint32_t i;

	if (ipc_scratch_in.type == MSG_STORE_KEYWORDS)
		return imap_view_keywords(&p->v) < 0 ? -1 : 0;
	if (ipc_scratch_in.type != MSG_STORE_RECORDS ||
	    storeimap_records_get(&ipc_scratch_in, page) < 0)
		return -1;
	for (i = 0; i < page->count; i++) {
		while (*at < p->v.n && p->v.uid[*at] < page->r[i].uid)
			(*at)++;
		if (*at < p->v.n && p->v.uid[*at] == page->r[i].uid) {
			p->v.flags[*at] = page->r[i].flags;
			p->v.modseq[*at] = page->r[i].modseq;
		}
	}
	return 0;
}

void
imap_view_need_flags(struct imap *p)
{
	size_t at = 0;

	if (p->state != IMAP_SELECTED || p->v.flags_loaded)
		return;
	if (p->v.n > 0) {
		memset(p->v.flags, 0, p->v.n * sizeof(*p->v.flags));
		memset(p->v.modseq, 0, p->v.n * sizeof(*p->v.modseq));
		storeimap_empty_put(&ipc_scratch_out, MSG_STORE_IMAP_FLAGS);
		imap_store_call(p, flags_data, &at);
		if (ipc_scratch_in.type != MSG_STORE_OK)
			store_failed(p, "bad FLAGS reply from stored");
	}
	p->v.flags_loaded = 1;
}

long
imap_view_find(const struct imap_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->uid[mid] == uid)
			return (long)mid;
		if (v->uid[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
imap_view_keywords(struct imap_view *v)
{
	struct store_keywords k;	/* on the stack: a static one would be a
					   page of its own in every session */
	char old[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
	unsigned i;

	if (storeimap_keywords_get(&ipc_scratch_in, &k) < 0)
		return -1;
	memcpy(old, v->kw, sizeof(old));
	for (i = 0; i < k.count; i++)
		snprintf(v->kw[k.slot[i]], sizeof(v->kw[0]), "%s", k.name[i]);
	return memcmp(old, v->kw, sizeof(old)) != 0;
}

void
imap_flags_text(const struct imap_view *v, uint32_t flags, struct buf *b)
{
	static const struct { uint32_t bit; const char *name; } sys[] = {
		{ MINDEX_SEEN, "\\Seen" }, { MINDEX_ANSWERED, "\\Answered" },
		{ MINDEX_FLAGGED, "\\Flagged" }, { MINDEX_DELETED, "\\Deleted" },
		{ MINDEX_DRAFT, "\\Draft" },
	};
	const char *sp = "";
	unsigned i;

	/* no printf: this runs once per message of a FETCH 1:* FLAGS */
	buf_append(b, "(", 1);
	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (flags & sys[i].bit) {
			buf_append_str(b, sp);
			buf_append_str(b, sys[i].name);
			sp = " ";
		}
	for (i = 0; i < STORE_KEYWORDS_MAX && (flags >> 5) != 0; i++)
		if ((flags & (MINDEX_KEYWORD0 << i)) && v->kw[i][0] != '\0') {
			buf_append_str(b, sp);
			buf_append_str(b, v->kw[i]);
			sp = " ";
		}
	buf_append(b, ")", 1);
}

void
imap_send_flags(struct imap *p)
{
	struct buf b;
	unsigned i;

	buf_init(&b, 8192);
	buf_append_str(&b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (i = 0; i < STORE_KEYWORDS_MAX; i++)
		if (p->v.kw[i][0] != '\0')
			buf_printf(&b, " %s", p->v.kw[i]);
	buf_append_str(&b, ")\r\n");
	if (p->v.read_only) {
		buf_append_str(&b, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	} else {
		buf_append_str(&b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
		for (i = 0; i < STORE_KEYWORDS_MAX; i++)
			if (p->v.kw[i][0] != '\0')
				buf_printf(&b, " %s", p->v.kw[i]);
		/* new keywords while slots are free */
		for (i = 0; i < STORE_KEYWORDS_MAX && p->v.kw[i][0] != '\0'; i++)
			;
		buf_printf(&b, "%s)] Flags permitted\r\n",
		    p->conf.keywords && i < STORE_KEYWORDS_MAX ? " \\*" : "");
	}
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
}

/* --- SYNC --- */

struct sync_ctx {
	uint32_t *gone;			/* expunged UIDs, ascending */
	size_t ngone, capgone;
	struct store_record *rec;	/* new or changed */
	size_t nrec, caprec;
	int keywords;
};

static struct store_uidset sync_set;

static int
grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (c > MINDEX_FOLDER_MAX)
		return -1;
	n = realloc(*v, c * size);
	if (n == NULL)
		return -1;
	*v = n;
	*cap = c;
	return 0;
}

static int
sync_data(struct imap *p, void *ctx)
{
	struct sync_ctx *s = ctx;
	uint8_t kind;
	uint32_t i, u;

	switch (ipc_scratch_in.type) {
	case MSG_STORE_UIDSET:
		if (storeimap_uidset_get(&ipc_scratch_in, &kind, &sync_set) < 0 ||
		    kind != STORE_SET_EXPUNGED)
			return -1;
		for (i = 0; i < sync_set.n; i++)
			for (u = sync_set.r[i].lo;; u++) {
				if (s->ngone > 0 && u <= s->gone[s->ngone - 1])
					return -1;
				if (grow((void **)&s->gone, &s->capgone, s->ngone + 1, sizeof(*s->gone)) < 0)
					return -1;
				s->gone[s->ngone++] = u;
				if (u == sync_set.r[i].hi)
					break;
			}
		return 0;
	case MSG_STORE_RECORDS:
		if (storeimap_records_get(&ipc_scratch_in, &sync_recs) < 0)
			return -1;
		if (grow((void **)&s->rec, &s->caprec, s->nrec + sync_recs.count, sizeof(*s->rec)) < 0)
			return -1;
		memcpy(s->rec + s->nrec, sync_recs.r, sync_recs.count * sizeof(*s->rec));
		s->nrec += sync_recs.count;
		return 0;
	case MSG_STORE_KEYWORDS:
		if (imap_view_keywords(&p->v) < 0)
			return -1;
		s->keywords = 1;
		return 0;
	}
	return -1;
}

/* Tell the client of expunged messages (RFC 9051 7.5.1: each EXPUNGE
 * renumbers the ones after it, so ascending UIDs go out with their
 * number less those already expunged), then drop them from the view. */
void
imap_view_expunge(struct imap *p, const uint32_t *gone, size_t ngone, int tell)
{
	struct imap_view *v = &p->v;
	size_t i, j = 0, k, removed = 0;

	for (i = 0, k = 0; i < v->n; i++) {
		while (j < ngone && gone[j] < v->uid[i])
			j++;
		if (j < ngone && gone[j] == v->uid[i]) {
			if (tell)
				imap_printf(p, "* %zu EXPUNGE\r\n", i + 1 - removed);
			removed++;
			continue;
		}
		v->uid[k] = v->uid[i];
		if (v->flags_loaded) {
			v->flags[k] = v->flags[i];
			v->modseq[k] = v->modseq[i];
		}
		k++;
	}
	v->n = k;
}

/* One untagged FETCH of a message's flags (and MODSEQ under CONDSTORE). */
static void
tell_flags(struct imap *p, size_t i)
{
	struct buf b;

	buf_init(&b, 4096);
	buf_printf(&b, "* %zu FETCH (", i + 1);
	if (p->enabled & IMAP_EN_CONDSTORE)
		buf_printf(&b, "UID %u ", p->v.uid[i]);
	buf_append_str(&b, "FLAGS ");
	imap_flags_text(&p->v, p->v.flags[i], &b);
	if (p->enabled & IMAP_EN_CONDSTORE)
		buf_printf(&b, " MODSEQ (%llu)", (unsigned long long)p->v.modseq[i]);
	buf_append_str(&b, ")\r\n");
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
}

void
imap_sync(struct imap *p, int expunges_ok)
{
	struct sync_ctx s;
	uint32_t uidnext, messages;
	uint64_t hms;
	size_t i, n0;

	if (p->state != IMAP_SELECTED)
		return;
	if (p->store_changed) {
		p->store_changed = 0;
		memset(&s, 0, sizeof(s));
		storeimap_empty_put(&ipc_scratch_out, MSG_STORE_IMAP_SYNC);
		imap_store_call(p, sync_data, &s);
		if (ipc_scratch_in.type != MSG_STORE_SYNCED ||
		    storeimap_pair_get(&ipc_scratch_in, &uidnext, &messages, &hms) < 0)
			store_failed(p, "bad SYNC reply from stored");
		/* expunged: pending until they may be told (merged, ascending) */
		for (i = 0; i < s.ngone; i++) {
			if (imap_view_find(&p->v, s.gone[i]) < 0)
				continue;
			if (grow((void **)&p->v.gone, &p->v.capgone, p->v.ngone + 1,
			    sizeof(*p->v.gone)) < 0)
				store_failed(p, "no memory for expunges");
			p->v.gone[p->v.ngone++] = s.gone[i];
		}
		if (s.ngone > 0 && p->v.ngone > 1) {
			/* keep them ascending: a merge of two sorted runs */
			size_t a, b;
			for (a = 1; a < p->v.ngone; a++)
				for (b = a; b > 0 && p->v.gone[b - 1] > p->v.gone[b]; b--) {
					uint32_t t = p->v.gone[b];
					p->v.gone[b] = p->v.gone[b - 1];
					p->v.gone[b - 1] = t;
				}
		}
		if (s.keywords)
			imap_send_flags(p);
		n0 = p->v.n;
		for (i = 0; i < s.nrec; i++) {
			const struct store_record *r = &s.rec[i];
			long at = imap_view_find(&p->v, r->uid);
			if (at >= 0) {
				int changed = !p->v.flags_loaded || p->v.flags[at] != r->flags ||
				    ((p->enabled & IMAP_EN_CONDSTORE) && p->v.modseq[at] != r->modseq);
				p->v.flags[at] = r->flags;
				p->v.modseq[at] = r->modseq;
				if (changed)
					tell_flags(p, (size_t)at);
			} else if (imap_view_add(&p->v, r->uid, r->flags, r->modseq) < 0) {
				store_failed(p, "new message out of order from stored");
			}
		}
		if (p->v.n != n0)
			imap_printf(p, "* %zu EXISTS\r\n", p->v.n);
		if (p->v.n - p->v.ngone != messages)
			log_event(LOG_LEVEL_WARN, "view_mismatch", "ip=%s view=%zu pending=%zu stored=%u",
			    p->ip, p->v.n, p->v.ngone, messages);
		p->v.uidnext = uidnext;
		p->v.highestmodseq = hms;
		free(s.gone);
		free(s.rec);
	}
	if (expunges_ok && p->v.ngone > 0) {
		imap_view_expunge(p, p->v.gone, p->v.ngone, 1);
		p->v.ngone = 0;
	}
}

static struct store_meta meta_page;

/* --- META for a set of UIDs --- */

struct meta_ctx {
	const uint32_t *uids;		/* the UIDs asked, ascending */
	size_t n, at;
	uint64_t *size;
	int64_t *date;
};

static int
meta_data(struct imap *p, void *ctx)
{
	struct meta_ctx *m = ctx;
	uint32_t i;

	(void)p;
	if (ipc_scratch_in.type != MSG_STORE_META || storeimap_meta_get(&ipc_scratch_in, &meta_page) < 0)
		return -1;
	for (i = 0; i < meta_page.count; i++) {
		while (m->at < m->n && m->uids[m->at] < meta_page.m[i].uid)
			m->at++;
		if (m->at < m->n && m->uids[m->at] == meta_page.m[i].uid) {
			m->size[m->at] = meta_page.m[i].size;
			m->date[m->at] = meta_page.m[i].date;
		}
	}
	return 0;
}

int
imap_uids_to_set(const uint32_t *u, size_t n, size_t *from, struct store_uidset *set)
{
	set->n = 0;
	while (*from < n) {
		uint32_t v = u[*from];
		if (set->n > 0 && set->r[set->n - 1].hi + 1 == v) {
			set->r[set->n - 1].hi = v;
		} else {
			if (set->n == STORE_UIDSET_MAX)
				return 1;	/* more to send */
			set->r[set->n].lo = set->r[set->n].hi = v;
			set->n++;
		}
		(*from)++;
	}
	return 0;
}

/* size[] and date[] of uids[0..n) (ascending), 0 for any gone. */
void
imap_load_meta(struct imap *p, const uint32_t *uids, size_t n, uint64_t *size, int64_t *date)
{
	static struct store_uidset set;
	struct meta_ctx m = { uids, n, 0, size, date };
	size_t from = 0;

	memset(size, 0, n * sizeof(*size));
	memset(date, 0, n * sizeof(*date));
	while (from < n) {
		imap_uids_to_set(uids, n, &from, &set);
		storeimap_set_put(&ipc_scratch_out, MSG_STORE_IMAP_META, 0, NULL, set.r, set.n);
		imap_store_call(p, meta_data, &m);
		if (ipc_scratch_in.type != MSG_STORE_OK)
			fatal("reason=\"bad META reply from stored\"");
	}
}
