/* view.c - the table of views and the request dispatcher they share. */
#include "view.h"

#include <stdlib.h>
#include <string.h>

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
