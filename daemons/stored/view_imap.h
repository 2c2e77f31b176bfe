/* view_imap.h - what view_imap.c (the selected folder) and
 * view_imap_folders.c (folders, APPEND, quota) share.  Not for other
 * files of stored. */
#ifndef POSTERN_STORED_VIEW_IMAP_H
#define POSTERN_STORED_VIEW_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/ipc/storeimap.h"
#include "../../common/mail/folders.h"
#include "../../common/mail/mindex.h"
#include "view.h"

/* The phases of the IMAP view's requests (storeimap.h: S = selected). */
#define IMAP_ANY	(VIEW_PHASE_OPEN | VIEW_PHASE_SELECTED)
#define IMAP_SEL	VIEW_PHASE_SELECTED

/* A STORE or EXPUNGE of at least this many messages runs with the
 * folder's watch paused (view_watch_pause): no inotify event per file. */
#define IMAP_PAUSE_WATCH	256

/* A growable array of (UID, flags, MODSEQ), ascending by UID. */
struct imap_recs {
	struct store_record *v;
	size_t n, cap;
};

struct view_imap {
	struct mindex *mi;		/* NULL: the index could not be opened */
	int rootfd;			/* the mail root (after chroot: "/") */
	char sep;			/* cfg imap_separator */
	int keywords;			/* cfg imap_keywords: new keywords may be made */
	uint64_t max_message;		/* cfg imap_max_message_size */
	/* the selected folder (phase SELECTED) */
	struct mindex_box *box;
	char dir[FOLDERS_NAME_MAX + 1];
	int read_only;
	struct mindex_uids view;	/* the worker's UIDs, ascending */
	struct mindex_uidmap map;	/* the view of the SELECT, as ranges */
	uint64_t seen_modseq;		/* HIGHESTMODSEQ the worker was last told */
	uint32_t seen_uidnext;		/* and UIDNEXT */
	uint32_t kw_told;		/* keyword slots whose names it has */
	/* scratch, reused by every request */
	struct imap_recs rec;
	struct mindex_uids a, b, c;
	uint64_t *sizes;		/* on-disk sizes for the quota, beside a */
	size_t sizes_cap;
	/* decoded requests and pages (too big for the stack) */
	struct store_req_name name;
	struct store_req_store store;
	struct store_req_append append;
	struct store_uidset set;
	struct store_range ranges[STORE_UIDSET_MAX], ranges2[STORE_UIDSET_MAX];
	struct store_meta_rec meta[STORE_META_PAGE];
	struct store_folder folders[STORE_FOLDERS_PAGE];
	/* the parts of a MULTIAPPEND kept until its last (calloc'd at the
	 * first; each holds the worker's sealed memfd) */
	struct imap_part {
		struct store_req_append r;
		int fd;
	} *parts;
	uint32_t nparts;
};

/* The UIDs of the view inside set, ascending, into out (reset first).
 * Returns 0 or -1 (ENOMEM). */
int imap_set_uids(const struct view_imap *m, const struct store_uidset *set,
    struct mindex_uids *out);

/* view_imap_structs.c: MSG_STORE_IMAP_STRUCTS. */
int imap_on_structs(void *ctx, struct ipc_in *in);

/* Append v to u.  Returns 0 or -1 (ENOMEM). */
int imap_uids_push(struct mindex_uids *u, uint32_t v);

/* Answer ERR for a failed folder or index operation by its errno: ENOENT
 * (and ELOOP, ENOTDIR) NOBOX, EINVAL / ENAMETOOLONG NAME, EEXIST EXISTS,
 * EPERM DENIED, ENFILE / ENOSPC LIMIT, anything else IO (logged with
 * what).  Returns 0 (the session goes on). */
int imap_reply_errno(struct view_session *s, int e, const char *what);

/* 1 if the mail root has a maildirsize file (a quota to keep), else 0. */
int imap_quota_active(const struct view_imap *m);

/* 0 if adding bytes in count messages keeps the user within the quota,
 * else -1 after logging event=quota_refused (what: the request). */
int imap_quota_check(struct view_imap *m, uint64_t bytes, uint64_t count, const char *what);

/* The size on disk of message m (",S=" of its name, else RFC822.SIZE):
 * what maildirsize counts. */
uint64_t imap_disk_size(const struct mindex_msg *m);

/* Open folder name of a request for a non-selecting use (STATUS, COPY's
 * and APPEND's destination), synced.  Returns 0 and *b_r, or -1 after
 * answering the error. */
int imap_box_open(struct view_session *s, const char *name, struct mindex_box **b_r);

/* The keyword slots of the folder as a MINDEX table; send the whole table
 * as MSG_STORE_KEYWORDS when always, or when slots exist that the worker
 * was not told of yet.  Returns 0 or -1 (the index failed). */
int imap_send_keywords(struct view_session *s, struct mindex_box *b, int always);

/* The flag bits of the keywords named in k, in b's table (made there
 * when the config allows).  Returns 0, or -1 after answering ERR: LIMIT
 * for a 27th keyword, DENIED when new keywords are off. */
int imap_keyword_bits(struct view_session *s, struct mindex_box *b, const struct store_kwlist *k,
    uint32_t *bits_r);

/* Handlers of view_imap_folders.c. */
int imap_on_list(void *ctx, struct ipc_in *in);
int imap_on_status(void *ctx, struct ipc_in *in);
int imap_on_create(void *ctx, struct ipc_in *in);
int imap_on_delete(void *ctx, struct ipc_in *in);
int imap_on_rename(void *ctx, struct ipc_in *in);
int imap_on_subscribe(void *ctx, struct ipc_in *in);
int imap_on_quota(void *ctx, struct ipc_in *in);
int imap_on_append(void *ctx, struct ipc_in *in);

#endif
