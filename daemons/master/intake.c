/* intake.c - mail intake on the worker control channel (LMTP, SMTP).
 *
 * The worker names an address, never a user.  The master asks authd where
 * mail for it goes (lookup.c), keeps the answer in the session's recipient
 * list and tells the worker only the verdict and the list's index.  For
 * delivery the worker names an index and gets a fresh deliver-view stored
 * for that recipient (role CHILD_DELIVER), which writes the message the
 * worker hands it.  The dispatch table in master.c allows these requests
 * only on intake services and one lookup at a time (phase CTL_LOOKUP
 * until its answer).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/masterproto.h"
#include "master.h"

static struct ipc_out outmsg;

/* What a lookup in flight needs when authd answers: the session may have
 * ended (and the session array moved) meanwhile, so it is found again by
 * its id. */
struct pending_rcpt {
	struct master *m;
	char sid[sizeof(((struct session *)0)->sid)];
	uint32_t id;
	char address[MASTERPROTO_ADDRESS_MAX + 1];
};

static struct session *
session_by_sid(struct master *m, const char *sid)
{
	size_t i;

	for (i = 0; i < m->nsessions; i++)
		if (strcmp(m->sessions[i].sid, sid) == 0)
			return &m->sessions[i];
	return NULL;
}

static const char *
status_name(uint32_t st)
{
	static const char *const names[] = { "found", "unknown", "disabled", "invalid", "temp",
	    "relay" };

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

_Static_assert(AUTHD_LOOKUP_TARGETS_MAX <= MASTERPROTO_TARGETS_MAX,
    "every user a lookup names gets an index in the worker's verdict");

/* Keep one user a found recipient reaches; its index, or -1 (list full or
 * no memory).  A user already in the list keeps its index: two addresses
 * of one user (an alias, a subaddress, a catch-all, two aliases with
 * targets in common) make one copy, and the worker, which sees the same
 * index twice, gives both the one outcome. */
static int
keep(struct session *s, const struct authd_lookup_target *t)
{
	struct session_rcpt *n, *e;
	uint32_t i;

	for (i = 0; i < s->nrcpts; i++)
		if (strcmp(s->rcpts[i].user, t->user) == 0)
			return (int)i;
	if (s->nrcpts >= MASTERPROTO_RCPT_MAX)
		return -1;
	n = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	s->rcpts = n;
	e = &n[s->nrcpts];
	memset(e, 0, sizeof(*e));
	snprintf(e->user, sizeof(e->user), "%s", t->user);
	e->uid = t->uid;
	e->gid = t->gid;
	e->quota = t->quota;
	e->mail_root = strdup(t->mail_root);
	if (e->mail_root == NULL)
		return -1;
	return (int)s->nrcpts++;
}

/* Every user of a found result kept, their indexes in res; 0, or -1 (a
 * meaning the master refuses, or no room: a temporary failure). */
static int
keep_all(struct session *s, const struct authd_lookup_result *r, struct master_rcpt_result *res)
{
	uint32_t i;
	int index;

	for (i = 0; i < r->n; i++) {
		/* check meaning as for a login: never root, only canonical roots */
		if (r->t[i].uid == 0 || r->t[i].gid == 0 ||
		    !config_path_canonical(r->t[i].mail_root) || (index = keep(s, &r->t[i])) < 0)
			return -1;
		res->index[res->n++] = (uint32_t)index;
	}
	return 0;
}

static void
answered(void *ctx, const struct authd_lookup_result *r)
{
	struct pending_rcpt *p = ctx;
	static struct master_rcpt_result res;
	struct session *s = session_by_sid(p->m, p->sid);
	char q[MASTERPROTO_ADDRESS_MAX + 8], extra[USERDB_NAME_MAX + 32];

	if (s == NULL)		/* the worker went away meanwhile */
		goto done;
	res = (struct master_rcpt_result){ .id = p->id, .status = r->status };
	log_set_session(s->sid);
	if (r->status == AUTHD_LOOKUP_FOUND && keep_all(s, r, &res) < 0)
		res = (struct master_rcpt_result){ .id = p->id, .status = AUTHD_LOOKUP_TEMP };
	extra[0] = '\0';
	if (res.status == AUTHD_LOOKUP_FOUND && r->n > 1)	/* an alias of several */
		snprintf(extra, sizeof(extra), " user=%s users=%u", r->t[0].user, r->n);
	else if (res.status == AUTHD_LOOKUP_FOUND)
		snprintf(extra, sizeof(extra), " user=%s", r->t[0].user);
	log_event(LOG_LEVEL_INFO, "rcpt", "address=\"%s\" status=%s%s",
	    log_quote(q, sizeof(q), p->address, (unsigned)strlen(p->address)), status_name(res.status),
	    extra);
	log_set_session(NULL);
	s->ctl.phase = CTL_INTAKE;
	masterproto_rcpt_result_put(&outmsg, &res);
	master_worker_send(s, &outmsg);
done:
	explicit_bzero(p, sizeof(*p));
	free(p);
}

int
intake_rcpt(void *ctx, struct ipc_in *in)
{
	struct session *s = ctx;
	struct master_rcpt r;
	struct pending_rcpt *p;

	if (masterproto_rcpt_get(in, &r) < 0)
		return -1;
	p = calloc(1, sizeof(*p));
	if (p != NULL) {
		p->m = s->m;
		p->id = r.id;
		memcpy(p->sid, s->sid, sizeof(p->sid));
		memcpy(p->address, r.address, sizeof(p->address));
	}
	if (p == NULL || master_lookup(s->m, r.address, answered, p) < 0) {
		static struct authd_lookup_result temp;
		temp = (struct authd_lookup_result){ .status = AUTHD_LOOKUP_TEMP };
		/* authd busy or down: a temporary failure for this recipient */
		if (p == NULL) {
			static struct master_rcpt_result res;
			res = (struct master_rcpt_result){ .id = r.id, .status = AUTHD_LOOKUP_TEMP };
			s->ctl.phase = CTL_INTAKE;
			masterproto_rcpt_result_put(&outmsg, &res);
			master_worker_send(s, &outmsg);
			return 0;
		}
		answered(p, &temp);
	}
	return 0;
}

int
intake_deliver(void *ctx, struct ipc_in *in)
{
	struct session *s = ctx;
	const struct session_rcpt *r;
	uint32_t index;
	int fd;

	if (masterproto_deliver_get(in, &index) < 0 || index >= s->nrcpts)
		return -1;	/* an index the master never gave: a violation */
	r = &s->rcpts[index];
	log_set_session(s->sid);
	fd = master_spawn_stored(s->m, s, r->user, r->uid, r->gid, r->mail_root, r->quota, "deliver",
	    CHILD_DELIVER);
	log_set_session(NULL);
	if (fd < 0) {
		masterproto_text_put(&outmsg, MSG_WORKER_STORE_FAIL, "storage unavailable");
		master_worker_send(s, &outmsg);
		return 0;
	}
	masterproto_fd_put(&outmsg, MSG_WORKER_DELIVER, fd);
	master_worker_send(s, &outmsg);
	close(fd);
	return 0;
}

void
intake_clear(struct session *s)
{
	uint32_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i].mail_root);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
}

int
intake_reset(void *ctx, struct ipc_in *in)
{
	struct session *s = ctx;

	if (masterproto_empty_get(in) < 0)
		return -1;
	intake_clear(s);
	return 0;
}
