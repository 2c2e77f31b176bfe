/* broker.c - the master channel and worker channels of a broker. */
#include "broker.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/ev.h"
#include "../base/log.h"

static struct broker_chan *chans;
static size_t nchans;
static struct ipc_in master_in;	/* 64 KiB: not on the stack */

struct master_ctx {
	const struct ipc_handler *tab;
	size_t n;
};
static struct master_ctx mctx;

static void
on_master(int fd, short revents, void *ctx)
{
	const struct master_ctx *m = ctx;
	int rc;

	(void)revents;
	rc = ipc_recv(fd, &master_in);
	if (rc == 0) {
		log_event(LOG_LEVEL_INFO, "exit", "reason=\"master closed channel\"");
		exit(0);
	}
	if (rc < 0 && errno == EMFILE) {	/* refuse that one session, live on */
		log_event(LOG_LEVEL_ERR, "session_refused", "reason=\"fd table full: a new "
		    "session's channel could not be received\"");
		return;
	}
	if (rc < 0 || ipc_dispatch(m->tab, m->n, NULL, &master_in) < 0)
		fatal("reason=\"bad message from master\" type=0x%04x", master_in.type);
}

void
broker_master(int fd, const struct ipc_handler *tab, size_t n)
{
	mctx.tab = tab;
	mctx.n = n;
	if (ev_add_fd(fd, POLLIN, on_master, &mctx) < 0)
		fatal("reason=\"event loop\"");
}

void *
broker_chan_new(size_t size, int fd, const char *sid, const char *ip, uint32_t phase,
    void (*on_readable)(int fd, short revents, void *ctx))
{
	struct broker_chan *c = size >= sizeof(*c) ? calloc(1, size) : NULL;

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	snprintf(c->sid, sizeof(c->sid), "%s", sid);
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	c->perm.phase = phase;
	if (ev_add_fd(fd, POLLIN, on_readable, c) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	c->next = chans;
	chans = c;
	nchans++;
	return c;
}

void
broker_chan_free(struct broker_chan *c)
{
	struct broker_chan **pp;

	for (pp = &chans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			nchans--;
			break;
		}
	ev_del_fd(c->fd);
	close(c->fd);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

size_t
broker_chan_count(void)
{
	return nchans;
}

static void
violation(const struct broker_chan *c, int got, const struct ipc_in *in, const char *why)
{
	log_set_session(c->sid);
	log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=worker ip=%s type=0x%04x reason=\"%s\"",
	    c->ip[0] ? c->ip : "-", got == 1 ? in->type : 0, why);
	log_set_session(NULL);
}

int
broker_chan_recv(struct broker_chan *c, struct ipc_in *in, const struct broker_table *t)
{
	int got = ipc_recv(c->fd, in), rc;

	if (got == 0)
		return -1;
	if (got < 0) {
		violation(c, got, in, "malformed message");
		return -1;
	}
	rc = ipc_dispatch_chan(t->tab, t->n, &c->perm, c, in);
	if (rc == IPC_DENIED && t->denied != NULL)
		rc = t->denied(c, in);
	else if (rc < 0)
		violation(c, got, in, rc == IPC_DENIED ? "message not allowed now" :
		    "unknown or malformed request");
	explicit_bzero(in->data, IPC_HDR_LEN + in->len);
	return rc < 0 ? -1 : rc;
}

int
broker_reply(struct broker_chan *c, struct ipc_out *o)
{
	if (ipc_send_nowait(c->fd, o) == 0)
		return 0;
	c->send_errno = errno ? errno : EIO;
	log_set_session(c->sid);
	log_event(LOG_LEVEL_WARN, "channel_closed", "peer=worker ip=%s errno=%d reason=\"%s\"",
	    c->ip[0] ? c->ip : "-", c->send_errno, c->send_errno == EAGAIN ?
	    "worker does not read its replies" : "reply could not be sent");
	log_set_session(NULL);
	return -1;
}
