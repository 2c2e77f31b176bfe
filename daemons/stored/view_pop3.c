/* view_pop3.c - the POP3 view (RFC 1939): the mailbox is locked exclusive
 * and snapshot once at MSG_STORE_POP_OPEN; the worker pages through sizes
 * and UIDLs, fetches read-only fds, and removes the marked messages at
 * UPDATE (MSG_STORE_POP_COMMIT, the final batch ends the session's use). */
#include <errno.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "view.h"

static int
on_open(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct engine *e = s->e;

	if (storeproto_open_get(in) < 0)
		return -1;
	if (engine_lock(e, ENGINE_LOCK_EXCLUSIVE) < 0) {
		if (errno == EWOULDBLOCK) {
			log_event(LOG_LEVEL_INFO, "mailbox_in_use", "reason=\"another session holds the lock\"");
			view_reply_err(s, STORE_ERR_INUSE, "mailbox in use by another session");
			return 0;
		}
		log_event(LOG_LEVEL_ERR, "mailbox_open", "errno=%d", errno);
		view_reply_err(s, STORE_ERR_IO, "cannot open mailbox");
		return 0;
	}
	if (engine_snapshot(e) < 0) {
		log_event(LOG_LEVEL_ERR, "mailbox_open", "errno=%d", errno);
		view_reply_err(s, STORE_ERR_IO, "cannot open mailbox");
		return 0;
	}
	s->chan.phase = VIEW_PHASE_OPEN;
	storeproto_ok_put(s->out, e->n);
	view_reply(s);
	return 0;
}

/* The page of the snapshot a SIZES or UIDLS request asks for: how many
 * entries from start (at most max).  -1 for a start past the end. */
static int
page_of(const struct engine *e, struct ipc_in *in, uint32_t max, uint32_t *start_r,
    uint32_t *count_r)
{
	if (storeproto_index_get(in, start_r) < 0 || *start_r > e->n)
		return -1;
	*count_r = (uint32_t)(e->n - *start_r > max ? max : e->n - *start_r);
	return 0;
}

static int
on_sizes(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	static uint64_t size[STORE_SIZES_PAGE];
	uint32_t start, count, i;

	if (page_of(s->e, in, STORE_SIZES_PAGE, &start, &count) < 0)
		return -1;
	for (i = 0; i < count; i++)
		size[i] = s->e->msgs[start + i].size;
	storeproto_sizes_put(s->out, start, start + count < s->e->n, size, count);
	view_reply(s);
	return 0;
}

static int
on_uidls(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	static const char *uidl[STORE_UIDLS_PAGE];
	uint32_t start, count, i;

	if (page_of(s->e, in, STORE_UIDLS_PAGE, &start, &count) < 0)
		return -1;
	for (i = 0; i < count; i++)
		uidl[i] = s->e->msgs[start + i].uidl;
	storeproto_uidls_put(s->out, start, start + count < s->e->n, uidl, count);
	view_reply(s);
	return 0;
}

static int
on_fetch(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct engine *e = s->e;
	uint32_t i;
	int fd;

	if (storeproto_index_get(in, &i) < 0)
		return -1;
	if (i >= e->n) {
		view_reply_err(s, STORE_ERR_NOMSG, "no such message");
		return 0;
	}
	fd = engine_fetch(e, i);
	if (fd < 0 && errno == ENOENT) {
		log_event(LOG_LEVEL_WARN, "message_gone", "index=%u reason=\"file removed by another program\"", i);
		view_reply_err(s, STORE_ERR_GONE, "message no longer available");
		return 0;
	}
	if (fd < 0) {
		log_event(LOG_LEVEL_ERR, "message_unreadable", "index=%u errno=%d reason=\"%s\"", i, errno,
		    errno == EACCES ? "permission denied: is the file owned by the mail uid?" : "open failed");
		view_reply_err(s, STORE_ERR_IO, "message cannot be read");
		return 0;
	}
	storeproto_msgfd_put(s->out, e->msgs[i].size, fd);
	view_reply(s);
	close(fd);
	return 0;
}

static int
on_commit(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	static struct store_commit c;
	static size_t gone[STORE_COMMIT_MAX];
	struct engine *e = s->e;
	uint32_t k, removed = 0, failed = 0;

	if (storeproto_commit_get(in, &c) < 0 || c.count > e->n)
		return -1;
	for (k = 0; k < c.count; k++)	/* meaning: every index in the snapshot */
		if (c.index[k] >= e->n)
			return -1;
	for (k = 0; k < c.count; k++) {
		if (engine_remove(e, c.index[k]) < 0) {
			failed++;
			continue;
		}
		gone[removed++] = c.index[k];
	}
	engine_forget(e, gone, removed);
	if (c.final) {
		s->chan.phase = VIEW_PHASE_DONE;
		engine_unlock(e);	/* before the reply the client's +OK follows */
	}
	if (failed) {
		log_event(LOG_LEVEL_ERR, "expunge", "removed=%u failed=%u", removed, failed);
		view_reply_err(s, STORE_ERR_IO, "some messages could not be removed");
		return 0;
	}
	if (c.final)
		log_event(LOG_LEVEL_INFO, "update", "removed=%u", removed);
	storeproto_ok_put(s->out, removed);
	view_reply(s);
	return 0;
}

static const struct ipc_handler pop3_requests[] = {
	{ .type = MSG_STORE_POP_OPEN, .phases = VIEW_PHASE_IDLE, .fn = on_open },
	{ .type = MSG_STORE_POP_SIZES, .phases = VIEW_PHASE_OPEN, .fn = on_sizes },
	{ .type = MSG_STORE_POP_UIDLS, .phases = VIEW_PHASE_OPEN, .fn = on_uidls },
	{ .type = MSG_STORE_POP_FETCH, .phases = VIEW_PHASE_OPEN, .fn = on_fetch },
	{ .type = MSG_STORE_POP_COMMIT, .phases = VIEW_PHASE_OPEN, .fn = on_commit },
};

const struct view view_pop3 = {
	.name = "pop3",
	.filter = POLICY_STORED_READ_ONLY,
	.req = pop3_requests,
	.nreq = sizeof(pop3_requests) / sizeof(pop3_requests[0]),
};
