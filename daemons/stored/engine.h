/* stored.h - one user's mail store, for one session. */
#ifndef POSTERN_STORED_H
#define POSTERN_STORED_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/db.h"

struct popmsg {
	char *name;		/* file name in cur/ */
	uint64_t size;		/* CRLF size */
	char uidl[71];
};

struct popbox {
	struct popmsg *msgs;
	size_t n;
	int lock_fd;
	int opened;
	struct db *index;	/* may be NULL: sizes are then recomputed */
	uint64_t max_messages;
};

/* Open (creating) the mailbox lock file, before the sandbox: the filter
 * lets stored open files read-only and create none.  Returns 0 or -1. */
int popbox_prepare(struct popbox *b);

/* Lock the mailbox (-1 with errno EWOULDBLOCK if another session holds it),
 * move new/ to cur/, and snapshot cur/ with sizes and UIDLs.  Paths are
 * relative to the current directory, the user's mail root. */
int popbox_open(struct popbox *b);

/* Open message i read-only. Follows a rename by another program (flags
 * changed); returns the fd, or -1 with errno ENOENT if it is gone. */
int popbox_fetch(struct popbox *b, size_t i);

/* Remove message i. Returns 0 (also if already gone) or -1. */
int popbox_remove(struct popbox *b, size_t i);

#endif
