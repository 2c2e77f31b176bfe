/* mindex.c - the mail index: the environment, folder and message records,
 * queries, keywords and the cache.  Operations that change the Maildir are
 * in mindex_ops.c, the scan in mindex_sync.c. */
#include "mindex_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define KEY_NEXT_ID "#next_id"
#define KEY_LAST_UIDV "#last_uidvalidity"

/* --- keys and small helpers -------------------------------------------- */

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
mi_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
mi_msg_key(uint8_t k[8], uint32_t id, uint32_t uid)
{
	be32(k, id);
	be32(k + 4, uid);
}

size_t
mi_base_len(const char *name, size_t len)
{
	const char *c = memchr(name, ':', len);

	return c ? (size_t)(c - name) : len;
}

static size_t
name_key(uint8_t *k, uint32_t id, const char *name, size_t len)
{
	size_t bl = mi_base_len(name, len);

	be32(k, id);
	memcpy(k + 4, name, bl);
	return 4 + bl;
}

int
mi_uids_add(struct mindex_uids *u, uint32_t uid)
{
	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 64;
		void *p = realloc(u->v, ncap * sizeof(*u->v));
		if (p == NULL)
			return -1;
		u->v = p;
		u->cap = ncap;
	}
	u->v[u->n++] = uid;
	return 0;
}

void
mindex_uids_free(struct mindex_uids *u)
{
	free(u->v);
	u->v = NULL;
	u->n = u->cap = 0;
}

uint32_t
mindex_seq(const struct mindex_uids *view, uint32_t uid)
{
	size_t lo = 0, hi = view->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (view->v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < view->n && view->v[lo] == uid ? (uint32_t)(lo + 1) : 0;
}

/* --- flags and names ----------------------------------------------------- */

static const char sys_letters[5] = { 'S', 'R', 'F', 'T', 'D' };

uint32_t
mi_flags_of(const char *name, size_t len)
{
	struct maildir_name mn;

	return maildir_parse_name(name, len, &mn) < 0 ? 0 : mi_flags_of_letters(mn.flags);
}

uint32_t
mi_flags_of_letters(const char *letters)
{
	uint32_t f = 0;
	const char *p;
	int i;

	for (p = letters; *p; p++) {
		if (*p >= 'a' && *p <= 'z')
			f |= MINDEX_KEYWORD0 << (*p - 'a');
		for (i = 0; i < 5; i++)
			if (*p == sys_letters[i])
				f |= 1u << i;
	}
	return f;
}

/* The name of a file with base and extra letters of old and flags, the
 * letters in ASCII order as Maildir wants them. */
int
mi_name_with(const char *old, uint32_t flags, char out[MAILDIR_NAME_MAX + 1])
{
	char set[128] = { 0 };
	size_t bl = mi_base_len(old, strlen(old)), o;
	const char *info = old[bl] == ':' && old[bl + 1] == '2' && old[bl + 2] == ',' ? old + bl + 3 : "";
	int i;

	for (; *info; info++)
		if (*info >= 'A' && *info <= 'Z' && memchr(sys_letters, *info, 5) == NULL)
			set[(unsigned char)*info] = 1;
	for (i = 0; i < 5; i++)
		if (flags & (1u << i))
			set[(unsigned char)sys_letters[i]] = 1;
	for (i = 0; i < MINDEX_KEYWORDS; i++)
		if (flags & (MINDEX_KEYWORD0 << i))
			set['a' + i] = 1;
	if (bl + 3 > MAILDIR_NAME_MAX)
		return -1;
	memcpy(out, old, bl);
	memcpy(out + bl, ":2,", 3);
	o = bl + 3;
	for (i = 'A'; i <= 'z'; i++) {
		if (!set[i])
			continue;
		if (o == MAILDIR_NAME_MAX)
			return -1;
		out[o++] = (char)i;
	}
	out[o] = '\0';
	return 0;
}

void
mi_count(struct rec_folder *f, const struct mindex_msg *m, int sign)
{
	uint32_t d = sign > 0 ? 1u : (uint32_t)-1;

	f->messages += d;
	if (!(m->flags & MINDEX_SEEN))
		f->unseen += d;
	if (m->flags & MINDEX_DELETED)
		f->deleted += d;
	if (m->in_new)
		f->in_new += d;
	f->size += sign > 0 ? m->size : (uint64_t)0 - m->size;
}

/* --- transactions -------------------------------------------------------- */

int
mi_begin(struct mindex *mi, int readonly, struct mi_txn *x)
{
	unsigned i;

	x->mi = mi;
	if (db_txn_begin(mi->db, readonly, &x->t) < 0) {
		errno = EIO;
		return -1;
	}
	for (i = 0; i < DBI_N; i++)
		x->d[i] = db_dbi(mi->db, i);
	return 0;
}

void
mi_abort(struct mi_txn *x)
{
	if (x->t != NULL)
		mdb_txn_abort(x->t);
	x->t = NULL;
}

/* Abort and fail: rc 0 keeps errno (a system call failed), an LMDB code
 * is recorded and gives EIO (ENOSPC for a full map). */
int
mi_fail(struct mi_txn *x, int rc)
{
	int e = errno;

	if (rc != 0)
		db_set_rc(x->mi->db, rc);
	mi_abort(x);
	errno = rc == 0 ? e : (rc == MDB_MAP_FULL ? ENOSPC : EIO);
	return -1;
}

int
mi_commit(struct mi_txn *x)
{
	int rc;

	if (x->mi->fail_commit) {
		/* the test hook: the files have changed, the index does not */
		x->mi->fail_commit = 0;
		mi_abort(x);
		errno = EIO;
		return -1;
	}
	rc = mdb_txn_commit(x->t);
	x->t = NULL;
	if (rc != 0) {
		db_set_rc(x->mi->db, rc);
		errno = rc == MDB_MAP_FULL ? ENOSPC : EIO;
		return -1;
	}
	return 0;
}

/* --- records ------------------------------------------------------------- */

int
mi_folder_get(struct mi_txn *x, const char *dir, struct rec_folder *f)
{
	MDB_val k = { strlen(dir), (void *)(uintptr_t)dir }, v;
	int rc = mdb_get(x->t, x->d[DBI_FOLDERS], &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != sizeof(*f)) {
		db_set_rc(x->mi->db, rc);
		errno = EIO;
		return -1;
	}
	memcpy(f, v.mv_data, sizeof(*f));
	return 1;
}

int
mi_folder_put(struct mi_txn *x, const char *dir, const struct rec_folder *f)
{
	MDB_val k = { strlen(dir), (void *)(uintptr_t)dir }, v = { sizeof(*f), (void *)(uintptr_t)f };
	int rc = mdb_put(x->t, x->d[DBI_FOLDERS], &k, &v, 0);

	return rc == 0 ? 0 : mi_fail(x, rc);
}

/* A counter record of mi_folders: read, add one (at least floor), write. */
static int
counter_next(struct mi_txn *x, const char *key, uint32_t floor, uint32_t *v_r)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v;
	uint32_t n = 0;
	int rc = mdb_get(x->t, x->d[DBI_FOLDERS], &k, &v);

	if (rc == 0 && v.mv_size == sizeof(n))
		memcpy(&n, v.mv_data, sizeof(n));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return mi_fail(x, rc);
	n = n + 1 > floor ? n + 1 : floor;
	v.mv_size = sizeof(n);
	v.mv_data = &n;
	if ((rc = mdb_put(x->t, x->d[DBI_FOLDERS], &k, &v, 0)) != 0)
		return mi_fail(x, rc);
	*v_r = n;
	return 0;
}

/* An imported UIDVALIDITY: the next one handed out lies above it. */
int
mi_uidv_note(struct mi_txn *x, uint32_t uidvalidity)
{
	MDB_val k = { strlen(KEY_LAST_UIDV), (void *)(uintptr_t)KEY_LAST_UIDV }, v;
	uint32_t n = 0;
	int rc = mdb_get(x->t, x->d[DBI_FOLDERS], &k, &v);

	if (rc == 0 && v.mv_size == sizeof(n))
		memcpy(&n, v.mv_data, sizeof(n));
	if (n >= uidvalidity)
		return 0;
	v.mv_size = sizeof(uidvalidity);
	v.mv_data = &uidvalidity;
	rc = mdb_put(x->t, x->d[DBI_FOLDERS], &k, &v, 0);
	return rc == 0 ? 0 : mi_fail(x, rc);
}

/* A fresh folder record: a new id and a UIDVALIDITY from the clock, above
 * every one handed out before (RFC 3501 2.3.1.1: a name reused after a
 * delete must not see the old value again). */
int
mi_folder_new(struct mi_txn *x, struct rec_folder *f)
{
	memset(f, 0, sizeof(*f));
	if (counter_next(x, KEY_NEXT_ID, 1, &f->id) < 0 ||
	    counter_next(x, KEY_LAST_UIDV, (uint32_t)time(NULL), &f->uidvalidity) < 0)
		return -1;
	f->uidnext = 1;
	f->highestmodseq = 1;
	f->mtime[0] = f->mtime[1] = f->mtime[2] = f->mtime[3] = -1;
	return 0;
}

int
mi_msg_get(struct mi_txn *x, uint32_t id, uint32_t uid, struct mindex_msg *m)
{
	return mi_msg_seek(x, NULL, id, uid, m);
}

int
mi_msg_seek(struct mi_txn *x, MDB_cursor *c, uint32_t id, uint32_t uid, struct mindex_msg *m)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	struct rec_msg r;
	int rc;

	mi_msg_key(kb, id, uid);
	rc = c != NULL ? mdb_cursor_get(c, &k, &v, MDB_SET_KEY) : mdb_get(x->t, x->d[DBI_MSGS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size < sizeof(r)) {
		db_set_rc(x->mi->db, rc);
		errno = EIO;
		return -1;
	}
	memcpy(&r, v.mv_data, sizeof(r));
	if (v.mv_size != sizeof(r) + r.name_len || r.name_len == 0) {
		errno = EIO;
		return -1;
	}
	m->uid = uid;
	m->flags = r.flags;
	m->modseq = r.modseq;
	m->size = r.size;
	m->date = r.date;
	m->in_new = r.in_new;
	memcpy(m->name, (const uint8_t *)v.mv_data + sizeof(r), r.name_len);
	m->name[r.name_len] = '\0';
	return 1;
}

/* Put a record through cursor c (NULL: mdb_put); *append (may be NULL)
 * asks for MDB_APPEND and is cleared once the keys stop being in order. */
static int
put_kv(struct mi_txn *x, unsigned dbi, MDB_val *k, MDB_val *v, MDB_cursor *c, int *append)
{
	int rc;

	if (c == NULL)
		rc = mdb_put(x->t, x->d[dbi], k, v, 0);
	else if (append != NULL && *append) {
		rc = mdb_cursor_put(c, k, v, MDB_APPEND);
		if (rc == MDB_KEYEXIST) {
			*append = 0;
			rc = mdb_cursor_put(c, k, v, 0);
		}
	} else
		rc = mdb_cursor_put(c, k, v, 0);
	return rc == 0 ? 0 : mi_fail(x, rc);
}

int
mi_msg_put(struct mi_txn *x, uint32_t id, const struct mindex_msg *m, MDB_cursor *c, int *append)
{
	uint8_t kb[8], vb[sizeof(struct rec_msg) + MAILDIR_NAME_MAX];
	struct rec_msg r = { .modseq = m->modseq, .size = m->size, .date = m->date,
		.flags = m->flags, .in_new = (uint8_t)(m->in_new != 0) };
	size_t nl = strlen(m->name);
	MDB_val k = { sizeof(kb), kb }, v = { sizeof(r) + nl, vb };

	if (nl == 0 || nl > MAILDIR_NAME_MAX) {
		mi_abort(x);
		errno = EINVAL;
		return -1;
	}
	r.name_len = (uint8_t)nl;
	mi_msg_key(kb, id, m->uid);
	memcpy(vb, &r, sizeof(r));
	memcpy(vb + sizeof(r), m->name, nl);
	return put_kv(x, DBI_MSGS, &k, &v, c, append);
}

int
mi_name_put(struct mi_txn *x, uint32_t id, const char *name, uint32_t uid, MDB_cursor *c,
    int *append)
{
	uint8_t kb[4 + MAILDIR_NAME_MAX], vb[4];
	MDB_val k = { name_key(kb, id, name, strlen(name)), kb }, v = { sizeof(vb), vb };

	be32(vb, uid);
	return put_kv(x, DBI_NAMES, &k, &v, c, append);
}

int
mi_msg_add(struct mi_txn *x, uint32_t id, const struct mindex_msg *m)
{
	if (mi_msg_put(x, id, m, NULL, NULL) < 0)
		return -1;
	return mi_name_put(x, id, m->name, m->uid, NULL, NULL);
}

/* Delete every record of sub-database dbi whose key starts with prefix. */
int
mi_range_del(struct mi_txn *x, unsigned dbi, const uint8_t *prefix, size_t plen)
{
	MDB_cursor *c;
	MDB_val k = { plen, (void *)(uintptr_t)prefix }, v;
	int rc;

	if ((rc = mdb_cursor_open(x->t, x->d[dbi], &c)) != 0)
		return mi_fail(x, rc);
	/* seek again after each delete: a cursor on a deleted last item has
	 * no current record */
	for (;;) {
		k.mv_size = plen;
		k.mv_data = (void *)(uintptr_t)prefix;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : mi_fail(x, rc);
}

int
mi_msg_del(struct mi_txn *x, uint32_t id, const struct mindex_msg *m)
{
	uint8_t kb[4 + MAILDIR_NAME_MAX];
	MDB_val k = { 8, kb };
	int rc;

	mi_msg_key(kb, id, m->uid);
	if ((rc = mdb_del(x->t, x->d[DBI_MSGS], &k, NULL)) != 0 && rc != MDB_NOTFOUND)
		return mi_fail(x, rc);
	if (mi_range_del(x, DBI_CACHE, kb, 8) < 0)
		return -1;
	k.mv_size = name_key(kb, id, m->name, strlen(m->name));
	rc = mdb_del(x->t, x->d[DBI_NAMES], &k, NULL);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : mi_fail(x, rc);
}

/* --- the environment and boxes ------------------------------------------ */

static int
env_open(struct mindex *mi, int rootfd, char *err, size_t errlen)
{
	static const char *const names[DBI_N] = { "mi_folders", "mi_msgs", "mi_names", "mi_cache" };
	struct stat st;
	int cwd, rc;

	if ((mkdirat(rootfd, MINDEX_DIR, 0700) < 0 && errno != EEXIST) ||
	    fstatat(rootfd, MINDEX_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", MINDEX_DIR);
		return -1;
	}
	if ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || fchdir(rootfd) < 0) {
		snprintf(err, errlen, "fchdir: %s", strerror(errno));
		if (cwd >= 0)
			close(cwd);
		return -1;
	}
	rc = db_open(&mi->db, MINDEX_DIR, MINDEX_MAPSIZE, 0, names, DBI_N, err, errlen);
	if (fchdir(cwd) < 0 && rc == 0) {
		snprintf(err, errlen, "fchdir back: %s", strerror(errno));
		db_close(mi->db);
		rc = -1;
	}
	close(cwd);
	return rc;
}

int
mindex_open(struct mindex **mi_r, int rootfd, const char *host, char *err, size_t errlen)
{
	struct mindex *mi = calloc(1, sizeof(*mi));

	if (mi == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mi->rootfd = rootfd;
	snprintf(mi->host, sizeof(mi->host), "%s", host);
	util_random(mi->hkey, sizeof(mi->hkey));
	if (env_open(mi, rootfd, err, errlen) < 0) {
		free(mi);
		return -1;
	}
	*mi_r = mi;
	return 0;
}

void
mindex_close(struct mindex *mi)
{
	if (mi == NULL)
		return;
	db_close(mi->db);
	free(mi);
}

/* Where LMDB mapped the file: mdb_env_info's me_mapaddr is only set with
 * MDB_FIXEDMAP, so it is found from a value read in the map.  Every page of
 * the file starts with its own number (LMDB's page header, the data file's
 * format), so the page holding a value, less that many pages, is the map's
 * start; it must be meta page 0 (number 0, MDB_MAGIC after the 16-byte
 * header).  NULL if anything does not fit. */
#define LMDB_MAGIC 0xBEEFC0DEu
#define LMDB_PAGEHDRSZ 16

static const uint8_t *
map_start(MDB_txn *t, MDB_dbi dbi, size_t psize, size_t last_pgno)
{
	MDB_cursor *c;
	MDB_val k, v;
	const uint8_t *page, *base;
	size_t pgno, zero;
	uint32_t magic;
	int rc;

	if (mdb_cursor_open(t, dbi, &c) != 0)
		return NULL;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	mdb_cursor_close(c);
	if (rc != 0 || psize == 0 || (psize & (psize - 1)) != 0)
		return NULL;
	page = (const uint8_t *)((uintptr_t)v.mv_data & ~(uintptr_t)(psize - 1));
	memcpy(&pgno, page, sizeof(pgno));
	if (pgno > last_pgno || (uintptr_t)page < pgno * psize)
		return NULL;
	base = page - pgno * psize;
	memcpy(&zero, base, sizeof(zero));
	memcpy(&magic, base + LMDB_PAGEHDRSZ, sizeof(magic));
	return zero == 0 && magic == LMDB_MAGIC ? base : NULL;
}

int
mindex_release(struct mindex *mi)
{
	struct mi_txn x;
	MDB_envinfo info;
	MDB_stat st;
	const uint8_t *base = NULL;
	size_t len;

	if (mi_begin(mi, 1, &x) < 0)
		return -1;
	if (mdb_env_info(mdb_txn_env(x.t), &info) == 0 && mdb_env_stat(mdb_txn_env(x.t), &st) == 0)
		base = map_start(x.t, x.d[DBI_FOLDERS], st.ms_psize, info.me_last_pgno);
	mi_abort(&x);
	if (base == NULL)
		return 0;	/* an empty index, or a layout we do not know: keep it */
	/* the pages up to the last one used: nothing beyond was ever mapped */
	if (__builtin_mul_overflow((size_t)info.me_last_pgno + 1, (size_t)st.ms_psize, &len) ||
	    len > info.me_mapsize)
		len = info.me_mapsize;
	return madvise((void *)(uintptr_t)base, len, MADV_DONTNEED);
}

void
mindex_test_fail_commit(struct mindex *mi, int on)
{
	mi->fail_commit = on;
}

/* The record of b's folder, made if missing: from the UID list Courier or
 * Dovecot left in the folder when there is one (as a rebuild reads it),
 * so that a Maildir moved in keeps its UIDs at its first login. */
static int
box_record(struct mindex_box *b)
{
	struct rec_folder f;
	struct stat st;
	struct mi_txn x;
	int rc;

	if (mi_begin(b->mi, 0, &x) < 0)
		return -1;
	if ((rc = mi_folder_get(&x, b->dir, &f)) < 0) {
		mi_abort(&x);
		return -1;
	}
	/* fstatat, not faccessat: glibc makes the latter faccessat2, which no
	 * filter lists */
	if (rc == 0 && (fstatat(b->dirfd, "courierimapuiddb", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(b->dirfd, "dovecot-uidlist", &st, AT_SYMLINK_NOFOLLOW) == 0)) {
		mi_abort(&x);
		if (mi_adopt_folder(b->mi, b->dir) < 0)
			return -1;
		if (mi_begin(b->mi, 0, &x) < 0)
			return -1;
		if ((rc = mi_folder_get(&x, b->dir, &f)) < 0) {
			mi_abort(&x);
			return -1;
		}
	}
	if (rc == 0 && (mi_folder_new(&x, &f) < 0 || mi_folder_put(&x, b->dir, &f) < 0))
		return -1;
	b->id = f.id;
	return rc == 1 ? (mi_abort(&x), 0) : mi_commit(&x);
}

int
mindex_box_open(struct mindex *mi, const char *dir, int rw, struct mindex_box **b_r)
{
	struct mindex_box *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -1;
	b->mi = mi;
	b->rw = rw;
	b->curfd = b->newfd = -1;
	snprintf(b->dir, sizeof(b->dir), "%s", dir);
	if (strlen(dir) > FOLDERS_NAME_MAX || (b->dirfd = folders_open_dir(mi->rootfd, dir)) < 0 ||
	    (b->curfd = openat(b->dirfd, "cur", DIR_FLAGS)) < 0 ||
	    (b->newfd = openat(b->dirfd, "new", DIR_FLAGS)) < 0 || box_record(b) < 0) {
		int e = errno;
		mindex_box_close(b);
		errno = e;
		return -1;
	}
	*b_r = b;
	return 0;
}

void
mindex_box_close(struct mindex_box *b)
{
	if (b == NULL)
		return;
	if (b->dirfd >= 0)
		close(b->dirfd);
	if (b->curfd >= 0)
		close(b->curfd);
	if (b->newfd >= 0)
		close(b->newfd);
	free(b);
}

int
mi_stat_dirs(const struct mindex_box *b, int64_t mt[4])
{
	struct stat sn, sc;

	if (fstat(b->newfd, &sn) < 0 || fstat(b->curfd, &sc) < 0)
		return -1;
	mt[0] = sn.st_mtim.tv_sec;
	mt[1] = sn.st_mtim.tv_nsec;
	mt[2] = sc.st_mtim.tv_sec;
	mt[3] = sc.st_mtim.tv_nsec;
	return 0;
}

int
mindex_sync(struct mindex_box *b, struct mindex_uids *expunged_r)
{
	struct rec_folder f;
	struct mi_txn x;
	int64_t mt[4];
	int rc;

	/* the cheap path: one read transaction and two fstat */
	if (mi_stat_dirs(b, mt) < 0 || mi_begin(b->mi, 1, &x) < 0)
		return -1;
	rc = mi_folder_get(&x, b->dir, &f);
	mi_abort(&x);
	if (rc < 0)
		return -1;
	if (rc == 1 && f.id == b->id && memcmp(f.mtime, mt, sizeof(mt)) == 0 && (!b->rw || f.in_new == 0))
		return 0;
	return mi_sync(b, NULL, expunged_r);
}

/* --- queries ------------------------------------------------------------- */

/* The folder record of b in a read transaction. */
static int
read_folder(struct mindex_box *b, struct rec_folder *f)
{
	struct mi_txn x;
	int rc;

	if (mi_begin(b->mi, 1, &x) < 0)
		return -1;
	rc = mi_folder_get(&x, b->dir, f);
	mi_abort(&x);
	if (rc == 0 || (rc == 1 && f->id != b->id)) {
		errno = ENOENT;	/* dropped or renamed meanwhile */
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

int
mindex_status(struct mindex_box *b, struct mindex_status *st)
{
	struct rec_folder f;

	if (read_folder(b, &f) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->uidvalidity = f.uidvalidity;
	st->uidnext = f.uidnext;
	st->messages = f.messages;
	st->unseen = f.unseen;
	st->deleted = f.deleted;
	st->highestmodseq = f.highestmodseq;
	st->size = f.size;
	return 0;
}

/* Call fn for each message record of b's folder, in UID order. */
static int
each_msg(struct mindex_box *b, int (*fn)(void *ctx, uint32_t uid, const struct rec_msg *r), void *ctx)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_cursor *c;
	struct mi_txn x;
	struct rec_msg r;
	int rc;

	if (mi_begin(b->mi, 1, &x) < 0)
		return -1;
	if ((rc = mdb_cursor_open(x.t, x.d[DBI_MSGS], &c)) != 0)
		return mi_fail(&x, rc);
	mi_msg_key(kb, b->id, 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || mi_be32(k.mv_data) != b->id || v.mv_size < sizeof(r))
			break;
		memcpy(&r, v.mv_data, sizeof(r));
		if (fn(ctx, mi_be32((const uint8_t *)k.mv_data + 4), &r) < 0) {
			rc = -1;
			break;
		}
	}
	mdb_cursor_close(c);
	mi_abort(&x);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : -1;
}

static int
add_uid(void *ctx, uint32_t uid, const struct rec_msg *r)
{
	(void)r;
	return mi_uids_add(ctx, uid);
}

int
mindex_uids(struct mindex_box *b, struct mindex_uids *out)
{
	out->n = 0;
	return each_msg(b, add_uid, out);
}

struct each {
	int (*fn)(void *ctx, const struct mindex_msg *m);
	void *ctx;
};

static int
each_pub(void *ctx, uint32_t uid, const struct rec_msg *r)
{
	struct each *e = ctx;
	struct mindex_msg m;

	/* field by field: an initializer would zero the name buffer too, a
	 * quarter KiB per message of a 100,000-message walk */
	m.uid = uid;
	m.flags = r->flags;
	m.modseq = r->modseq;
	m.size = r->size;
	m.date = r->date;
	m.in_new = r->in_new;
	m.name[0] = '\0';	/* mindex_each gives no names */
	return e->fn(e->ctx, &m);
}

int
mindex_each(struct mindex_box *b, int (*fn)(void *ctx, const struct mindex_msg *m), void *ctx)
{
	struct each e = { fn, ctx };

	return each_msg(b, each_pub, &e);
}

struct since {
	struct mindex_uids *out;
	uint64_t modseq;
};

static int
add_since(void *ctx, uint32_t uid, const struct rec_msg *r)
{
	struct since *s = ctx;

	return r->modseq > s->modseq ? mi_uids_add(s->out, uid) : 0;
}

int
mindex_changed_since(struct mindex_box *b, uint64_t modseq, struct mindex_uids *out)
{
	struct since s = { out, modseq };

	out->n = 0;
	return each_msg(b, add_since, &s);
}

int
mindex_get(struct mindex_box *b, uint32_t uid, struct mindex_msg *m)
{
	struct mi_txn x;
	int rc;

	if (mi_begin(b->mi, 1, &x) < 0)
		return -1;
	rc = mi_msg_get(&x, b->id, uid, m);
	mi_abort(&x);
	return rc;
}

int64_t
mindex_uid_of(struct mindex_box *b, const char *base, size_t len)
{
	uint8_t kb[4 + MAILDIR_NAME_MAX];
	MDB_val k = { 0, kb }, v;
	struct mi_txn x;
	int64_t ret = 0;
	int rc;

	if (len == 0 || len > MAILDIR_NAME_MAX || mi_begin(b->mi, 1, &x) < 0)
		return -1;
	k.mv_size = name_key(kb, b->id, base, len);
	rc = mdb_get(x.t, x.d[DBI_NAMES], &k, &v);
	if (rc == 0 && v.mv_size == 4)
		ret = mi_be32(v.mv_data);
	else if (rc != MDB_NOTFOUND)
		ret = -1;
	mi_abort(&x);
	return ret;
}

int
mindex_open_msg(struct mindex_box *b, uint32_t uid)
{
	struct mindex_msg m;
	int rc = mindex_get(b, uid, &m);

	if (rc <= 0) {
		if (rc == 0)
			errno = ENOENT;
		return -1;
	}
	return openat(m.in_new ? b->newfd : b->curfd, m.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* --- keywords ------------------------------------------------------------ */

/* An IMAP atom (RFC 3501 flag-keyword) of 1..MINDEX_KEYWORD_MAX bytes. */
static int
keyword_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > MINDEX_KEYWORD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || strchr("(){%*\"\\]", s[i]))
			return 0;
	return 1;
}

int
mindex_keyword(struct mindex_box *b, const char *name, int create, uint32_t *flag_r)
{
	struct rec_folder f;
	struct mi_txn x;
	int i, free_slot = -1, rc;

	if (!keyword_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (mi_begin(b->mi, !create, &x) < 0)
		return -1;
	if ((rc = mi_folder_get(&x, b->dir, &f)) <= 0) {
		mi_abort(&x);
		errno = rc == 0 ? ENOENT : EIO;
		return -1;
	}
	for (i = 0; i < MINDEX_KEYWORDS; i++) {
		if (f.kw[i][0] == '\0' && free_slot < 0)
			free_slot = i;
		if (strcasecmp(f.kw[i], name) == 0) {
			*flag_r = MINDEX_KEYWORD0 << i;
			mi_abort(&x);
			return 0;
		}
	}
	if (!create || free_slot < 0) {
		mi_abort(&x);
		errno = create ? ENOSPC : ENOENT;
		return -1;
	}
	snprintf(f.kw[free_slot], sizeof(f.kw[free_slot]), "%s", name);
	if (mi_folder_put(&x, b->dir, &f) < 0 || mi_commit(&x) < 0)
		return -1;
	*flag_r = MINDEX_KEYWORD0 << free_slot;
	return 0;
}

int
mindex_keyword_name(struct mindex_box *b, unsigned i, char out[MINDEX_KEYWORD_MAX + 1])
{
	struct rec_folder f;

	if (i >= MINDEX_KEYWORDS || read_folder(b, &f) < 0)
		return -1;
	if (f.kw[i][0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	memcpy(out, f.kw[i], MINDEX_KEYWORD_MAX + 1);
	return 0;
}

/* --- the cache ----------------------------------------------------------- */

int
mindex_cache_put(struct mindex_box *b, uint32_t uid, uint8_t kind, const void *p, size_t len)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v = { len, (void *)(uintptr_t)p };
	struct mindex_msg m;
	struct mi_txn x;
	int rc;

	if (len > MINDEX_CACHE_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (mi_begin(b->mi, 0, &x) < 0)
		return -1;
	if ((rc = mi_msg_get(&x, b->id, uid, &m)) <= 0) {
		mi_abort(&x);
		errno = rc == 0 ? ENOENT : EIO;
		return -1;
	}
	mi_msg_key(kb, b->id, uid);
	kb[8] = kind;
	if ((rc = mdb_put(x.t, x.d[DBI_CACHE], &k, &v, 0)) != 0)
		return mi_fail(&x, rc);
	return mi_commit(&x);
}

int
mindex_cache_put_many(struct mindex_box *b, uint8_t kind, const struct mindex_cache_item *it,
    size_t n)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v;
	struct mindex_msg m;
	struct mi_txn x;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	if (mi_begin(b->mi, 0, &x) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		/* a message expunged meanwhile gets no blob */
		if (it[i].len > MINDEX_CACHE_MAX || (rc = mi_msg_get(&x, b->id, it[i].uid, &m)) == 0)
			continue;
		if (rc < 0) {
			mi_abort(&x);
			errno = EIO;
			return -1;
		}
		mi_msg_key(kb, b->id, it[i].uid);
		kb[8] = kind;
		v.mv_size = it[i].len;
		v.mv_data = (void *)(uintptr_t)it[i].p;
		if ((rc = mdb_put(x.t, x.d[DBI_CACHE], &k, &v, 0)) != 0)
			return mi_fail(&x, rc);
	}
	return mi_commit(&x);
}

int
mindex_cache_get(struct mindex_box *b, uint32_t uid, uint8_t kind, struct buf *out)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v;
	struct mi_txn x;
	int rc, ret;

	buf_reset(out);
	if (mi_begin(b->mi, 1, &x) < 0)
		return -1;
	mi_msg_key(kb, b->id, uid);
	kb[8] = kind;
	rc = mdb_get(x.t, x.d[DBI_CACHE], &k, &v);
	if (rc == MDB_NOTFOUND)
		ret = 0;
	else if (rc != 0)
		ret = -1;
	else
		ret = buf_append(out, v.mv_data, v.mv_size) < 0 ? -1 : 1;
	mi_abort(&x);
	return ret;
}

/* --- folders renamed and deleted ----------------------------------------- */

/* Drop every record of folder id (messages, names, cache). */
static int
drop_id(struct mi_txn *x, uint32_t id)
{
	uint8_t p[4];

	be32(p, id);
	return (mi_range_del(x, DBI_MSGS, p, 4) < 0 || mi_range_del(x, DBI_NAMES, p, 4) < 0 ||
	    mi_range_del(x, DBI_CACHE, p, 4) < 0) ? -1 : 0;
}

int
mindex_folder_drop(struct mindex *mi, const char *dir)
{
	MDB_val k = { strlen(dir), (void *)(uintptr_t)dir };
	struct rec_folder f;
	struct mi_txn x;
	int rc;

	if (mi_begin(mi, 0, &x) < 0)
		return -1;
	if ((rc = mi_folder_get(&x, dir, &f)) <= 0) {
		mi_abort(&x);
		return rc;
	}
	if (drop_id(&x, f.id) < 0)
		return -1;
	if ((rc = mdb_del(x.t, x.d[DBI_FOLDERS], &k, NULL)) != 0)
		return mi_fail(&x, rc);
	return mi_commit(&x);
}

/* Move the folder record old (a copy of its key) to its new name. */
static int
move_record(struct mi_txn *x, const char *old, size_t fl, const char *to_dir)
{
	char nn[FOLDERS_NAME_MAX + 1];
	struct rec_folder f, stale;
	MDB_val k = { strlen(old), (void *)(uintptr_t)old };
	int rc;

	if ((size_t)snprintf(nn, sizeof(nn), "%s%s", to_dir, old + fl) >= sizeof(nn)) {
		mi_abort(x);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mi_folder_get(x, old, &f) <= 0 || (rc = mdb_del(x->t, x->d[DBI_FOLDERS], &k, NULL)) != 0) {
		mi_abort(x);
		errno = EIO;
		return -1;
	}
	/* a stale record under the new name belongs to no folder any more */
	rc = mi_folder_get(x, nn, &stale);
	if (rc < 0 || (rc == 1 && drop_id(x, stale.id) < 0))
		return -1;
	return mi_folder_put(x, nn, &f);
}

int
mindex_folder_rename(struct mindex *mi, const char *from_dir, const char *to_dir)
{
	char (*names)[FOLDERS_NAME_MAX + 1] = NULL;
	size_t fl = strlen(from_dir), n = 0, i;
	MDB_val k = { fl, (void *)(uintptr_t)from_dir }, v;
	MDB_cursor *c;
	struct mi_txn x;
	int rc;

	if (from_dir[0] != '.' || fl < 2 || to_dir[0] != '.' || strlen(to_dir) < 2) {
		errno = EINVAL;	/* not INBOX: its messages move, it does not */
		return -1;
	}
	if (mi_begin(mi, 0, &x) < 0)
		return -1;
	if ((rc = mdb_cursor_open(x.t, x.d[DBI_FOLDERS], &c)) != 0)
		return mi_fail(&x, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const char *kn = k.mv_data;
		void *p;
		if (k.mv_size < fl || memcmp(kn, from_dir, fl) != 0)
			break;
		if ((k.mv_size > fl && kn[fl] != '.') || k.mv_size > FOLDERS_NAME_MAX)
			continue;
		if ((p = realloc(names, (n + 1) * sizeof(*names))) == NULL)
			break;
		names = p;
		memcpy(names[n], kn, k.mv_size);
		names[n++][k.mv_size] = '\0';
	}
	mdb_cursor_close(c);
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = move_record(&x, names[i], fl, to_dir);
	free(names);
	return rc < 0 ? -1 : mi_commit(&x);
}
