/* mindex_sync.c - the full scan of a folder, and the rebuild.
 *
 * One write transaction for the whole sync: it is taken before the index
 * is read, so that two sessions never hand out the same UID, and committed
 * after the files have moved.  new/ is read before cur/: a file moved from
 * new/ to cur/ by another program during the scan is then seen at least
 * once (twice is fine: one base name, one message).  If either directory
 * changed while it was read (its mtime), the scan is repeated, up to
 * three times, so that a file renamed during a readdir is not taken for
 * expunged.
 */
#include "mindex_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define SCAN_TRIES 3

/* One message: known to the index (uid != 0) and/or found by the scan. */
struct ent {
	uint32_t uid;
	uint32_t ioff, foff;	/* index's and found name in the arena */
	uint32_t hash;		/* of the base name */
	uint32_t fflags;	/* flags of the found name (new entries) */
	uint16_t ilen, flen, blen;
	uint8_t iin_new, fin_new, present, has_vsize;
	uint64_t vsize;		/* W= of the found name */
	int64_t date;
};

struct sync {
	struct mindex_box *b;
	const struct mi_preset *p;
	struct buf arena;
	struct ent *e;
	size_t n, cap, nknown;
	uint32_t *slot;		/* open addressing: entry index + 1, 0 empty */
	size_t nslot;
	int64_t mt[4];
	int unstable;		/* the directories changed during every scan */
};

static const char *
nm(const struct sync *s, uint32_t off)
{
	return (const char *)s->arena.data + off;
}

static const char *
base_of(const struct sync *s, const struct ent *e)
{
	return nm(s, e->uid ? e->ioff : e->foff);
}

static int
arena_add(struct sync *s, const char *p, size_t len, uint32_t *off_r)
{
	if (s->arena.len > UINT32_MAX - len - 1 || buf_append(&s->arena, p, len) < 0 ||
	    buf_append(&s->arena, "", 1) < 0)
		return -1;
	*off_r = (uint32_t)(s->arena.len - len - 1);
	return 0;
}

/* Keyed: names are the user's, but so is the table (a SipHash key per
 * process keeps even a hostile name set at its expected cost). */
static uint32_t
hash_of(const struct sync *s, const char *base, size_t len)
{
	return (uint32_t)siphash24(s->b->mi->hkey, base, len);
}

static long
hash_find(const struct sync *s, const char *base, size_t len, uint32_t h)
{
	size_t i;

	for (i = h & (s->nslot - 1); s->slot[i] != 0; i = (i + 1) & (s->nslot - 1)) {
		const struct ent *e = &s->e[s->slot[i] - 1];
		if (e->hash == h && e->blen == len && memcmp(base_of(s, e), base, len) == 0)
			return (long)(s->slot[i] - 1);
	}
	return -1;
}

static void
hash_put(struct sync *s, size_t idx)
{
	size_t i;

	for (i = s->e[idx].hash & (s->nslot - 1); s->slot[i] != 0; i = (i + 1) & (s->nslot - 1))
		;
	s->slot[i] = (uint32_t)idx + 1;
}

/* Rebuild the table for entries [0, n) at a load of at most one half. */
static int
hash_rebuild(struct sync *s, size_t n)
{
	size_t want = 64, i;

	while (want < 2 * (n + 1))
		want *= 2;
	if (want != s->nslot) {
		void *p = realloc(s->slot, want * sizeof(*s->slot));
		if (p == NULL)
			return -1;
		s->slot = p;
		s->nslot = want;
	}
	memset(s->slot, 0, s->nslot * sizeof(*s->slot));
	for (i = 0; i < n; i++)
		hash_put(s, i);
	return 0;
}

static struct ent *
ent_new(struct sync *s)
{
	if (s->n >= MINDEX_FOLDER_MAX) {
		errno = ENFILE;
		return NULL;
	}
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		void *p = realloc(s->e, ncap * sizeof(*s->e));
		if (p == NULL)
			return NULL;
		s->e = p;
		s->cap = ncap;
	}
	memset(&s->e[s->n], 0, sizeof(s->e[0]));
	return &s->e[s->n++];
}

/* Every record of the folder, in UID order, into s->e. */
static int
load_known(struct sync *s, struct mi_txn *x)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_cursor *c;
	struct rec_msg r;
	int rc;

	if ((rc = mdb_cursor_open(x->t, x->d[DBI_MSGS], &c)) != 0)
		return mi_fail(x, rc);
	mi_msg_key(kb, s->b->id, 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ent *e;
		if (k.mv_size != 8 || mi_be32(k.mv_data) != s->b->id)
			break;
		memcpy(&r, v.mv_data, sizeof(r));
		if ((e = ent_new(s)) == NULL ||
		    arena_add(s, (const char *)v.mv_data + sizeof(r), r.name_len, &e->ioff) < 0) {
			rc = -1;
			break;
		}
		e->uid = mi_be32((const uint8_t *)k.mv_data + 4);
		e->ilen = r.name_len;
		e->blen = (uint16_t)mi_base_len(nm(s, e->ioff), e->ilen);
		e->hash = hash_of(s, nm(s, e->ioff), e->blen);
		e->iin_new = r.in_new;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mi_abort(x);
		return -1;
	}
	s->nknown = s->n;
	return hash_rebuild(s, s->n);
}

/* One directory entry of new/ (in_new) or cur/. */
static int
found(struct sync *s, const char *name, size_t len, int in_new)
{
	struct maildir_name mn;
	struct ent *e;
	uint32_t h;
	long i;

	if (maildir_parse_name(name, len, &mn) < 0)
		return 0;
	h = hash_of(s, name, mn.base_len);
	i = hash_find(s, name, mn.base_len, h);
	if (i >= 0) {
		e = &s->e[i];
		if (e->present && in_new)
			return 0;	/* seen in cur/ already: that one wins */
		e->present = 1;
		e->fin_new = (uint8_t)in_new;
		if (e->uid && e->ilen == len && memcmp(nm(s, e->ioff), name, len) == 0) {
			e->foff = e->ioff;
			e->flen = e->ilen;
			return 0;
		}
		e->flen = (uint16_t)len;
		return arena_add(s, name, len, &e->foff);
	}
	if (2 * (s->n + 1) > s->nslot && hash_rebuild(s, s->n) < 0)
		return -1;
	if ((e = ent_new(s)) == NULL || arena_add(s, name, len, &e->foff) < 0)
		return -1;
	e->flen = (uint16_t)len;
	e->blen = (uint16_t)mn.base_len;
	e->hash = h;
	e->fflags = mi_flags_of_letters(mn.flags);
	e->has_vsize = (uint8_t)mn.has_vsize;
	e->vsize = mn.vsize;
	e->fin_new = (uint8_t)in_new;
	e->present = 1;
	hash_put(s, s->n - 1);
	return 0;
}

static int
scan_dir(struct sync *s, int fd, int in_new)
{
	struct dirent *de;
	int dfd = openat(fd, ".", DIR_FLAGS), rc = 0;
	DIR *d;

	if (dfd < 0)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (de->d_type == DT_REG || de->d_type == DT_UNKNOWN)
			rc = found(s, de->d_name, strlen(de->d_name), in_new);
	closedir(d);
	return rc;
}

/* Read new/ then cur/ until both held still while they were read. */
static int
scan(struct sync *s)
{
	int64_t after[4];
	size_t i;
	int t;

	for (t = 0; t < SCAN_TRIES; t++) {
		if (mi_stat_dirs(s->b, s->mt) < 0 || scan_dir(s, s->b->newfd, 1) < 0 ||
		    scan_dir(s, s->b->curfd, 0) < 0 || mi_stat_dirs(s->b, after) < 0)
			return -1;
		if (memcmp(after, s->mt, sizeof(after)) == 0)
			return 0;
		s->n = s->nknown;
		for (i = 0; i < s->n; i++)
			s->e[i].present = 0;
		if (hash_rebuild(s, s->n) < 0)
			return -1;
	}
	/* still moving: keep what vanished (a readdir may have missed a file
	 * being renamed), and scan again next time */
	s->mt[0] = -1;
	s->unstable = 1;
	return 0;
}

/* --- applying what the scan found ----------------------------------------- */

static int
drop_vanished(struct sync *s, struct mi_txn *x, struct rec_folder *f, struct mindex_uids *out)
{
	struct mindex_msg m;
	size_t i;
	int rc;

	for (i = 0; i < s->nknown; i++) {
		if (s->e[i].present || s->unstable)
			continue;
		if ((rc = mi_msg_get(x, s->b->id, s->e[i].uid, &m)) <= 0)
			return rc < 0 ? -1 : mi_fail(x, MDB_CORRUPTED);
		mi_count(f, &m, -1);
		if (mi_msg_del(x, s->b->id, &m) < 0 || (out != NULL && mi_uids_add(out, m.uid) < 0))
			return -1;
	}
	return 0;
}

/* new/NAME -> cur/NAME:2, for a session that may change the folder. */
static int
move_new(struct sync *s, int *moved)
{
	char to[MAILDIR_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct ent *e = &s->e[i];
		const char *from = nm(s, e->foff);
		if (!e->present || !e->fin_new)
			continue;
		if (memchr(from, ':', e->flen) != NULL)
			snprintf(to, sizeof(to), "%s", from);
		else if (snprintf(to, sizeof(to), "%s:2,", from) >= (int)sizeof(to))
			continue;
		if (renameat(s->b->newfd, from, s->b->curfd, to) < 0)
			continue;	/* gone meanwhile: the next sync sees it */
		*moved = 1;
		e->fin_new = 0;
		e->flen = (uint16_t)strlen(to);
		if (arena_add(s, to, e->flen, &e->foff) < 0)
			return -1;
	}
	return 0;
}

/* Records whose file was renamed (flags changed by another program, or
 * moved from new/ to cur/). */
static int
update_changed(struct sync *s, struct mi_txn *x, struct rec_folder *f, uint64_t modseq, int *changed)
{
	struct mindex_msg m;
	size_t i;
	int rc;

	for (i = 0; i < s->nknown; i++) {
		struct ent *e = &s->e[i];
		uint32_t fl;
		if (!e->present || (e->foff == e->ioff && e->fin_new == e->iin_new))
			continue;
		if ((rc = mi_msg_get(x, s->b->id, e->uid, &m)) <= 0)
			return rc < 0 ? -1 : mi_fail(x, MDB_CORRUPTED);
		mi_count(f, &m, -1);
		memcpy(m.name, nm(s, e->foff), e->flen + 1u);
		m.in_new = e->fin_new;
		fl = mi_flags_of(m.name, e->flen);
		if (fl != m.flags) {
			m.flags = fl;
			m.modseq = modseq;
			*changed = 1;
		}
		mi_count(f, &m, 1);
		if (mi_msg_put(x, s->b->id, &m, NULL, NULL) < 0)
			return -1;
	}
	return 0;
}

static int
kept_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct mi_kept *)elem)->base);
}

/* The kept UID of the file called name (its base looked up), or 0. */
static uint32_t
preset_uid(const struct mi_preset *p, const char *name, size_t blen)
{
	char base[MAILDIR_NAME_MAX + 1];
	const struct mi_kept *hit;

	if (p == NULL || p->n == 0 || blen > MAILDIR_NAME_MAX)
		return 0;
	memcpy(base, name, blen);
	base[blen] = '\0';
	hit = bsearch(base, p->v, p->n, sizeof(*p->v), kept_cmp);
	return hit ? hit->uid : 0;
}

/* Delivery time from the name ("1700000000.M..."), else the file's mtime;
 * -1 if the file is gone. */
static int64_t
date_of(const struct sync *s, const struct ent *e)
{
	const char *n = nm(s, e->foff);
	struct stat st;
	uint64_t t;
	size_t d = strspn(n, "0123456789");

	if (!(s->p != NULL && s->p->stat_dates) && d > 0 && d <= 12 && n[d] == '.' &&
	    util_parse_u64((const uint8_t *)n, d, INT64_MAX, &t) == 0)
		return (int64_t)t;
	if (fstatat(e->fin_new ? s->b->newfd : s->b->curfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return st.st_mtim.tv_sec;
}

/* The microseconds of a name "TIME.MUSEC..." (Dovecot's and Postern's
 * form, "1700000000.M123456P99Q1.host"), or -1: within one second they
 * order deliveries, and "M9" comes before "M10" although not as text. */
static long
name_usec(const char *n)
{
	const char *dot = strchr(n, '.');
	long v = 0;
	int digits = 0;

	if (dot == NULL || dot[1] != 'M')
		return -1;
	for (n = dot + 2; *n >= '0' && *n <= '9' && digits < 9; n++, digits++)
		v = v * 10 + (*n - '0');
	return digits > 0 ? v : -1;
}

static int
fresh_cmp(const void *a, const void *b, void *arg)
{
	const struct ent *x = a, *y = b;
	const struct sync *s = arg;
	const char *xn = nm(s, x->foff), *yn = nm(s, y->foff);
	long xu, yu;

	if (x->uid != y->uid)	/* kept UIDs first, ascending */
		return x->uid == 0 ? 1 : (y->uid == 0 ? -1 : (x->uid < y->uid ? -1 : 1));
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	xu = name_usec(xn);
	yu = name_usec(yn);
	if (xu >= 0 && yu >= 0 && xu != yu)
		return xu < yu ? -1 : 1;
	return strcmp(xn, yn);
}

/* RFC822.SIZE: W= from the name, else the file read once. */
static int
size_of(const struct sync *s, const struct ent *e, uint64_t *size_r)
{
	const char *n = nm(s, e->foff);
	int fd, rc;

	if (e->has_vsize) {
		*size_r = e->vsize;
		return 0;
	}
	fd = openat(e->fin_new ? s->b->newfd : s->b->curfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = maildir_crlf_size(fd, size_r);
	close(fd);
	return rc;
}

/* The new entries (uid 0) moved to the end of s->e, ordered, with UIDs:
 * kept ones from the preset, then UIDNEXT onwards by delivery time and
 * name.  Returns the index of the first. */
static size_t
order_fresh(struct sync *s, struct rec_folder *f)
{
	size_t i, first = s->nknown, o = s->nknown;
	uint32_t last = 0;

	for (i = s->nknown; i < s->n; i++) {
		struct ent e = s->e[i];
		e.date = date_of(s, &e);
		if (e.date < 0)
			continue;	/* gone meanwhile */
		e.uid = preset_uid(s->p, nm(s, e.foff), e.blen);
		s->e[o++] = e;
	}
	s->n = o;
	qsort_r(s->e + first, s->n - first, sizeof(*s->e), fresh_cmp, s);
	for (i = first; s->p != NULL && i < s->n && s->e[i].uid != 0; i++) {
		if (s->e[i].uid == last)
			s->e[i].uid = 0;	/* a UID given twice: the later file gets a new one */
		else
			last = s->e[i].uid;
		if (last >= f->uidnext)
			f->uidnext = last + 1;
	}
	if (s->p != NULL)	/* UIDs dropped as duplicates sort again */
		qsort_r(s->e + first, s->n - first, sizeof(*s->e), fresh_cmp, s);
	for (i = first; i < s->n; i++)
		if (s->e[i].uid == 0)
			s->e[i].uid = f->uidnext++;
	return first;
}

static int
add_fresh(struct sync *s, struct mi_txn *x, struct rec_folder *f, uint64_t modseq, int *changed)
{
	MDB_cursor *cm = NULL, *cn = NULL;
	struct mindex_msg m;
	size_t i, first = order_fresh(s, f);
	int am = 1, an = 1, rc = 0;

	if (first == s->n)
		return 0;
	if ((rc = mdb_cursor_open(x->t, x->d[DBI_MSGS], &cm)) != 0 ||
	    (rc = mdb_cursor_open(x->t, x->d[DBI_NAMES], &cn)) != 0) {
		if (cm != NULL)
			mdb_cursor_close(cm);
		return mi_fail(x, rc);
	}
	for (i = first; i < s->n && rc == 0; i++) {
		struct ent *e = &s->e[i];
		memset(&m, 0, sizeof(m));
		if (size_of(s, e, &m.size) < 0)
			continue;
		m.uid = e->uid;
		m.date = e->date;
		m.modseq = modseq;
		m.in_new = e->fin_new;
		memcpy(m.name, nm(s, e->foff), e->flen + 1u);
		m.flags = e->fflags;
		mi_count(f, &m, 1);
		*changed = 1;
		rc = mi_msg_put(x, s->b->id, &m, cm, &am);
		if (rc == 0)
			rc = mi_name_put(x, s->b->id, m.name, m.uid, cn, &an);
	}
	if (x->t != NULL) {
		mdb_cursor_close(cm);
		mdb_cursor_close(cn);
	}
	return rc;
}

static int
apply(struct sync *s, struct mi_txn *x, struct rec_folder *f, struct mindex_uids *expunged)
{
	uint64_t modseq = f->highestmodseq + 1;
	int moved = 0, changed;

	if (drop_vanished(s, x, f, expunged) < 0)
		return -1;
	changed = expunged->n > 0;
	if (s->b->rw && move_new(s, &moved) < 0)
		return -1;
	if (update_changed(s, x, f, modseq, &changed) < 0 || add_fresh(s, x, f, modseq, &changed) < 0)
		return -1;
	/* our own moves changed both mtimes: take them as they are now */
	if (moved && s->mt[0] != -1 && mi_stat_dirs(s->b, s->mt) < 0)
		s->mt[0] = -1;
	memcpy(f->mtime, s->mt, sizeof(s->mt));
	if (changed)
		f->highestmodseq = modseq;
	return mi_folder_put(x, s->b->dir, f);
}

int
mi_sync(struct mindex_box *b, const struct mi_preset *p, struct mindex_uids *expunged_r)
{
	struct sync s = { .b = b, .p = p };
	struct mindex_uids gone = { 0 };
	struct rec_folder f;
	struct mi_txn x;
	int rc;

	buf_init(&s.arena, 1u << 30);
	if (mi_begin(b->mi, 0, &x) < 0)
		return -1;
	rc = mi_folder_get(&x, b->dir, &f);
	if (rc <= 0 || f.id != b->id) {
		mi_abort(&x);
		errno = rc < 0 ? EIO : ENOENT;
		rc = -1;
		goto out;
	}
	rc = -1;
	if (load_known(&s, &x) < 0 || scan(&s) < 0 || apply(&s, &x, &f, &gone) < 0)
		goto out;
	if ((rc = mi_commit(&x)) == 0 && expunged_r != NULL) {
		size_t i;
		for (i = 0; i < gone.n && rc == 0; i++)
			rc = mi_uids_add(expunged_r, gone.v[i]);
	}
out:
	if (x.t != NULL)
		mi_abort(&x);
	mindex_uids_free(&gone);
	buf_free(&s.arena, 0);
	free(s.e);
	free(s.slot);
	return rc;
}
