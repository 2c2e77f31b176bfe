/* view.c - the table of views and the request dispatcher they share. */
#include "view.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"

#include "../../common/ipc/storeproto.h"

static const struct view *const views[] = { &view_pop3, &view_imap, &view_deliver };

const struct view *
view_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (!strcmp(views[i]->name, name))
			return views[i];
	return NULL;
}

int
view_dispatch(const struct view *v, struct view_session *s, struct ipc_in *in)
{
	return ipc_dispatch_chan(v->req, v->nreq, &s->chan, s, in);
}

void
view_reply(struct view_session *s)
{
	/* Blocking is acceptable: stored serves this one session, and its
	 * worker is the only party that can stall it. */
	if (ipc_send(s->worker_fd, s->out) < 0)
		exit(0);
}

void
view_reply_err(struct view_session *s, uint32_t code, const char *text)
{
	storeproto_err_put(s->out, code, text);
	view_reply(s);
}

/* Changes on disk: drain the events, tell the worker once. */
static void
on_watch(int fd, short revents, void *ctx)
{
	struct view_session *s = ctx;
	union {
		struct inotify_event ev;	/* aligned as the kernel writes them */
		char buf[4096];
	} u;

	(void)revents;
	while (read(fd, u.buf, sizeof(u.buf)) > 0)
		;
	if (s->notified)
		return;
	s->notified = 1;
	storeproto_changed_put(s->out);
	view_reply(s);
}

/* Watch d/new and d/cur in place of what s watched. */
static int
watch_add(struct view_session *s, const char *dir)
{
	static const char *const subs[] = { "new", "cur" };
	char path[300];
	size_t i;

	for (i = 0; i < 2; i++)
		if (s->watch_wd[i] >= 0) {
			(void)inotify_rm_watch(s->watch_fd, s->watch_wd[i]);
			s->watch_wd[i] = -1;
		}
	for (i = 0; i < 2; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, subs[i]) >= (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		s->watch_wd[i] = inotify_add_watch(s->watch_fd, path, IN_CREATE | IN_DELETE |
		    IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW);
		if (s->watch_wd[i] < 0)
			return -1;
	}
	return 0;
}

int
view_watch(struct view_session *s)
{
	int e;

	if (s->watch_fd >= 0)
		return 0;
	s->watch_wd[0] = s->watch_wd[1] = -1;
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd < 0)
		return -1;
	if (watch_add(s, ".") == 0 && ev_add_fd(s->watch_fd, POLLIN, on_watch, s) == 0)
		return 0;
	e = errno;
	close(s->watch_fd);
	s->watch_fd = -1;
	errno = e;
	return -1;
}

void
view_watch_pause(struct view_session *s)
{
	size_t i;

	if (s->watch_fd < 0)
		return;
	for (i = 0; i < 2; i++)
		if (s->watch_wd[i] >= 0) {
			(void)inotify_rm_watch(s->watch_fd, s->watch_wd[i]);
			s->watch_wd[i] = -1;
		}
}

void
view_watch_resume(struct view_session *s, const char *dir)
{
	if (s->watch_fd < 0)
		return;
	if (watch_add(s, dir) < 0)
		log_event(LOG_LEVEL_WARN, "watch_failed", "errno=%d reason=\"no change notifications\"",
		    errno);
	/* what the pause may have hidden (and our own change, as the watch
	 * would have said): the worker looks at its next command */
	if (!s->notified) {
		s->notified = 1;
		storeproto_changed_put(s->out);
		view_reply(s);
	}
}

void
view_unwatch(struct view_session *s)
{
	if (s->watch_fd < 0)
		return;
	ev_del_fd(s->watch_fd);
	close(s->watch_fd);	/* its watches go with it */
	s->watch_fd = -1;
	s->watch_wd[0] = s->watch_wd[1] = -1;
}

int
view_watch_dir(struct view_session *s, const char *dir)
{
	if (s->watch_fd < 0) {
		errno = EBADF;
		return -1;
	}
	return watch_add(s, dir);
}

struct serve_ctx {
	const struct view *v;
	struct view_session *s;
	struct ipc_in *in;
	int status;
};

/* One timer for the whole quiet period, not one per request: when it
 * fires early (requests came meanwhile) it waits for the rest. */
static void
on_quiet(void *ctx)
{
	struct serve_ctx *c = ctx;
	uint64_t since = ev_now_ms() - c->s->last_request_ms;

	c->s->quiet_timer = 0;
	if (since < c->s->quiet_ms) {
		c->s->quiet_timer = ev_add_timer(c->s->quiet_ms - since, on_quiet, c);
		return;
	}
	c->v->quiet(c->s);
}

static void
note_request(struct serve_ctx *c)
{
	if (c->v->quiet == NULL || c->s->quiet_ms == 0)
		return;
	c->s->last_request_ms = ev_now_ms();
	if (c->s->quiet_timer == 0)
		c->s->quiet_timer = ev_add_timer(c->s->quiet_ms, on_quiet, c);
}

static void
on_request(int fd, short revents, void *ctx)
{
	struct serve_ctx *c = ctx;
	int rc = ipc_recv(fd, c->in);

	(void)revents;
	/* A worker that exits with a MSG_STORE_CHANGED still unread resets
	 * the connection (SOCK_SEQPACKET): an end like EOF, not a violation. */
	if (rc == 0 || (rc < 0 && errno == ECONNRESET)) {
		ev_stop();
		return;
	}
	c->s->notified = 0;	/* a request: the worker will look at the mailbox */
	if (rc < 0 || view_dispatch(c->v, c->s, c->in) < 0) {
		log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=worker type=0x%04x view=%s "
		    "reason=\"malformed or unexpected request\"", rc == 1 ? c->in->type : 0, c->v->name);
		c->status = 1;
		ev_stop();
		return;
	}
	note_request(c);
}

int
view_serve(const struct view *v, struct view_session *s, struct ipc_in *in)
{
	struct serve_ctx c = { .v = v, .s = s, .in = in, .status = 0 };

	if (ev_add_fd(s->worker_fd, POLLIN, on_request, &c) < 0)
		fatal("reason=\"event loop\"");
	ev_run();
	return c.status;
}
