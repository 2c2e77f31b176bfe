/* helpers.c - authd's backend helpers (docs/AUTH.md#backends): one
 * process per external backend of auth_backends (pgsql, checkpw, ldap), started when
 * authd is, restarted with back-off when it dies, its channel a
 * SOCK_SEQPACKET pair whose other end goes to authd (MSG_AUTHD_BACKEND).
 *
 * A helper lives as long as its channel: when authd dies the helper sees
 * EOF and exits, and the new authd gets a new helper.  The master never
 * reads the channel; it only makes it.  The chain is the one of the
 * config the master started with (a change of auth_backends needs a
 * restart).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/auth/backendq.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "master.h"

struct helper {
	enum backendq_kind kind;
	enum policy_proc proc;
	pid_t pid;
	unsigned restarts;
	uint64_t started_ms;
	uint64_t restart_timer;
};

static struct helper helpers[BACKENDQ_CHAIN_MAX];
static size_t nhelpers;
static struct master *M;
static struct ipc_out out;

void
helpers_init(struct master *m)
{
	enum backendq_kind chain[BACKENDQ_CHAIN_MAX];
	const char *why;
	size_t n, i;

	M = m;
	nhelpers = 0;
	if (backendq_chain(m->cfg.auth_backends, chain, &n, &why) < 0)
		return;	/* config_parse refused it already */
	for (i = 0; i < n; i++)
		if (chain[i] != BACKENDQ_USERDB)
			helpers[nhelpers++] = (struct helper){ .kind = chain[i],
			    .proc = chain[i] == BACKENDQ_PGSQL ? POLICY_AUTH_PGSQL :
			    chain[i] == BACKENDQ_LDAP ? POLICY_AUTH_LDAP : POLICY_AUTH_CHECKPW };
}

static void
start(struct helper *h)
{
	char path[CONFIG_PATH_MAX + 64];
	char *argv[] = { path, "-c", NULL, NULL };
	int sv[2], fds[SLOT_COUNT];
	size_t i;

	h->restart_timer = 0;
	if (M->stopping || M->authd.fd < 0 || h->pid > 0)
		return;	/* authd's start starts it */
	snprintf(path, sizeof(path), "%s/%s", M->libexec, policy_table[h->proc].binary);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_event(LOG_LEVEL_ERR, "spawn_failed", "proc=%s reason=socketpair errno=%d",
		    policy_table[h->proc].name, errno);
		return;
	}
	for (i = 0; i < SLOT_COUNT; i++)
		fds[i] = -1;
	fds[SLOT_AUTHD] = sv[1];
	h->pid = master_spawn(M, h->proc, argv, fds, NULL, 0);
	close(sv[1]);
	if (h->pid < 0) {
		h->pid = 0;
		close(sv[0]);
		log_event(LOG_LEVEL_ERR, "spawn_failed", "proc=%s errno=%d", policy_table[h->proc].name,
		    errno);
		return;
	}
	h->started_ms = ev_now_ms();
	authdproto_backend_put(&out, (uint8_t)h->kind, (uint32_t)h->pid, sv[0]);
	if (broker_send(M, &M->authd, &out) < 0)
		log_event(LOG_LEVEL_ERR, "broker_send", "child=authd what=backend errno=%d", errno);
	close(sv[0]);	/* authd has it, or the helper sees EOF and exits */
	log_event(LOG_LEVEL_INFO, "started", "child=%s child_pid=%ld", policy_table[h->proc].name,
	    (long)h->pid);
}

void
helpers_authd_up(struct master *m)
{
	size_t i;

	(void)m;
	for (i = 0; i < nhelpers; i++)
		if (helpers[i].restart_timer == 0)
			start(&helpers[i]);
}

static void
restart_cb(void *ctx)
{
	start(ctx);
}

int
helpers_reaped(struct master *m, pid_t pid, int status)
{
	struct helper *h = NULL;
	uint64_t delay_s = 0;
	char st[32];
	size_t i;

	for (i = 0; i < nhelpers; i++)
		if (helpers[i].pid == pid)
			h = &helpers[i];
	if (h == NULL)
		return 0;
	h->pid = 0;
	master_describe_status(status, st, sizeof(st));
	if (master_sandbox_killed(status))
		metrics_sandbox_kill(m, h->proc);
	/* back off only when it keeps dying young (a server that is down) */
	if (ev_now_ms() - h->started_ms > 60000)
		h->restarts = 0;
	if (h->restarts > 0) {
		delay_s = 1ULL << (h->restarts > 16 ? 16 : h->restarts - 1);
		if (delay_s > m->cfg.restart_backoff_max)
			delay_s = m->cfg.restart_backoff_max;
	}
	h->restarts++;
	log_event(master_sandbox_killed(status) ? LOG_LEVEL_ERR : LOG_LEVEL_WARN, "child_died",
	    "child=%s %s%s restart_in=%llus", policy_table[h->proc].name, st,
	    master_sandbox_killed(status) ? " reason=sandbox_kill" : "", (unsigned long long)delay_s);
	if (!m->stopping)
		h->restart_timer = ev_add_timer(delay_s * 1000, restart_cb, h);
	return 1;
}

void
helpers_stop(struct master *m, int sig)
{
	size_t i;

	(void)m;
	for (i = 0; i < nhelpers; i++) {
		if (helpers[i].restart_timer) {
			ev_cancel_timer(helpers[i].restart_timer);
			helpers[i].restart_timer = 0;
		}
		if (helpers[i].pid > 0)
			kill(helpers[i].pid, sig);
	}
}

int
helpers_running(void)
{
	size_t i;

	for (i = 0; i < nhelpers; i++)
		if (helpers[i].pid > 0)
			return 1;
	return 0;
}
