/* master.c - sessions, children, and the two channels the master reads:
 * authd's (which names the user of a session) and each worker's control
 * channel (on which a worker may send nothing at all). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/ipc/authdproto.h"
#include "../../common/base/ev.h"
#include "../../common/ipc/ipc.h"
#include "../../common/base/log.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/base/spawn.h"
#include "../../common/base/util.h"
#include "../../policy/policy.h"
#include "../../policy/services.h"
#include "master.h"

static struct ipc_in inmsg;	/* 64 KiB: not on the stack */
static struct ipc_out outmsg;

static void login_sweep_arm(struct master *m);

/* login_timeout: a wall clock the master keeps per worker (it has the pid),
 * from accept to the login authd decides, TLS handshake included, so that
 * no byte-a-minute client holds a slot before it has proved anything. */
static void
login_sweep(void *ctx)
{
	struct master *m = ctx;
	uint64_t now = ev_now_ms(), limit = m->cfg.login_timeout * 1000;
	size_t i;

	m->login_timer = 0;
	for (i = 0; i < m->nsessions; i++) {
		struct session *s = &m->sessions[i];
		if (s->logged_in || s->worker_pid <= 0 || s->login_expired ||
		    now - s->started_ms < limit)
			continue;
		s->login_expired = 1;
		log_set_session(s->sid);
		log_event(LOG_LEVEL_INFO, "disconnect", "reason=login_timeout ip=%s seconds=%llu",
		    s->ip, (unsigned long long)m->cfg.login_timeout);
		log_set_session(NULL);
		metrics_login_timeout(m, s);
		kill(s->worker_pid, SIGKILL);
	}
	login_sweep_arm(m);
}

/* One timer for all sessions, set for the earliest pending deadline. */
static void
login_sweep_arm(struct master *m)
{
	uint64_t now = ev_now_ms(), limit = m->cfg.login_timeout * 1000, soonest = UINT64_MAX;
	size_t i;

	if (m->login_timer != 0)
		return;
	for (i = 0; i < m->nsessions; i++) {
		const struct session *s = &m->sessions[i];
		if (!s->logged_in && !s->login_expired && s->started_ms + limit < soonest)
			soonest = s->started_ms + limit;
	}
	if (soonest != UINT64_MAX)
		m->login_timer = ev_add_timer(soonest > now ? soonest - now : 0, login_sweep, m);
}

struct session *
master_session_add(struct master *m)
{
	struct session *s;

	if (m->nsessions == m->capsessions) {
		size_t ncap = m->capsessions ? m->capsessions * 2 : 64;
		s = realloc(m->sessions, ncap * sizeof(*s));
		if (s == NULL)
			return NULL;
		m->sessions = s;
		m->capsessions = ncap;
	}
	s = &m->sessions[m->nsessions++];
	memset(s, 0, sizeof(*s));
	util_session_id(s->sid);
	s->ctl_fd = -1;
	s->client_fd = -1;
	s->pending_auth_fd = -1;
	s->started_ms = ev_now_ms();
	m->npreauth++;
	login_sweep_arm(m);
	return s;
}

void
master_session_logged_in(struct master *m, struct session *s)
{
	if (!s->logged_in)
		m->npreauth--;
	s->logged_in = 1;
}

void
master_session_remove(struct master *m, struct session *s)
{
	size_t i = (size_t)(s - m->sessions);

	if (s->ctl_fd >= 0) {
		ev_del_fd(s->ctl_fd);
		close(s->ctl_fd);
	}
	if (s->pending_auth_fd >= 0)
		close(s->pending_auth_fd);
	if (s->client_fd >= 0)
		close(s->client_fd);
	if (!s->logged_in)
		m->npreauth--;
	intake_clear(s);
	memmove(s, s + 1, (m->nsessions - i - 1) * sizeof(*s));
	m->nsessions--;
}

static struct session *
session_find(struct master *m, const char *sid, pid_t pid, int ctl_fd)
{
	size_t i;

	for (i = 0; i < m->nsessions; i++) {
		struct session *s = &m->sessions[i];
		if ((sid != NULL && strcmp(s->sid, sid) == 0) ||
		    (pid > 0 && (s->worker_pid == pid || master_child_find(s, pid) != NULL)) ||
		    (ctl_fd >= 0 && s->ctl_fd == ctl_fd))
			return s;
	}
	return NULL;
}

/* Children read the config the master validated, not the file on disk: an
 * edit takes effect at SIGHUP, and a broken edit is refused there instead
 * of breaking every new connection.  The snapshot is a sealed memfd passed
 * as the child's last fixed fd. */
void
master_snapshot_config(struct master *m)
{
	int fd = memfd_create("postern.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || config_snapshot(&m->cfg, fd) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		fatal("reason=\"cannot snapshot the config\" errno=%d", errno);
	if (m->config_fd >= 0)
		close(m->config_fd);
	m->config_fd = fd;
}

pid_t
master_spawn(struct master *m, enum policy_proc p, char **argv, int by_slot[SLOT_COUNT],
    const char *sid, int limited)
{
	int all[POLICY_MAX_SLOTS], lp[2], n;
	pid_t pid;

	by_slot[SLOT_CONFIG] = m->config_fd;
	n = policy_arrange_fds(p, by_slot, all, POLICY_MAX_SLOTS);
	if (n < 0) {
		errno = EBADF;
		return -1;
	}
	snprintf(m->child_config, sizeof(m->child_config), "/proc/self/fd/%d",
	    policy_fd(p, SLOT_CONFIG));
	argv[2] = m->child_config;	/* every argv here is { path, "-c", CONFIG, ... } */
	if (logs_pipe(lp) < 0)
		return -1;
	pid = spawn_child(argv[0], argv, all, n, lp[1]);
	close(lp[1]);
	if (pid < 0)
		close(lp[0]);
	else
		logs_attach(lp[0], pid, policy_table[p].name, sid, limited);
	return pid;
}

static void
binary_path(const struct master *m, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", m->libexec, name);
}

/* Master -> worker, never blocking: the control channel carries one answer
 * per request (and a login's stored), so a full one means the worker does
 * not read it; such a worker is ended rather than waited for. */
void
master_worker_send(struct session *s, struct ipc_out *o)
{
	if (s->ctl_fd >= 0 && ipc_send_nowait(s->ctl_fd, o) == 0)
		return;
	log_set_session(s->sid);
	log_event(LOG_LEVEL_WARN, "worker_send", "pid=%ld errno=%d reason=\"control channel "
	    "closed or not read; ending the session\"", (long)s->worker_pid, errno);
	log_set_session(NULL);
	if (s->worker_pid > 0)
		kill(s->worker_pid, SIGKILL);
}

/* The PROXY verdict: the address the trusted proxy named becomes the
 * session's, for MAXPERIP and for authd (throttling, logs). */
static int
worker_proxy(void *ctx, struct ipc_in *in)
{
	struct session *s = ctx;
	struct master *m = s->m;
	char ip[MASTERPROTO_IP_MAX];

	if (masterproto_proxy_get(in, ip) < 0)
		return -1;
	if (ip[0] != '\0')
		snprintf(s->ip, sizeof(s->ip), "%s", ip);
	log_set_session(s->sid);
	log_event(LOG_LEVEL_INFO, "proxy", "ip=%s proxy=%s%s", s->ip, s->peer,
	    ip[0] ? "" : " header=local");
	if (master_count_ip(m, s->ip) > m->cfg.max_per_ip) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=max_per_ip ip=%s limit=%llu via=proxy",
		    s->ip, (unsigned long long)m->cfg.max_per_ip);
		metrics_refused(m, s->svc, METRICS_REFUSED_MAX_PER_IP);
		masterproto_text_put(&outmsg, MSG_WORKER_PROXY_REFUSE,
		    "too many connections from your address");
	} else if (s->pending_auth_fd >= 0 &&
	    brokers_authd_session(m, s->sid, s->ip, s->svc->name, s->pending_auth_fd) < 0) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=broker_busy ip=%s via=proxy", s->ip);
		metrics_refused(m, s->svc, METRICS_REFUSED_BROKER_BUSY);
		masterproto_text_put(&outmsg, MSG_WORKER_PROXY_REFUSE, "authentication service busy");
	} else {
		masterproto_proxy_ok_put(&outmsg, s->ip);
	}
	log_set_session(NULL);
	if (s->pending_auth_fd >= 0)
		close(s->pending_auth_fd);
	s->pending_auth_fd = -1;
	if (s->svc->intake)
		s->ctl.phase = CTL_INTAKE;
	master_worker_send(s, &outmsg);
	return 0;
}

/* The worker's control channel: on a PROXY listener the master accepts one
 * MSG_MASTER_PROXY before anything else; on an intake service (LMTP,
 * SMTP) recipient lookups one at a time, deliveries and resets; nothing
 * else ever.  EOF means the worker is going away; any other message is a
 * violation and kills it. */
static const struct ipc_handler ctl_handlers[] = {
	{ .type = MSG_MASTER_PROXY, .phases = CTL_PROXY, .then = CTL_QUIET, .once = 1,
	    .fn = worker_proxy },
	{ .type = MSG_MASTER_RCPT, .phases = CTL_INTAKE, .then = CTL_LOOKUP, .fn = intake_rcpt },
	{ .type = MSG_MASTER_DELIVER, .phases = CTL_INTAKE, .fn = intake_deliver },
	{ .type = MSG_MASTER_RESET, .phases = CTL_INTAKE, .fn = intake_reset },
	/* the session's DNSBL check (dnsbl.c): once, its own client's address */
	{ .type = MSG_MASTER_DNSBL, .phases = CTL_INTAKE, .once = 1, .fn = master_dnsbl_ask },
};

static void
on_worker_ctl(int fd, short revents, void *ctx)
{
	struct master *m = ctx;
	struct session *s = session_find(m, NULL, 0, fd);
	int rc;

	(void)revents;
	rc = ipc_recv(fd, &inmsg);
	if (s != NULL && rc == 1 && ipc_dispatch_chan(IPC_TABLE(ctl_handlers), &s->ctl, s,
	    &inmsg) == 0)
		return;
	if (rc == 1)
		ipc_in_close_fd(&inmsg);
	if (s != NULL && rc != 0) {
		log_set_session(s->sid);
		log_event(LOG_LEVEL_ERR, "ipc_violation",
		    "peer=worker pid=%ld type=0x%04x reason=\"message not allowed from a worker now\"",
		    (long)s->worker_pid, rc == 1 ? inmsg.type : 0);
		log_set_session(NULL);
		kill(s->worker_pid, SIGKILL);
	}
	ev_del_fd(fd);
	if (s != NULL) {
		close(s->ctl_fd);
		s->ctl_fd = -1;
	} else {
		close(fd);
	}
}

int
master_spawn_worker(struct master *m, struct session *s, int client_fd, const struct listener *l)
{
	const struct service *svc = l->svc;
	const char *wname = policy_table[svc->worker].name;
	int implicit_tls = svc->implicit_tls;
	char path[CONFIG_PATH_MAX + 64];
	int ctl[2], auth[2], kd[2], i;
	pid_t pid = -1;

	if (policy_fd(svc->worker, SLOT_SNAPSHOT) >= 0)	/* metrics: no brokers (metrics.c) */
		return metrics_spawn_worker(m, s, client_fd, l);
	if (service_worker_override(svc, &m->cfg)[0] != '\0')
		snprintf(path, sizeof(path), "%s", service_worker_override(svc, &m->cfg));
	else
		binary_path(m, policy_table[svc->worker].binary, path, sizeof(path));
	ctl[0] = auth[0] = kd[0] = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, auth) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, kd) < 0)
		goto fail;
	s->ctl.phase = l->proxy ? CTL_PROXY : svc->intake ? CTL_INTAKE : CTL_QUIET;
	s->m = m;
	/* Behind PROXY the client is not known yet: authd waits for it, and
	 * keyd gets no address, which turns its session cache off for this
	 * session (else all of one proxy's clients would share one scope). */
	/* A service without logins (mail intake) gets no authd session: its
	 * worker's authd channel only ever sees EOF. */
	if (brokers_session_new(m, s->sid, l->proxy ? "" : s->ip, svc->name,
	    l->proxy || svc->grant == SERVICE_GRANT_NONE ? -1 : auth[1], kd[1]) < 0) {
		for (i = 0; i < 2; i++) {
			close(ctl[i]);
			close(auth[i]);
			close(kd[i]);
		}
		log_event(LOG_LEVEL_WARN, "refused", "reason=broker_busy ip=%s", s->ip);
		metrics_refused(m, svc, METRICS_REFUSED_BROKER_BUSY);
		master_session_remove(m, s);
		return -1;
	}
	if (l->proxy && svc->grant != SERVICE_GRANT_NONE &&
	    (s->pending_auth_fd = fcntl(auth[1], F_DUPFD_CLOEXEC, 3)) < 0)
		goto fail;
	{
		char *argv[] = { path, "-c", NULL, "-s", s->sid, "-i", s->ip, "-p",
		    implicit_tls ? "-t" : NULL, NULL };
		if (!l->proxy) {	/* shift "-t" over "-p" */
			argv[7] = argv[8];
			argv[8] = NULL;
		}
		int fds[SLOT_COUNT] = { [SLOT_CLIENT] = client_fd, [SLOT_CONTROL] = ctl[1],
		    [SLOT_AUTHD] = auth[0], [SLOT_KEYD] = kd[0], [SLOT_MASTER] = -1,
		    [SLOT_WORKER] = -1 };
		pid = master_spawn(m, svc->worker, argv, fds, s->sid, 1);
	}
	close(ctl[1]);
	close(auth[0]);
	close(auth[1]);
	close(kd[0]);
	close(kd[1]);
	if (pid < 0) {
		close(ctl[0]);
		goto fail_logged;
	}
	s->worker_pid = pid;
	/* no login to wait for: login_timeout and the pre-login share do not
	 * apply (the worker's idle timeout does) */
	if (svc->grant == SERVICE_GRANT_NONE)
		master_session_logged_in(m, s);
	s->ctl_fd = ctl[0];
	ev_add_fd(ctl[0], POLLIN, on_worker_ctl, m);
	log_set_session(s->sid);
	log_event(LOG_LEVEL_INFO, "connect", "proto=%s ip=%s worker_pid=%ld sessions=%zu",
	    svc->name, s->ip, (long)pid, m->nsessions);
	log_set_session(NULL);
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (ctl[0] >= 0) close(ctl[i]);
		if (auth[0] >= 0) close(auth[i]);
		if (kd[0] >= 0) close(kd[i]);
	}
fail_logged:
	log_event(LOG_LEVEL_ERR, "spawn_failed", "proc=%s ip=%s errno=%d", wname, s->ip, errno);
	metrics_refused(m, svc, METRICS_REFUSED_SPAWN_FAILED);
	master_session_remove(m, s);
	return -1;
}

int
master_child_add(struct session *s, pid_t pid, enum child_role role)
{
	size_t i;

	for (i = 0; i < SESSION_CHILDREN_MAX; i++)
		if (s->children[i].pid == 0) {
			s->children[i] = (struct session_child){ .pid = pid, .role = role };
			return 0;
		}
	return -1;
}

struct session_child *
master_child_find(struct session *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < SESSION_CHILDREN_MAX; i++)
		if (s->children[i].pid == pid)
			return &s->children[i];
	return NULL;
}

void
master_children_kill(struct session *s, int sig)
{
	size_t i;

	for (i = 0; i < SESSION_CHILDREN_MAX; i++)
		if (s->children[i].pid > 0)
			kill(s->children[i].pid, sig);
}

static const char *const role_names[] = { "none", "mailbox", "deliver" };

int
master_spawn_stored(struct master *m, struct session *s, const char *user, uint32_t uid,
    uint32_t gid, const char *mail_root, uint64_t quota, const char *view, enum child_role role)
{
	char path[CONFIG_PATH_MAX + 64], uids[16], gids[16], quotas[24];
	int st[2];
	pid_t pid;

	if (master_child_find(s, 0) == NULL) {
		log_event(LOG_LEVEL_WARN, "spawn_refused", "proc=stored role=%s reason=\"the session "
		    "has %d stored children already\"", role_names[role], SESSION_CHILDREN_MAX);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, st) < 0)
		goto fail;
	binary_path(m, policy_table[POLICY_STORED].binary, path, sizeof(path));
	snprintf(uids, sizeof(uids), "%u", uid);
	snprintf(gids, sizeof(gids), "%u", gid);
	snprintf(quotas, sizeof(quotas), "%llu", (unsigned long long)quota);
	{
		char *argv[] = { path, "-c", NULL, "-s", s->sid, "-u", uids, "-g", gids,
		    "-r", (char *)mail_root, "-n", (char *)user, "-q", quotas, "-v", (char *)view, NULL };
		int fds[SLOT_COUNT] = { [SLOT_CLIENT] = -1, [SLOT_CONTROL] = -1, [SLOT_AUTHD] = -1,
		    [SLOT_KEYD] = -1, [SLOT_MASTER] = -1, [SLOT_WORKER] = st[1] };
		pid = master_spawn(m, POLICY_STORED, argv, fds, s->sid, 1);
	}
	close(st[1]);
	if (pid < 0) {
		close(st[0]);
		goto fail;
	}
	(void)master_child_add(s, pid, role);
	log_event(LOG_LEVEL_INFO, "stored_spawn", "user=%s stored_pid=%ld role=%s view=%s", user,
	    (long)pid, role_names[role], view);
	return st[0];
fail:
	log_event(LOG_LEVEL_ERR, "spawn_failed", "proc=stored role=%s errno=%d", role_names[role], errno);
	return -1;
}

int
master_authd_login(struct master *m, struct ipc_in *in)
{
	static struct authd_login L;
	struct session *s;
	int fd;

	if (authdproto_login_get(in, &L) < 0)
		return -1;
	s = session_find(m, L.sid, 0, -1);
	if (s == NULL) {
		log_event(LOG_LEVEL_INFO, "login_orphan", "sid=%s reason=\"worker already gone\"", L.sid);
		return 0;
	}
	log_set_session(s->sid);
	if (s->logged_in || s->svc->grant != SERVICE_GRANT_STORED) {
		log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=authd reason=\"%s\"", s->logged_in ?
		    "second login for session" : "login on a service without logins");
		log_set_session(NULL);
		return -1;
	}
	master_session_logged_in(m, s);
	snprintf(s->user, sizeof(s->user), "%s", L.user);
	/* Check meaning, not only form: never root, only canonical paths. */
	if (L.uid == 0 || L.gid == 0 || L.uid == geteuid() || !config_path_canonical(L.mail_root)) {
		log_event(LOG_LEVEL_ERR, "login_refused", "user=%s reason=\"authd named uid 0, the master's "
		    "uid or a non-canonical mail root\"", L.user);
		fd = -1;
	} else {
		/* The view comes from the service row, never from the worker. */
		fd = master_spawn_stored(m, s, L.user, L.uid, L.gid, L.mail_root, L.quota, s->svc->store_view,
		    CHILD_MAILBOX);
	}
	if (fd >= 0) {
		masterproto_store_put(&outmsg, fd);
		master_worker_send(s, &outmsg);
		close(fd);
	} else {
		masterproto_text_put(&outmsg, MSG_WORKER_STORE_FAIL, "storage unavailable");
		master_worker_send(s, &outmsg);
	}
	log_set_session(NULL);
	return 0;
}

void
master_send_authd_config(struct master *m)
{
	const struct config *c = &m->cfg;
	struct authd_sasl_config sc;

	if (m->authd.fd < 0)
		return;
	authdproto_config_put(&outmsg, c);
	if (broker_send(m, &m->authd, &outmsg) < 0)
		log_event(LOG_LEVEL_ERR, "broker_send", "child=authd what=config errno=%d", errno);
	authdproto_sasl_config_from(c, &sc);
	authdproto_sasl_config_put(&outmsg, &sc);
	if (broker_send(m, &m->authd, &outmsg) < 0)
		log_event(LOG_LEVEL_ERR, "broker_send", "child=authd what=sasl_config errno=%d", errno);
}

void
master_describe_status(int status, char *out, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(out, len, "signal=%d", WTERMSIG(status));
	else
		snprintf(out, len, "exit=%d", WEXITSTATUS(status));
}

/* Seccomp kills show as SIGSYS; debug mode exits 128+SIGSYS after naming it. */
int
master_sandbox_killed(int status)
{
	return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) ||
	    (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGSYS);
}

void
master_reap(struct master *m)
{
	struct session *s;
	char st[32];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		logs_child_exited(pid);
		master_describe_status(status, st, sizeof(st));
		if (brokers_reaped(m, pid, status) || helpers_reaped(m, pid, status))
			continue;
		s = session_find(m, NULL, pid, -1);
		if (s == NULL) {
			log_event(master_sandbox_killed(status) ? LOG_LEVEL_ERR : LOG_LEVEL_INFO, "child_exit",
			    "pid=%ld %s%s", (long)pid, st,
			    master_sandbox_killed(status) ? " reason=sandbox_kill" : "");
			continue;
		}
		log_set_session(s->sid);
		if (master_sandbox_killed(status)) {
			log_event(LOG_LEVEL_ERR, "sandbox_kill", "child=%s pid=%ld %s "
			    "reason=\"forbidden system call (seccomp)\"",
			    pid == s->worker_pid ? policy_table[s->svc->worker].name : "stored",
			    (long)pid, st);
			metrics_sandbox_kill(m, pid == s->worker_pid ? (int)s->svc->worker : POLICY_STORED);
		}
		if (master_child_find(s, pid) != NULL) {
			log_event(LOG_LEVEL_INFO, "child_exit", "child=stored pid=%ld %s", (long)pid, st);
			*master_child_find(s, pid) = (struct session_child){ 0 };
		} else {
			char bytes[64];
			metrics_session_end(m, s, bytes, sizeof(bytes));
			log_event(LOG_LEVEL_INFO, "disconnect", "child=%s pid=%ld %s ip=%s "
			    "proto=%s duration_ms=%llu%s", policy_table[s->svc->worker].name, (long)pid,
			    st, s->ip, s->svc->name,
			    (unsigned long long)(ev_now_ms() - s->started_ms), bytes);
			master_session_remove(m, s);
		}
		log_set_session(NULL);
	}
}
