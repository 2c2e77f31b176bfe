/* engine.h - stored's engine: one user's Maildir++ for one session.
 *
 * The engine owns what every view shares: the folder on disk (the chroot is
 * the user's mail root, so paths are relative to "."), the LMDB index of
 * sizes, the mailbox lock and delivery.  Views (view.h) decide which
 * requests a worker may make and in what order; the engine does the work.
 */
#ifndef POSTERN_STORED_ENGINE_H
#define POSTERN_STORED_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/mail/db.h"
#include "../../common/mail/maildir.h"

/* One message of an INBOX snapshot. */
struct engine_msg {
	char *name;		/* file name in cur/ */
	uint64_t size;		/* CRLF size */
	char uidl[71];
};

/* How a view holds the mailbox lock: POP3 alone (RFC 1939 section 8: the
 * maildrop is exclusive while a session is in TRANSACTION), IMAP sessions
 * beside each other (RFC 9051 lets several clients select one mailbox). */
enum engine_lock_mode {
	ENGINE_LOCK_EXCLUSIVE,
	ENGINE_LOCK_SHARED,
};

struct engine {
	struct engine_msg *msgs;	/* the snapshot, delivery order */
	size_t n;
	int lock_fd;
	struct db *index;	/* may be NULL: sizes are then recomputed */
	uint64_t max_messages;
	char host[MAILDIR_HOST_MAX];	/* for delivered file names */
};

/* Set e to empty (no lock file, no index, no snapshot). */
void engine_init(struct engine *e);

/* Open the LMDB index (one per mail root, "postern-index") before the
 * sandbox; on failure e->index stays NULL and sizes come from the files. */
void engine_open_index(struct engine *e);

/* Open (creating) the mailbox lock file, before the sandbox: no view's
 * filter lets stored create a file outside tmp/.  Returns 0 or -1. */
int engine_lock_prepare(struct engine *e);

/* Take the mailbox lock in mode without waiting: flock(2) LOCK_EX or
 * LOCK_SH on the one lock file, LOCK_NB.  Returns 0, or -1 with errno
 * EWOULDBLOCK when a session holds it in a conflicting mode (any holder
 * against exclusive; an exclusive holder against shared), EIO when
 * engine_lock_prepare failed. */
int engine_lock(struct engine *e, enum engine_lock_mode mode);

/* Let go of the mailbox lock before the process ends: a POP3 session's
 * UPDATE is done, and the client's next login must not find the mailbox
 * still in use by a stored that is only exiting. */
void engine_unlock(struct engine *e);

/* Move new/ to cur/ (a message seen by a client is no longer new) and
 * snapshot cur/ with sizes and UIDLs, at most e->max_messages, in delivery
 * order.  One readdir of each directory.  Returns 0 or -1. */
int engine_snapshot(struct engine *e);

/* Open message i of the snapshot read-only. Follows a rename by another
 * program (flags changed); returns the fd, or -1 with errno ENOENT if it
 * is gone.  i must be < e->n. */
int engine_fetch(struct engine *e, size_t i);

/* Remove message i (i < e->n). Returns 0 (also if already gone) or -1. */
int engine_remove(struct engine *e, size_t i);

/* Forget the cached sizes of the snapshot's messages idx[0..n), in one
 * transaction (after engine_remove). */
void engine_forget(struct engine *e, const size_t *idx, size_t n);

/* Deliver the message at src (read to EOF, at most max bytes), after pre
 * (header lines; NULL: none), into the INBOX with
 * maildir_deliver_prefixed(); on 0, name_r is its durable name in new/.
 * Returns 0 or -1 (errno; EFBIG over max). */
int engine_deliver(struct engine *e, int src, uint64_t max, const struct maildir_prefix *pre,
    char name_r[MAILDIR_NAME_MAX + 1]);

#endif
