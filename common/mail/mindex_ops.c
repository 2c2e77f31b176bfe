/* mindex_ops.c - the operations that change a Maildir: STORE, EXPUNGE,
 * COPY/MOVE and APPEND.  Each holds one write transaction from before it
 * reads the index to after the file system changes, changes the files
 * first and commits last (the argument is in mindex.h). */
#include "mindex_int.h"
#include "../base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One folder inside an operation: its record, and whether its directory
 * mtimes were those of the last scan before we changed anything (then the
 * mtimes after our change may be recorded: nothing else was missed). */
struct op {
	struct rec_folder f;
	int clean;
	int changed;
	uint64_t modseq;	/* the MODSEQ this operation gives */
};

static int
op_load(struct mi_txn *x, struct mindex_box *b, struct op *o)
{
	int64_t mt[4];
	int rc = mi_folder_get(x, b->dir, &o->f);

	if (rc <= 0 || o->f.id != b->id) {
		mi_abort(x);
		errno = rc < 0 ? EIO : ENOENT;
		return -1;
	}
	o->clean = mi_stat_dirs(b, mt) == 0 && memcmp(mt, o->f.mtime, sizeof(mt)) == 0;
	o->changed = 0;
	o->modseq = o->f.highestmodseq + 1;
	return 0;
}

static int
op_save(struct mi_txn *x, struct mindex_box *b, struct op *o)
{
	if (!o->changed)
		return 0;
	o->f.highestmodseq = o->modseq;
	if (o->clean && mi_stat_dirs(b, o->f.mtime) < 0)
		o->f.mtime[0] = -1;
	return mi_folder_put(x, b->dir, &o->f);
}

static int
begin(struct mindex_box *b, struct mi_txn *x, struct op *o)
{
	if (mi_begin(b->mi, 0, x) < 0)
		return -1;
	return op_load(x, b, o);
}

static int
finish(struct mindex_box *b, struct mi_txn *x, struct op *o)
{
	if (op_save(x, b, o) < 0)
		return -1;
	return mi_commit(x);
}

/* The directory fd a message's file is in. */
static int
dir_of(const struct mindex_box *b, const struct mindex_msg *m)
{
	return m->in_new ? b->newfd : b->curfd;
}

/* --- STORE ---------------------------------------------------------------- */

static uint32_t
new_flags(enum mindex_store_mode mode, uint32_t old, uint32_t flags)
{
	if (mode == MINDEX_STORE_ADD)
		return old | flags;
	if (mode == MINDEX_STORE_REMOVE)
		return old & ~flags;
	return flags;
}

/* Rename m's file for flags nf into cur/ and update the record. 0 done,
 * 1 file gone (left to the next sync), -1 error. */
static int
store_one(struct mindex_box *b, struct mi_txn *x, struct op *o, struct mindex_msg *m, uint32_t nf,
    MDB_cursor *c)
{
	char to[MAILDIR_NAME_MAX + 1];

	if (mi_name_with(m->name, nf, to) < 0)
		return 1;
	if (renameat(dir_of(b, m), m->name, b->curfd, to) < 0) {
		if (errno != ENOENT)
			return mi_fail(x, 0);
		o->clean = 0;
		return 1;
	}
	mi_count(&o->f, m, -1);
	m->flags = nf;
	m->modseq = o->modseq;
	m->in_new = 0;
	memcpy(m->name, to, sizeof(to));
	mi_count(&o->f, m, 1);
	o->changed = 1;
	return mi_msg_put(x, b->id, m, c, NULL);
}

int
mindex_store(struct mindex_box *b, const uint32_t *uids, size_t n, enum mindex_store_mode mode,
    uint32_t flags, uint64_t unchangedsince, struct mindex_uids *failed_r, uint64_t *modseq_r)
{
	return mindex_store_each(b, uids, n, mode, flags, unchangedsince, failed_r, modseq_r, NULL,
	    NULL);
}

int
mindex_store_each(struct mindex_box *b, const uint32_t *uids, size_t n,
    enum mindex_store_mode mode, uint32_t flags, uint64_t unchangedsince,
    struct mindex_uids *failed_r, uint64_t *modseq_r,
    int (*changed)(void *ctx, uint32_t uid, uint32_t flags), void *ctx)
{
	struct mindex_msg m;
	struct mi_txn x;
	struct op o;
	MDB_cursor *c;
	size_t i;
	int done = 0, rc;

	if (begin(b, &x, &o) < 0)
		return -1;
	/* one cursor for the gets and puts (a write transaction's cursors go
	 * with it: never closed here) */
	if ((rc = mdb_cursor_open(x.t, x.d[DBI_MSGS], &c)) != 0)
		return mi_fail(&x, rc);
	for (i = 0; i < n; i++) {
		uint32_t nf;
		if ((rc = mi_msg_seek(&x, c, b->id, uids[i], &m)) < 0)
			return mi_fail(&x, 0);
		if (rc == 0)
			continue;
		nf = new_flags(mode, m.flags, flags);
		if (unchangedsince != UINT64_MAX && m.modseq > unchangedsince) {
			/* RFC 7162 3.1.3: fails the test, left alone, reported */
			if (failed_r == NULL || mi_uids_add(failed_r, m.uid) < 0)
				return mi_fail(&x, 0);
			continue;
		}
		if (nf == m.flags)
			continue;
		if ((rc = store_one(b, &x, &o, &m, nf, c)) < 0)
			return -1;
		if (rc == 0 && changed != NULL && changed(ctx, m.uid, nf) < 0) {
			errno = ENOMEM;
			return mi_fail(&x, 0);
		}
		done += rc == 0;
	}
	if (finish(b, &x, &o) < 0)
		return -1;
	if (modseq_r != NULL)
		*modseq_r = o.f.highestmodseq;
	return done;
}

/* --- EXPUNGE -------------------------------------------------------------- */

/* The UIDs of every \Deleted message of b. */
static int
deleted_uids(struct mindex_box *b, struct mi_txn *x, struct mindex_uids *out)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	struct rec_msg r;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(x->t, x->d[DBI_MSGS], &c)) != 0)
		return mi_fail(x, rc);
	mi_msg_key(kb, b->id, 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || mi_be32(k.mv_data) != b->id)
			break;
		memcpy(&r, v.mv_data, sizeof(r));
		if ((r.flags & MINDEX_DELETED) && mi_uids_add(out, mi_be32((const uint8_t *)k.mv_data + 4)) < 0) {
			rc = ENOMEM;
			break;
		}
	}
	mdb_cursor_close(c);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : mi_fail(x, rc);
}

int
mindex_expunge(struct mindex_box *b, const uint32_t *uids, size_t n, struct mindex_uids *expunged_r)
{
	struct mindex_uids all = { 0 };
	struct mindex_msg m;
	struct mi_txn x;
	struct op o;
	size_t i;
	int done = 0, rc = 0;

	if (begin(b, &x, &o) < 0)
		return -1;
	if (uids == NULL) {
		if (deleted_uids(b, &x, &all) < 0)
			goto fail;
		uids = all.v;
		n = all.n;
	}
	for (i = 0; i < n; i++) {
		if ((rc = mi_msg_get(&x, b->id, uids[i], &m)) < 0)
			goto fail;
		if (rc == 0 || !(m.flags & MINDEX_DELETED))
			continue;
		if (unlinkat(dir_of(b, &m), m.name, 0) < 0 && errno != ENOENT)
			goto fail;
		mi_count(&o.f, &m, -1);
		o.changed = 1;
		if (mi_msg_del(&x, b->id, &m) < 0 || (expunged_r != NULL && mi_uids_add(expunged_r, m.uid) < 0))
			goto fail;
		done++;
	}
	mindex_uids_free(&all);
	return finish(b, &x, &o) < 0 ? -1 : done;
fail:
	mindex_uids_free(&all);
	if (x.t != NULL)
		mi_abort(&x);
	return -1;
}

/* --- COPY and MOVE -------------------------------------------------------- */

/* Keyword bits of src's table as bits of dst's (names added to dst as
 * needed; a keyword without a name, or with no slot left, is dropped). */
static uint32_t
remap(uint32_t flags, const struct rec_folder *src, struct rec_folder *dst)
{
	uint32_t out = flags & MINDEX_SYSTEM_FLAGS;
	int i, j, slot;

	if (src == dst)
		return flags;
	for (i = 0; i < MINDEX_KEYWORDS; i++) {
		if (!(flags & (MINDEX_KEYWORD0 << i)) || src->kw[i][0] == '\0')
			continue;
		for (j = 0, slot = -1; j < MINDEX_KEYWORDS; j++) {
			if (strcasecmp(dst->kw[j], src->kw[i]) == 0) {
				slot = j;
				break;
			}
			if (dst->kw[j][0] == '\0' && slot < 0)
				slot = j;
		}
		if (slot < 0)
			continue;
		if (dst->kw[slot][0] == '\0')
			memcpy(dst->kw[slot], src->kw[i], sizeof(dst->kw[slot]));
		out |= MINDEX_KEYWORD0 << slot;
	}
	return out;
}

/* A fresh base name for a copy that cannot keep its own, with the S= of
 * the original and the W= (RFC822.SIZE) of the record. */
static void
fresh_base(const struct mindex_box *b, const struct mindex_msg *m, char out[MAILDIR_NAME_MAX + 1])
{
	static unsigned counter;
	struct maildir_name mn;
	struct timespec ts;
	char s[32] = "";

	clock_gettime(CLOCK_REALTIME, &ts);
	if (maildir_parse_name(m->name, strlen(m->name), &mn) == 0 && mn.has_size)
		snprintf(s, sizeof(s), ",S=%llu", (unsigned long long)mn.size);
	snprintf(out, MAILDIR_NAME_MAX + 1, "%lld.M%ldP%ldC%u.%s%s,W=%llu", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), ++counter, b->mi->host, s, (unsigned long long)m->size);
}

/* Copy the bytes of src's file into dst's cur/ (link and rename refused:
 * another file system).  The name is made by maildir_deliver. */
static int
copy_bytes(struct mindex_box *src, struct mindex_box *dst, const struct mindex_msg *m, uint32_t nf,
    char to[MAILDIR_NAME_MAX + 1])
{
	char dn[MAILDIR_NAME_MAX + 1];
	int fd = openat(dir_of(src, m), m->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = maildir_deliver(dst->dirfd, fd, UINT64_MAX, src->mi->host, dn);
	close(fd);
	if (rc < 0)
		return -1;
	if (mi_name_with(dn, nf, to) < 0 || renameat(dst->newfd, dn, dst->curfd, to) < 0) {
		unlinkat(dst->newfd, dn, 0);
		return -1;
	}
	return 0;
}

/* Put m's file into dst's cur/ under base with flags nf (the name into
 * to): a link (COPY) or a rename (MOVE), else a copy of the bytes.
 * 0, 1 source gone, -1 error. */
static int
place(struct mindex_box *src, struct mindex_box *dst, const struct mindex_msg *m, char *base,
    int move, uint32_t nf, char to[MAILDIR_NAME_MAX + 1])
{
	int rc, tries;

	for (tries = 0; tries < 2; tries++) {
		if (mi_name_with(base, nf, to) < 0)
			return -1;
		rc = move ? util_rename_noreplace(dir_of(src, m), m->name, dst->curfd, to)
		    : linkat(dir_of(src, m), m->name, dst->curfd, to, 0);
		if (rc == 0)
			return 0;
		if (errno == ENOENT)
			return 1;
		if (errno != EEXIST)
			break;
		fresh_base(src, m, base);	/* a file of that name is in dst/cur already */
	}
	if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
		return -1;
	if (copy_bytes(src, dst, m, nf, to) < 0)
		return -1;
	return move && unlinkat(dir_of(src, m), m->name, 0) < 0 && errno != ENOENT ? -1 : 0;
}

/* 1 if dst's index holds m's base name already (a copy into the same
 * folder, or the same message copied twice). */
static int
name_taken(struct mi_txn *x, uint32_t id, const char *name)
{
	uint8_t kb[4 + MAILDIR_NAME_MAX];
	size_t bl = mi_base_len(name, strlen(name));
	MDB_val k = { 4 + bl, kb }, v;

	mi_msg_key(kb, id, 0);
	memcpy(kb + 4, name, bl);
	return mdb_get(x->t, x->d[DBI_NAMES], &k, &v) == 0;
}

struct copy {
	struct mindex_box *src, *dst;
	struct op os, odst;
	struct op *od;		/* &os for a copy into the same folder */
	int move;
	struct mindex_uids *src_r, *dst_r;
};

/* One message: 0 copied, 1 source gone, -1 error (transaction ended). */
static int
copy_one(struct copy *c, struct mi_txn *x, const struct mindex_msg *m)
{
	char base[MAILDIR_NAME_MAX + 1];
	struct mindex_msg d = *m;
	int rc;

	d.flags = remap(m->flags, &c->os.f, &c->od->f);
	if (name_taken(x, c->dst->id, m->name))
		fresh_base(c->src, m, base);
	else
		snprintf(base, sizeof(base), "%.*s", (int)mi_base_len(m->name, strlen(m->name)), m->name);
	if ((rc = place(c->src, c->dst, m, base, c->move, d.flags, d.name)) != 0)
		return rc < 0 ? mi_fail(x, 0) : 1;
	d.uid = c->od->f.uidnext++;
	d.modseq = c->od->modseq;
	d.in_new = 0;
	mi_count(&c->od->f, &d, 1);
	c->od->changed = 1;
	if (mi_msg_add(x, c->dst->id, &d) < 0)
		return -1;
	if (c->move) {
		mi_count(&c->os.f, m, -1);
		c->os.changed = 1;
		if (mi_msg_del(x, c->src->id, m) < 0)
			return -1;
	}
	if ((c->src_r != NULL && mi_uids_add(c->src_r, m->uid) < 0) ||
	    (c->dst_r != NULL && mi_uids_add(c->dst_r, d.uid) < 0))
		return mi_fail(x, 0);
	return 0;
}

int
mindex_copy(struct mindex_box *src, struct mindex_box *dst, const uint32_t *uids, size_t n,
    int move, struct mindex_uids *src_r, struct mindex_uids *dst_r)
{
	struct copy c = { .src = src, .dst = dst, .move = move, .src_r = src_r, .dst_r = dst_r };
	struct mindex_msg m;
	struct mi_txn x;
	size_t i;
	int done = 0, rc;

	if (src->mi != dst->mi || (move && src->id == dst->id)) {
		errno = EINVAL;
		return -1;
	}
	if (begin(src, &x, &c.os) < 0)
		return -1;
	c.od = src->id == dst->id ? &c.os : &c.odst;
	if (c.od != &c.os && op_load(&x, dst, c.od) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((rc = mi_msg_get(&x, src->id, uids[i], &m)) < 0)
			return mi_fail(&x, 0);
		if (rc == 1 && (rc = copy_one(&c, &x, &m)) < 0)
			return -1;
		done += rc == 0;
	}
	/* the links are durable before the index says they exist */
	if (done > 0 && fsync(dst->curfd) < 0)
		return mi_fail(&x, 0);
	if (op_save(&x, src, &c.os) < 0 || (c.od != &c.os && op_save(&x, dst, c.od) < 0))
		return -1;
	return mi_commit(&x) < 0 ? -1 : done;
}

/* --- APPEND ----------------------------------------------------------------- */

/* Deliver into new/, date it, rename into cur/ with flags (name into to). */
static int
append_file(struct mindex_box *b, int fd, uint64_t max, uint32_t flags, int64_t date,
    char to[MAILDIR_NAME_MAX + 1])
{
	char dn[MAILDIR_NAME_MAX + 1];
	struct timespec ts[2];
	int e;

	if (maildir_deliver(b->dirfd, fd, max, b->mi->host, dn) < 0)
		return -1;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)date;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if ((date > 0 && utimensat(b->newfd, dn, ts, AT_SYMLINK_NOFOLLOW) < 0) ||
	    mi_name_with(dn, flags, to) < 0 || renameat(b->newfd, dn, b->curfd, to) < 0) {
		e = errno;
		unlinkat(b->newfd, dn, 0);
		errno = e;
		return -1;
	}
	if (fsync(b->curfd) < 0) {
		e = errno;
		unlinkat(b->curfd, to, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int
mindex_append_many(struct mindex_box *b, const struct mindex_append_msg *msgs, size_t n,
    uint32_t *last_uid_r)
{
	struct maildir_name mn;
	struct mindex_msg m;
	struct mi_txn x;
	struct op o;
	char (*names)[MAILDIR_NAME_MAX + 1];
	size_t i, placed = 0;
	int e;

	if (n == 0 || (names = calloc(n, sizeof(*names))) == NULL)
		return -1;
	/* the transaction first: no other session's sync may adopt a file
	 * between its delivery and its record */
	if (begin(b, &x, &o) < 0) {
		free(names);
		return -1;
	}
	for (; placed < n; placed++)
		if (append_file(b, msgs[placed].fd, msgs[placed].max, msgs[placed].flags,
		    msgs[placed].date, names[placed]) < 0 ||
		    maildir_parse_name(names[placed], strlen(names[placed]), &mn) < 0)
			goto fail;
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		memcpy(m.name, names[i], sizeof(m.name));
		(void)maildir_parse_name(m.name, strlen(m.name), &mn);
		m.uid = o.f.uidnext++;
		m.flags = msgs[i].flags;
		m.modseq = o.modseq;
		m.size = mn.vsize;
		m.date = msgs[i].date > 0 ? msgs[i].date : (int64_t)time(NULL);
		mi_count(&o.f, &m, 1);
		o.changed = 1;
		if (mi_msg_add(&x, b->id, &m) < 0)
			goto fail_placed_all;
	}
	if (finish(b, &x, &o) < 0)
		goto fail_placed_all;
	*last_uid_r = m.uid;
	free(names);
	return 0;
fail_placed_all:
	placed = n;
fail:
	/* aborting is idempotent: a failed put or commit may have done it */
	e = errno;
	(void)mi_fail(&x, 0);
	/* all or none (RFC 3502): the files already in cur/ go too */
	for (i = 0; i < placed; i++)
		(void)unlinkat(b->curfd, names[i], 0);
	if (placed > 0)
		(void)fsync(b->curfd);
	free(names);
	errno = e;
	return -1;
}

int
mindex_append(struct mindex_box *b, int fd, uint64_t max, uint32_t flags, int64_t date,
    uint32_t *uid_r)
{
	struct mindex_append_msg a = { .fd = fd, .max = max, .flags = flags, .date = date };

	return mindex_append_many(b, &a, 1, uid_r);
}

/* --- the UID map (SELECT without a walk) ---------------------------------- */

/* The map's value: this header, then n ranges (native byte order, as
 * every record of this index). */
struct rec_uidmap {
	uint32_t uidvalidity, uidnext, messages, unseen;
	uint64_t highestmodseq;
	uint32_t first_unseen, n;
};

static void
uidmap_key(uint8_t kb[9], const struct mindex_box *b)
{
	mi_msg_key(kb, b->id, 0);
	kb[8] = MINDEX_CACHE_UIDMAP;
}

static int
uidmap_reserve(struct mindex_uidmap *m, size_t n)
{
	struct mindex_range *r;
	size_t bytes;

	if (n <= m->cap)
		return 0;
	if (__builtin_mul_overflow(n, sizeof(*r), &bytes) || (r = realloc(m->r, bytes)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	m->r = r;
	m->cap = n;
	return 0;
}

int
mindex_uidmap_add(struct mindex_uidmap *m, uint32_t uid)
{
	if (m->n > 0 && m->r[m->n - 1].hi + 1 == uid) {
		m->r[m->n - 1].hi = uid;
		return 0;
	}
	if (m->n == m->cap && uidmap_reserve(m, m->cap ? m->cap * 2 : 64) < 0)
		return -1;
	m->r[m->n].lo = m->r[m->n].hi = uid;
	m->n++;
	return 0;
}

void
mindex_uidmap_free(struct mindex_uidmap *m)
{
	free(m->r);
	memset(m, 0, sizeof(*m));
}

static int
uidmap_matches(const struct rec_uidmap *h, const struct mindex_status *st)
{
	return h->uidvalidity == st->uidvalidity && h->uidnext == st->uidnext &&
	    h->messages == st->messages && h->unseen == st->unseen &&
	    h->highestmodseq == st->highestmodseq;
}

int
mindex_uidmap_get(struct mindex_box *b, const struct mindex_status *st, struct mindex_uidmap *m)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v;
	struct rec_uidmap h;
	struct mi_txn x;
	uint64_t count = 0;
	size_t i;
	int rc, ret = 0;

	m->n = 0;
	m->first_unseen = 0;
	if (mi_begin(b->mi, 1, &x) < 0)
		return -1;
	uidmap_key(kb, b);
	rc = mdb_get(x.t, x.d[DBI_CACHE], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		ret = -1;
		errno = EIO;
		goto out;
	}
	if (rc == MDB_NOTFOUND || v.mv_size < sizeof(h))
		goto out;
	memcpy(&h, v.mv_data, sizeof(h));
	if (!uidmap_matches(&h, st) || v.mv_size != sizeof(h) + (size_t)h.n * sizeof(*m->r))
		goto out;	/* made before the folder's last change */
	if (uidmap_reserve(m, h.n) < 0) {
		ret = -1;
		goto out;
	}
	memcpy(m->r, (const uint8_t *)v.mv_data + sizeof(h), (size_t)h.n * sizeof(*m->r));
	for (i = 0; i < h.n; i++) {
		/* ascending, disjoint, below UIDNEXT, as many as the folder has */
		if (m->r[i].lo == 0 || m->r[i].lo > m->r[i].hi || m->r[i].hi >= h.uidnext ||
		    (i > 0 && m->r[i].lo <= m->r[i - 1].hi))
			goto out;
		count += (uint64_t)m->r[i].hi - m->r[i].lo + 1;
	}
	if (count != h.messages)
		goto out;
	m->n = h.n;
	m->first_unseen = h.first_unseen;
	ret = 1;
out:
	mi_abort(&x);
	return ret;
}

int
mindex_uidmap_put(struct mindex_box *b, const struct mindex_status *st,
    const struct mindex_uidmap *m)
{
	struct rec_uidmap h = { .uidvalidity = st->uidvalidity, .uidnext = st->uidnext,
	    .messages = st->messages, .unseen = st->unseen, .highestmodseq = st->highestmodseq,
	    .first_unseen = m->first_unseen, .n = (uint32_t)m->n };
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v;
	struct rec_folder f;
	struct mi_txn x;
	size_t bytes;
	int rc;

	if (m->n > MINDEX_FOLDER_MAX ||
	    __builtin_add_overflow(sizeof(h), m->n * sizeof(*m->r), &bytes)) {
		errno = EFBIG;
		return -1;
	}
	if (mi_begin(b->mi, 0, &x) < 0)
		return -1;
	/* the folder must still be at st: otherwise the map is not its own */
	if ((rc = mi_folder_get(&x, b->dir, &f)) != 1 || f.id != b->id ||
	    f.uidnext != st->uidnext || f.highestmodseq != st->highestmodseq ||
	    f.messages != st->messages || f.unseen != st->unseen) {
		mi_abort(&x);
		return 0;
	}
	uidmap_key(kb, b);
	v.mv_size = bytes;
	if ((rc = mdb_put(x.t, x.d[DBI_CACHE], &k, &v, MDB_RESERVE)) != 0)
		return mi_fail(&x, rc);
	memcpy(v.mv_data, &h, sizeof(h));
	memcpy((uint8_t *)v.mv_data + sizeof(h), m->r, m->n * sizeof(*m->r));
	/* not mi_commit: its crash-test hook is for the operation that follows */
	rc = mdb_txn_commit(x.t);
	x.t = NULL;
	if (rc != 0) {
		db_set_rc(b->mi->db, rc);
		errno = rc == MDB_MAP_FULL ? ENOSPC : EIO;
		return -1;
	}
	return 0;
}
