/* lookup.c - the master's side of the recipient lookup: ask authd where
 * mail for an address goes (user, mail root, ids, quota; no password) for
 * LMTP and SMTP RCPT, which will spawn a deliver-view stored with it.
 *
 * intake.c calls master_lookup() for each RCPT an intake worker names.  It
 * never blocks: the request goes out with
 * broker_send(), the answer comes back through authd's dispatch table in
 * brokers.c, and a lookup authd does not answer in BROKER_CALL_TIMEOUT_MS
 * (authd died or is stuck) is answered AUTHD_LOOKUP_TEMP by a timer.
 */
#include <errno.h>
#include <string.h>

#include "../../common/ipc/authdproto.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "master.h"

/* Lookups in flight; an intake session has one at a time. */
#define LOOKUPS_MAX 256

struct pending {
	uint32_t id;		/* 0 = free */
	uint64_t timer;
	master_lookup_cb *cb;
	void *ctx;
};

static struct pending pending[LOOKUPS_MAX];
static uint32_t next_id = 1;
static struct ipc_out outmsg;

static struct pending *
find(uint32_t id)
{
	size_t i;

	for (i = 0; i < LOOKUPS_MAX; i++)
		if (pending[i].id == id)
			return &pending[i];
	return NULL;
}

/* Free the slot first: the callback may start the next lookup. */
static void
finish(struct pending *p, const struct authd_lookup_result *r)
{
	master_lookup_cb *cb = p->cb;
	void *ctx = p->ctx;

	if (p->timer)
		ev_cancel_timer(p->timer);
	*p = (struct pending){ 0 };
	cb(ctx, r);
}

static void
timed_out(void *ctx)
{
	struct pending *p = ctx;
	static struct authd_lookup_result r;

	r = (struct authd_lookup_result){ .id = p->id, .status = AUTHD_LOOKUP_TEMP };
	log_event(LOG_LEVEL_WARN, "lookup_timeout", "id=%u reason=\"authd did not answer\"", p->id);
	p->timer = 0;
	finish(p, &r);
}

int
master_lookup(struct master *m, const char *address, master_lookup_cb *cb, void *ctx)
{
	struct pending *p = find(0);

	if (p == NULL) {
		errno = EAGAIN;
		return -1;
	}
	/* ids grow and skip 0 (a free slot), so a late answer to an expired
	 * lookup never matches a newer one */
	p->id = next_id++;
	if (next_id == 0)
		next_id = 1;
	authdproto_lookup_put(&outmsg, p->id, address);
	if (broker_send(m, &m->authd, &outmsg) < 0) {
		*p = (struct pending){ 0 };
		return -1;
	}
	p->cb = cb;
	p->ctx = ctx;
	p->timer = ev_add_timer(BROKER_CALL_TIMEOUT_MS, timed_out, p);
	return 0;
}

int
master_lookup_result(struct master *m, struct ipc_in *in)
{
	static struct authd_lookup_result r;
	struct pending *p;

	(void)m;
	if (authdproto_lookup_result_get(in, &r) < 0 || r.id == 0)
		return -1;	/* the caller logs ipc_violation and restarts authd */
	p = find(r.id);
	if (p == NULL) {
		/* expired meanwhile (answered TEMP already): not a violation */
		log_event(LOG_LEVEL_INFO, "lookup_late", "id=%u", r.id);
		return 0;
	}
	finish(p, &r);
	return 0;
}
