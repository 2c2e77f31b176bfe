/* master.h - state of postern-master, shared by its files. */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/base/config.h"
#include "../../common/mail/userdb.h"
#include "../../common/ipc/ipc.h"
#include "../../policy/policy.h"
#include "metrics.h"

#define MASTER_MAX_LISTENERS 16

struct service;

struct listener {
	int fd;
	const struct service *svc;	/* its row of policy/services.c */
	int proxy;		/* a PROXY v1/v2 header precedes the protocol */
	int local;		/* a unix socket: peers are keyed by uid, not address */
	int adopted;		/* passed by systemd: its Backlog= stands, not listen_backlog */
	char addr[CONFIG_PATH_MAX];
};

/* What a worker may send on its control channel now (ipc_chan phases). */
enum ctl_phase {
	CTL_PROXY = 1 << 0,	/* the PROXY header is still to be reported */
	CTL_QUIET = 1 << 1,	/* nothing (any service after PROXY, or none) */
	CTL_INTAKE = 1 << 2,	/* intake: recipients, deliveries, reset */
	CTL_LOOKUP = 1 << 3,	/* intake: a recipient lookup is out, wait */
};

/* The stored children of a session, by role: the mailbox of its login
 * (one at most), and the deliver-view stored of mail intake (one per
 * recipient being delivered, gone when the worker closes its channel). */
enum child_role {
	CHILD_NONE = 0,
	CHILD_MAILBOX,
	CHILD_DELIVER,
};
#define SESSION_CHILDREN_MAX	16

struct session_child {
	pid_t pid;
	enum child_role role;
};

/* A recipient the master resolved for an intake session (through authd);
 * the worker knows it only by its index. */
struct session_rcpt {
	char user[USERDB_NAME_MAX + 1];
	uint32_t uid, gid;
	char *mail_root;
	uint64_t quota;		/* bytes, 0 = none */
};

struct session {
	char sid[25];
	pid_t worker_pid;
	struct session_child children[SESSION_CHILDREN_MAX];
	int ctl_fd;		/* master end of the worker's control channel */
	int client_fd;		/* the master's copy of the client socket, never read
				   or written: the client sees the connection end only
				   when the worker is reaped and its place counted free */
	int logged_in;		/* authd has named the user: one stored at most */
	uint64_t started_ms;	/* accept time: login_timeout counts from here */
	int login_expired;	/* killed by login_timeout */
	char ip[INET6_ADDRSTRLEN];
	const struct service *svc;
	/* PROXY protocol: until the worker reports the header (ctl's phase
	 * CTL_PROXY), the session counts against the proxy's address and
	 * authd has not got its channel yet (so no login can use the
	 * proxy's address) */
	int pending_auth_fd;
	char peer[INET6_ADDRSTRLEN];	/* the address the master saw */
	struct ipc_chan ctl;		/* what the worker may still send */
	struct master *m;
	struct session_rcpt *rcpts;	/* intake: this transaction's recipients */
	uint32_t nrcpts;
	char user[USERDB_NAME_MAX + 1];	/* authd's name for it after a login, else "" */
	int rehashed;			/* MSG_MASTER_REHASH taken (once per session) */
	int scram_added;		/* MSG_MASTER_SCRAM_ADD taken (once per session) */
};

/* A long-lived child the master talks to: authd, keyd. */
struct broker {
	const char *name;
	int proc;			/* enum policy_proc */
	pid_t pid;
	int fd;				/* -1 when down */
	int ready;			/* keyd: sent MSG_KEYD_READY */
	unsigned restarts;
	uint64_t started_ms;
	uint64_t restart_timer;
	uint64_t stalled_ms;		/* first refused send of a stall, 0 = reading */
};

struct master {
	struct config cfg;
	char config_path[CONFIG_PATH_MAX];
	char libexec[CONFIG_PATH_MAX];
	struct listener listeners[MASTER_MAX_LISTENERS];
	int nlisteners;
	struct session *sessions;
	size_t nsessions, capsessions;
	size_t npreauth;		/* sessions not logged in yet */
	uint64_t login_timer;		/* the next login_timeout sweep, 0 = none */
	/* brokers: restarted with back-off when they die */
	struct broker authd;
	struct broker keyd;
	struct broker keyd_next;	/* started by SIGHUP; replaces keyd when ready */
	/* replaced keyds finishing their open sessions: their channel stays
	 * open (EOF would make them exit) until they exit by themselves */
	struct broker retired[8];
	struct broker resolverd;	/* the DNSBL lookups, while smtp_dnsbl lists zones */
	int stopping;
	int exit_status;	/* of the master once stopped (1: a fatal start) */
	int tls_ever_ready;	/* a keyd has loaded the certificates since start */
	int accepting;		/* listeners polled: keyd is ready (or failed once) */
	/* the validated config, as a sealed memfd every child reads at start */
	int config_fd;
	char child_config[32];	/* "/proc/self/fd/N" as the child sees it */
	/* metrics.c: the counters the master keeps, the brokers' pages */
	struct metrics metrics;
};

/* listen.c */
/* 0 if the directory of path is owned by root (or the master's uid) and
 * not writable by group or others: root may then replace a socket there
 * by name. */
int master_dir_safe(const char *path);
/* Bind a listening unix socket of type at path, in a directory
 * master_dir_safe() accepts: a stale socket there is replaced, anything
 * else is an error; mode, and owner uid:gid when not 0:0 (as root only).
 * Returns the fd, or -1 with the reason (naming what) in err. */
int master_unix_listen(const char *path, int type, mode_t mode, uid_t uid, gid_t gid, int backlog,
    const char *what, char *err, size_t errlen);
int master_listen_all(struct master *m, char *err, size_t errlen);
/* SIGHUP: every listener's queue to the new listen_backlog (listen(2) on
 * a listening socket only changes its backlog). */
void master_listen_backlog(struct master *m);
void master_accept(int fd, short revents, void *ctx);
/* Start polling the listeners.  Called once keyd has loaded its keys (so
 * the first connections already get TLS), or when its first start failed. */
void master_start_accepting(struct master *m);

/* logs.c: each child's stderr is a pipe the master reads and relays */
void logs_init(struct master *m);
/* log_level, log_output, log_syslog_socket: at start and at each reload. */
void logs_configure(struct master *m);
int logs_pipe(int fds[2]);
void logs_attach(int rfd, pid_t pid, const char *proc, const char *sid, int limited);
/* Relay what a dead child wrote last, then forget its pipe. */
void logs_child_exited(pid_t pid);

/* master.c */
void master_send_authd_config(struct master *m);

/* main.c: SIGHUP's work (a config that does not load keeps the old one:
 * -1 with the reason); SIGTERM's with a drain: stop accepting, let the
 * sessions run for up to drain_s seconds, then tell each to close
 * (SIGTERM: its protocol's line) and kill what is left after a grace time.
 * A second stop without a drain ends a drain at once. */
int master_reload(struct master *m, char *err, size_t errlen);
void master_stop(struct master *m, unsigned drain_s);

/* control.c: the control socket (posternctl reload, status, who, kick,
 * throttle, stop, health).  control_open binds it (-1 with the reason);
 * control_close closes every connection and removes the socket. */
int control_open(struct master *m, char *err, size_t errlen);
void control_close(void);
/* MSG_MASTER_THROTTLE_RESULT from authd.  Returns 0, or -1 (a violation). */
int control_throttle_result(struct master *m, struct ipc_in *in);

/* rehash.c: MSG_MASTER_REHASH from authd, a weak hash's replacement for
 * the user a session just logged in as.  Returns 0, or -1 (a violation). */
int master_authd_rehash(struct master *m, struct ipc_in *in);
/* MSG_MASTER_SCRAM_ADD: SCRAM secrets for such a user whose record has
 * none, bound to the hash the password was checked against. */
int master_authd_scram_add(struct master *m, struct ipc_in *in);

/* brokers.c */
void brokers_init(struct master *m);
void broker_start(struct master *m, struct broker *b);
/* SIGHUP: start a new keyd; it replaces the current one once it has loaded
 * the certificates, or is dropped (old one keeps serving) if it fails. */
void brokers_reload_keyd(struct master *m);
/* SIGHUP: restart resolverd with the new config, start or stop it. */
void brokers_reload_resolverd(struct master *m);
/* A child exited: returns 1 if it was a broker (handled), else 0. */
int brokers_reaped(struct master *m, pid_t pid, int status);
/* Send to a broker without blocking.  A broker that refuses messages for
 * broker_stall_timeout seconds is killed (and restarted with back-off).
 * Returns 0, or -1 (the message was not queued). */
int broker_send(struct master *m, struct broker *b, struct ipc_out *o);
/* Give the brokers their end of a new worker's channels (fds are not
 * closed).  Returns -1 if a running broker could not take it: the session
 * is then refused. */
int brokers_session_new(struct master *m, const char *sid, const char *ip, const char *service,
    int auth_fd, int keyd_fd);
/* Only authd's end (after a PROXY header named the client). */
int brokers_authd_session(struct master *m, const char *sid, const char *ip, const char *service,
    int auth_fd);
void brokers_stop(struct master *m, int sig);
/* helpers.c: authd's backend helpers (auth_backends).  helpers_init
 * reads the chain at start; helpers_authd_up starts each helper that is
 * not running, once authd is (its channel goes to authd); helpers_reaped
 * is 1 if pid was a helper (restarted with back-off); helpers_stop
 * signals them; helpers_running: one is still alive. */
void helpers_init(struct master *m);
void helpers_authd_up(struct master *m);
int helpers_reaped(struct master *m, pid_t pid, int status);
void helpers_stop(struct master *m, int sig);
int helpers_running(void);
int brokers_running(const struct master *m);
int master_sandbox_killed(int status);
void master_describe_status(int status, char *out, size_t len);
/* Start process p of the policy table with the fds it names by slot
 * (by_slot: one per enum policy_slot, -1 for none; SLOT_CONFIG is filled
 * here with the snapshot) laid out as its row says, and a log pipe of
 * its own on 2.  The row's name names it in the log; sid is its session
 * for a one-session child (NULL for brokers); limited caps its log rate
 * (network workers, stored). */
pid_t master_spawn(struct master *m, enum policy_proc p, char **argv, int by_slot[SLOT_COUNT],
    const char *sid, int limited);
void master_snapshot_config(struct master *m);
void master_reap(struct master *m);
struct session *master_session_add(struct master *m);
/* authd named the session's user: it leaves the pre-login pool. */
void master_session_logged_in(struct master *m, struct session *s);
void master_session_remove(struct master *m, struct session *s);
/* Returns 0, or -1 (session removed; the caller refuses the client). */
int master_spawn_worker(struct master *m, struct session *s, int client_fd, const struct listener *l);
int master_authd_login(struct master *m, struct ipc_in *in);

/* The session's stored children: add one of role (-1 when all slots are
 * taken), find the slot of pid (NULL), signal them all. */
int master_child_add(struct session *s, pid_t pid, enum child_role role);
struct session_child *master_child_find(struct session *s, pid_t pid);
void master_children_kill(struct session *s, int sig);

/* Start a stored for user in view, its channel to the worker: returns the
 * worker's end (the caller passes and closes it), or -1 (logged). */
int master_spawn_stored(struct master *m, struct session *s, const char *user, uint32_t uid,
    uint32_t gid, const char *mail_root, uint64_t quota, const char *view, enum child_role role);

/* Send o to the session's worker without blocking (a worker that does not
 * read is killed). */
void master_worker_send(struct session *s, struct ipc_out *o);

/* intake.c: the worker control channel's mail-intake requests. */
int intake_rcpt(void *ctx, struct ipc_in *in);
int intake_deliver(void *ctx, struct ipc_in *in);
int intake_reset(void *ctx, struct ipc_in *in);
void intake_clear(struct session *s);

/* dnsbl.c: the DNSBL lookups through resolverd (common/ipc/resolvproto.h).
 * smtp_dnsbl lists zones; resolverd's sockets, connected to dns_resolvers
 * (after each start); MSG_MASTER_DNSBL from a worker (once per session);
 * MSG_MASTER_DNSBL_RESULT from resolverd (-1: a violation). */
int master_dnsbl_enabled(const struct master *m);
void master_dnsbl_sockets(struct master *m, struct broker *b);
int master_dnsbl_ask(void *ctx, struct ipc_in *in);
int master_dnsbl_result(struct master *m, struct ipc_in *in);

/* lookup.c: recipient lookups through authd (common/ipc/authdproto.h). */
struct authd_lookup_result;
typedef void master_lookup_cb(void *ctx, const struct authd_lookup_result *r);
/* Ask authd where mail for address goes, without blocking; cb runs once,
 * with authd's answer or (after BROKER_CALL_TIMEOUT_MS) AUTHD_LOOKUP_TEMP.
 * Returns 0, or -1 (not sent: authd down or busy, or too many in flight;
 * cb will not run).  Not called yet: LMTP and SMTP RCPT will. */
int master_lookup(struct master *m, const char *address, master_lookup_cb *cb, void *ctx);
/* MSG_MASTER_LOOKUP_RESULT from authd.  Returns 0, or -1 (a violation). */
int master_lookup_result(struct master *m, struct ipc_in *in);
size_t master_count_ip(const struct master *m, const char *ip);

#endif
