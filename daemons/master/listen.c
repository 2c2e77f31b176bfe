/* listen.c - the master's listeners and the accept-time limits. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/net/netaddr.h"
#include "../../common/net/proxy.h"
#include "../../common/base/util.h"
#include "../../policy/services.h"
#include "../../sandbox/sandbox.h"
#include "master.h"

static struct listener *
add_listener(struct master *m, int fd, const struct service *svc, const char *addr)
{
	struct listener *l = &m->listeners[m->nlisteners++];

	l->fd = fd;
	l->svc = svc;
	l->proxy = service_proxy(svc, &m->cfg);
	l->local = addr[0] == '/';
	l->adopted = 0;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	log_event(LOG_LEVEL_INFO, "listen", "proto=%s addr=%s fd=%d", svc->name, addr, fd);
	return l;
}

int
master_dir_safe(const char *path)
{
	char dir[CONFIG_PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return -1;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return -1;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return -1;
	return (st.st_mode & 022) != 0 ? -1 : 0;
}

int
master_unix_listen(const char *path, int type, mode_t mode, uid_t uid, gid_t gid, int backlog,
    const char *what, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *step = "socket";
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s %s: not an absolute path that fits a unix socket (%zu "
		    "bytes)", what, path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	/* root replaces, chmods and chowns the socket by name: only in a
	 * directory no one else may change (so no one can swap the name) */
	if (master_dir_safe(path) < 0) {
		snprintf(err, errlen, "%s %s: its directory must be owned by root (or the "
		    "master's uid) and not writable by group or others", what, path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s %s: exists and is not a socket", what, path);
			return -1;
		}
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* bind makes it the master's file: an owner to give only if asked */
	if (fd >= 0 && (step = "bind", bind(fd, (struct sockaddr *)&sun, sizeof(sun))) == 0 &&
	    (step = "chmod", chmod(path, mode)) == 0 &&
	    (step = "chown", sandbox_unprivileged() || (uid == 0 && gid == 0) ? 0 :
	    chown(path, uid, gid)) == 0 &&
	    (step = "listen", listen(fd, backlog)) == 0)
		return fd;
	snprintf(err, errlen, "%s %s: %s: %s", what, path, step, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A unix socket listener (LMTP behind Postfix, a local proxy): owner and
 * mode from listen_unix_uid/gid/mode. */
static int
listen_unix(struct master *m, const char *path, char *err, size_t errlen)
{
	return master_unix_listen(path, SOCK_STREAM, (mode_t)m->cfg.listen_unix_mode,
	    (uid_t)m->cfg.listen_unix_uid, (gid_t)m->cfg.listen_unix_gid, (int)m->cfg.listen_backlog,
	    "listen on", err, errlen);
}

static int
listen_inet(const char *addr, int backlog, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, on = 1;

	if (netaddr_parse(addr, &ss, &sl) < 0) {
		snprintf(err, errlen, "bad listen address '%s' (want host:port, [v6]:port or "
		    "/path)", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
listen_one(struct master *m, const char *addr, const struct service *svc, char *err,
    size_t errlen)
{
	int fd;

	if (m->nlisteners == MASTER_MAX_LISTENERS) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	fd = addr[0] == '/' ? listen_unix(m, addr, err, errlen) :
	    listen_inet(addr, (int)m->cfg.listen_backlog, err, errlen);
	if (fd < 0)
		return -1;
	add_listener(m, fd, svc, addr);
	return 0;
}

void
master_listen_backlog(struct master *m)
{
	int i;

	for (i = 0; i < m->nlisteners; i++)
		if (!m->listeners[i].adopted && listen(m->listeners[i].fd, (int)m->cfg.listen_backlog) < 0)
			log_event(LOG_LEVEL_WARN, "reload", "listener=%s reason=\"cannot change its "
			    "backlog\" errno=%d", m->listeners[i].addr, errno);
}

/* The address a passed socket is bound to, as a listen key would name it:
 * "a.b.c.d:port", "[v6]:port" or a unix path ("systemd:N" if none). */
static void
socket_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];

	snprintf(out, len, "systemd:%d", fd);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)) != NULL)
			snprintf(out, len, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		if (inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip)) != NULL)
			snprintf(out, len, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *a = (const struct sockaddr_un *)&ss;
		size_t n = sl > offsetof(struct sockaddr_un, sun_path) ?
		    sl - offsetof(struct sockaddr_un, sun_path) : 0;
		if (n > 0 && a->sun_path[0] == '/')
			snprintf(out, len, "%.*s", (int)strnlen(a->sun_path, n), a->sun_path);
	}
}

/* systemd socket activation (sd_listen_fds(3) protocol, without libsystemd):
 * LISTEN_PID is ours, LISTEN_FDS sockets start at fd 3, LISTEN_FDNAMES
 * (FileDescriptorName= in the .socket unit) names each one's service row;
 * with no names, all belong to the first row.
 * Returns the number adopted, 0 when not socket-activated, -1 on error. */
static int
adopt_systemd(struct master *m, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	uint64_t p, n, i;

	if (pid == NULL || nfds == NULL || util_str_to_u64(pid, UINT32_MAX, &p) < 0 ||
	    (pid_t)p != getpid())
		return 0;
	if (util_str_to_u64(nfds, MASTER_MAX_LISTENERS, &n) < 0) {
		snprintf(err, errlen, "LISTEN_FDS=%s: at most %d sockets", nfds, MASTER_MAX_LISTENERS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct service *svc = &service_table[0];
		char addr[CONFIG_PATH_MAX];
		int fd = (int)(3 + i);
		if (names != NULL) {
			size_t len = strcspn(names, ":");
			svc = service_by_name(names, len);
			if (svc == NULL) {
				snprintf(err, errlen, "socket-activated fd %d: FileDescriptorName=%.*s names "
				    "no enabled service (see posternctl services)", fd, (int)len, names);
				return -1;
			}
			names += len + (names[len] == ':');
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
			snprintf(err, errlen, "socket-activated fd %d: %s", fd, strerror(errno));
			return -1;
		}
		/* the real address: logs, posternctl status, and a unix socket
		 * keys its peers by uid like one the master bound */
		socket_name(fd, addr, sizeof(addr));
		add_listener(m, fd, svc, addr)->adopted = 1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

/* Every enabled service's listen list; not the config's, when systemd
 * passed the sockets. */
int
master_listen_all(struct master *m, char *err, size_t errlen)
{
	char list[CONFIG_PATH_MAX], *save = NULL, *tok;
	int adopted = adopt_systemd(m, err, errlen);
	size_t k;

	if (adopted < 0)
		return -1;
	for (k = 0; k < SERVICE_COUNT && adopted == 0; k++) {
		const struct service *svc = &service_table[k];
		if (!svc->enabled)
			continue;
		snprintf(list, sizeof(list), "%s", service_listen(svc, &m->cfg));
		for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
			if (listen_one(m, tok, svc, err, errlen) < 0)
				return -1;
	}
	return 0;
}

void
master_start_accepting(struct master *m)
{
	int i;

	if (m->accepting || m->stopping)
		return;
	m->accepting = 1;
	for (i = 0; i < m->nlisteners; i++)
		if (ev_add_fd(m->listeners[i].fd, POLLIN, master_accept, m) < 0)
			fatal("reason=\"event loop full\"");
	log_event(LOG_LEVEL_INFO, "accepting", "listeners=%d", m->nlisteners);
}

/* Sessions from the client's address, IPv6 counted per auth_ipv6_prefix as
 * authd's throttle does (one host holds a whole /64). */
size_t
master_count_ip(const struct master *m, const char *ip)
{
	char key[NETADDR_KEY_MAX], other[NETADDR_KEY_MAX];
	unsigned bits = (unsigned)m->cfg.auth_ipv6_prefix;
	size_t i, n = 0;

	(void)netaddr_key(ip, bits, key, sizeof(key));
	for (i = 0; i < m->nsessions; i++) {
		(void)netaddr_key(m->sessions[i].ip, bits, other, sizeof(other));
		if (strcmp(other, key) == 0)
			n++;
	}
	return n;
}

/* A refusal the client's protocol understands: the service row's line
 * (none on an implicit-TLS port: plaintext would read as garbage there). */
static void
refuse(int fd, const struct service *svc, const char *why)
{
	char line[256];
	size_t n = service_refusal(svc, why, line, sizeof(line));

	if (n > 0)
		(void)!write(fd, line, n);
	close(fd);
}

/* The peer's address; on a unix socket, "local:uid=N" from SO_PEERCRED,
 * so that max_per_ip and authd's throttle count each local user apart. */
static void
peer_ip(int fd, const struct sockaddr_storage *ss, char out[INET6_ADDRSTRLEN])
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);

	if (ss->ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			snprintf(out, INET6_ADDRSTRLEN, "local:uid=%u", (unsigned)cr.uid);
		else
			snprintf(out, INET6_ADDRSTRLEN, "local");
	} else if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, INET6_ADDRSTRLEN);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, INET6_ADDRSTRLEN);
	else
		snprintf(out, INET6_ADDRSTRLEN, "unknown");
}

static uint64_t
preauth_limit(const struct config *c)
{
	uint64_t n = c->max_daemons * c->preauth_max_percent / 100;

	return n ? n : 1;
}

void
master_accept(int lfd, short revents, void *ctx)
{
	struct master *m = ctx;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	struct listener *l = NULL;
	struct session *s;
	int fd, i, one = 1;

	(void)revents;
	for (i = 0; i < m->nlisteners; i++)
		if (m->listeners[i].fd == lfd)
			l = &m->listeners[i];
	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0 || l == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* Responses are flushed whole; without this, Nagle holds the last
	 * partial segment of each until the client's delayed ACK (~40 ms). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	peer_ip(fd, &ss, ip);
	metrics_accepted(m, l->svc);
	if (m->stopping) {
		metrics_refused(m, l->svc, METRICS_REFUSED_STOPPING);
		refuse(fd, l->svc, "server shutting down");
		return;
	}
	if (m->nsessions >= m->cfg.max_daemons) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=max_daemons ip=%s limit=%llu", ip,
		    (unsigned long long)m->cfg.max_daemons);
		metrics_refused(m, l->svc, METRICS_REFUSED_MAX_DAEMONS);
		refuse(fd, l->svc, "too many connections");
		return;
	}
	/* part of max_daemons stays for sessions that have logged in: a flood
	 * of connections that never log in cannot take every slot */
	if (m->npreauth >= preauth_limit(&m->cfg)) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=preauth_limit ip=%s limit=%llu", ip,
		    (unsigned long long)preauth_limit(&m->cfg));
		metrics_refused(m, l->svc, METRICS_REFUSED_PREAUTH_LIMIT);
		refuse(fd, l->svc, "too many connections");
		return;
	}
	if (l->proxy && !proxy_addr_in_list(m->cfg.proxy_trusted, ip)) {
		/* nothing in Postern trusts an address it cannot see: only a
		 * configured proxy may name the client */
		log_event(LOG_LEVEL_WARN, "refused", "reason=proxy_untrusted ip=%s "
		    "detail=\"PROXY listener; peer not in proxy_trusted\"", ip);
		metrics_refused(m, l->svc, METRICS_REFUSED_PROXY_UNTRUSTED);
		close(fd);
		return;
	}
	/* behind a proxy every session comes from the proxy: the per-IP limit
	 * applies once the header names the client */
	if (!l->proxy && master_count_ip(m, ip) >= m->cfg.max_per_ip) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=max_per_ip ip=%s limit=%llu", ip,
		    (unsigned long long)m->cfg.max_per_ip);
		metrics_refused(m, l->svc, METRICS_REFUSED_MAX_PER_IP);
		refuse(fd, l->svc, "too many connections from your address");
		return;
	}
	s = master_session_add(m);
	if (s == NULL) {
		metrics_refused(m, l->svc, METRICS_REFUSED_NO_MEMORY);
		refuse(fd, l->svc, "out of memory");
		return;
	}
	snprintf(s->ip, sizeof(s->ip), "%s", ip);
	snprintf(s->peer, sizeof(s->peer), "%s", ip);
	s->svc = l->svc;
	if (master_spawn_worker(m, s, fd, l) < 0) {
		refuse(fd, l->svc, "service busy");
		return;
	}
	/* kept until the worker is reaped (master.h): a client that logs out
	 * and connects again at once finds its place free */
	s->client_fd = fd;
}
