/* view_deliver.c - the deliver view: intake workers (LMTP, SMTP for local
 * recipients) hand stored one message at a time as a read-only fd; stored
 * writes it into the INBOX (tmp/ with O_EXCL, fsync, rename into new/,
 * fsync new/) and only then answers MSG_STORE_DELIVERED with the file
 * name, so the worker's 250 follows a durable write (invariant 5).  No
 * lock: Maildir delivery needs none, and a POP3 session's snapshot does
 * not see the new file until its next login.  This is the one view whose
 * filter lets openat create files (O_WRONLY|O_CREAT|O_EXCL, policy.c). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeimap.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/quota.h"
#include "view.h"

static int
on_deliver(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	char name[MAILDIR_NAME_MAX + 1];
	struct quota q;
	uint64_t len;
	int rc;

	if (storeproto_deliver_get(in, &len) < 0) {
		ipc_in_close_fd(in);
		return -1;
	}
	/* Maildir++ quota (maildirsize, its definition from the user db):
	 * a message that would take the mailbox over it is refused before a
	 * byte is written, so the sender gets 552 5.2.2 and keeps the mail */
	if (quota_read(AT_FDCWD, time(NULL), &q, NULL) == 0 &&
	    ((q.has_storage && q.storage_used + (int64_t)len > (int64_t)q.storage_limit) ||
	    (q.has_messages && q.messages_used + 1 > (int64_t)q.message_limit))) {
		ipc_in_close_fd(in);
		log_event(LOG_LEVEL_INFO, "quota_refused", "reason=%s size=%llu used=%lld limit=%llu",
		    q.has_storage && q.storage_used + (int64_t)len > (int64_t)q.storage_limit ?
		    "storage" : "messages", (unsigned long long)len, (long long)q.storage_used,
		    (unsigned long long)q.storage_limit);
		view_reply_err(s, STORE_ERR_QUOTA, "mailbox full");
		return 0;
	}
	/* At most the announced length: a sender that grows the file while
	 * stored copies it gets EFBIG, not a bigger message. */
	rc = engine_deliver(s->e, in->fd, len, name);
	ipc_in_close_fd(in);
	if (rc < 0) {
		int big = errno == EFBIG;
		log_event(LOG_LEVEL_ERR, "deliver_failed", "errno=%d reason=\"%s\"", errno,
		    big ? "longer than announced" : strerror(errno));
		view_reply_err(s, big ? STORE_ERR_TOOBIG : STORE_ERR_IO,
		    big ? "message longer than announced" : "delivery failed");
		return 0;
	}
	if (quota_update(AT_FDCWD, (int64_t)len, 1) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	log_event(LOG_LEVEL_INFO, "delivered", "file=%s", name);
	storeproto_delivered_put(s->out, name);
	view_reply(s);
	return 0;
}

static const struct ipc_handler deliver_requests[] = {
	{ .type = MSG_STORE_DELIVER, .with_fd = 1, .phases = VIEW_PHASE_IDLE, .fn = on_deliver },
};

const struct view view_deliver = {
	.name = "deliver",
	.filter = POLICY_STORED_DELIVER,
	.req = deliver_requests,
	.nreq = sizeof(deliver_requests) / sizeof(deliver_requests[0]),
};
