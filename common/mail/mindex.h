/* mindex.h - the per-user mail index for IMAP over Maildir++.
 *
 * The Maildir is the truth (DESIGN.md, principle 6); the index is LMDB, in
 * the environment postern-index/ of the mail root that the POP3 view's
 * size cache ("sizes") also uses.  It adds four sub-databases (keys are
 * big-endian so that cursor order is numeric order):
 *
 *   mi_folders  folder directory name (".", ".Sent", ".A.B") -> folder
 *               record: id, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, counts
 *               (messages, \Seen, \Deleted, in new/, total size), the
 *               mtimes of new/ and cur/ at the last full scan, and the
 *               keyword table.  Keys "#..." hold the next folder id and the
 *               last UIDVALIDITY handed out.
 *   mi_msgs     (folder id, UID) -> MODSEQ, internal date, RFC822.SIZE,
 *               flags, whether the file is in new/, its current file name.
 *   mi_names    (folder id, base name) -> UID: the reverse map.
 *   mi_cache    (folder id, UID, kind) -> opaque bytes (ENVELOPE,
 *               BODYSTRUCTURE, ... filled by the MIME code).
 *
 * Flags: the five system flags are letters of the ":2," suffix (S R F T D;
 * other upper-case letters such as P are kept as found).  Keywords are the
 * lower-case letters a-z, letter 'a' + i naming slot i of the folder's
 * keyword table (Dovecot's convention; Courier keeps keywords in a
 * courierimapkeywords/ directory instead, which is not read).  A rebuild
 * imports the table from dovecot-keywords ("N name" lines) when present.
 * A letter without a name in the table is kept in the file name and in
 * the flags, but has no keyword to show; a new keyword takes the first
 * unnamed slot, so files that already carry that letter show it.
 *
 * \Recent (dropped by IMAP4rev2, RFC 9051) is not kept: STATUS and SELECT
 * report RECENT 0.  INTERNALDATE is the delivery time at the start of a
 * Maildir name (no stat per file); a name without one, and every file in
 * a rebuild, take the file's mtime.  RFC822.SIZE is the ",W=" size (CRLF
 * line ends) when the name has one, else the file is read once and the
 * size kept.  (",S=" is the size on disk, with bare LF line ends: it is
 * not what FETCH must report.)
 *
 * MODSEQ (RFC 7162): every operation that changes flags, adds or expunges
 * messages takes HIGHESTMODSEQ + 1 once and gives it to every message it
 * touches, so a message's MODSEQ never decreases and HIGHESTMODSEQ always
 * grows.
 *
 * Crash safety: every operation holds one LMDB write transaction from
 * before it reads the index until after the file system change, so that
 * two sessions of one user are serialised, and changes the files first,
 * then commits.  A crash (or failure) between the two leaves the index
 * behind the Maildir, never ahead of it: a file renamed, linked, unlinked
 * or delivered changes the mtime of its directory, so the next sync
 * rescans and adopts what it finds, with UIDs of unchanged files kept.
 * The other order would leave records of files that do not exist or do not
 * carry the flags recorded, and no directory mtime would say so.  The
 * window that remains: a change by another program made during one of our
 * operations, within the same timestamp tick, is noticed only at the next
 * change of that directory.
 *
 * A full scan is one readdir of new/ and one of cur/ with no stat (sizes
 * from W=, dates from the name); it is skipped when both directories have
 * the mtimes recorded.  One LMDB transaction per call, committed with the
 * usual fsync; no fsync per message.
 */
#ifndef POSTERN_MINDEX_H
#define POSTERN_MINDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/buf.h"
#include "maildir.h"

#define MINDEX_DIR "postern-index"
#define MINDEX_MAPSIZE (1ULL << 30)
#define MINDEX_KEYWORDS 26
#define MINDEX_KEYWORD_MAX 64
/* Most messages a folder may hold (ENFILE past it). */
#define MINDEX_FOLDER_MAX 2000000u
/* Largest cached blob. */
#define MINDEX_CACHE_MAX (1u << 20)

enum mindex_flag {
	MINDEX_SEEN = 1u << 0,		/* S */
	MINDEX_ANSWERED = 1u << 1,	/* R */
	MINDEX_FLAGGED = 1u << 2,	/* F */
	MINDEX_DELETED = 1u << 3,	/* T */
	MINDEX_DRAFT = 1u << 4,		/* D */
	MINDEX_KEYWORD0 = 1u << 5,	/* keyword slot i is MINDEX_KEYWORD0 << i, letter 'a' + i */
};
#define MINDEX_SYSTEM_FLAGS 0x1fu

struct mindex;		/* the environment of one mail root */
struct mindex_box;	/* one folder, opened */

/* A growable UID array (sorted where said). */
struct mindex_uids {
	uint32_t *v;
	size_t n, cap;
};
void mindex_uids_free(struct mindex_uids *u);

struct mindex_status {
	uint32_t uidvalidity, uidnext, messages, unseen, deleted, recent;
	uint64_t highestmodseq, size;	/* size: RFC 8438 STATUS=SIZE, bytes */
};

struct mindex_msg {
	uint32_t uid, flags;
	uint64_t modseq, size;
	int64_t date;			/* INTERNALDATE, seconds since the epoch */
	int in_new;			/* the file is in new/ (not cur/) */
	char name[MAILDIR_NAME_MAX + 1];
};

/* Open (creating) the index of the mail root at rootfd (kept, not owned):
 * postern-index/ is made there if missing and must be a real directory.
 * LMDB opens by path, so this fchdir()s to rootfd for the open and back.
 * host is used in names of copied messages (maildir_host).  Returns 0 and
 * *mi_r, or -1 with err. */
int mindex_open(struct mindex **mi_r, int rootfd, const char *host, char *err, size_t errlen);
void mindex_close(struct mindex *mi);

/* Drop this process's mappings of the index file's pages (madvise
 * MADV_DONTNEED on LMDB's read-only map): they stay in the page cache and
 * the next read maps them again.  A read fault maps up to 16 neighbouring
 * cached pages too, so a small index is mapped whole after one read; an
 * idle session need not keep it.  Only between transactions.  Returns 0 or
 * -1 (errno). */
int mindex_release(struct mindex *mi);

/* Open folder directory dir ("." for INBOX, see folders.h) and its record
 * (made on first use: UIDVALIDITY from the clock, above any handed out
 * before).  rw: syncs move new/ to cur/ (a session that SELECTs; EXAMINE
 * and STATUS pass 0).  Returns 0 and *b_r, or -1 (errno). */
int mindex_box_open(struct mindex *mi, const char *dir, int rw, struct mindex_box **b_r);
void mindex_box_close(struct mindex_box *b);

/* Bring the index in line with the Maildir: adopt new files (UIDs in order
 * of delivery time, then name), flag changes made by renames, and drop
 * vanished files, whose UIDs are appended to expunged_r (may be NULL),
 * ascending.  Cheap when new/ and cur/ are unchanged.  Returns 0 or -1. */
int mindex_sync(struct mindex_box *b, struct mindex_uids *expunged_r);

/* STATUS / SELECT numbers from the folder record (no scan). */
int mindex_status(struct mindex_box *b, struct mindex_status *st);

/* Every UID of the folder, ascending, into out (reset first): the
 * session's view; message sequence number i is out->v[i - 1]. */
int mindex_uids(struct mindex_box *b, struct mindex_uids *out);

/* Call fn(ctx, m) for every message of the folder in UID order, in one
 * read transaction (m->name is not filled: the walk is for SELECT's and
 * SYNC's flags and MODSEQs, sizes and dates).  fn returns 0, or -1 to stop
 * the walk, which then returns -1.  Returns 0 or -1. */
int mindex_each(struct mindex_box *b, int (*fn)(void *ctx, const struct mindex_msg *m), void *ctx);

/* The message sequence number of uid in a view, or 0. Pure. */
uint32_t mindex_seq(const struct mindex_uids *view, uint32_t uid);

/* The record of uid. Returns 1 found, 0 not, -1 error. */
int mindex_get(struct mindex_box *b, uint32_t uid, struct mindex_msg *m);

/* The UID of base name base[0..len), or 0 (none) / -1 (error). */
int64_t mindex_uid_of(struct mindex_box *b, const char *base, size_t len);

/* UIDs with MODSEQ > modseq, ascending (CHANGEDSINCE). */
int mindex_changed_since(struct mindex_box *b, uint64_t modseq, struct mindex_uids *out);

/* A read-only fd of message uid's file (O_NOFOLLOW), or -1 (ENOENT). */
int mindex_open_msg(struct mindex_box *b, uint32_t uid);

/* The flag bit of keyword name (case-insensitive), adding it to the
 * folder's table when create.  Returns 0, or -1: EINVAL (not an atom, or
 * over MINDEX_KEYWORD_MAX), ENOENT (absent, !create), ENOSPC (26 in use). */
int mindex_keyword(struct mindex_box *b, const char *name, int create, uint32_t *flag_r);

/* The name of keyword slot i into out, or -1 (ENOENT) if unnamed. */
int mindex_keyword_name(struct mindex_box *b, unsigned i, char out[MINDEX_KEYWORD_MAX + 1]);

enum mindex_store_mode {
	MINDEX_STORE_SET,	/* FLAGS */
	MINDEX_STORE_ADD,	/* +FLAGS */
	MINDEX_STORE_REMOVE,	/* -FLAGS */
};

/* STORE on uids[0..n) (UIDs that no longer exist are skipped): rename
 * each file whose flags change and update the index, in one transaction.
 * A file another program renamed since the last sync is skipped too (not
 * counted; the next sync adopts its name: sync and STORE again).
 * unchangedsince (RFC 7162 3.1.3; UINT64_MAX for none): a message whose
 * MODSEQ is greater is left alone and its UID appended to failed_r (may be
 * NULL only without UNCHANGEDSINCE).  *modseq_r (may be NULL) gets the
 * MODSEQ the changed messages now have (HIGHESTMODSEQ).  Returns the
 * number of messages changed, or -1. */
int mindex_store(struct mindex_box *b, const uint32_t *uids, size_t n, enum mindex_store_mode mode,
    uint32_t flags, uint64_t unchangedsince, struct mindex_uids *failed_r, uint64_t *modseq_r);
/* mindex_store, and changed(ctx, uid, flags) for each message it changes,
 * in the order of uids, before the commit (a failed call's reports are to
 * be dropped); changed returns 0, or -1 to fail the call (ENOMEM).  Their
 * MODSEQ is *modseq_r.  For the untagged FETCHes of a STORE without a
 * second pass over the records. */
int mindex_store_each(struct mindex_box *b, const uint32_t *uids, size_t n,
    enum mindex_store_mode mode, uint32_t flags, uint64_t unchangedsince,
    struct mindex_uids *failed_r, uint64_t *modseq_r,
    int (*changed)(void *ctx, uint32_t uid, uint32_t flags), void *ctx);

/* EXPUNGE (uids NULL: every \Deleted message) or UID EXPUNGE (RFC 4315:
 * those of uids[0..n) that are \Deleted): unlink the files, drop their
 * records, append their UIDs to expunged_r (may be NULL).  Returns the
 * number expunged, or -1. */
int mindex_expunge(struct mindex_box *b, const uint32_t *uids, size_t n,
    struct mindex_uids *expunged_r);

/* COPY (move 0) or MOVE (RFC 6851) of uids[0..n) from src to dst: a hard
 * link into dst's cur/ (a rename for MOVE), a copy where the file system
 * refuses; new UIDs in dst, keywords mapped to dst's table.  The COPYUID
 * pairs (RFC 4315) are appended to src_r and dst_r (may be NULL).  MOVE
 * drops the sources from src.  Returns the number copied, or -1. */
int mindex_copy(struct mindex_box *src, struct mindex_box *dst, const uint32_t *uids, size_t n,
    int move, struct mindex_uids *src_r, struct mindex_uids *dst_r);

/* APPEND the message read from fd (offset to EOF, at most max bytes) with
 * flags and INTERNALDATE date (0: now, else also set as the file's mtime):
 * delivered by maildir_deliver into tmp/ and new/, renamed into cur/ with
 * its flags.  Returns 0 and *uid_r, or -1. */
int mindex_append(struct mindex_box *b, int fd, uint64_t max, uint32_t flags, int64_t date,
    uint32_t *uid_r);

/* MULTIAPPEND (RFC 3502): n messages into b in one transaction, all or
 * none: a failure removes the files already placed and leaves the index
 * as it was.  Their UIDs are consecutive; *last_uid_r is the last one.
 * Returns 0 or -1. */
struct mindex_append_msg {
	int fd;
	uint64_t max;
	uint32_t flags;		/* with the keyword bits */
	int64_t date;
};
int mindex_append_many(struct mindex_box *b, const struct mindex_append_msg *msgs, size_t n,
    uint32_t *last_uid_r);

/* The cached bytes of kind for uid: put replaces, get copies into out
 * (reset first).  put: 0 or -1 (ENOENT: no such UID); get: 1 found, 0 not,
 * -1 error.  Blobs go when their message goes. */
int mindex_cache_put(struct mindex_box *b, uint32_t uid, uint8_t kind, const void *p, size_t len);
int mindex_cache_get(struct mindex_box *b, uint32_t uid, uint8_t kind, struct buf *out);
/* put for many UIDs in one transaction (one sync instead of one each);
 * UIDs no longer there and blobs over MINDEX_CACHE_MAX are skipped.
 * Returns 0 or -1. */
struct mindex_cache_item {
	uint32_t uid;
	const void *p;
	size_t len;
};
int mindex_cache_put_many(struct mindex_box *b, uint8_t kind, const struct mindex_cache_item *it,
    size_t n);
#define MINDEX_CACHE_STRUCTS	1	/* ENVELOPE, BODY, BODYSTRUCTURE (stored's view) */
#define MINDEX_CACHE_UIDMAP	2	/* the folder's UID map (UID 0: no message's) */

/* The UID map of a folder: its UIDs as ascending, disjoint ranges and the
 * first UID without \Seen, what SELECT needs without a walk of every
 * record.  Kept in the cache under the folder's numbers (UIDVALIDITY,
 * UIDNEXT, HIGHESTMODSEQ, messages, unseen) when it was made: any change
 * of the folder's UIDs or flags moves UIDNEXT or HIGHESTMODSEQ (see
 * MODSEQ above), so a map whose numbers are the folder's is its map. */
struct mindex_range {
	uint32_t lo, hi;
};
struct mindex_uidmap {
	uint32_t first_unseen;		/* 0: none */
	struct mindex_range *r;		/* grown by mindex_uidmap_get / _add */
	size_t n, cap;
};
/* The kept map of b if it was made at the numbers st: 1 and *m, 0 (none
 * kept for st), or -1 (errno). */
int mindex_uidmap_get(struct mindex_box *b, const struct mindex_status *st,
    struct mindex_uidmap *m);
/* Keep m as b's map at the numbers st (one write transaction; a failure
 * only means the next SELECT walks again).  Returns 0 or -1. */
int mindex_uidmap_put(struct mindex_box *b, const struct mindex_status *st,
    const struct mindex_uidmap *m);
/* Append uid (above every UID in m) to m's ranges.  Returns 0 or -1 (ENOMEM). */
int mindex_uidmap_add(struct mindex_uidmap *m, uint32_t uid);
void mindex_uidmap_free(struct mindex_uidmap *m);

/* After folders_rename: the records of from_dir and of every directory
 * below it move to to_dir (UIDVALIDITY and UIDs kept: the same mailbox).
 * After folders_delete: drop dir's records (dir's inferiors are kept). */
int mindex_folder_rename(struct mindex *mi, const char *from_dir, const char *to_dir);
int mindex_folder_drop(struct mindex *mi, const char *dir);

/* posternctl index rebuild: recreate the index of the mail root at rootfd
 * from its Maildir, INBOX and every folder, with a full scan that stats
 * every file for its date.  UIDs are kept where the Maildir allows: from
 * the old index when it can be read and has messages of the folder, else
 * from Courier's courierimapuiddb
 * ("1 UIDVALIDITY UIDNEXT", then "UID name" lines), else from Dovecot's
 * dovecot-uidlist (versions 1 and 3); UIDVALIDITY with them.  Keywords
 * from dovecot-keywords.  Returns the number of folders rebuilt, or -1
 * with err. */
int mindex_rebuild(int rootfd, const char *host, char *err, size_t errlen);

/* For tests of crash safety: when set, the next operation makes its file
 * system changes and then fails before it commits (errno EIO). */
void mindex_test_fail_commit(struct mindex *mi, int on);

#endif
