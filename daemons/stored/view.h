/* view.h - how a worker may use stored's engine: one view per service.
 *
 * The master picks the view from the service (-v on stored's command line);
 * the worker never chooses it.  A view is a table of the requests it
 * accepts, each with the phases it is valid in, and the seccomp variant
 * stored loads for it (only the deliver view may create files).  Requests
 * outside the table or the phase end the session as an IPC violation.
 */
#ifndef POSTERN_STORED_VIEW_H
#define POSTERN_STORED_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/ipc/ipc.h"
#include "../../policy/policy.h"
#include "engine.h"

/* Phases of a session: the bits of its channel's ipc_chan.phase. */
enum view_phase {
	VIEW_PHASE_IDLE = 1 << 0,	/* before the mailbox is open */
	VIEW_PHASE_OPEN = 1 << 1,	/* locked, snapshot taken */
	VIEW_PHASE_DONE = 1 << 2,	/* POP3 UPDATE or IMAP LOGOUT finished:
					   the lock is released, nothing more */
	VIEW_PHASE_SELECTED = 1 << 3,	/* IMAP: OPEN with a folder selected */
};

struct config;
struct view_imap;	/* the IMAP view's state (view_imap.c) */

/* One session of stored: the engine, the phase, the one pair of scratch
 * buffers of this process and the worker channel. */
struct view_session {
	struct engine *e;
	struct ipc_chan chan;		/* phase: one enum view_phase bit */
	struct ipc_out *out;
	int worker_fd;
	int watch_fd;			/* inotify on new/ and cur/, -1 = none */
	int watch_wd[2];		/* its watches of new/ and cur/, -1 = none */
	struct view_imap *imap;		/* the IMAP view's state, NULL in the others */
	int notified;			/* a MSG_STORE_CHANGED is out, not yet followed
					   by a request of the worker */
	const char *user;		/* user@domain, as the master named it (-n) */
	uint64_t quiet_ms;		/* for the view's quiet(); 0 = never (prepare sets it) */
	uint64_t quiet_timer;		/* its ev timer, 0 = none */
	uint64_t last_request_ms;	/* ev_now_ms() of the worker's last request */
};

/* A view's requests are an ipc_handler table (ctx: the view_session):
 * type, fd presence and the phases each is valid in are checked there;
 * handlers check meaning (indexes in range) and return 0, or -1 for a
 * violation; they answer through view_reply() and may move the phase. */
struct view {
	const char *name;		/* as on the command line: pop3, imap, deliver */
	enum policy_stored_view filter;
	const struct ipc_handler *req;
	size_t nreq;
	/* Before the filter, inside the mail root as the user (rootfd: the
	 * mail root, kept open by the view if it needs it): open what the
	 * view needs.  A view with prepare opens its own index; the engine's
	 * size cache is not opened for it (it is the same LMDB environment,
	 * which LMDB forbids opening twice in one process).  NULL: none. */
	void (*prepare)(struct view_session *s, int rootfd, const struct config *cfg);
	/* Once the worker has sent nothing for the session's quiet_ms: give
	 * back what an idle session need not hold.  NULL: none. */
	void (*quiet)(struct view_session *s);
};

extern const struct view view_pop3;
extern const struct view view_imap;
extern const struct view view_deliver;

/* The view called name, or NULL. */
const struct view *view_find(const char *name);

/* Check in against v's table (type, fd presence, phase) and run its
 * handler.  Returns the handler's result, or -1 for a request the view
 * does not accept now. */
int view_dispatch(const struct view *v, struct view_session *s, struct ipc_in *in);

/* Send s->out to the worker.  A worker that is gone ends the session
 * (exit 0: nothing is lost, the next session starts from the disk). */
void view_reply(struct view_session *s);

/* Watch new/ and cur/ of the mail root (inotify) and tell the worker of
 * changes made by anyone (a delivery, another session, another program)
 * with one MSG_STORE_CHANGED, repeated only after its next request.  For
 * views whose sessions stay open (IMAP).  Returns 0 or -1 (errno). */
int view_watch(struct view_session *s);

/* Around an operation of the session's own on many files of the watched
 * folder (STORE, EXPUNGE): no inotify event per rename or unlink (about 6%
 * of a 10,000-message STORE).  resume watches dir again and sends one
 * MSG_STORE_CHANGED (unless one is out), for whatever another program did
 * meanwhile; the worker's next SYNC finds it, or finds nothing. */
void view_watch_pause(struct view_session *s);
void view_watch_resume(struct view_session *s, const char *dir);

/* Stop watching (no more MSG_STORE_CHANGED); nothing if not watching. */
void view_unwatch(struct view_session *s);

/* Move the watch of view_watch() to new/ and cur/ of folder directory dir
 * ("." for the INBOX, ".A.B"): the selected folder.  Returns 0 or -1
 * (errno; the session then goes on without pushed changes). */
int view_watch_dir(struct view_session *s, const char *dir);

/* The event loop of the session: requests from the worker through v's
 * table, change notifications.  Returns the exit status: 0 at EOF, 1
 * after a violation (logged). */
int view_serve(const struct view *v, struct view_session *s, struct ipc_in *in);

/* Answer MSG_STORE_ERR with code and text. */
void view_reply_err(struct view_session *s, uint32_t code, const char *text);

#endif
