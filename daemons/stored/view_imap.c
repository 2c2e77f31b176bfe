/* view_imap.c - the IMAP view (storeimap.h): the selected folder.
 *
 * IMAP sessions hold the mailbox lock shared, so several can select the
 * INBOX at once while a POP3 session (exclusive) still excludes them all,
 * and they it.  Once open, stored watches new/ and cur/ of the selected
 * folder (of the INBOX before a SELECT) and pushes MSG_STORE_CHANGED.
 *
 * The worker keeps the view of the selected folder (UID, flags, MODSEQ by
 * sequence number); stored keeps its UIDs (view) and the HIGHESTMODSEQ
 * and UIDNEXT it last told, so that SYNC is one fstat pair and one read
 * transaction when nothing changed, and otherwise one walk of the
 * folder's records merged with the view.  Requests name messages by UID
 * sets; stored intersects them with the view, never expanding a range.
 * This file: OPEN, SELECT, UNSELECT, SYNC, META, MSGFD, STORE, EXPUNGE,
 * COPY and the table; view_imap_folders.c the folder requests, APPEND and
 * QUOTA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/quota.h"
#include "view_imap.h"

static struct view_imap imap;

int
imap_uids_push(struct mindex_uids *u, uint32_t v)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 256, bytes;
		uint32_t *p;
		if (__builtin_mul_overflow(cap, sizeof(*p), &bytes) || (p = realloc(u->v, bytes)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		u->v = p;
		u->cap = cap;
	}
	u->v[u->n++] = v;
	return 0;
}

static int
recs_push(struct imap_recs *r, const struct mindex_msg *m)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024, bytes;
		struct store_record *p;
		if (__builtin_mul_overflow(cap, sizeof(*p), &bytes) || (p = realloc(r->v, bytes)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		r->v = p;
		r->cap = cap;
	}
	r->v[r->n++] = (struct store_record){ .uid = m->uid, .flags = m->flags, .modseq = m->modseq };
	return 0;
}

static int
add_rec(void *ctx, const struct mindex_msg *m)
{
	return recs_push(ctx, m);
}

/* Every record of b, ascending, into m->rec. */
static int
load_records(struct view_imap *m, struct mindex_box *b)
{
	m->rec.n = 0;
	return mindex_each(b, add_rec, &m->rec);
}

int
imap_reply_errno(struct view_session *s, int e, const char *what)
{
	switch (e) {
	case ENOENT: case ELOOP: case ENOTDIR:
		view_reply_err(s, STORE_ERR_NOBOX, "no such folder");
		break;
	case EINVAL: case ENAMETOOLONG:
		view_reply_err(s, STORE_ERR_NAME, "not a valid folder name");
		break;
	case EEXIST:
		view_reply_err(s, STORE_ERR_EXISTS, "folder exists");
		break;
	case EPERM:
		view_reply_err(s, STORE_ERR_DENIED, "not allowed");
		break;
	case ENFILE: case ENOSPC:
		view_reply_err(s, STORE_ERR_LIMIT, "server limit reached");
		break;
	default:
		log_event(LOG_LEVEL_ERR, "imap_store", "op=%s errno=%d", what, e);
		view_reply_err(s, STORE_ERR_IO, "storage failure");
		break;
	}
	return 0;
}

/* The UIDs of the view inside set, ascending, into out (reset first):
 * one merge walk, never an expansion of a range. */
int
imap_set_uids(const struct view_imap *m, const struct store_uidset *set, struct mindex_uids *out)
{
	size_t i = 0;
	uint32_t j = 0;

	out->n = 0;
	while (i < m->view.n && j < set->n) {
		uint32_t u = m->view.v[i];
		if (u < set->r[j].lo)
			i++;
		else if (u > set->r[j].hi)
			j++;
		else if (imap_uids_push(out, u) < 0)
			return -1;
		else
			i++;
	}
	return 0;
}

/* Ranges of the ascending UIDs v[*pos..n), at most max, into r; *pos
 * moves past the UIDs taken.  Returns the number of ranges. */
static uint32_t
to_ranges(const uint32_t *v, size_t n, size_t *pos, struct store_range *r, uint32_t max)
{
	uint32_t k = 0;

	while (*pos < n) {
		uint32_t u = v[*pos];
		if (k > 0 && r[k - 1].hi + 1 == u && u != 0) {
			r[k - 1].hi = u;
		} else {
			if (k == max)
				break;
			r[k].lo = r[k].hi = u;
			k++;
		}
		(*pos)++;
	}
	return k;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* UIDSET pages of kind for the UIDs v[0..n) (sorted here). */
static void
send_uidset(struct view_session *s, uint8_t kind, uint32_t *v, size_t n)
{
	struct view_imap *m = s->imap;
	size_t pos = 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	while (pos < n) {
		uint32_t k = to_ranges(v, n, &pos, m->ranges, STORE_UIDSET_MAX);
		storeimap_uidset_put(s->out, kind, m->ranges, k);
		view_reply(s);
	}
}

static void
send_records(struct view_session *s, const struct store_record *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += STORE_RECORDS_PAGE) {
		size_t k = n - i < STORE_RECORDS_PAGE ? n - i : STORE_RECORDS_PAGE;
		storeimap_records_put(s->out, r + i, (uint32_t)k);
		view_reply(s);
	}
}

int
imap_send_keywords(struct view_session *s, struct mindex_box *b, int always)
{
	static struct store_keywords k;
	struct view_imap *m = s->imap;
	uint32_t mask = 0;
	unsigned i;

	k.count = 0;
	for (i = 0; i < STORE_KEYWORDS_MAX; i++) {
		if (mindex_keyword_name(b, i, k.name[k.count]) < 0) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		k.slot[k.count++] = (uint8_t)i;
		mask |= 1u << i;
	}
	if (!always && (mask & ~m->kw_told) == 0)
		return 0;
	m->kw_told = mask;
	storeimap_keywords_put(s->out, &k);
	view_reply(s);
	return 0;
}

/* Back to OPEN: the selection is dropped, nothing expunged. */
static void
deselect(struct view_session *s)
{
	struct view_imap *m = s->imap;

	mindex_box_close(m->box);
	m->box = NULL;
	m->dir[0] = '\0';
	m->view.n = 0;
	m->kw_told = 0;
	s->chan.phase = VIEW_PHASE_OPEN;
	/* changes of the INBOX again, as before the SELECT */
	if (s->watch_fd >= 0 && view_watch_dir(s, ".") < 0)
		log_event(LOG_LEVEL_WARN, "watch_failed", "errno=%d reason=\"no change notifications\"",
		    errno);
}

/* After one operation of ours that took HIGHESTMODSEQ + 1 (STORE,
 * EXPUNGE, MOVE): if nothing else happened since the worker's last look,
 * what it has now is the folder's state again, and SYNC stays cheap. */
static void
advance_seen(struct view_imap *m)
{
	struct mindex_status st;

	if (mindex_status(m->box, &st) == 0 && st.highestmodseq == m->seen_modseq + 1 &&
	    st.uidnext == m->seen_uidnext)
		m->seen_modseq = st.highestmodseq;
}

static void
prepare(struct view_session *s, int rootfd, const struct config *cfg)
{
	char err[256];

	imap.rootfd = rootfd;
	imap.sep = cfg->imap_separator[0] == '/' ? '/' : '.';
	imap.keywords = cfg->imap_keywords;
	imap.max_message = cfg->imap_max_message_size;
	if (mindex_open(&imap.mi, rootfd, s->e->host, err, sizeof(err)) < 0) {
		log_event(LOG_LEVEL_ERR, "index_open", "reason=\"%s\"", err);
		imap.mi = NULL;
	}
	s->imap = &imap;
	s->quiet_ms = cfg->imap_index_release_ms;
}

/* A quiet session: the index's pages go back to the page cache (a small
 * index is all mapped after one read: the kernel maps neighbours too). */
static void
quiet(struct view_session *s)
{
	if (s->imap->mi != NULL && mindex_release(s->imap->mi) < 0)
		log_event(LOG_LEVEL_WARN, "index_release", "errno=%d reason=\"madvise failed\"", errno);
}

static int
on_open(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;

	if (storeproto_open_get(in) < 0)
		return -1;
	if (s->imap->mi == NULL) {
		view_reply_err(s, STORE_ERR_IO, "cannot open the mail index");
		return 0;
	}
	if (engine_lock(s->e, ENGINE_LOCK_SHARED) < 0) {
		if (errno == EWOULDBLOCK) {
			log_event(LOG_LEVEL_INFO, "mailbox_in_use", "reason=\"a POP3 session holds the lock\"");
			view_reply_err(s, STORE_ERR_INUSE, "mailbox in use by a POP3 session");
		} else {
			view_reply_err(s, STORE_ERR_IO, "cannot open mailbox");
		}
		return 0;
	}
	if (view_watch(s) < 0)	/* the session works, without pushed changes */
		log_event(LOG_LEVEL_WARN, "watch_failed", "errno=%d reason=\"no change notifications\"",
		    errno);
	s->chan.phase = VIEW_PHASE_OPEN;
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

/* The status is read before the records: a change made by another session
 * in between shows in the records, not in st.  What the worker is told
 * covers the records (UIDNEXT above every UID, HIGHESTMODSEQ at least
 * every MODSEQ), while the numbers kept for the next SYNC stay st's, so
 * that SYNC looks again rather than miss that change. */
static void
cover_records(const struct store_record *r, size_t n, uint32_t *uidnext, uint64_t *hms)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i].uid >= *uidnext && r[i].uid < UINT32_MAX)
			*uidnext = r[i].uid + 1;
		if (r[i].modseq > *hms)
			*hms = r[i].modseq;
	}
}

/* The view of a SELECT: the folder's UID map, kept in the index for the
 * folder's numbers st, or made from one walk of its records (and kept for
 * the next SELECT when the walk saw the folder at st).  Fills m->map,
 * m->view and the SELECTED numbers. */
static int
select_view(struct view_imap *m, const struct mindex_status *st, struct store_selected *sel)
{
	uint64_t count = 0;
	size_t i;
	int rc;

	*sel = (struct store_selected){ .uidvalidity = st->uidvalidity, .uidnext = st->uidnext,
	    .highestmodseq = st->highestmodseq, .unseen = st->unseen,
	    .read_only = (uint8_t)m->read_only };
	if ((rc = mindex_uidmap_get(m->box, st, &m->map)) < 0)
		return -1;
	if (rc == 0) {
		uint32_t unseen = 0;
		if (load_records(m, m->box) < 0)
			return -1;
		m->map.n = 0;
		m->map.first_unseen = 0;
		for (i = 0; i < m->rec.n; i++) {
			if (mindex_uidmap_add(&m->map, m->rec.v[i].uid) < 0)
				return -1;
			if (!(m->rec.v[i].flags & MINDEX_SEEN) && unseen++ == 0)
				m->map.first_unseen = m->rec.v[i].uid;
		}
		sel->unseen = unseen;
		cover_records(m->rec.v, m->rec.n, &sel->uidnext, &sel->highestmodseq);
		/* kept only if the walk saw the folder as st describes it */
		if (sel->uidnext == st->uidnext && sel->highestmodseq == st->highestmodseq &&
		    m->rec.n == st->messages && unseen == st->unseen &&
		    mindex_uidmap_put(m->box, st, &m->map) < 0)
			log_event(LOG_LEVEL_WARN, "uidmap_put", "errno=%d reason=\"the next SELECT "
			    "walks the folder again\"", errno);
	}
	for (i = 0; i < m->map.n; i++)
		count += (uint64_t)m->map.r[i].hi - m->map.r[i].lo + 1;
	if (count > MINDEX_FOLDER_MAX) {
		errno = EIO;
		return -1;
	}
	m->view.n = 0;
	if (m->view.cap < count) {
		uint32_t *v = realloc(m->view.v, (size_t)count * sizeof(*v));
		if (v == NULL) {
			errno = ENOMEM;
			return -1;
		}
		m->view.v = v;
		m->view.cap = (size_t)count;
	}
	for (i = 0; i < m->map.n; i++) {
		uint32_t u = m->map.r[i].lo;
		for (;;) {
			m->view.v[m->view.n++] = u;
			if (u++ == m->map.r[i].hi)
				break;
		}
	}
	sel->messages = (uint32_t)m->view.n;
	sel->first_unseen = m->map.first_unseen;
	m->seen_modseq = st->highestmodseq;
	m->seen_uidnext = st->uidnext;
	return 0;
}

/* The view as UIDSET(VIEW) pages of m->map's ranges, VIEW_PAGE at a
 * time from the stack (m->ranges would be one more page of this static
 * touched by every session, for a folder that is usually one range). */
#define VIEW_PAGE	512
static void
send_view(struct view_session *s)
{
	struct view_imap *m = s->imap;
	struct store_range r[VIEW_PAGE];
	size_t i = 0;

	while (i < m->map.n) {
		uint32_t k = 0;
		for (; i < m->map.n && k < VIEW_PAGE; i++, k++)
			r[k] = (struct store_range){ m->map.r[i].lo, m->map.r[i].hi };
		storeimap_uidset_put(s->out, STORE_SET_VIEW, r, k);
		view_reply(s);
	}
}

static int
on_select(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct store_selected sel;
	struct mindex_status st;
	char dir[FOLDERS_NAME_MAX + 1];

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	/* RFC 9051 6.3.2: a failed SELECT leaves no folder selected */
	if (m->box != NULL)
		deselect(s);
	if (folders_to_dir(m->name.name, m->sep, dir) < 0)
		return imap_reply_errno(s, errno, "select");
	if (mindex_box_open(m->mi, dir, m->name.u8, &m->box) < 0) {
		m->box = NULL;
		return imap_reply_errno(s, errno, "select");
	}
	m->read_only = !m->name.u8;
	if (mindex_sync(m->box, NULL) < 0 || mindex_status(m->box, &st) < 0 ||
	    select_view(m, &st, &sel) < 0 ||
	    imap_send_keywords(s, m->box, 1) < 0) {
		int e = errno;
		deselect(s);
		return imap_reply_errno(s, e == ENOENT ? EIO : e, "select");
	}
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	send_view(s);
	if (view_watch_dir(s, dir) < 0)
		log_event(LOG_LEVEL_WARN, "watch_failed", "errno=%d reason=\"no change notifications\"",
		    errno);
	s->chan.phase = VIEW_PHASE_SELECTED;
	storeimap_selected_put(s->out, &sel);
	view_reply(s);
	return 0;
}

/* Sizes on disk of the UIDs in m->a (for the quota), into m->sizes. */
static int
disk_sizes(struct view_imap *m, struct mindex_box *b)
{
	struct mindex_msg msg;
	size_t i;

	if (m->sizes_cap < m->a.n) {
		uint64_t *p;
		size_t bytes;
		if (__builtin_mul_overflow(m->a.n, sizeof(*p), &bytes) ||
		    (p = realloc(m->sizes, bytes)) == NULL)
			return -1;
		m->sizes = p;
		m->sizes_cap = m->a.n;
	}
	for (i = 0; i < m->a.n; i++) {
		int rc = mindex_get(b, m->a.v[i], &msg);
		if (rc < 0)
			return -1;
		m->sizes[i] = rc == 1 ? imap_disk_size(&msg) : 0;
	}
	return 0;
}

/* The bytes of the UIDs done[0..n) (ascending, a subset of m->a). */
static uint64_t
sum_sizes(const struct view_imap *m, const uint32_t *done, size_t n)
{
	uint64_t bytes = 0;
	size_t i = 0, j;

	for (j = 0; j < n; j++) {
		while (i < m->a.n && m->a.v[i] < done[j])
			i++;
		if (i < m->a.n && m->a.v[i] == done[j])
			bytes += m->sizes[i];
	}
	return bytes;
}

/* Drop the ascending UIDs gone[0..n) from the view. */
static void
view_drop(struct view_imap *m, const uint32_t *gone, size_t n)
{
	size_t i, j = 0, k = 0;

	for (i = 0; i < m->view.n; i++) {
		while (j < n && gone[j] < m->view.v[i])
			j++;
		if (j < n && gone[j] == m->view.v[i])
			continue;
		m->view.v[k++] = m->view.v[i];
	}
	m->view.n = k;
}

static int
add_deleted(void *ctx, const struct mindex_msg *msg)
{
	return (msg->flags & MINDEX_DELETED) ? imap_uids_push(ctx, msg->uid) : 0;
}

/* Expunge the \Deleted messages of m->a (all: of the folder): UIDs gone
 * into m->b, ascending, dropped from the view, maildirsize updated.
 * Returns the count or -1. */
static int
expunge(struct view_imap *m, int all)
{
	int quota = imap_quota_active(m), n;

	if (all) {
		m->a.n = 0;
		if (quota && mindex_each(m->box, add_deleted, &m->a) < 0)
			return -1;
	}
	if (quota && disk_sizes(m, m->box) < 0)
		return -1;
	m->b.n = 0;
	n = mindex_expunge(m->box, all ? NULL : m->a.v, all ? 0 : m->a.n, &m->b);
	if (n < 0)
		return -1;
	qsort(m->b.v, m->b.n, sizeof(*m->b.v), cmp_u32);
	if (quota && m->b.n > 0 &&
	    quota_update(m->rootfd, -(int64_t)sum_sizes(m, m->b.v, m->b.n), -(int64_t)m->b.n) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	view_drop(m, m->b.v, m->b.n);
	if (n > 0)
		advance_seen(m);
	return n;
}

static int
on_unselect(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	int n = 0;

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	/* CLOSE (RFC 9051 6.4.1): expunge silently, unless read-only */
	if (m->name.u8 && !m->read_only && (n = expunge(m, 1)) < 0) {
		int e = errno;
		deselect(s);
		return imap_reply_errno(s, e, "close");
	}
	deselect(s);
	storeproto_ok_put(s->out, (uint64_t)n);
	view_reply(s);
	return 0;
}

/* The records that changed since the worker's last look (new UIDs, or
 * MODSEQ above it) compacted to the front of m->rec; the UIDs gone into
 * m->a; the view replaced by the folder's UIDs.  Returns the number of
 * changed records, or -1. */
static int
diff_view(struct view_imap *m)
{
	size_t i = 0, j, k = 0;

	m->a.n = m->b.n = 0;
	for (j = 0; j < m->rec.n; j++) {
		struct store_record r = m->rec.v[j];
		int known = 0;
		while (i < m->view.n && m->view.v[i] < r.uid)
			if (imap_uids_push(&m->a, m->view.v[i++]) < 0)
				return -1;
		if (i < m->view.n && m->view.v[i] == r.uid) {
			known = 1;
			i++;
		}
		if (imap_uids_push(&m->b, r.uid) < 0)
			return -1;
		if (!known || r.modseq > m->seen_modseq)
			m->rec.v[k++] = r;
	}
	for (; i < m->view.n; i++)
		if (imap_uids_push(&m->a, m->view.v[i]) < 0)
			return -1;
	{
		struct mindex_uids t = m->view;
		m->view = m->b;
		m->b = t;
	}
	return (int)k;
}

static int
on_sync(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct mindex_status st;
	uint32_t uidnext;
	uint64_t hms;
	int k;

	if (storeimap_empty_get(in) < 0)
		return -1;
	if (mindex_sync(m->box, NULL) < 0 || mindex_status(m->box, &st) < 0)
		return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "sync");
	uidnext = st.uidnext;
	hms = st.highestmodseq;
	if (st.highestmodseq != m->seen_modseq || st.uidnext != m->seen_uidnext) {
		if (load_records(m, m->box) < 0 || (k = diff_view(m)) < 0)
			return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "sync");
		send_uidset(s, STORE_SET_EXPUNGED, m->a.v, m->a.n);
		send_records(s, m->rec.v, (size_t)k);
		if (imap_send_keywords(s, m->box, 0) < 0)
			return imap_reply_errno(s, EIO, "sync");
		cover_records(m->rec.v, (size_t)k, &uidnext, &hms);
		m->seen_modseq = st.highestmodseq;
		m->seen_uidnext = st.uidnext;
	}
	storeimap_pair_put(s->out, MSG_STORE_SYNCED, uidnext, (uint32_t)m->view.n, hms);
	view_reply(s);
	return 0;
}

static int
on_meta(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct mindex_msg msg;
	uint32_t k = 0;
	uint64_t total = 0;
	uint8_t u8;
	char name[STORE_NAME_MAX + 1];
	size_t i;

	if (storeimap_set_get(in, &u8, name, &m->set) < 0)
		return -1;
	if (imap_set_uids(m, &m->set, &m->a) < 0)
		return imap_reply_errno(s, errno, "meta");
	for (i = 0; i < m->a.n; i++) {
		int rc = mindex_get(m->box, m->a.v[i], &msg);
		if (rc < 0)
			return imap_reply_errno(s, EIO, "meta");
		if (rc == 0)
			continue;	/* expunged by another session: the next SYNC says so */
		m->meta[k++] = (struct store_meta_rec){ .uid = msg.uid, .flags = msg.flags,
		    .modseq = msg.modseq, .size = msg.size, .date = msg.date };
		total++;
		if (k == STORE_META_PAGE) {
			storeimap_meta_put(s->out, m->meta, k);
			view_reply(s);
			k = 0;
		}
	}
	if (k > 0) {
		storeimap_meta_put(s->out, m->meta, k);
		view_reply(s);
	}
	storeproto_ok_put(s->out, total);
	view_reply(s);
	return 0;
}

static int
on_msgfd(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct mindex_msg msg;
	uint32_t uid;
	int rc, fd;

	if (storeimap_uid_get(in, &uid) < 0)
		return -1;
	if ((rc = mindex_get(m->box, uid, &msg)) < 0)
		return imap_reply_errno(s, EIO, "msgfd");
	if (rc == 0) {
		view_reply_err(s, STORE_ERR_NOMSG, "no such message");
		return 0;
	}
	if ((fd = mindex_open_msg(m->box, uid)) < 0) {
		if (errno == ENOENT) {
			view_reply_err(s, STORE_ERR_GONE, "message no longer available");
			return 0;
		}
		log_event(LOG_LEVEL_ERR, "message_unreadable", "uid=%u errno=%d", uid, errno);
		view_reply_err(s, STORE_ERR_IO, "message cannot be read");
		return 0;
	}
	storeproto_msgfd_put(s->out, msg.size, fd);
	view_reply(s);
	close(fd);
	return 0;
}

/* The flag bits of the keywords named in k, made when the config allows.
 * Returns 0, or -1 after answering (LIMIT: a 27th keyword; DENIED: new
 * keywords are off). */
int
imap_keyword_bits(struct view_session *s, struct mindex_box *b, const struct store_kwlist *k,
    uint32_t *bits_r)
{
	uint8_t i;

	*bits_r = 0;
	for (i = 0; i < k->count; i++) {
		uint32_t bit;
		if (mindex_keyword(b, k->name[i], s->imap->keywords, &bit) == 0) {
			*bits_r |= bit;
			continue;
		}
		if (errno == ENOSPC)
			view_reply_err(s, STORE_ERR_LIMIT, "too many keywords in this folder");
		else if (errno == ENOENT)
			view_reply_err(s, STORE_ERR_DENIED, "new keywords are not allowed");
		else if (errno == EINVAL)
			view_reply_err(s, STORE_ERR_PROTO, "not a keyword");
		else
			imap_reply_errno(s, EIO, "keyword");
		return -1;
	}
	return 0;
}

/* A message the STORE changed, for its RECORDS (MODSEQ set after). */
static int
add_stored(void *ctx, uint32_t uid, uint32_t flags)
{
	struct mindex_msg m = { .uid = uid, .flags = flags };

	return recs_push(ctx, &m);
}

static int
on_store(void *ctx, struct ipc_in *in)
{
	static const enum mindex_store_mode modes[] = { [STORE_MODE_SET] = MINDEX_STORE_SET,
	    [STORE_MODE_ADD] = MINDEX_STORE_ADD, [STORE_MODE_REMOVE] = MINDEX_STORE_REMOVE };
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct store_req_store *r = &m->store;
	struct mindex_status st;
	uint64_t modseq = 0;
	uint32_t kw;
	size_t i;
	int n, pause;

	if (storeimap_store_get(in, r) < 0)
		return -1;
	if (m->read_only) {
		view_reply_err(s, STORE_ERR_DENIED, "folder is read-only");
		return 0;
	}
	if (imap_keyword_bits(s, m->box, &r->kw, &kw) < 0)
		return 0;
	if (imap_set_uids(m, &r->set, &m->a) < 0)
		return imap_reply_errno(s, errno, "store");
	m->b.n = 0;
	m->rec.n = 0;
	pause = m->a.n >= IMAP_PAUSE_WATCH;
	if (pause)
		view_watch_pause(s);
	n = mindex_store_each(m->box, m->a.v, m->a.n, modes[r->mode], r->flags | kw,
	    r->unchangedsince, &m->b, &modseq, add_stored, &m->rec);
	if (pause)
		view_watch_resume(s, m->dir);
	if (n < 0)
		return imap_reply_errno(s, EIO, "store");
	for (i = 0; i < m->rec.n; i++)
		m->rec.v[i].modseq = modseq;
	send_records(s, m->rec.v, m->rec.n);
	send_uidset(s, STORE_SET_MODIFIED, m->b.v, m->b.n);
	if (imap_send_keywords(s, m->box, 0) < 0 || mindex_status(m->box, &st) < 0)
		return imap_reply_errno(s, EIO, "store");
	if (n > 0)
		advance_seen(m);
	storeimap_pair_put(s->out, MSG_STORE_STORED, (uint32_t)n, 0, st.highestmodseq);
	view_reply(s);
	return 0;
}

static int
on_expunge(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct mindex_status st;
	char name[STORE_NAME_MAX + 1];
	uint8_t all;
	int n, pause;

	if (storeimap_set_get(in, &all, name, &m->set) < 0)
		return -1;
	if (m->read_only) {
		view_reply_err(s, STORE_ERR_DENIED, "folder is read-only");
		return 0;
	}
	if (!all && imap_set_uids(m, &m->set, &m->a) < 0)
		return imap_reply_errno(s, errno, "expunge");
	pause = all ? mindex_status(m->box, &st) == 0 && st.deleted >= IMAP_PAUSE_WATCH :
	    m->a.n >= IMAP_PAUSE_WATCH;
	if (pause)
		view_watch_pause(s);
	n = expunge(m, all);
	if (pause)
		view_watch_resume(s, m->dir);
	if (n < 0)
		return imap_reply_errno(s, EIO, "expunge");
	send_uidset(s, STORE_SET_EXPUNGED, m->b.v, m->b.n);
	storeproto_ok_put(s->out, (uint64_t)n);
	view_reply(s);
	return 0;
}

/* Extend r[0..*k) by u (ascending): 0, or -1 if that needs a range
 * past max. */
static int
range_add(struct store_range *r, uint32_t *k, uint32_t u, uint32_t max)
{
	if (*k > 0 && r[*k - 1].hi + 1 == u && u != 0) {
		r[*k - 1].hi = u;
		return 0;
	}
	if (*k == max)
		return -1;
	r[*k].lo = r[*k].hi = u;
	(*k)++;
	return 0;
}

/* COPYUID (RFC 4315): SRC and DST pages in turns, each pair covering the
 * same messages in the same order, so that the worker pairs them. */
static void
send_copyuid(struct view_session *s, const struct mindex_uids *src, const struct mindex_uids *dst)
{
	struct view_imap *m = s->imap;
	size_t i = 0;

	while (i < src->n) {
		uint32_t ks = 0, kd = 0;
		for (; i < src->n; i++) {
			uint32_t ks0 = ks, kd0 = kd;
			struct store_range ls = ks ? m->ranges[ks - 1] : (struct store_range){ 0, 0 };
			if (range_add(m->ranges, &ks, src->v[i], STORE_UIDSET_MAX) < 0)
				break;
			if (range_add(m->ranges2, &kd, dst->v[i], STORE_UIDSET_MAX) < 0) {
				ks = ks0;	/* undo the SRC half of the pair */
				if (ks > 0)
					m->ranges[ks - 1] = ls;
				kd = kd0;
				break;
			}
		}
		storeimap_uidset_put(s->out, STORE_SET_COPY_SRC, m->ranges, ks);
		view_reply(s);
		storeimap_uidset_put(s->out, STORE_SET_COPY_DST, m->ranges2, kd);
		view_reply(s);
	}
}

/* Whether the COPY of m->a into dir may go ahead: not a MOVE into the
 * folder itself (RFC 6851 3.3 leaves it to the server), within the quota
 * (*quota_r: maildirsize is to be updated, with m->sizes filled).
 * Returns 0, or -1 after answering. */
static int
copy_allowed(struct view_session *s, const char *dir, int move, int *quota_r)
{
	struct view_imap *m = s->imap;

	if (move && strcmp(dir, m->dir) == 0) {
		view_reply_err(s, STORE_ERR_DENIED, "cannot move into the same folder");
		return -1;
	}
	/* a MOVE keeps the usage; Trash is not counted unless
	 * quota_count_trash (quota.h) */
	*quota_r = !move && imap_quota_active(m) && quota_counts_folder(dir);
	if (*quota_r && disk_sizes(m, m->box) < 0) {
		imap_reply_errno(s, EIO, "copy");
		return -1;
	}
	if (*quota_r && imap_quota_check(m, sum_sizes(m, m->a.v, m->a.n), m->a.n, "copy") < 0) {
		view_reply_err(s, STORE_ERR_QUOTA, "over quota");
		return -1;
	}
	return 0;
}

static int
on_copy(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct mindex_box *dst;
	struct mindex_status st;
	char name[STORE_NAME_MAX + 1], dir[FOLDERS_NAME_MAX + 1];
	uint8_t move;
	int n, quota, e;

	if (storeimap_set_get(in, &move, name, &m->set) < 0)
		return -1;
	if (move && m->read_only) {
		view_reply_err(s, STORE_ERR_DENIED, "folder is read-only");
		return 0;
	}
	if (imap_box_open(s, name, &dst) < 0)
		return 0;
	(void)folders_to_dir(name, m->sep, dir);	/* it opened: the name is valid */
	if (imap_set_uids(m, &m->set, &m->a) < 0) {
		mindex_box_close(dst);
		return imap_reply_errno(s, ENOMEM, "copy");
	}
	if (copy_allowed(s, dir, move, &quota) < 0) {
		mindex_box_close(dst);
		return 0;
	}
	m->b.n = m->c.n = 0;
	n = mindex_copy(m->box, dst, m->a.v, m->a.n, move, &m->b, &m->c);
	e = errno;
	if (n < 0 || mindex_status(dst, &st) < 0) {
		mindex_box_close(dst);
		return imap_reply_errno(s, n < 0 ? e : EIO, "copy");
	}
	mindex_box_close(dst);
	if (quota && n > 0 && quota_update(m->rootfd, (int64_t)sum_sizes(m, m->b.v, m->b.n), n) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	if (move && n > 0) {
		/* the sources, ascending (the order of the view): sorting keeps
		 * them paired with m->c */
		send_uidset(s, STORE_SET_EXPUNGED, m->b.v, m->b.n);
		view_drop(m, m->b.v, m->b.n);
		advance_seen(m);
	}
	send_copyuid(s, &m->b, &m->c);
	storeimap_pair_put(s->out, MSG_STORE_COPIED, st.uidvalidity, (uint32_t)n, 0);
	view_reply(s);
	return 0;
}

/* FLAGS: the flags and MODSEQs of the view's messages, which SELECT no
 * longer carries: RECORDS pages of those still in the folder (one walk). */
static int
on_flags(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	size_t i = 0, j, k = 0;

	if (storeimap_empty_get(in) < 0)
		return -1;
	if (load_records(m, m->box) < 0)
		return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "flags");
	for (j = 0; j < m->rec.n; j++) {	/* the view's, compacted to the front */
		while (i < m->view.n && m->view.v[i] < m->rec.v[j].uid)
			i++;
		if (i < m->view.n && m->view.v[i] == m->rec.v[j].uid)
			m->rec.v[k++] = m->rec.v[j];
	}
	send_records(s, m->rec.v, k);
	storeproto_ok_put(s->out, (uint64_t)k);
	view_reply(s);
	return 0;
}

/* LOGOUT: the selection and the mailbox lock go before the reply, which
 * the worker awaits before its tagged OK, so that a POP3 login right after
 * that OK finds the mailbox free (the process exits only later, at EOF). */
static int
on_logout(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;

	if (storeimap_empty_get(in) < 0)
		return -1;
	if (s->imap->box != NULL)
		deselect(s);
	view_unwatch(s);
	engine_unlock(s->e);
	s->chan.phase = VIEW_PHASE_DONE;
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

static const struct ipc_handler imap_requests[] = {
	{ .type = MSG_STORE_IMAP_OPEN, .phases = VIEW_PHASE_IDLE, .fn = on_open },
	{ .type = MSG_STORE_IMAP_LIST, .phases = IMAP_ANY, .fn = imap_on_list },
	{ .type = MSG_STORE_IMAP_SELECT, .phases = IMAP_ANY, .fn = on_select },
	{ .type = MSG_STORE_IMAP_UNSELECT, .phases = IMAP_SEL, .fn = on_unselect },
	{ .type = MSG_STORE_IMAP_SYNC, .phases = IMAP_SEL, .fn = on_sync },
	{ .type = MSG_STORE_IMAP_META, .phases = IMAP_SEL, .fn = on_meta },
	{ .type = MSG_STORE_IMAP_MSGFD, .phases = IMAP_SEL, .fn = on_msgfd },
	{ .type = MSG_STORE_IMAP_STRUCTS, .phases = IMAP_SEL, .fn = imap_on_structs },
	{ .type = MSG_STORE_IMAP_STORE, .phases = IMAP_SEL, .fn = on_store },
	{ .type = MSG_STORE_IMAP_EXPUNGE, .phases = IMAP_SEL, .fn = on_expunge },
	{ .type = MSG_STORE_IMAP_COPY, .phases = IMAP_SEL, .fn = on_copy },
	{ .type = MSG_STORE_IMAP_APPEND, .with_fd = 1, .phases = IMAP_ANY, .fn = imap_on_append },
	{ .type = MSG_STORE_IMAP_APPEND_PART, .with_fd = 1, .phases = IMAP_ANY,
	  .fn = imap_on_append },
	{ .type = MSG_STORE_IMAP_STATUS, .phases = IMAP_ANY, .fn = imap_on_status },
	{ .type = MSG_STORE_IMAP_CREATE, .phases = IMAP_ANY, .fn = imap_on_create },
	{ .type = MSG_STORE_IMAP_DELETE, .phases = IMAP_ANY, .fn = imap_on_delete },
	{ .type = MSG_STORE_IMAP_RENAME, .phases = IMAP_ANY, .fn = imap_on_rename },
	{ .type = MSG_STORE_IMAP_SUBSCRIBE, .phases = IMAP_ANY, .fn = imap_on_subscribe },
	{ .type = MSG_STORE_IMAP_QUOTA, .phases = IMAP_ANY, .fn = imap_on_quota },
	{ .type = MSG_STORE_IMAP_FLAGS, .phases = IMAP_SEL, .fn = on_flags },
	{ .type = MSG_STORE_IMAP_LOGOUT, .phases = IMAP_ANY, .fn = on_logout },
};

const struct view view_imap = {
	.name = "imap",
	.filter = POLICY_STORED_IMAP,
	.req = imap_requests,
	.nreq = sizeof(imap_requests) / sizeof(imap_requests[0]),
	.prepare = prepare,
	.quiet = quiet,
};
