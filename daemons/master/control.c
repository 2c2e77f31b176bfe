/* control.c - the admin's socket: posternctl reload, status, who, kick,
 * throttle, stop and health (common/ipc/ctlproto.h).
 *
 * A SOCK_SEQPACKET unix socket at control_socket (default
 * <state_dir>/control), mode 0600, or 0660 with group control_gid.  A peer
 * is served when SO_PEERCRED names root, the master's own uid or a member
 * of control_gid, and it is not one of the master's children (in an
 * unprivileged run every child has the master's uid).  Requests are
 * decoded by the pure ctlproto decoder; anything it refuses closes that
 * connection and nothing else.  Every reply is one small datagram sent
 * without blocking (a body rides along as a sealed memfd), so a client
 * that stops reading costs its own connection only.  At most
 * control_max_clients connections, each closed after control_timeout
 * seconds without a request.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/base/version.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/ctlproto.h"
#include "../../common/ipc/proto.h"
#include "../../policy/services.h"
#include "../../sandbox/sandbox.h"
#include "master.h"
#include "metrics.h"

#define CONTROL_CLIENTS_MAX	64	/* the config key's upper bound */

struct conn {
	int fd;			/* -1: free */
	uid_t uid;
	pid_t pid;
	uint64_t timer;		/* control_timeout */
	uint32_t throttle_id;	/* a throttle request out to authd, 0 = none */
	uint64_t throttle_timer;
	uint8_t throttle_cmd;
};

static struct master *M;
static struct conn conns[CONTROL_CLIENTS_MAX];
static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static uint64_t started_ms;
static uint32_t next_id = 1;
static struct ipc_in cin;	/* 64 KiB each: not on the stack */
static struct ipc_out cout;

static const char *const cmd_names[] = {
	[CTL_STATUS] = "status", [CTL_WHO] = "who", [CTL_KICK_SESSION] = "kick",
	[CTL_KICK_USER] = "kick", [CTL_THROTTLE_LIST] = "throttle_list",
	[CTL_THROTTLE_CLEAR_IP] = "throttle_clear", [CTL_THROTTLE_CLEAR_USER] = "throttle_clear",
	[CTL_RELOAD] = "reload", [CTL_STOP] = "stop", [CTL_HEALTH] = "health",
};

static void
conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	ev_del_fd(c->fd);
	close(c->fd);
	if (c->timer)
		ev_cancel_timer(c->timer);
	if (c->throttle_timer)
		ev_cancel_timer(c->throttle_timer);
	*c = (struct conn){ .fd = -1 };
}

static void
on_timeout(void *ctx)
{
	struct conn *c = ctx;

	c->timer = 0;
	log_event(LOG_LEVEL_INFO, "control_closed", "uid=%u reason=\"no request for "
	    "control_timeout\"", (unsigned)c->uid);
	conn_close(c);
}

static void
rearm(struct conn *c)
{
	if (c->timer)
		ev_cancel_timer(c->timer);
	c->timer = ev_add_timer(M->cfg.control_timeout * 1000, on_timeout, c);
}

/* One reply, never blocking: a client whose queue is full loses its
 * connection.  body_fd (-1: none) is closed here. */
static void
reply(struct conn *c, uint8_t status, int body_fd, const char *fmt, ...)
{
	char text[CTLPROTO_TEXT_MAX], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* the reply's text is printable ASCII (a name may be UTF-8) */
	for (p = text; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	ctlproto_reply_put(&cout, status, text, body_fd);
	if (ipc_send_nowait(c->fd, &cout) < 0) {
		log_event(LOG_LEVEL_WARN, "control_closed", "uid=%u errno=%d reason=\"reply not "
		    "taken\"", (unsigned)c->uid, errno);
		conn_close(c);
	}
	if (body_fd >= 0)
		close(body_fd);
}

/* A memfd for a reply body; writes to it never block.  -1 on failure. */
static int
body_new(void)
{
	return memfd_create("postern-control", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* Seal the body so the client reads what the master wrote; -1 if it
 * cannot be (the body is then closed). */
static int
body_seal(int fd)
{
	if (lseek(fd, 0, SEEK_SET) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static const char *
yes(int v)
{
	return v ? "yes" : "no";
}

static void
cmd_status(struct conn *c)
{
	size_t per[SERVICE_COUNT] = { 0 }, i, retired = 0;
	int fd = body_new(), l;

	if (fd < 0) {
		reply(c, CTL_FAILED, -1, "no memory for the reply");
		return;
	}
	for (i = 0; i < M->nsessions; i++)
		per[M->sessions[i].svc - service_table]++;
	for (i = 0; i < sizeof(M->retired) / sizeof(M->retired[0]); i++)
		retired += M->retired[i].pid > 0;
	dprintf(fd, "version %s\nmaster_pid %ld\nuptime_s %llu\nconfig %s\n"
	    "accepting %s\nstopping %s\nsessions %zu\npreauth %zu\nmax_daemons %llu\n"
	    "max_per_ip %llu\n", version_string(), (long)getpid(),
	    (unsigned long long)((ev_now_ms() - started_ms) / 1000), M->config_path,
	    yes(M->accepting && !M->stopping), yes(M->stopping), M->nsessions, M->npreauth,
	    (unsigned long long)M->cfg.max_daemons, (unsigned long long)M->cfg.max_per_ip);
	dprintf(fd, "authd pid=%ld running=%s restarts=%u\n", (long)M->authd.pid,
	    yes(M->authd.fd >= 0), M->authd.restarts);
	dprintf(fd, "keyd pid=%ld running=%s ready=%s restarts=%u retiring=%zu\n",
	    (long)M->keyd.pid, yes(M->keyd.fd >= 0), yes(M->keyd.ready), M->keyd.restarts,
	    retired);
	for (l = 0; l < M->nlisteners; l++)
		dprintf(fd, "listen %s %s\n", M->listeners[l].svc->name, M->listeners[l].addr);
	for (i = 0; i < SERVICE_COUNT; i++)
		if (per[i] > 0)
			dprintf(fd, "service %s sessions=%zu\n", service_table[i].name, per[i]);
	fd = body_seal(fd);
	reply(c, fd < 0 ? CTL_FAILED : CTL_OK, fd, fd < 0 ? "cannot seal the reply" :
	    "%zu sessions", M->nsessions);
}

static void
cmd_who(struct conn *c)
{
	uint64_t now = ev_now_ms();
	int fd = body_new();
	size_t i;

	if (fd < 0) {
		reply(c, CTL_FAILED, -1, "no memory for the reply");
		return;
	}
	dprintf(fd, "%-24s %-8s %-39s %-8s %6s %s\n", "SESSION", "SERVICE", "IP", "PID", "AGE_S",
	    "USER");
	for (i = 0; i < M->nsessions; i++) {
		const struct session *s = &M->sessions[i];
		dprintf(fd, "%-24s %-8s %-39s %-8ld %6llu %s\n", s->sid, s->svc->name, s->ip,
		    (long)s->worker_pid, (unsigned long long)((now - s->started_ms) / 1000),
		    s->user[0] != '\0' ? s->user : "-");
	}
	fd = body_seal(fd);
	reply(c, fd < 0 ? CTL_FAILED : CTL_OK, fd, fd < 0 ? "cannot seal the reply" :
	    "%zu sessions", M->nsessions);
}

/* SIGUSR1: the worker says its protocol's line at the next command
 * boundary and closes (wk_session); its stored ends with it. */
static void
cmd_kick(struct conn *c, const struct ctl_request *r)
{
	char user[USERDB_NAME_MAX + 1];
	const char *why;
	size_t i, n = 0;

	if (r->cmd == CTL_KICK_USER && userdb_normalize((const uint8_t *)r->arg, strlen(r->arg),
	    M->cfg.default_domain, user, &why) < 0) {
		reply(c, CTL_FAILED, -1, "not a user name: %s", why);
		return;
	}
	for (i = 0; i < M->nsessions; i++) {
		struct session *s = &M->sessions[i];
		if (s->worker_pid <= 0 || (r->cmd == CTL_KICK_SESSION ? strcmp(s->sid, r->arg) :
		    strcmp(s->user, user)) != 0)
			continue;
		log_set_session(s->sid);
		log_event(LOG_LEVEL_INFO, "kick", "user=%s ip=%s by_uid=%u",
		    s->user[0] ? s->user : "-", s->ip, (unsigned)c->uid);
		log_set_session(NULL);
		kill(s->worker_pid, SIGUSR1);
		n++;
	}
	if (n == 0)
		reply(c, CTL_FAILED, -1, "no session %s %s", r->cmd == CTL_KICK_SESSION ? "with id" :
		    "of", r->cmd == CTL_KICK_SESSION ? r->arg : user);
	else
		reply(c, CTL_OK, -1, "%zu session%s told to close", n, n == 1 ? "" : "s");
}

static void
throttle_timed_out(void *ctx)
{
	struct conn *c = ctx;

	c->throttle_timer = 0;
	c->throttle_id = 0;
	reply(c, CTL_FAILED, -1, "authd did not answer");
}

/* Relayed to authd, which keeps the records; the answer comes back
 * through control_throttle_result(). */
static void
cmd_throttle(struct conn *c, const struct ctl_request *r)
{
	struct authd_throttle q = { 0 };

	q.op = r->cmd == CTL_THROTTLE_LIST ? AUTHD_THROTTLE_LIST : r->cmd ==
	    CTL_THROTTLE_CLEAR_IP ? AUTHD_THROTTLE_CLEAR_IP : AUTHD_THROTTLE_CLEAR_USER;
	snprintf(q.key, sizeof(q.key), "%s", r->arg);
	q.id = next_id++;
	if (next_id == 0)
		next_id = 1;
	authdproto_throttle_put(&cout, &q);
	if (M->authd.fd < 0 || broker_send(M, &M->authd, &cout) < 0) {
		reply(c, CTL_FAILED, -1, "authd is not running or busy");
		return;
	}
	c->throttle_id = q.id;
	c->throttle_cmd = r->cmd;
	c->throttle_timer = ev_add_timer(BROKER_CALL_TIMEOUT_MS, throttle_timed_out, c);
}

int
control_throttle_result(struct master *m, struct ipc_in *in)
{
	struct authd_throttle_result r;
	size_t i;
	int fd;

	(void)m;
	if (authdproto_throttle_result_get(in, &r) < 0 || r.id == 0)
		return -1;	/* the caller logs ipc_violation and restarts authd */
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (conns[i].fd >= 0 && conns[i].throttle_id == r.id)
			break;
	if (i == CONTROL_CLIENTS_MAX)
		return 0;	/* the client left, or it timed out */
	ev_cancel_timer(conns[i].throttle_timer);
	conns[i].throttle_timer = 0;
	conns[i].throttle_id = 0;
	if (r.status != 0) {
		reply(&conns[i], CTL_FAILED, -1, "%.*s", (int)r.len, (const char *)r.text);
		return 0;
	}
	if (conns[i].throttle_cmd != CTL_THROTTLE_LIST) {
		reply(&conns[i], r.count ? CTL_OK : CTL_FAILED, -1, r.count ? "cleared" :
		    "no record to clear");
		return 0;
	}
	fd = body_new();
	if (fd >= 0 && r.len > 0 && write(fd, r.text, r.len) != (ssize_t)r.len) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		fd = body_seal(fd);
	reply(&conns[i], fd < 0 ? CTL_FAILED : CTL_OK, fd, fd < 0 ? "no memory for the reply" :
	    "%u records", r.count);
	return 0;
}

/* The same verdict as the metrics endpoint's /healthz (metrics_health). */
static void
cmd_health(struct conn *c)
{
	char why[256], *nl;

	if (metrics_health(M, why, sizeof(why))) {
		reply(c, CTL_OK, -1, "ok: %zu sessions", M->nsessions);
		return;
	}
	/* one line: the reasons joined */
	while ((nl = strchr(why, '\n')) != NULL)
		*nl = nl[1] != '\0' ? ';' : '\0';
	reply(c, CTL_UNHEALTHY, -1, "%s", why);
}

static void
dispatch(struct conn *c, const struct ctl_request *r)
{
	char err[512];

	log_event(LOG_LEVEL_INFO, "control", "cmd=%s%s%s uid=%u", cmd_names[r->cmd],
	    r->arg[0] ? " arg=" : "", r->arg, (unsigned)c->uid);
	switch (r->cmd) {
	case CTL_STATUS:
		cmd_status(c);
		break;
	case CTL_WHO:
		cmd_who(c);
		break;
	case CTL_KICK_SESSION:
	case CTL_KICK_USER:
		cmd_kick(c, r);
		break;
	case CTL_THROTTLE_LIST:
	case CTL_THROTTLE_CLEAR_IP:
	case CTL_THROTTLE_CLEAR_USER:
		cmd_throttle(c, r);
		break;
	case CTL_RELOAD:
		if (master_reload(M, err, sizeof(err)) < 0)
			reply(c, CTL_FAILED, -1, "reload failed, the old config stays: %s", err);
		else
			reply(c, CTL_OK, -1, "reloaded %s", M->config_path);
		break;
	case CTL_STOP:
		/* the answer first: the stop closes nothing of this socket */
		reply(c, CTL_OK, -1, r->num ? "stopping: %zu sessions may finish within %llu s" :
		    "stopping: %zu sessions told to close", M->nsessions,
		    (unsigned long long)r->num);
		master_stop(M, (unsigned)r->num);
		break;
	case CTL_HEALTH:
		cmd_health(c);
		break;
	}
}

static void
on_conn(int fd, short revents, void *ctx)
{
	struct conn *c = ctx;
	struct ctl_request r;
	int n;

	(void)fd;
	(void)revents;
	n = ipc_recv(c->fd, &cin);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n == 0) {
		conn_close(c);
		return;
	}
	if (n < 0 || cin.type != MSG_CTL_REQUEST || ctlproto_request_get(&cin, &r) < 0 ||
	    c->throttle_id != 0) {
		log_event(LOG_LEVEL_WARN, "control_refused", "uid=%u pid=%ld type=0x%04x "
		    "reason=\"%s\"", (unsigned)c->uid, (long)c->pid, n > 0 ? cin.type : 0,
		    n < 0 ? "unreadable message" : c->throttle_id != 0 ? "a request before the "
		    "answer to the last one" : "malformed request");
		if (n > 0)
			ipc_in_close_fd(&cin);
		conn_close(c);
		return;
	}
	rearm(c);
	dispatch(c, &r);
}

/* One of the master's own children (a worker, a stored, a broker)? In an
 * unprivileged run they all have the master's uid. */
static int
is_child(pid_t pid)
{
	size_t i, k;

	if (pid == M->authd.pid || pid == M->keyd.pid || pid == M->keyd_next.pid)
		return 1;
	for (i = 0; i < sizeof(M->retired) / sizeof(M->retired[0]); i++)
		if (M->retired[i].pid == pid)
			return 1;
	for (i = 0; i < M->nsessions; i++) {
		if (M->sessions[i].worker_pid == pid)
			return 1;
		for (k = 0; k < SESSION_CHILDREN_MAX; k++)
			if (M->sessions[i].children[k].pid == pid)
				return 1;
	}
	return 0;
}

/* Is gid among the peer's groups?  Read from /proc/PID/status; the socket
 * file's mode has already let only that group (and root) connect. */
static int
in_group(pid_t pid, gid_t gid)
{
	char path[64], line[1024];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char *p = line + 7, *end;
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (;;) {
			unsigned long g = strtoul(p, &end, 10);
			if (end == p)
				break;
			if (g == (unsigned long)gid)
				found = 1;
			p = end;
		}
	}
	fclose(f);
	return found;
}

static const char *
peer_refusal(const struct ucred *cr)
{
	gid_t admin = (gid_t)M->cfg.control_gid;

	if (is_child(cr->pid))
		return "a child of the master";
	if (cr->uid == 0 || cr->uid == geteuid())
		return NULL;
	if (admin != 0 && (cr->gid == admin || in_group(cr->pid, admin)))
		return NULL;
	return "not root, the master's uid or in control_gid";
}

static void
on_accept(int fd, short revents, void *ctx)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	const char *why;
	size_t i;
	int cfd;

	(void)revents;
	(void)ctx;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(cfd);
		return;
	}
	why = peer_refusal(&cr);
	for (i = 0; why == NULL && i < M->cfg.control_max_clients; i++)
		if (conns[i].fd < 0)
			break;
	if (why == NULL && i == M->cfg.control_max_clients)
		why = "control_max_clients connections are open";
	if (why != NULL) {
		log_event(LOG_LEVEL_WARN, "control_refused", "uid=%u pid=%ld reason=\"%s\"",
		    (unsigned)cr.uid, (long)cr.pid, why);
		close(cfd);
		return;
	}
	conns[i] = (struct conn){ .fd = cfd, .uid = cr.uid, .pid = cr.pid };
	if (ev_add_fd(cfd, POLLIN, on_conn, &conns[i]) < 0) {
		close(cfd);
		conns[i].fd = -1;
		return;
	}
	rearm(&conns[i]);
}

int
control_open(struct master *m, char *err, size_t errlen)
{
	mode_t mode = m->cfg.control_gid != 0 ? 0660 : 0600;
	size_t i;
	int rc, fd;

	M = m;
	started_ms = ev_now_ms();
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		conns[i].fd = -1;
	rc = config_control_path(&m->cfg, sock_path, sizeof(sock_path));
	if (rc == 0)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "control_socket: the path does not fit a unix socket");
		return -1;
	}
	fd = master_unix_listen(sock_path, SOCK_SEQPACKET, mode, 0, (gid_t)m->cfg.control_gid, 128,
	    "control_socket", err, errlen);
	if (fd < 0)
		return -1;
	if (ev_add_fd(fd, POLLIN, on_accept, NULL) < 0) {
		snprintf(err, errlen, "control_socket %s: the event loop is full", sock_path);
		close(fd);
		return -1;
	}
	listen_fd = fd;
	log_event(LOG_LEVEL_INFO, "listen", "proto=control addr=%s mode=%04o gid=%llu", sock_path,
	    (unsigned)mode, (unsigned long long)m->cfg.control_gid);
	return 0;
}

void
control_close(void)
{
	size_t i;

	if (M == NULL)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		conn_close(&conns[i]);
	if (listen_fd >= 0) {
		ev_del_fd(listen_fd);
		close(listen_fd);
		listen_fd = -1;
		(void)unlink(sock_path);
	}
}
