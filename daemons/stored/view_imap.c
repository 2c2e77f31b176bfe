/* view_imap.c - room for the IMAP view (its commands come with IMAP).
 *
 * What exists is its lock and its change notifications: IMAP sessions
 * hold the mailbox lock shared, so several can select the INBOX at once
 * while a POP3 session (exclusive) still excludes them all, and they it;
 * once open, stored watches new/ and cur/ and pushes MSG_STORE_CHANGED
 * (what IDLE and untagged EXISTS/EXPUNGE will stand on).  SELECT, FETCH,
 * STORE and EXPUNGE go in this table with the IMAP issue.
 */
#include <errno.h>

#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "view.h"

static int
on_open(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	if (storeproto_open_get(in) < 0)
		return -1;
	if (engine_lock(s->e, ENGINE_LOCK_SHARED) < 0) {
		if (errno == EWOULDBLOCK) {
			log_event(LOG_LEVEL_INFO, "mailbox_in_use", "reason=\"a POP3 session holds the lock\"");
			view_reply_err(s, STORE_ERR_INUSE, "mailbox in use by a POP3 session");
		} else {
			view_reply_err(s, STORE_ERR_IO, "cannot open mailbox");
		}
		return 0;
	}
	if (view_watch(s) < 0)	/* the session works, without pushed changes */
		log_event(LOG_LEVEL_WARN, "watch_failed", "errno=%d reason=\"no change notifications\"",
		    errno);
	s->chan.phase = VIEW_PHASE_OPEN;
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

static const struct ipc_handler imap_requests[] = {
	{ .type = MSG_STORE_IMAP_OPEN, .phases = VIEW_PHASE_IDLE, .fn = on_open },
};

const struct view view_imap = {
	.name = "imap",
	.filter = POLICY_STORED_READ_ONLY,
	.req = imap_requests,
	.nreq = sizeof(imap_requests) / sizeof(imap_requests[0]),
};
