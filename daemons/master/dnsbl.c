/* dnsbl.c - the master's side of the DNSBL lookups: resolverd's sockets,
 * and a session's one check relayed without blocking.
 *
 * resolverd (a broker, brokers.c) runs when smtp_dnsbl lists zones.  When
 * it starts, the master connects one UDP socket per dns_resolvers address
 * and passes them (resolverd itself has no socket or connect call).  A
 * worker of an intake service may ask once per session (MSG_MASTER_DNSBL,
 * no fields: the master's table in master.c says once); the master asks
 * resolverd about the session's own client address, and relays its
 * verdict, or an error if resolverd is down, busy or silent for
 * dns_timeout_ms plus a second.  So a compromised smtpd can have one
 * client address looked up once per session, the address the master
 * accepted (or a trusted PROXY header named), under zones it does not
 * choose.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/resolvproto.h"
#include "master.h"

/* Checks in flight: resolverd's own bound (it answers "busy" past it) is
 * lower; a slot is freed by the answer or the timer. */
#define DNSBL_PENDING_MAX	256
#define DNSBL_GRACE_MS		1000

struct pending {
	uint32_t id;		/* 0 = free */
	uint64_t timer;
	struct master *m;
	char sid[sizeof(((struct session *)0)->sid)];
};

static struct pending pending[DNSBL_PENDING_MAX];
static uint32_t next_id = 1;
static struct ipc_out outmsg;

int
master_dnsbl_enabled(const struct master *m)
{
	return m->cfg.smtp_dnsbl[strspn(m->cfg.smtp_dnsbl, " \t")] != '\0';
}

void
master_dnsbl_sockets(struct master *m, struct broker *b)
{
	struct sockaddr_storage ss[DNS_RESOLVERS_MAX];
	char err[200];
	int n, i, fd;

	n = config_resolvers(&m->cfg, ss, err, sizeof(err));
	for (i = 0; i < n; i++) {
		socklen_t len = ss[i].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in);
		fd = socket(ss[i].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		/* connect(2) of UDP sends nothing: it fixes the peer, the only
		 * address this socket can send to or receive from */
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss[i], len) < 0) {
			log_event(LOG_LEVEL_ERR, "dns_socket", "index=%d errno=%d reason=\"cannot "
			    "make the resolver's socket\"", i, errno);
			if (fd >= 0)
				close(fd);
			return;
		}
		resolvproto_socket_put(&outmsg, (uint32_t)i, fd);
		if (broker_send(m, b, &outmsg) < 0)
			log_event(LOG_LEVEL_ERR, "dns_socket", "index=%d reason=\"resolverd did not "
			    "take it\"", i);
		close(fd);
	}
}

static struct session *
session_by_sid(struct master *m, const char *sid)
{
	size_t i;

	for (i = 0; i < m->nsessions; i++)
		if (strcmp(m->sessions[i].sid, sid) == 0)
			return &m->sessions[i];
	return NULL;
}

/* The verdict to the session's worker, if it is still there. */
static void
answer(struct master *m, const char *sid, const struct dnsbl_verdict *v)
{
	static struct dnsbl_verdict w;
	struct session *s = session_by_sid(m, sid);

	if (s == NULL)
		return;
	w = *v;
	w.id = 0;
	resolvproto_verdict_put(&outmsg, MSG_WORKER_DNSBL, &w);
	master_worker_send(s, &outmsg);
}

static void
answer_error(struct master *m, const char *sid, const char *why)
{
	static struct dnsbl_verdict v;

	memset(&v, 0, sizeof(v));
	v.status = DNSBL_ERROR;
	snprintf(v.text, sizeof(v.text), "%s", why);
	answer(m, sid, &v);
}

static void
timed_out(void *ctx)
{
	struct pending *p = ctx;
	char sid[sizeof(p->sid)];

	memcpy(sid, p->sid, sizeof(sid));
	log_set_session(sid);
	log_event(LOG_LEVEL_WARN, "dnsbl_timeout", "id=%u reason=\"resolverd did not answer\"", p->id);
	log_set_session(NULL);
	p->timer = 0;
	p->id = 0;
	answer_error(p->m, sid, "resolverd did not answer");
}

int
master_dnsbl_ask(void *ctx, struct ipc_in *in)
{
	struct session *s = ctx;
	struct master *m = s->m;
	static struct resolvd_check c;
	struct pending *p = NULL;
	size_t i;

	if (masterproto_empty_get(in) < 0)
		return -1;
	for (i = 0; i < DNSBL_PENDING_MAX && p == NULL; i++)
		if (pending[i].id == 0)
			p = &pending[i];
	if (!master_dnsbl_enabled(m) || m->resolverd.fd < 0 || p == NULL) {
		answer_error(m, s->sid, p == NULL ? "too many lookups in flight" :
		    "resolverd is not running");
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.id = next_id++;
	if (next_id == 0)
		next_id = 1;
	memcpy(c.sid, s->sid, sizeof(c.sid));
	snprintf(c.ip, sizeof(c.ip), "%s", s->ip);
	resolvproto_check_put(&outmsg, &c);
	if (broker_send(m, &m->resolverd, &outmsg) < 0) {
		answer_error(m, s->sid, "resolverd is busy");
		return 0;
	}
	p->id = c.id;
	p->m = m;
	memcpy(p->sid, s->sid, sizeof(p->sid));
	p->timer = ev_add_timer(m->cfg.dns_timeout_ms + DNSBL_GRACE_MS, timed_out, p);
	return 0;
}

int
master_dnsbl_result(struct master *m, struct ipc_in *in)
{
	static struct dnsbl_verdict v;
	size_t i;

	if (resolvproto_verdict_get(in, &v) < 0 || v.id == 0)
		return -1;	/* the caller logs ipc_violation and restarts resolverd */
	for (i = 0; i < DNSBL_PENDING_MAX; i++) {
		if (pending[i].id != v.id)
			continue;
		if (pending[i].timer)
			ev_cancel_timer(pending[i].timer);
		pending[i].id = 0;
		pending[i].timer = 0;
		answer(m, pending[i].sid, &v);
		return 0;
	}
	log_event(LOG_LEVEL_INFO, "dnsbl_late", "id=%u", v.id);
	return 0;
}
