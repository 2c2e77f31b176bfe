/* metrics.c - the master's counters and the snapshot of the metrics
 * endpoint (see metrics.h, docs/METRICS.md). */
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "master.h"
#include "metrics.h"

static const char *const refusal_names[METRICS_REFUSED_COUNT] = {
	[METRICS_REFUSED_STOPPING] = "stopping",
	[METRICS_REFUSED_MAX_DAEMONS] = "max_daemons",
	[METRICS_REFUSED_PREAUTH_LIMIT] = "preauth_limit",
	[METRICS_REFUSED_PROXY_UNTRUSTED] = "proxy_untrusted",
	[METRICS_REFUSED_MAX_PER_IP] = "max_per_ip",
	[METRICS_REFUSED_BROKER_BUSY] = "broker_busy",
	[METRICS_REFUSED_SPAWN_FAILED] = "spawn_failed",
	[METRICS_REFUSED_NO_MEMORY] = "out_of_memory",
};

/* The tls_failed reasons of common/net/tls.c and wk_session.c, by the
 * start of their text; anything else is "other". */
static const struct {
	const char *prefix;
	const char *name;
} tls_reasons[METRICS_TLS_COUNT] = {
	[METRICS_TLS_NO_VERSION_OR_SUITE] = { "client offers no protocol version", "no_version_or_suite" },
	[METRICS_TLS_NO_SHARED_SUITE] = { "no shared cipher suite", "no_shared_suite" },
	[METRICS_TLS_REFUSED] = { "handshake refused", "refused" },
	[METRICS_TLS_CLIENT_ALERT] = { "client sent alert", "client_alert" },
	[METRICS_TLS_CLIENT_CLOSED] = { "client closed during handshake", "client_closed" },
	[METRICS_TLS_TIMEOUT] = { "handshake timed out", "timeout" },
	[METRICS_TLS_KEYD_UNAVAILABLE] = { "keyd unavailable", "keyd_unavailable" },
	[METRICS_TLS_NO_CERTIFICATES] = { "no certificates from keyd", "no_certificates" },
	[METRICS_TLS_OTHER] = { NULL, "other" },
};

static size_t
svc_index(const struct service *svc)
{
	return (size_t)(svc - service_table);
}

void
metrics_accepted(struct master *m, const struct service *svc)
{
	m->metrics.accepted[svc_index(svc)]++;
}

void
metrics_refused(struct master *m, const struct service *svc, enum metrics_refusal why)
{
	m->metrics.refused[svc_index(svc)][why]++;
}

void
metrics_login_timeout(struct master *m, const struct session *s)
{
	m->metrics.login_timeouts[svc_index(s->svc)]++;
}

void
metrics_sandbox_kill(struct master *m, int proc)
{
	if (proc >= 0 && proc < POLICY_NPROCS)
		m->metrics.sandbox_kills[proc]++;
}

void
metrics_broker_restart(struct master *m, int proc)
{
	if (proc >= 0 && proc < POLICY_NPROCS)
		m->metrics.broker_restarts[proc]++;
}

/* tcpi_state values (the kernel's include/net/tcp_states.h; <linux/tcp.h>,
 * which has tcpi_bytes_*, does not name them, and <netinet/tcp.h>, which
 * does, clashes with it) */
enum {
	ST_TIME_WAIT = 6, ST_CLOSE = 7, ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9, ST_CLOSING = 11,
};

void
metrics_session_end(struct master *m, const struct session *s, char *fields, size_t len)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	size_t k = svc_index(s->svc);
	uint64_t in, out;

	fields[0] = '\0';
	m->metrics.worker_exits[k]++;
	memset(&ti, 0, sizeof(ti));
	/* the kernel's numbers for the connection, not the worker's word;
	 * a unix socket has none (EOPNOTSUPP) */
	if (s->client_fd < 0 || getsockopt(s->client_fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
	    tl < offsetof(struct tcp_info, tcpi_bytes_retrans) + sizeof(ti.tcpi_bytes_retrans))
		return;
	/* Payload bytes.  Out: what was transmitted, less retransmissions,
	 * plus what is still waiting to be sent (the worker has just exited;
	 * the client may not have acknowledged its last replies yet: its
	 * delayed ACK can be 40 ms away).  A FIN carries no payload there.
	 * In: the kernel counts the client's FIN, a sequence number, as one
	 * more byte once it arrived: taken off again (after a reset to
	 * TCP_CLOSE it may leave the count one short). */
	out = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans + ti.tcpi_notsent_bytes;
	in = ti.tcpi_bytes_received;
	if (ti.tcpi_state == ST_CLOSE_WAIT || ti.tcpi_state == ST_LAST_ACK ||
	    ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT ||
	    ti.tcpi_state == ST_CLOSE)
		in -= in > 0;
	m->metrics.bytes_in[k] += in;
	m->metrics.bytes_out[k] += out;
	snprintf(fields, len, " bytes_in=%llu bytes_out=%llu", (unsigned long long)in,
	    (unsigned long long)out);
}

void
metrics_log_line(struct master *m, const char *text, size_t len)
{
	const char *ev, *reason;
	size_t evlen, rlen, i;

	ev = log_field(text, len, "event=", &evlen);
	if (ev == NULL)
		return;
	if (evlen == 3 && memcmp(ev, "tls", 3) == 0) {
		m->metrics.tls_ok++;
		return;
	}
	if (evlen != 10 || memcmp(ev, "tls_failed", 10) != 0)
		return;
	reason = log_field(text, len, "reason=", &rlen);
	for (i = 0; i < METRICS_TLS_OTHER && reason != NULL; i++) {
		size_t pl = strlen(tls_reasons[i].prefix);
		if (rlen >= pl && memcmp(reason, tls_reasons[i].prefix, pl) == 0)
			break;
	}
	m->metrics.tls_failed[reason != NULL ? i : METRICS_TLS_OTHER]++;
}

/* -- the brokers' pages ------------------------------------------------ */

int
metrics_broker_page(struct master *m, int proc, int *slot_r)
{
	struct metrics *mt = &m->metrics;
	int fd, i;
	void *p;

	*slot_r = -1;
	for (i = 0; i < METRICS_PAGES && mt->pages[i].map != NULL; i++)
		;
	fd = memfd_create("postern-counters", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (i == METRICS_PAGES || fd < 0 || ftruncate(fd, (off_t)COUNTERS_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
	    (p = mmap(NULL, COUNTERS_SIZE, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		log_event(LOG_LEVEL_WARN, "counters", "child=%s errno=%d reason=\"no counters page; "
		    "its numbers are not counted\"", policy_table[proc].name, errno);
		if (fd >= 0)
			close(fd);
		/* the sealed config snapshot: not a page's size, so the broker
		 * maps nothing (counters_map) and runs without counting */
		return fcntl(m->config_fd, F_DUPFD_CLOEXEC, 3);
	}
	mt->pages[i] = (struct metrics_page){ .pid = -1, .proc = proc, .map = p };
	*slot_r = i;
	return fd;
}

static void
page_free(struct metrics_page *pg)
{
	munmap((void *)pg->map, COUNTERS_SIZE);
	*pg = (struct metrics_page){ 0 };
}

void
metrics_broker_spawned(struct master *m, int slot, int fd, pid_t pid)
{
	if (fd >= 0)
		close(fd);
	if (slot < 0 || slot >= METRICS_PAGES)
		return;
	if (pid <= 0)
		page_free(&m->metrics.pages[slot]);
	else
		m->metrics.pages[slot].pid = pid;
}

void
metrics_broker_exited(struct master *m, pid_t pid)
{
	struct metrics *mt = &m->metrics;
	size_t i, w;

	for (i = 0; i < METRICS_PAGES; i++) {
		struct metrics_page *pg = &mt->pages[i];
		uint64_t *tot = pg->proc == POLICY_AUTHD ? mt->authd_totals : mt->keyd_totals;
		if (pg->map == NULL || pg->pid != pid)
			continue;
		for (w = 0; w < COUNTERS_WORDS; w++)
			tot[w] += __atomic_load_n(&pg->map[w], __ATOMIC_RELAXED);
		page_free(pg);
	}
}

/* A broker's number at idx: the exited ones' totals plus the live pages. */
static uint64_t
broker_value(const struct master *m, int proc, size_t idx)
{
	const struct metrics *mt = &m->metrics;
	uint64_t v = (proc == POLICY_AUTHD ? mt->authd_totals : mt->keyd_totals)[idx];
	size_t i;

	for (i = 0; i < METRICS_PAGES; i++)
		if (mt->pages[i].map != NULL && mt->pages[i].proc == proc)
			v += __atomic_load_n(&mt->pages[i].map[idx], __ATOMIC_RELAXED);
	return v;
}

/* -- rendering --------------------------------------------------------- */

struct out {
	int fd;
	int om;		/* OpenMetrics (else the Prometheus text format) */
	int err;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vdprintf(o->fd, fmt, ap) < 0)
		o->err = 1;
	va_end(ap);
}

/* HELP and TYPE of a family.  A counter's family is named without _total
 * in OpenMetrics, with it in the Prometheus format (its samples carry
 * _total in both). */
static void
family(struct out *o, const char *name, int counter, const char *help)
{
	const char *suffix = counter && !o->om ? "_total" : "";

	out_printf(o, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix, help, name, suffix,
	    counter ? "counter" : "gauge");
}

static void
sample(struct out *o, const char *name, int counter, const char *labels, uint64_t v)
{
	out_printf(o, "%s%s%s%s%s %llu\n", name, counter ? "_total" : "", labels[0] ? "{" : "",
	    labels, labels[0] ? "}" : "", (unsigned long long)v);
}

/* Whether the service has a listener: its rows of per-service families. */
static int
listening(const struct master *m, size_t k)
{
	int i;

	for (i = 0; i < m->nlisteners; i++)
		if (m->listeners[i].svc == &service_table[k])
			return 1;
	return 0;
}

static void
render_sessions(struct out *o, const struct master *m)
{
	const struct metrics *mt = &m->metrics;
	char l[128];
	size_t k, r, i, active;

	family(o, "postern_connections", 1, "Connections accepted, by service.");
	for (k = 0; k < SERVICE_COUNT; k++)
		if (listening(m, k)) {
			snprintf(l, sizeof(l), "service=\"%s\"", service_table[k].name);
			sample(o, "postern_connections", 1, l, mt->accepted[k]);
		}
	family(o, "postern_connections_refused", 1, "Connections refused by the master, by service "
	    "and reason.");
	for (k = 0; k < SERVICE_COUNT; k++)
		for (r = 0; r < METRICS_REFUSED_COUNT; r++)
			if (mt->refused[k][r] > 0) {
				snprintf(l, sizeof(l), "service=\"%s\",reason=\"%s\"", service_table[k].name,
				    refusal_names[r]);
				sample(o, "postern_connections_refused", 1, l, mt->refused[k][r]);
			}
	family(o, "postern_sessions_active", 0, "Sessions open now, by service.");
	for (k = 0; k < SERVICE_COUNT; k++)
		if (listening(m, k)) {
			for (i = 0, active = 0; i < m->nsessions; i++)
				active += m->sessions[i].svc == &service_table[k];
			snprintf(l, sizeof(l), "service=\"%s\"", service_table[k].name);
			sample(o, "postern_sessions_active", 0, l, active);
		}
}

/* A counter with one sample per service that has a listener. */
static void
render_per_service(struct out *o, const struct master *m, const char *name, int counter,
    const char *help, const uint64_t v[SERVICE_COUNT])
{
	char l[64];
	size_t k;

	family(o, name, counter, help);
	for (k = 0; k < SERVICE_COUNT; k++)
		if (listening(m, k)) {
			snprintf(l, sizeof(l), "service=\"%s\"", service_table[k].name);
			sample(o, name, counter, l, v[k]);
		}
}

static void
render_processes(struct out *o, const struct master *m)
{
	const struct metrics *mt = &m->metrics;
	static const int brokers[] = { POLICY_AUTHD, POLICY_KEYD };
	char l[64];
	size_t p, i;

	family(o, "postern_sandbox_kills", 1, "Processes killed by their seccomp filter, by process.");
	for (p = 0; p < POLICY_NPROCS; p++) {
		snprintf(l, sizeof(l), "process=\"%s\"", policy_table[p].name);
		sample(o, "postern_sandbox_kills", 1, l, mt->sandbox_kills[p]);
	}
	family(o, "postern_broker_restarts", 1, "Restarts of a broker that died, by broker.");
	for (i = 0; i < 2; i++) {
		snprintf(l, sizeof(l), "broker=\"%s\"", policy_table[brokers[i]].name);
		sample(o, "postern_broker_restarts", 1, l, mt->broker_restarts[brokers[i]]);
	}
	family(o, "postern_broker_up", 0, "1 when the broker runs (keyd: and has loaded its keys).");
	snprintf(l, sizeof(l), "broker=\"authd\"");
	sample(o, "postern_broker_up", 0, l, m->authd.fd >= 0);
	snprintf(l, sizeof(l), "broker=\"keyd\"");
	sample(o, "postern_broker_up", 0, l, m->keyd.fd >= 0 && m->keyd.ready);
}

static void
render_authd(struct out *o, const struct master *m)
{
	char l[160];
	size_t k, me, r, t;

	family(o, "postern_logins", 1, "Login attempts decided by authd, by service, mechanism and "
	    "result (ok or the failure); counted by authd.");
	for (k = 0; k < SERVICE_COUNT; k++)
		for (me = 0; me < COUNTERS_MECH_COUNT; me++)
			for (r = 0; r < COUNTERS_RESULT_COUNT; r++) {
				size_t idx = COUNTERS_AUTHD_LOGINS + (k * COUNTERS_MECH_COUNT + me) *
				    COUNTERS_RESULT_COUNT + r;
				uint64_t v = broker_value(m, POLICY_AUTHD, idx);
				if (v == 0)
					continue;
				snprintf(l, sizeof(l), "service=\"%s\",mechanism=\"%s\",result=\"%s\"",
				    service_table[k].name, counters_mech_names[me], counters_result_names[r]);
				sample(o, "postern_logins", 1, l, v);
			}
	family(o, "postern_auth_throttled", 1, "Attempts the throttle stopped before a password "
	    "check, by kind; counted by authd.");
	for (t = 0; t < COUNTERS_THROTTLE_COUNT; t++) {
		snprintf(l, sizeof(l), "kind=\"%s\"", counters_throttle_names[t]);
		sample(o, "postern_auth_throttled", 1, l,
		    broker_value(m, POLICY_AUTHD, COUNTERS_AUTHD_THROTTLE + t));
	}
}

static void
render_tls(struct out *o, const struct master *m)
{
	const struct metrics *mt = &m->metrics;
	char l[96];
	size_t t, op, r;

	family(o, "postern_tls_key_operations", 1, "Private-key operations done by keyd, by key type "
	    "and operation; counted by keyd.");
	for (t = 0; t < COUNTERS_KEY_COUNT; t++)
		for (op = 0; op < COUNTERS_OP_COUNT; op++) {
			snprintf(l, sizeof(l), "key_type=\"%s\",operation=\"%s\"", counters_key_names[t],
			    counters_op_names[op]);
			sample(o, "postern_tls_key_operations", 1, l, broker_value(m, POLICY_KEYD,
			    COUNTERS_KEYD_OPS + t * COUNTERS_OP_COUNT + op));
		}
	family(o, "postern_tls_key_refusals", 1, "Requests keyd refused, by reason; counted by keyd.");
	for (r = 0; r < COUNTERS_REFUSED_COUNT; r++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", counters_refusal_names[r]);
		sample(o, "postern_tls_key_refusals", 1, l,
		    broker_value(m, POLICY_KEYD, COUNTERS_KEYD_REFUSED + r));
	}
	family(o, "postern_tls_handshakes", 1, "TLS handshakes completed, as the workers report them.");
	sample(o, "postern_tls_handshakes", 1, "", mt->tls_ok);
	family(o, "postern_tls_handshake_failures", 1, "TLS handshakes that failed, by reason, as the "
	    "workers report them.");
	for (r = 0; r < METRICS_TLS_COUNT; r++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", tls_reasons[r].name);
		sample(o, "postern_tls_handshake_failures", 1, l, mt->tls_failed[r]);
	}
}

/* A login needs authd, TLS needs keyd with its keys, a stopping master
 * takes nothing new. */
int
metrics_health(const struct master *m, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	if (m->stopping && (n = snprintf(buf + used, len - used, "master stopping\n")) > 0)
		used += (size_t)n;
	if (m->authd.fd < 0 && used < len &&
	    (n = snprintf(buf + used, len - used, "authd not running\n")) > 0)
		used += (size_t)n;
	if (!(m->keyd.fd >= 0 && m->keyd.ready) && used < len)
		(void)snprintf(buf + used, len - used, "keyd not ready\n");
	return buf[0] == '\0';
}

static void
render(struct out *o, const struct master *m, int healthy)
{
	const struct metrics *mt = &m->metrics;

	render_sessions(o, m);
	render_per_service(o, m, "postern_login_timeouts", 1, "Sessions ended by login_timeout, "
	    "by service.", mt->login_timeouts);
	render_per_service(o, m, "postern_worker_exits", 1, "Session workers reaped, by service.",
	    mt->worker_exits);
	render_per_service(o, m, "postern_client_received_bytes", 1, "Payload bytes received from "
	    "clients, by the kernel's count (TCP_INFO) at the end of each TCP session, by service.",
	    mt->bytes_in);
	render_per_service(o, m, "postern_client_sent_bytes", 1, "Payload bytes sent to clients, "
	    "by the kernel's count (TCP_INFO) at the end of each TCP session, by service.",
	    mt->bytes_out);
	render_processes(o, m);
	render_authd(o, m);
	render_tls(o, m);
	family(o, "postern_healthy", 0, "1 when /healthz answers 200.");
	sample(o, "postern_healthy", 0, "", (uint64_t)healthy);
	if (o->om)
		out_printf(o, "# EOF\n");
}

int
metrics_render(struct master *m, int fd)
{
	struct metrics_snapshot_hdr h = { .magic = METRICS_SNAPSHOT_MAGIC };
	struct out o = { .fd = fd };
	char why[128];
	off_t a, b, c;

	(void)metrics_health(m, why, sizeof(why));
	h.health_status = why[0] ? 503 : 200;
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		return -1;
	render(&o, m, !why[0]);
	a = lseek(fd, 0, SEEK_CUR);
	o.om = 1;
	render(&o, m, !why[0]);
	b = lseek(fd, 0, SEEK_CUR);
	out_printf(&o, "%s", why[0] ? why : "ok\n");
	c = lseek(fd, 0, SEEK_CUR);
	if (o.err || a < 0 || b < 0 || c < 0)
		return -1;
	h.text_len = (uint64_t)a - sizeof(h);
	h.openmetrics_len = (uint64_t)(b - a);
	h.health_len = (uint64_t)(c - b);
	return pwrite(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -1;
}

/* -- the metrics worker ------------------------------------------------ */

/* The snapshot: rendered now, then sealed, so that the worker (and
 * anything that takes its place) can only read what it was given. */
static int
snapshot(struct master *m)
{
	int fd = memfd_create("postern-metrics", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (metrics_render(m, fd) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
metrics_spawn_worker(struct master *m, struct session *s, int client_fd,
    const struct listener *l)
{
	const struct service *svc = l->svc;
	char path[CONFIG_PATH_MAX + 64];
	int snap = snapshot(m);
	pid_t pid = -1;

	if (service_worker_override(svc, &m->cfg)[0] != '\0')
		snprintf(path, sizeof(path), "%s", service_worker_override(svc, &m->cfg));
	else
		snprintf(path, sizeof(path), "%s/%s", m->libexec, policy_table[svc->worker].binary);
	if (snap >= 0) {
		char *argv[] = { path, "-c", NULL, "-s", s->sid, "-i", s->ip, NULL };
		int fds[SLOT_COUNT];
		size_t i;
		for (i = 0; i < SLOT_COUNT; i++)
			fds[i] = -1;
		fds[SLOT_CLIENT] = client_fd;
		fds[SLOT_SNAPSHOT] = snap;
		pid = master_spawn(m, svc->worker, argv, fds, s->sid, 1);
		close(snap);
	}
	if (pid < 0) {
		log_event(LOG_LEVEL_ERR, "spawn_failed", "proc=%s ip=%s errno=%d",
		    policy_table[svc->worker].name, s->ip, errno);
		metrics_refused(m, svc, METRICS_REFUSED_SPAWN_FAILED);
		master_session_remove(m, s);
		return -1;
	}
	s->worker_pid = pid;
	s->m = m;
	master_session_logged_in(m, s);	/* no login: login_timeout does not apply */
	log_set_session(s->sid);
	log_event(LOG_LEVEL_INFO, "connect", "proto=%s ip=%s worker_pid=%ld sessions=%zu",
	    svc->name, s->ip, (long)pid, m->nsessions);
	log_set_session(NULL);
	return 0;
}
