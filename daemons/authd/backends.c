/* backends.c - the chain of authentication backends (auth_backends,
 * docs/AUTH.md#backends).  The user db is read here, in authd; pgsql and
 * checkpw run in helper processes the master spawns for authd, each
 * reached over its own channel (common/ipc/backendproto.h).
 *
 * authd never waits for a helper: a request goes out without blocking,
 * the session waits in AUTH_WAIT (the worker may send nothing), and the
 * answer, or auth_backend_timeout_ms, moves the chain on.  A name no
 * backend has goes to the next one; a temporary failure, a helper that is
 * not running, one that does not answer in time or answers out of form
 * stops the chain with a temporary failure (a later backend must not
 * answer for a user an earlier one has but cannot reach now).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../common/auth/backendq.h"
#include "../../common/base/config.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/backendproto.h"
#include "authd.h"

/* Requests out at once, to all helpers: logins are bounded by the
 * sessions (one each), lookups by this. */
#define WAITS_MAX	512

struct helper {
	int fd;			/* -1: not running */
	uint32_t pid;
};

/* A recipient lookup on its way through the chain: the master's id, the
 * normalised address, the next step, the user db's answer. */
struct lkp {
	uint32_t master_id;
	char name[USERDB_NAME_MAX + 1];
	char bare[USERDB_NAME_MAX + 1];	/* name without its subaddress, "" if none */
	unsigned pos;
	uint32_t status;
};

/* One request out: for a login (a) or a recipient lookup (is_lookup). */
struct wait {
	uint32_t id;		/* 0: free */
	enum backendq_kind kind;
	struct authsess *a;
	uint64_t timer;
	int is_lookup;
	struct lkp l;
};

static enum backendq_kind chain[BACKENDQ_CHAIN_MAX];
static size_t nchain;
static uint64_t timeout_ms;
static int bind_auth;		/* ldap_auth = bind: the LDAP helper checks the password */
/* The ids of Postern's own processes: no backend may give them to a user
 * (a stored with keyd's uid could signal or trace keyd). */
static uint32_t service_ids[8];
static struct helper helpers[BACKENDQ_KIND_MAX + 1];
static struct wait waits[WAITS_MAX];
static uint32_t next_id = 1;
static struct ipc_out out;
static struct ipc_in in;

void
backends_init(const struct config *cfg)
{
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		helpers[i].fd = -1;
	if (backendq_chain(cfg->auth_backends, chain, &nchain, &why) < 0)
		fatal("reason=\"auth_backends: %s\"", why);	/* the master checked it */
	timeout_ms = cfg->auth_backend_timeout_ms;
	bind_auth = strcmp(cfg->ldap_auth, "bind") == 0;
	service_ids[0] = (uint32_t)cfg->auth_uid;
	service_ids[1] = (uint32_t)cfg->auth_gid;
	service_ids[2] = (uint32_t)cfg->keyd_uid;
	service_ids[3] = (uint32_t)cfg->keyd_gid;
	service_ids[4] = (uint32_t)cfg->worker_uid;
	service_ids[5] = (uint32_t)cfg->worker_gid;
	service_ids[6] = (uint32_t)cfg->auth_helper_uid;
	service_ids[7] = (uint32_t)cfg->auth_helper_gid;
}

/* 1 if r names one of the service ids as the user's uid or gid. */
static int
service_id(const struct backend_reply *r)
{
	size_t i;

	for (i = 0; i < sizeof(service_ids) / sizeof(service_ids[0]); i++)
		if ((r->uid != 0 && r->uid == service_ids[i]) || (r->gid != 0 && r->gid == service_ids[i]))
			return 1;
	return 0;
}

static struct wait *
wait_find(uint32_t id)
{
	size_t i;

	for (i = 0; i < WAITS_MAX; i++)
		if (waits[i].id == id)
			return &waits[i];
	return NULL;
}

static void
wait_free(struct wait *w)
{
	if (w->timer)
		ev_cancel_timer(w->timer);
	if (w->a != NULL)
		w->a->bk_id = 0;
	*w = (struct wait){ 0 };
}

static void lookup_next(const struct lkp *l);
static void lookup_reply(struct wait *w, const struct backend_reply *r, const char *why);

static void settle_login(struct authsess *a, enum backendq_kind kind,
    const struct backend_reply *r, const char *why);

/* The outcome of a request (a reply, or r NULL: no answer, with why). */
static void
settle(struct wait *w, const struct backend_reply *r, const char *why)
{
	struct authsess *a = w->a;
	enum backendq_kind kind = w->kind;

	if (w->is_lookup) {
		lookup_reply(w, r, why);
		return;
	}
	wait_free(w);
	settle_login(a, kind, r, why);
	authd_replied(a);
}

/* A login's step after its backend answered (r NULL: it did not, why). */
static void
settle_login(struct authsess *a, enum backendq_kind kind, const struct backend_reply *r,
    const char *why)
{
	struct userdb_user u;
	const char *name = backendq_name(kind);
	char reason[128];

	a->backend = name;
	if (r == NULL || r->status == BACKEND_TEMP) {
		snprintf(reason, sizeof(reason), "backend %s: %s", name, r ? "temporary failure" : why);
		authd_refuse(a, AUTH_FAIL_TEMP, a->name, reason);
		authd_forget(a);
	} else if (r->status == BACKEND_NOT_FOUND) {
		a->backend = NULL;
		backends_login(a);
	} else if (r->status == BACKEND_BAD_PASSWORD) {
		throttle_fail(&authd_acfg, a->ch.ip, a->name, ev_now_ms());
		snprintf(reason, sizeof(reason), "wrong password (%s)", name);
		authd_refuse(a, AUTH_FAIL_CREDENTIALS, a->name, reason);
		authd_forget(a);
	} else if (strcasecmp(r->user, a->name) != 0 || service_id(r)) {
		snprintf(reason, sizeof(reason), "backend %s: %s", name, service_id(r) ?
		    "named the uid or gid of a Postern process" : "answered for another user");
		authd_refuse(a, AUTH_FAIL_TEMP, a->name, reason);
		authd_forget(a);
	} else {
		/* an empty hash (a NULL column) is unusable: refused as the
		 * user db's are, after the dummy check */
		memset(&u, 0, sizeof(u));
		u.flags = r->flags;
		u.uid = r->uid;
		u.gid = r->gid;
		u.quota = r->quota;
		snprintf(u.hash, sizeof(u.hash), "%s", r->hash);
		snprintf(u.mailroot, sizeof(u.mailroot), "%s", r->mail_root);
		authd_verdict(a, a->name, &u, 0, r->verified);
	}
}

static void
timed_out(void *ctx)
{
	struct wait *w = ctx;

	w->timer = 0;
	log_event(LOG_LEVEL_WARN, "backend_timeout", "backend=%s id=%u timeout_ms=%llu",
	    backendq_name(w->kind), w->id, (unsigned long long)timeout_ms);
	settle(w, NULL, "no answer in auth_backend_timeout_ms");
}

/* Send a request to kind's helper: the wait, or NULL with why. */
static struct wait *
ask(enum backendq_kind kind, const struct backend_request *q0, const char **why_r)
{
	struct helper *h = &helpers[kind];
	struct backend_request q = *q0;
	struct wait *w;

	if (h->fd < 0) {
		*why_r = "helper not running";
		return NULL;
	}
	if ((w = wait_find(0)) == NULL) {
		*why_r = "too many requests out";
		return NULL;
	}
	q.id = next_id++;
	if (next_id == 0)
		next_id = 1;
	backendproto_request_put(&out, &q);
	if (ipc_send_nowait(h->fd, &out) < 0) {
		*why_r = errno == EAGAIN ? "helper not reading" : "helper channel failed";
		return NULL;
	}
	w->id = q.id;
	w->kind = kind;
	w->timer = ev_add_timer(timeout_ms, timed_out, w);
	return w;
}

void
backends_login(struct authsess *a)
{
	struct backend_request q;
	enum backendq_kind k;
	struct wait *w;
	const char *why;
	char reason[128];

	while (a->bk_pos < nchain) {
		k = chain[a->bk_pos++];
		if (k == BACKENDQ_USERDB) {
			if (authd_userdb_step(a))
				return;
			continue;
		}
		memset(&q, 0, sizeof(q));
		q.kind = BACKEND_LOGIN;
		snprintf(q.service, sizeof(q.service), "%s", a->service);
		snprintf(q.name, sizeof(q.name), "%s", a->name);
		/* only a backend that checks it itself sees the password
		 * (checkpw, ldap binding as the user): pgsql and ldap's
		 * search return the hash, which authd checks */
		if (k == BACKENDQ_CHECKPW || (k == BACKENDQ_LDAP && bind_auth)) {
			/* the interface ends the password at a NUL */
			if (memchr(a->pass, '\0', a->passlen) != NULL || a->passlen > BACKEND_PASS_MAX) {
				a->backend = backendq_name(k);
				throttle_fail(&authd_acfg, a->ch.ip, a->name, ev_now_ms());
				authd_refuse(a, AUTH_FAIL_CREDENTIALS, a->name, "wrong password (a NUL "
				    "or over 1023 bytes: cannot be passed on)");
				authd_forget(a);
				return;
			}
			q.pass = a->pass;
			q.passlen = a->passlen;
		}
		w = ask(k, &q, &why);
		explicit_bzero(out.data, sizeof(out.data));	/* it held the password */
		if (w == NULL) {
			a->backend = backendq_name(k);
			snprintf(reason, sizeof(reason), "backend %s: %s", backendq_name(k), why);
			authd_refuse(a, AUTH_FAIL_TEMP, a->name, reason);
			authd_forget(a);
			return;
		}
		w->a = a;
		a->bk_id = w->id;
		a->ch.perm.phase = AUTH_WAIT;
		return;
	}
	authd_unknown(a);
}

void
backends_cancel(struct authsess *a)
{
	struct wait *w;

	if (a->bk_id != 0 && (w = wait_find(a->bk_id)) != NULL)
		wait_free(w);
	a->bk_id = 0;
	a->bk_pos = 0;
}

static void
lookup_answer(uint32_t id, uint32_t status, const struct authd_lookup_result *found)
{
	static struct authd_lookup_result r;

	if (found != NULL) {
		authd_lookup_answer(found);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.status = status;
	authd_lookup_answer(&r);
}

/* A lookup's next helper, or its answer (the user db's, if none knows it). */
static void
lookup_next(const struct lkp *l0)
{
	struct backend_request q;
	struct lkp l = *l0;
	struct wait *w;
	const char *why;
	enum backendq_kind k;

	while (l.pos < nchain) {
		k = chain[l.pos++];
		if (k == BACKENDQ_USERDB)
			continue;	/* asked first, by the caller */
		memset(&q, 0, sizeof(q));
		q.kind = BACKEND_LOOKUP;
		snprintf(q.name, sizeof(q.name), "%s", l.name);
		if ((w = ask(k, &q, &why)) == NULL) {
			log_event(LOG_LEVEL_WARN, "lookup_failed", "backend=%s reason=\"%s\"",
			    backendq_name(k), why);
			lookup_answer(l.master_id, AUTHD_LOOKUP_TEMP, NULL);
			return;
		}
		w->is_lookup = 1;
		w->l = l;
		return;
	}
	/* user+tag@domain: the chain again for user@domain, as the user db
	 * resolves a subaddress when the whole address is nobody's */
	if (l.bare[0] != '\0') {
		memcpy(l.name, l.bare, sizeof(l.name));
		l.bare[0] = '\0';
		l.pos = 0;
		lookup_next(&l);
		return;
	}
	lookup_answer(l.master_id, l.status, NULL);
}

/* A helper's answer to a lookup (r NULL: none, why). */
static void
lookup_reply(struct wait *w, const struct backend_reply *r, const char *why)
{
	static struct authd_lookup_result res;
	struct lkp l = w->l;
	const char *name = backendq_name(w->kind), *mwhy;
	struct userdb_user u;

	wait_free(w);
	if (r == NULL || r->status != BACKEND_FOUND || strcasecmp(r->user, l.name) != 0 ||
	    service_id(r)) {
		if (r != NULL && r->status == BACKEND_NOT_FOUND) {
			lookup_next(&l);
			return;
		}
		log_event(LOG_LEVEL_WARN, "lookup_failed", "backend=%s reason=\"%s\"", name,
		    r == NULL ? why : r->status != BACKEND_FOUND ? "temporary failure" :
		    service_id(r) ? "named the uid or gid of a Postern process" :
		    "answered for another user");
		lookup_answer(l.master_id, AUTHD_LOOKUP_TEMP, NULL);
		return;
	}
	if (r->flags & USERDB_USER_DISABLED) {
		lookup_answer(l.master_id, AUTHD_LOOKUP_DISABLED, NULL);
		return;
	}
	memset(&res, 0, sizeof(res));
	memset(&u, 0, sizeof(u));
	snprintf(u.mailroot, sizeof(u.mailroot), "%s", r->mail_root);
	if (authd_user_mailroot(l.name, &u, res.t[0].mail_root, &mwhy) < 0) {
		log_event(LOG_LEVEL_ERR, "lookup_failed", "backend=%s user=%s reason=\"%s\"", name,
		    l.name, mwhy);
		lookup_answer(l.master_id, AUTHD_LOOKUP_TEMP, NULL);
		return;
	}
	res.id = l.master_id;
	res.status = AUTHD_LOOKUP_FOUND;
	res.n = 1;
	snprintf(res.t[0].user, sizeof(res.t[0].user), "%s", l.name);
	res.t[0].uid = r->uid ? r->uid : authd_acfg.mail_uid;
	res.t[0].gid = r->gid ? r->gid : authd_acfg.mail_gid;
	res.t[0].quota = r->quota;
	log_event(LOG_LEVEL_DEBUG, "lookup", "backend=%s user=%s", name, l.name);
	lookup_answer(l.master_id, AUTHD_LOOKUP_FOUND, &res);
}

/* bare: name without its recipient_delimiter part (user+tag@domain ->
 * user@domain), or "" when it has none. */
static void
subaddress_of(const char *name, char bare[USERDB_NAME_MAX + 1])
{
	const char *at = strchr(name, '@'), *d = name + strcspn(name, authd_acfg.delimiter);

	bare[0] = '\0';
	if (authd_acfg.delimiter[0] == '\0' || *d == '\0' || d == name || (at != NULL && d >= at))
		return;
	snprintf(bare, USERDB_NAME_MAX + 1, "%.*s%s", (int)(d - name), name, at != NULL ? at : "");
}

int
backends_lookup(const struct authd_lookup *q, uint32_t status)
{
	struct lkp l;
	const char *why;

	if (nchain <= 1 && (nchain == 0 || chain[0] == BACKENDQ_USERDB))
		return 0;	/* the user db alone */
	memset(&l, 0, sizeof(l));
	if (userdb_normalize((const uint8_t *)q->address, strlen(q->address),
	    authd_acfg.default_domain, l.name, &why) < 0)
		return 0;
	l.master_id = q->id;
	l.status = status;
	subaddress_of(l.name, l.bare);
	lookup_next(&l);
	return 1;
}

/* Every request out to kind's helper ends: it is gone. */
static void
helper_gone(enum backendq_kind kind, const char *why)
{
	struct helper *h = &helpers[kind];
	size_t i;

	if (h->fd >= 0) {
		ev_del_fd(h->fd);
		close(h->fd);
		h->fd = -1;
		log_event(LOG_LEVEL_WARN, "backend_down", "backend=%s helper_pid=%u reason=\"%s\"",
		    backendq_name(kind), h->pid, why);
	}
	for (i = 0; i < WAITS_MAX; i++)
		if (waits[i].id != 0 && waits[i].kind == kind)
			settle(&waits[i], NULL, why);
}

static void
on_helper(int fd, short revents, void *ctx)
{
	enum backendq_kind kind = (enum backendq_kind)(uintptr_t)ctx;
	static struct backend_reply r;
	struct wait *w;
	int rc;

	(void)fd;
	(void)revents;
	rc = ipc_recv(helpers[kind].fd, &in);
	if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EINTR)) {
		helper_gone(kind, "helper exited");
		return;
	}
	if (rc < 0)
		return;
	if (in.type != MSG_BACKEND_REPLY || backendproto_reply_get(&in, &r) < 0) {
		ipc_in_close_fd(&in);
		log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=auth-%s type=0x%04x reason=\"bad "
		    "reply\"", backendq_name(kind), in.type);
		helper_gone(kind, "bad reply");
		return;
	}
	w = wait_find(r.id);
	if (w == NULL || r.id == 0 || w->kind != kind) {
		/* timed out meanwhile, or its session went */
		log_event(LOG_LEVEL_INFO, "backend_late", "backend=%s id=%u", backendq_name(kind), r.id);
		return;
	}
	settle(w, &r, NULL);
	explicit_bzero(&r, sizeof(r));
}

int
backends_channel(void *ctx, struct ipc_in *m)
{
	uint8_t kind;
	uint32_t pid;

	(void)ctx;
	if (authdproto_backend_get(m, &kind, &pid) < 0) {
		ipc_in_close_fd(m);
		return -1;
	}
	helper_gone(kind, "replaced");
	helpers[kind].fd = m->fd;
	helpers[kind].pid = pid;
	m->fd = -1;
	if (ev_add_fd(helpers[kind].fd, POLLIN, on_helper, (void *)(uintptr_t)kind) < 0) {
		close(helpers[kind].fd);
		helpers[kind].fd = -1;
		return 0;
	}
	log_event(LOG_LEVEL_INFO, "backend_up", "backend=%s helper_pid=%u", backendq_name(kind), pid);
	return 0;
}
