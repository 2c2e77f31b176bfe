/* mindex_rebuild.c - recreate the index from the Maildir, keeping UIDs:
 * from the old index, else Courier's courierimapuiddb, else Dovecot's
 * dovecot-uidlist. */
#include "mindex_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/util.h"
#include "mailfiles.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Largest UID list read. */
#define LIST_MAX (256u << 20)

struct imported {
	uint32_t uidvalidity, uidnext;
	int have_kw;
	char kw[MINDEX_KEYWORDS][MINDEX_KEYWORD_MAX + 1];
};

static int
kept_sort(const void *a, const void *b)
{
	return strcmp(((const struct mi_kept *)a)->base, ((const struct mi_kept *)b)->base);
}

static void
preset_free(struct mi_preset *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].base);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

/* Keep uid for the base of name[0..len) (a ":2,..." part is cut off). */
static int
preset_add(struct mi_preset *p, const char *name, size_t len, uint64_t uid)
{
	size_t bl = mi_base_len(name, len);

	if (bl == 0 || bl > MAILDIR_NAME_MAX || uid == 0 || uid >= UINT32_MAX ||
	    memchr(name, '/', bl) != NULL || memchr(name, '\0', bl) != NULL)
		return 0;	/* not a message name: skipped */
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		void *q = realloc(p->v, ncap * sizeof(*p->v));
		if (q == NULL)
			return -1;
		p->v = q;
		p->cap = ncap;
	}
	if ((p->v[p->n].base = strndup(name, bl)) == NULL)
		return -1;
	p->v[p->n++].uid = (uint32_t)uid;
	return 0;
}

/* The whole of file name in dirfd (at most LIST_MAX bytes, NUL added).
 * 0, or -1 (ENOENT when there is none). */
static int
read_file(int dirfd, const char *name, struct buf *out)
{
	uint8_t b[65536];
	ssize_t r;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	buf_init(out, LIST_MAX + 1);
	while (rc == 0 && (r = read(fd, b, sizeof(b))) > 0)
		rc = buf_append(out, b, (size_t)r);
	close(fd);
	if (rc < 0 || buf_append(out, "", 1) < 0) {
		buf_free(out, 0);
		return -1;
	}
	return 0;
}

static int
keep_entry(void *ctx, uint32_t uid, const char *name, size_t len)
{
	return preset_add(ctx, name, len, uid);
}

/* A UID list of format f in file name: 1 (UIDs kept, im's UIDVALIDITY and
 * UIDNEXT set), 0 (none or a format we do not know), -1. */
static int
import_list(int dirfd, const char *name, enum mailfiles_uidlist f, struct mi_preset *p,
    struct imported *im)
{
	struct mailfiles_header h;
	struct buf b;
	int rc;

	if (read_file(dirfd, name, &b) < 0)
		return errno == ENOENT ? 0 : -1;
	rc = mailfiles_uidlist((char *)b.data, f, &h, keep_entry, p);
	buf_free(&b, 0);
	if (rc == 1) {
		im->uidvalidity = h.uidvalidity;
		im->uidnext = h.uidnext;
	}
	return rc;
}

static void
keep_keyword(void *ctx, uint32_t slot, const char *name)
{
	struct imported *im = ctx;

	if (slot < MINDEX_KEYWORDS && strlen(name) <= MINDEX_KEYWORD_MAX) {
		snprintf(im->kw[slot], sizeof(im->kw[slot]), "%s", name);
		im->have_kw = 1;
	}
}

/* dovecot-keywords: slot N is letter 'a' + N. */
static void
import_keywords(int dirfd, struct imported *im)
{
	struct buf b;

	if (read_file(dirfd, "dovecot-keywords", &b) < 0)
		return;
	mailfiles_keywords((char *)b.data, keep_keyword, im);
	buf_free(&b, 0);
}

/* What the index knew of dir: 1 (preset and im filled), 0 nothing, -1. */
static int
import_index(struct mindex *mi, const char *dir, struct mi_preset *p, struct imported *im)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	struct rec_folder f;
	struct rec_msg r;
	MDB_cursor *c;
	struct mi_txn x;
	int rc;

	if (mi_begin(mi, 1, &x) < 0)
		return -1;
	if ((rc = mi_folder_get(&x, dir, &f)) <= 0 || mdb_cursor_open(x.t, x.d[DBI_MSGS], &c) != 0) {
		mi_abort(&x);
		return rc < 0 ? -1 : 0;
	}
	im->uidvalidity = f.uidvalidity;
	im->uidnext = f.uidnext;
	im->have_kw = 1;
	memcpy(im->kw, f.kw, sizeof(im->kw));
	mi_msg_key(kb, f.id, 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || mi_be32(k.mv_data) != f.id || v.mv_size < sizeof(r))
			break;
		memcpy(&r, v.mv_data, sizeof(r));
		if (preset_add(p, (const char *)v.mv_data + sizeof(r), r.name_len, mi_be32((uint8_t *)k.mv_data + 4)) < 0) {
			rc = -1;
			break;
		}
	}
	mdb_cursor_close(c);
	mi_abort(&x);
	if (rc != -1 && p->n == 0) {
		/* no UID was ever handed out: a Courier or Dovecot list wins */
		memset(im, 0, sizeof(*im));
		return 0;
	}
	return rc == -1 ? -1 : 1;
}

static int rebuild_folder(struct mindex *mi, const char *dir);

/* A fresh record for dir with the imported UIDVALIDITY, UIDNEXT, keywords. */
static int
fresh_record(struct mindex *mi, const char *dir, const struct imported *im)
{
	struct rec_folder f;
	struct mi_txn x;

	if (mindex_folder_drop(mi, dir) < 0 || mi_begin(mi, 0, &x) < 0 || mi_folder_new(&x, &f) < 0)
		return -1;
	if (im->uidvalidity != 0) {
		f.uidvalidity = im->uidvalidity;
		f.uidnext = im->uidnext > 0 ? im->uidnext : 1;
		if (mi_uidv_note(&x, im->uidvalidity) < 0)
			return -1;
	}
	if (im->have_kw)
		memcpy(f.kw, im->kw, sizeof(f.kw));
	if (mi_folder_put(&x, dir, &f) < 0)
		return -1;
	return mi_commit(&x);
}

int
mi_adopt_folder(struct mindex *mi, const char *dir)
{
	return rebuild_folder(mi, dir);
}

static int
rebuild_folder(struct mindex *mi, const char *dir)
{
	struct mi_preset p = { .stat_dates = 1 };
	struct imported im = { 0 };
	struct mindex_box *b;
	int dfd, rc;

	if ((dfd = folders_open_dir(mi->rootfd, dir)) < 0)
		return -1;
	rc = import_index(mi, dir, &p, &im);
	if (rc == 0)
		rc = import_list(dfd, "courierimapuiddb", MAILFILES_COURIER, &p, &im);
	if (rc == 0)
		rc = import_list(dfd, "dovecot-uidlist", MAILFILES_DOVECOT, &p, &im);
	if (rc >= 0 && !im.have_kw)
		import_keywords(dfd, &im);
	close(dfd);
	if (rc >= 0) {
		qsort(p.v, p.n, sizeof(*p.v), kept_sort);
		rc = fresh_record(mi, dir, &im);
	}
	if (rc >= 0 && (rc = mindex_box_open(mi, dir, 0, &b)) == 0) {
		rc = mi_sync(b, &p, NULL);
		mindex_box_close(b);
	}
	preset_free(&p);
	return rc;
}

/* Open the index; one that cannot be opened is moved into tmp/ and a new
 * one made. */
static int
open_or_replace(struct mindex **mi_r, int rootfd, const char *host, char *err, size_t errlen)
{
	char aside[64];
	int tmpfd, rc;

	if (mindex_open(mi_r, rootfd, host, err, errlen) == 0)
		return 0;
	maildir_tmp_name(aside, sizeof(aside), "index-broken");
	if ((tmpfd = openat(rootfd, "tmp", DIR_FLAGS)) < 0)
		return -1;
	rc = renameat(rootfd, MINDEX_DIR, tmpfd, aside);
	close(tmpfd);
	return rc < 0 ? -1 : mindex_open(mi_r, rootfd, host, err, errlen);
}

static int
listed(const struct folders_list *l, const char *dir, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!(l->v[i].attr & FOLDERS_NOSELECT) && strlen(l->v[i].dir) == len &&
		    memcmp(l->v[i].dir, dir, len) == 0)
			return 1;
	return 0;
}

/* Drop the records of folders that are no longer on disk. */
static int
drop_stale(struct mindex *mi, const struct folders_list *l)
{
	char (*stale)[FOLDERS_NAME_MAX + 1] = NULL;
	MDB_val k, v;
	MDB_cursor *c;
	struct mi_txn x;
	size_t n = 0, i;
	int rc;

	if (mi_begin(mi, 1, &x) < 0)
		return -1;
	if ((rc = mdb_cursor_open(x.t, x.d[DBI_FOLDERS], &c)) != 0)
		return mi_fail(&x, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		void *p;
		if (k.mv_size == 0 || k.mv_size > FOLDERS_NAME_MAX || *(const char *)k.mv_data != '.' ||
		    listed(l, k.mv_data, k.mv_size))
			continue;	/* a counter ("#..."), or a folder that is there */
		if ((p = realloc(stale, (n + 1) * sizeof(*stale))) == NULL)
			break;
		stale = p;
		memcpy(stale[n], k.mv_data, k.mv_size);
		stale[n++][k.mv_size] = '\0';
	}
	mdb_cursor_close(c);
	mi_abort(&x);
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = mindex_folder_drop(mi, stale[i]) < 0 ? -1 : 0;
	free(stale);
	return rc;
}

int
mindex_rebuild(int rootfd, const char *host, char *err, size_t errlen)
{
	struct folders_list l;
	struct mindex *mi;
	size_t i;
	int n = 0;

	if (open_or_replace(&mi, rootfd, host, err, errlen) < 0)
		return -1;
	if (folders_list(rootfd, '.', NULL, 0, &l) < 0) {
		snprintf(err, errlen, "listing folders: %s", strerror(errno));
		mindex_close(mi);
		return -1;
	}
	for (i = 0; i < l.n && n >= 0; i++) {
		if (l.v[i].attr & FOLDERS_NOSELECT)
			continue;
		if (rebuild_folder(mi, l.v[i].dir) < 0) {
			snprintf(err, errlen, "%s: %s", l.v[i].dir, strerror(errno));
			n = -1;
		} else {
			n++;
		}
	}
	if (n >= 0 && drop_stale(mi, &l) < 0) {
		snprintf(err, errlen, "dropping stale folders: %s", strerror(errno));
		n = -1;
	}
	folders_list_free(&l);
	mindex_close(mi);
	return n;
}
