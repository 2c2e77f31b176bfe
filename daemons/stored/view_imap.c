/* view_imap.c - room for the IMAP view (not implemented yet).
 *
 * What exists is its lock: IMAP sessions hold the mailbox lock shared, so
 * several can select the INBOX at once while a POP3 session (exclusive)
 * still excludes them all, and they it.  The one request takes the lock;
 * SELECT, FETCH, STORE, EXPUNGE and change notifications come with the
 * IMAP issue and go in this table.
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
