/* brokers.c - authd and keyd: start, watch, restart with back-off, and
 * keyd's replacement at SIGHUP (the new one must load its certificates
 * before it takes over; open sessions stay with the old one). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/ipc.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/resolvproto.h"
#include "../../policy/policy.h"
#include "master.h"

static struct master *M;
static struct ipc_in inmsg;
static struct ipc_out outmsg;

static int authd_login_msg(void *ctx, struct ipc_in *in);
static int authd_lookup_msg(void *ctx, struct ipc_in *in);
static int authd_throttle_msg(void *ctx, struct ipc_in *in);
static int authd_rehash_msg(void *ctx, struct ipc_in *in);
static int authd_scram_add_msg(void *ctx, struct ipc_in *in);
static int keyd_ready_msg(void *ctx, struct ipc_in *in);
static int resolverd_result_msg(void *ctx, struct ipc_in *in);
static void retire_keyd(struct master *m);

static const struct ipc_handler authd_handlers[] = {
	{ .type = MSG_MASTER_LOGIN, .fn = authd_login_msg },
	{ .type = MSG_MASTER_LOOKUP_RESULT, .fn = authd_lookup_msg },
	{ .type = MSG_MASTER_THROTTLE_RESULT, .fn = authd_throttle_msg },
	{ .type = MSG_MASTER_REHASH, .fn = authd_rehash_msg },
	{ .type = MSG_MASTER_SCRAM_ADD, .fn = authd_scram_add_msg },
};

static const struct ipc_handler keyd_handlers[] = {
	{ .type = MSG_KEYD_READY, .fn = keyd_ready_msg },
};

static const struct ipc_handler resolverd_handlers[] = {
	{ .type = MSG_MASTER_DNSBL_RESULT, .fn = resolverd_result_msg },
};

void
brokers_init(struct master *m)
{
	M = m;
	m->authd = (struct broker){ .name = "authd", .proc = POLICY_AUTHD, .fd = -1 };
	m->keyd = (struct broker){ .name = "keyd", .proc = POLICY_KEYD, .fd = -1 };
	m->keyd_next = (struct broker){ .name = "keyd", .proc = POLICY_KEYD, .fd = -1 };
	m->resolverd = (struct broker){ .name = "resolverd", .proc = POLICY_RESOLVERD, .fd = -1 };
	helpers_init(m);
}

static void
broker_close(struct broker *b)
{
	if (b->fd >= 0) {
		ev_del_fd(b->fd);
		close(b->fd);
		b->fd = -1;
	}
}

static int
authd_login_msg(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	return master_authd_login(M, in);
}

static int
authd_lookup_msg(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	return master_lookup_result(M, in);
}

static int
authd_throttle_msg(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	return control_throttle_result(M, in);
}

static int
authd_rehash_msg(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	return master_authd_rehash(M, in);
}

static int
authd_scram_add_msg(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	return master_authd_scram_add(M, in);
}

static int
resolverd_result_msg(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	return master_dnsbl_result(M, in);
}

static int
keyd_ready_msg(void *ctx, struct ipc_in *in)
{
	struct broker *b = ctx;
	uint32_t n;

	if (keydproto_ready_get(in, &n) < 0 || b->ready)
		return -1;
	b->ready = 1;
	M->tls_ever_ready = 1;
	if (b == &M->keyd_next) {
		retire_keyd(M);
		M->keyd_next.restarts = 0;
		M->keyd = M->keyd_next;
		M->keyd_next = (struct broker){ .name = "keyd", .proc = POLICY_KEYD, .fd = -1 };
		log_event(LOG_LEVEL_INFO, "tls_reloaded", "keys=%u keyd_pid=%ld", n, (long)M->keyd.pid);
	} else {
		log_event(LOG_LEVEL_INFO, "tls_ready", "keys=%u", n);
	}
	master_start_accepting(M);
	return 0;
}

/* The current keyd hands over to keyd_next: it keeps its open sessions
 * and exits when idle; a pending restart of it is void. */
static void
retire_keyd(struct master *m)
{
	size_t i;

	if (m->keyd.restart_timer) {
		ev_cancel_timer(m->keyd.restart_timer);
		m->keyd.restart_timer = 0;
	}
	if (m->keyd.pid <= 0 || m->keyd.fd < 0) {
		broker_close(&m->keyd);
		return;
	}
	keydproto_empty_put(&outmsg, MSG_KEYD_RETIRE);
	(void)broker_send(m, &m->keyd, &outmsg);
	for (i = 0; i < sizeof(m->retired) / sizeof(m->retired[0]); i++) {
		if (m->retired[i].pid == 0) {
			m->retired[i] = m->keyd;	/* keeps the fd open */
			return;
		}
	}
	log_event(LOG_LEVEL_WARN, "keyd_retire", "reason=\"too many retiring keyds; closing the oldest "
	    "channel\" pid=%ld", (long)m->keyd.pid);
	broker_close(&m->keyd);
}

static struct broker *
broker_by_fd(int fd)
{
	if (M->authd.fd == fd)
		return &M->authd;
	if (M->keyd.fd == fd)
		return &M->keyd;
	if (M->keyd_next.fd == fd)
		return &M->keyd_next;
	if (M->resolverd.fd == fd)
		return &M->resolverd;
	for (size_t i = 0; i < sizeof(M->retired) / sizeof(M->retired[0]); i++)
		if (M->retired[i].pid > 0 && M->retired[i].fd == fd)
			return &M->retired[i];
	return NULL;
}

static void
on_broker(int fd, short revents, void *ctx)
{
	struct broker *b = broker_by_fd(fd);
	int rc;

	(void)revents;
	(void)ctx;
	if (b == NULL) {
		ev_del_fd(fd);
		return;
	}
	rc = ipc_recv(fd, &inmsg);
	if (rc == 1) {
		int ok = b->proc == POLICY_AUTHD ?
		    ipc_dispatch(IPC_TABLE(authd_handlers), b, &inmsg) :
		    b->proc == POLICY_RESOLVERD ?
		    ipc_dispatch(IPC_TABLE(resolverd_handlers), b, &inmsg) :
		    ipc_dispatch(IPC_TABLE(keyd_handlers), b, &inmsg);
		if (ok == 0)
			return;
	}
	/* a broker that died with our messages unread: gone, not hostile */
	if (rc < 0 && errno == ECONNRESET)
		rc = 0;
	if (rc != 0) {
		log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=%s type=0x%04x reason=\"bad message\"",
		    b->name, rc == 1 ? inmsg.type : 0);
		if (b->pid > 0)
			kill(b->pid, SIGKILL);
	}
	broker_close(b);
}

void
broker_start(struct master *m, struct broker *b)
{
	char path[CONFIG_PATH_MAX + 64];
	int sv[2], page, page_slot;

	b->restart_timer = 0;
	b->ready = 0;
	if (m->stopping)
		return;
	snprintf(path, sizeof(path), "%s/%s", m->libexec, policy_table[b->proc].binary);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("reason=\"socketpair failed\" errno=%d", errno);
	/* resolverd counts nothing into a page of its own (its row has none) */
	page_slot = -1;
	page = policy_fd(b->proc, SLOT_COUNTERS) >= 0 ? metrics_broker_page(m, b->proc, &page_slot) : -1;
	{
		char *argv[] = { path, "-c", NULL, NULL };
		int fds[SLOT_COUNT] = { [SLOT_CLIENT] = -1, [SLOT_CONTROL] = -1, [SLOT_AUTHD] = -1,
		    [SLOT_KEYD] = -1, [SLOT_MASTER] = sv[1], [SLOT_WORKER] = -1,
		    [SLOT_SNAPSHOT] = -1, [SLOT_COUNTERS] = page };
		b->pid = master_spawn(m, b->proc, argv, fds, NULL, 0);
	}
	metrics_broker_spawned(m, page_slot, page, b->pid);
	close(sv[1]);
	if (b->pid < 0) {
		b->pid = 0;
		close(sv[0]);
		log_event(LOG_LEVEL_ERR, "spawn_failed", "proc=%s errno=%d", b->name, errno);
		return;
	}
	b->fd = sv[0];
	b->started_ms = ev_now_ms();
	b->stalled_ms = 0;
	ev_add_fd(sv[0], POLLIN, on_broker, NULL);
	if (b == &m->authd) {
		master_send_authd_config(m);
		helpers_authd_up(m);
	}
	if (b == &m->resolverd)
		master_dnsbl_sockets(m, b);
	log_event(LOG_LEVEL_INFO, "started", "child=%s child_pid=%ld", b->name, (long)b->pid);
}

void
brokers_reload_keyd(struct master *m)
{
	if (m->keyd_next.pid > 0) {
		log_event(LOG_LEVEL_WARN, "tls_reload", "reason=\"a reload is already in progress\"");
		return;
	}
	broker_start(m, &m->keyd_next);
}

static void
restart_cb(void *ctx)
{
	broker_start(M, ctx);
}

/* Back off only when a broker keeps dying young. */
static void
schedule_restart(struct master *m, struct broker *b, int status)
{
	char st[32];
	uint64_t delay_s = 0;

	master_describe_status(status, st, sizeof(st));
	if (ev_now_ms() - b->started_ms > 60000)
		b->restarts = 0;
	if (b->restarts > 0) {
		delay_s = 1ULL << (b->restarts > 16 ? 16 : b->restarts - 1);
		if (delay_s > m->cfg.restart_backoff_max)
			delay_s = m->cfg.restart_backoff_max;
	}
	b->restarts++;
	metrics_broker_restart(m, b->proc);
	if (master_sandbox_killed(status))
		metrics_sandbox_kill(m, b->proc);
	log_event(LOG_LEVEL_ERR, "child_died", "child=%s %s%s restart_in=%llus", b->name, st,
	    master_sandbox_killed(status) ? " reason=sandbox_kill" : "", (unsigned long long)delay_s);
	if (!m->stopping)
		b->restart_timer = ev_add_timer(delay_s * 1000, restart_cb, b);
}

int
brokers_reaped(struct master *m, pid_t pid, int status)
{
	char st[32];
	size_t i;

	metrics_broker_exited(m, pid);
	for (i = 0; i < sizeof(m->retired) / sizeof(m->retired[0]); i++) {
		if (m->retired[i].pid == pid) {
			master_describe_status(status, st, sizeof(st));
			broker_close(&m->retired[i]);
			m->retired[i].pid = 0;
			log_event(LOG_LEVEL_INFO, "child_exit", "child=keyd pid=%ld %s reason=retired",
			    (long)pid, st);
			return 1;
		}
	}

	if (pid == m->keyd_next.pid) {
		master_describe_status(status, st, sizeof(st));
		broker_close(&m->keyd_next);
		m->keyd_next.pid = 0;
		log_event(LOG_LEVEL_ERR, "tls_reload_failed", "%s reason=\"new keyd could not load the "
		    "certificates (see its tls_load_failed line); the previous ones stay in use\"", st);
		return 1;
	}
	if (pid == m->resolverd.pid) {
		broker_close(&m->resolverd);
		m->resolverd.pid = 0;
		/* off since a reload: not restarted */
		if (!m->stopping && master_dnsbl_enabled(m))
			schedule_restart(m, &m->resolverd, status);
		return 1;
	}
	if (pid == m->authd.pid || pid == m->keyd.pid) {
		struct broker *b = pid == m->authd.pid ? &m->authd : &m->keyd;
		/* the certificates do not load at start (keyd exits 2 after its
		 * tls_load_failed line): serve nothing rather than TLS never */
		if (b == &m->keyd && !m->tls_ever_ready && !m->stopping && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 2) {
			log_event(LOG_LEVEL_ERR, "fatal", "reason=\"keyd could not load the certificates "
			    "at start (its tls_load_failed line says why): fix tls_cert_file, "
			    "tls_key_file or tls_sni_dir (posternctl config check)\"");
			broker_close(b);
			b->pid = 0;
			m->exit_status = 1;
			master_stop(m, 0);
			return 1;
		}
		if (b == &m->keyd && !b->ready)	/* no TLS for now; plaintext may go on */
			master_start_accepting(m);
		broker_close(b);
		b->pid = 0;
		if (!m->stopping)
			schedule_restart(m, b, status);
		return 1;
	}
	return 0;
}

/* The master never blocks on a broker: authd and keyd answer workers
 * without blocking, so one that stops reading is stuck or compromised. */
int
broker_send(struct master *m, struct broker *b, struct ipc_out *o)
{
	uint64_t now = ev_now_ms();

	if (b->fd < 0)
		return -1;
	if (ipc_send_nowait(b->fd, o) == 0) {
		b->stalled_ms = 0;
		return 0;
	}
	/* a full queue, or too many fds in flight to it: it is not reading */
	if (errno != EAGAIN && errno != ETOOMANYREFS && errno != ENOBUFS) {
		log_event(LOG_LEVEL_ERR, "broker_send", "child=%s errno=%d", b->name, errno);
		return -1;
	}
	if (b->stalled_ms == 0) {
		b->stalled_ms = now;
		log_event(LOG_LEVEL_WARN, "broker_busy", "child=%s pid=%ld reason=\"not reading its "
		    "channel; refusing new sessions\"", b->name, (long)b->pid);
	} else if (now - b->stalled_ms >= m->cfg.broker_stall_timeout * 1000 && b->pid > 0) {
		log_event(LOG_LEVEL_ERR, "broker_stalled", "child=%s pid=%ld stalled_ms=%llu "
		    "reason=\"not reading for broker_stall_timeout; restarting it\"", b->name,
		    (long)b->pid, (unsigned long long)(now - b->stalled_ms));
		kill(b->pid, SIGKILL);
		b->stalled_ms = 0;
	}
	errno = EAGAIN;
	return -1;
}

int
brokers_authd_session(struct master *m, const char *sid, const char *ip, const char *service,
    int auth_fd)
{
	struct authd_session a;

	if (m->authd.fd < 0)
		return 0;	/* down: the worker sees EOF and answers "unavailable" */
	snprintf(a.sid, sizeof(a.sid), "%s", sid);
	snprintf(a.ip, sizeof(a.ip), "%s", ip);
	snprintf(a.service, sizeof(a.service), "%s", service);
	authdproto_session_put(&outmsg, &a, auth_fd);
	return broker_send(m, &m->authd, &outmsg);
}

int
brokers_session_new(struct master *m, const char *sid, const char *ip, const char *service,
    int auth_fd, int keyd_fd)
{
	if (auth_fd >= 0 && brokers_authd_session(m, sid, ip, service, auth_fd) < 0)
		return -1;
	struct keyd_session k;

	if (m->keyd.fd >= 0 && m->keyd.ready) {
		snprintf(k.sid, sizeof(k.sid), "%s", sid);
		snprintf(k.ip, sizeof(k.ip), "%s", ip);
		keydproto_session_put(&outmsg, &k, keyd_fd);
		if (broker_send(m, &m->keyd, &outmsg) < 0)
			return -1;
	}
	return 0;
}

void
brokers_stop(struct master *m, int sig)
{
	struct broker *all[] = { &m->authd, &m->keyd, &m->keyd_next, &m->resolverd,
	    &m->retired[0], &m->retired[1],
	    &m->retired[2], &m->retired[3], &m->retired[4], &m->retired[5], &m->retired[6],
	    &m->retired[7] };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i]->restart_timer) {
			ev_cancel_timer(all[i]->restart_timer);
			all[i]->restart_timer = 0;
		}
		if (all[i]->pid > 0)
			kill(all[i]->pid, sig);
	}
	helpers_stop(m, sig);
}

int
brokers_running(const struct master *m)
{
	size_t i;

	for (i = 0; i < sizeof(m->retired) / sizeof(m->retired[0]); i++)
		if (m->retired[i].pid > 0)
			return 1;
	return m->authd.pid > 0 || m->keyd.pid > 0 || m->keyd_next.pid > 0 || m->resolverd.pid > 0 ||
	    helpers_running();
}

/* SIGHUP: resolverd reads smtp_dnsbl and dns_timeout_ms from its config
 * snapshot and gets sockets for dns_resolvers when it starts, so a new
 * one starts with the new config (checks in flight get the master's
 * error answer); one that is no longer wanted is stopped. */
void
brokers_reload_resolverd(struct master *m)
{
	struct broker *b = &m->resolverd;

	if (b->pid > 0) {
		b->restarts = 0;
		b->started_ms = 0;	/* an immediate restart, no back-off */
		kill(b->pid, SIGTERM);
	} else if (b->restart_timer == 0 && master_dnsbl_enabled(m)) {
		broker_start(m, b);
	}
}
