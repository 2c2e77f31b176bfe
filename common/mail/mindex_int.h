/* mindex_int.h - what mindex.c, mindex_ops.c and mindex_sync.c share: the
 * record layouts and the transaction helpers.  Not for other modules. */
#ifndef POSTERN_MINDEX_INT_H
#define POSTERN_MINDEX_INT_H

#include <lmdb.h>
#include <time.h>

#include "../base/siphash.h"
#include "db.h"
#include "folders.h"
#include "mindex.h"

enum { DBI_FOLDERS, DBI_MSGS, DBI_NAMES, DBI_CACHE, DBI_N };

struct mindex {
	struct db *db;
	int rootfd;
	int fail_commit;
	char host[MAILDIR_HOST_MAX];
	uint8_t hkey[SIPHASH_KEY_LEN];
};

struct mindex_box {
	struct mindex *mi;
	int dirfd, curfd, newfd;
	int rw;
	uint32_t id;
	char dir[FOLDERS_NAME_MAX + 1];
};

/* mi_folders value; the layout is this process's (native byte order). */
struct rec_folder {
	uint32_t id, uidvalidity, uidnext, messages, unseen, deleted, in_new, pad;
	uint64_t highestmodseq, size;
	int64_t mtime[4];	/* new/ sec, nsec, cur/ sec, nsec at the last full scan; -1 none */
	char kw[MINDEX_KEYWORDS][MINDEX_KEYWORD_MAX + 1];
};

/* mi_msgs value: this header, then name_len bytes of the file name. */
struct rec_msg {
	uint64_t modseq, size;
	int64_t date;
	uint32_t flags;
	uint8_t in_new, name_len, pad[2];
};

struct mi_txn {
	MDB_txn *t;
	struct mindex *mi;
	MDB_dbi d[DBI_N];
};

/* mindex.c */
int mi_begin(struct mindex *mi, int readonly, struct mi_txn *x);
int mi_commit(struct mi_txn *x);
void mi_abort(struct mi_txn *x);
int mi_fail(struct mi_txn *x, int rc);
int mi_folder_get(struct mi_txn *x, const char *dir, struct rec_folder *f);
int mi_folder_put(struct mi_txn *x, const char *dir, const struct rec_folder *f);
int mi_folder_new(struct mi_txn *x, struct rec_folder *f);
int mi_msg_get(struct mi_txn *x, uint32_t id, uint32_t uid, struct mindex_msg *m);
/* The same through cursor c on DBI_MSGS (left on the record): for UIDs in
 * order, LMDB finds the next one in the page it is on, without a descent
 * from the root; a mi_msg_put through c then replaces it in place. */
int mi_msg_seek(struct mi_txn *x, MDB_cursor *c, uint32_t id, uint32_t uid, struct mindex_msg *m);
int mi_msg_put(struct mi_txn *x, uint32_t id, const struct mindex_msg *m, MDB_cursor *c, int *append);
int mi_msg_add(struct mi_txn *x, uint32_t id, const struct mindex_msg *m);
int mi_msg_del(struct mi_txn *x, uint32_t id, const struct mindex_msg *m);
int mi_name_put(struct mi_txn *x, uint32_t id, const char *name, uint32_t uid, MDB_cursor *c,
    int *append);
void mi_count(struct rec_folder *f, const struct mindex_msg *m, int sign);
size_t mi_base_len(const char *name, size_t len);
uint32_t mi_flags_of(const char *name, size_t len);
uint32_t mi_flags_of_letters(const char *letters);
int mi_name_with(const char *old, uint32_t flags, char out[MAILDIR_NAME_MAX + 1]);
int mi_uids_add(struct mindex_uids *u, uint32_t uid);
void mi_msg_key(uint8_t k[8], uint32_t id, uint32_t uid);
uint32_t mi_be32(const uint8_t *p);
int mi_stat_dirs(const struct mindex_box *b, int64_t mt[4]);
int mi_range_del(struct mi_txn *x, unsigned dbi, const uint8_t *prefix, size_t plen);

int mi_uidv_note(struct mi_txn *x, uint32_t uidvalidity);

/* UIDs a rebuild keeps: base names (sorted by mi_preset_sort) and UIDs. */
struct mi_kept {
	char *base;
	uint32_t uid;
};
struct mi_preset {
	struct mi_kept *v;
	size_t n, cap;
	int stat_dates;		/* INTERNALDATE from every file's mtime */
};

/* mindex_sync.c */
int mi_sync(struct mindex_box *b, const struct mi_preset *p, struct mindex_uids *expunged_r);
/* mindex_rebuild.c: make dir's record as a rebuild would (its index, else
 * courierimapuiddb, else dovecot-uidlist; dovecot-keywords) and sync it. */
int mi_adopt_folder(struct mindex *mi, const char *dir);

#endif
