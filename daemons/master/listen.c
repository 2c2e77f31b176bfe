/* listen.c - the master's listeners and the accept-time limits. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/ev.h"
#include "../../common/log.h"
#include "../../common/netaddr.h"
#include "../../common/proxy.h"
#include "../../common/util.h"
#include "master.h"

static int
listen_one(struct master *m, const char *addr, enum listener_proto proto, int tls, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, on = 1;
	struct listener *l;

	if (m->nlisteners == MASTER_MAX_LISTENERS) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	if (netaddr_parse(addr, &ss, &sl) < 0) {
		snprintf(err, errlen, "bad listen address '%s' (want host:port or [v6]:port)", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l = &m->listeners[m->nlisteners++];
	l->fd = fd;
	l->proto = proto;
	l->implicit_tls = tls;
	l->proxy = tls ? m->cfg.pop3s_proxy_protocol : m->cfg.pop3_proxy_protocol;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	log_event(LOG_LEVEL_INFO, "listen", "proto=%s addr=%s", tls ? "pop3s" : "pop3", addr);
	return 0;
}

/* systemd socket activation (sd_listen_fds(3) protocol, without libsystemd):
 * LISTEN_PID is ours, LISTEN_FDS sockets start at fd 3, LISTEN_FDNAMES
 * (FileDescriptorName= in the .socket unit) says "pop3" or "pop3s".
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
		int fd = (int)(3 + i), tls = 0;
		struct listener *l = &m->listeners[m->nlisteners++];
		if (names != NULL) {
			size_t len = strcspn(names, ":");
			tls = len == 5 && strncmp(names, "pop3s", 5) == 0;
			names += len + (names[len] == ':');
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
			snprintf(err, errlen, "socket-activated fd %d: %s", fd, strerror(errno));
			return -1;
		}
		l->fd = fd;
		l->proto = PROTO_POP3;
		l->implicit_tls = tls;
		l->proxy = tls ? m->cfg.pop3s_proxy_protocol : m->cfg.pop3_proxy_protocol;
		snprintf(l->addr, sizeof(l->addr), "systemd:%d", fd);
		log_event(LOG_LEVEL_INFO, "listen", "proto=%s addr=%s", tls ? "pop3s" : "pop3", l->addr);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

int
master_listen_all(struct master *m, char *err, size_t errlen)
{
	const char *lists[2] = { m->cfg.pop3_listen, m->cfg.pop3s_listen };
	char list[CONFIG_PATH_MAX], *save = NULL, *tok;
	int k, adopted = adopt_systemd(m, err, errlen);

	if (adopted < 0)
		return -1;
	for (k = 0; k < 2 && adopted == 0; k++) {
		snprintf(list, sizeof(list), "%s", lists[k]);
		for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
			if (listen_one(m, tok, PROTO_POP3, k == 1, err, errlen) < 0)
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

size_t
master_count_ip(const struct master *m, const char *ip)
{
	size_t i, n = 0;

	for (i = 0; i < m->nsessions; i++)
		if (strcmp(m->sessions[i].ip, ip) == 0)
			n++;
	return n;
}

/* A refusal the client's protocol understands (RFC 2449 [SYS/TEMP]). */
static void
refuse(int fd, enum listener_proto proto, int tls, const char *why)
{
	char line[160];
	int n = 0;

	/* On an implicit-TLS port a plaintext line would read as garbage to the
	 * client: close without one (the log line says why). */
	switch (tls ? -1 : (int)proto) {
	case PROTO_POP3:
		n = snprintf(line, sizeof(line), "-ERR [SYS/TEMP] %s, try again later\r\n", why);
		break;
	}
	if (n > 0)
		(void)!write(fd, line, (size_t)n);
	close(fd);
}

static void
peer_ip(const struct sockaddr_storage *ss, char out[INET6_ADDRSTRLEN])
{
	if (ss->ss_family == AF_INET)
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
	peer_ip(&ss, ip);
	if (m->stopping) {
		refuse(fd, l->proto, l->implicit_tls, "server shutting down");
		return;
	}
	if (m->nsessions >= m->cfg.max_daemons) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=max_daemons ip=%s limit=%llu", ip,
		    (unsigned long long)m->cfg.max_daemons);
		refuse(fd, l->proto, l->implicit_tls, "too many connections");
		return;
	}
	/* part of max_daemons stays for sessions that have logged in: a flood
	 * of connections that never log in cannot take every slot */
	if (m->npreauth >= preauth_limit(&m->cfg)) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=preauth_limit ip=%s limit=%llu", ip,
		    (unsigned long long)preauth_limit(&m->cfg));
		refuse(fd, l->proto, l->implicit_tls, "too many connections");
		return;
	}
	if (l->proxy && !proxy_addr_in_list(m->cfg.proxy_trusted, ip)) {
		/* nothing in Postern trusts an address it cannot see: only a
		 * configured proxy may name the client */
		log_event(LOG_LEVEL_WARN, "refused", "reason=proxy_untrusted ip=%s "
		    "detail=\"PROXY listener; peer not in proxy_trusted\"", ip);
		close(fd);
		return;
	}
	/* behind a proxy every session comes from the proxy: the per-IP limit
	 * applies once the header names the client */
	if (!l->proxy && master_count_ip(m, ip) >= m->cfg.max_per_ip) {
		log_event(LOG_LEVEL_WARN, "refused", "reason=max_per_ip ip=%s limit=%llu", ip,
		    (unsigned long long)m->cfg.max_per_ip);
		refuse(fd, l->proto, l->implicit_tls, "too many connections from your address");
		return;
	}
	s = master_session_add(m);
	if (s == NULL) {
		refuse(fd, l->proto, l->implicit_tls, "out of memory");
		return;
	}
	snprintf(s->ip, sizeof(s->ip), "%s", ip);
	snprintf(s->peer, sizeof(s->peer), "%s", ip);
	s->proto = l->proto;
	if (master_spawn_worker(m, s, fd, l) < 0) {
		refuse(fd, l->proto, l->implicit_tls, "service busy");
		return;
	}
	close(fd);
}
