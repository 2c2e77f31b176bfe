/* metrics.h - the master's counters, the brokers' counters pages, and the
 * snapshot it renders for each connection to the metrics listener
 * (docs/METRICS.md).
 *
 * The master counts what it sees itself (accepts, refusals, timeouts,
 * sandbox kills, restarts, worker exits, the kernel's byte counts of each
 * client socket); authd and keyd count into pages of their own
 * (common/ipc/counters.h); TLS handshakes are counted from the workers'
 * relayed log lines, mapped to a fixed set of reasons.  Every label value
 * comes from a fixed table here, never from a child.
 */
#ifndef POSTERN_MASTER_METRICS_H
#define POSTERN_MASTER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/ipc/counters.h"
#include "../../policy/policy.h"
#include "../../policy/services.h"

struct master;
struct session;
struct listener;

/* Why the master refused a connection (the reason= of its refused lines). */
enum metrics_refusal {
	METRICS_REFUSED_STOPPING,
	METRICS_REFUSED_MAX_DAEMONS,
	METRICS_REFUSED_PREAUTH_LIMIT,
	METRICS_REFUSED_PROXY_UNTRUSTED,
	METRICS_REFUSED_MAX_PER_IP,
	METRICS_REFUSED_BROKER_BUSY,
	METRICS_REFUSED_SPAWN_FAILED,
	METRICS_REFUSED_NO_MEMORY,
	METRICS_REFUSED_COUNT
};

/* The reasons of the workers' tls_failed lines, as a fixed set. */
enum metrics_tls_reason {
	METRICS_TLS_NO_VERSION_OR_SUITE,
	METRICS_TLS_NO_SHARED_SUITE,
	METRICS_TLS_REFUSED,
	METRICS_TLS_CLIENT_ALERT,
	METRICS_TLS_CLIENT_CLOSED,
	METRICS_TLS_TIMEOUT,
	METRICS_TLS_KEYD_UNAVAILABLE,
	METRICS_TLS_NO_CERTIFICATES,
	METRICS_TLS_OTHER,
	METRICS_TLS_COUNT
};

#define METRICS_PAGES	16	/* authd, keyd, keyd_next, 8 retired keyds, and spare */

/* A broker process's counters page, mapped PROT_READ. */
struct metrics_page {
	pid_t pid;		/* 0: free; -1: made, its broker not started yet */
	int proc;		/* POLICY_AUTHD or POLICY_KEYD */
	const uint64_t *map;
};

struct metrics {
	uint64_t accepted[SERVICE_COUNT];
	uint64_t refused[SERVICE_COUNT][METRICS_REFUSED_COUNT];
	uint64_t login_timeouts[SERVICE_COUNT];
	uint64_t worker_exits[SERVICE_COUNT];
	uint64_t bytes_in[SERVICE_COUNT], bytes_out[SERVICE_COUNT];
	uint64_t sandbox_kills[POLICY_NPROCS];
	uint64_t broker_restarts[POLICY_NPROCS];
	uint64_t tls_ok;
	uint64_t tls_failed[METRICS_TLS_COUNT];
	/* the pages of brokers that exited, added up */
	uint64_t authd_totals[COUNTERS_WORDS];
	uint64_t keyd_totals[COUNTERS_WORDS];
	struct metrics_page pages[METRICS_PAGES];
};

/* Counting, from the places the master logs the same events. */
void metrics_accepted(struct master *m, const struct service *svc);
void metrics_refused(struct master *m, const struct service *svc, enum metrics_refusal why);
void metrics_login_timeout(struct master *m, const struct session *s);
void metrics_sandbox_kill(struct master *m, int proc);
void metrics_broker_restart(struct master *m, int proc);

/* A session's worker was reaped: count its exit and the kernel's payload
 * byte counts of the master's copy of the client socket (TCP_INFO), and write
 * " bytes_in=N bytes_out=N" into fields for the disconnect line ("" on a
 * unix socket). */
void metrics_session_end(struct master *m, const struct session *s, char *fields, size_t len);

/* A relayed log line of a child (logs.c): the workers' tls and tls_failed
 * events are counted, by a fixed set of reasons. */
void metrics_log_line(struct master *m, const char *text, size_t len);

/* A counters page for a broker about to start: returns the fd to pass as
 * its SLOT_COUNTERS (never -1: without a page, an fd it cannot map, and it
 * does not count) and its slot in *slot_r (-1 for none).  After the spawn,
 * metrics_broker_spawned() closes the fd and binds the page to pid (a
 * failed spawn, pid <= 0, frees it). */
int metrics_broker_page(struct master *m, int proc, int *slot_r);
void metrics_broker_spawned(struct master *m, int slot, int fd, pid_t pid);
/* A broker exited: its page's numbers go to the totals, the page away. */
void metrics_broker_exited(struct master *m, pid_t pid);

/* The health verdict of /healthz (and of posternctl health, when it asks):
 * returns 1 when healthy; buf gets the reasons it is not, one per line
 * ("" when healthy). */
int metrics_health(const struct master *m, char *buf, size_t len);

/* Render the counters and health into fd (a memfd): the snapshot header,
 * the Prometheus text, the OpenMetrics text, the /healthz text.  Returns
 * 0 or -1. */
int metrics_render(struct master *m, int fd);

/* The metrics service's worker for a new session (its policy row has a
 * SLOT_SNAPSHOT): the snapshot rendered now and sealed, the client, no
 * broker or control channel.  Returns 0, or -1 (session removed; the
 * caller refuses the client). */
int metrics_spawn_worker(struct master *m, struct session *s, int client_fd,
    const struct listener *l);

#endif
