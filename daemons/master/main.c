/* postern-master: reads the config, binds listeners, starts authd, and
 * forks+execs a worker per connection and a stored per verified login.
 * It runs as root, parses no network bytes, and accepts messages only from
 * authd. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <poll.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/base/util.h"
#include "../../common/base/version.h"
#include "../../policy/services.h"
#include "../../sandbox/sandbox.h"
#include "master.h"

static struct master M;

/* The fd number a path like /proc/self/fd/N or /dev/fd/N names, else -1. */
static int
passed_fd(const char *path)
{
	static const char *const prefixes[] = { "/proc/self/fd/", "/dev/fd/" };
	uint64_t fd;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		n = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], n) == 0 && util_str_to_u64(path + n, INT_MAX, &fd) == 0)
			return (int)fd;
	}
	return -1;
}

static void
close_from(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
	/* close_range(2) is Linux 5.9+; glibc 2.36 lacks the wrapper in some
	 * header sets (spawn.c does the same). */
	if (syscall(SYS_close_range, lo, hi, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (; lo <= hi && (long)lo < (max > 0 ? max : 1024); lo++)
			close((int)lo);
	}
}

/* Whatever the launcher left open (a shell's redirections, a supervisor's
 * pipes) must not live on in a root process that forks every session: close every fd >= 3 but the sockets systemd passes (LISTEN_FDS
 * from fd 3 on, when LISTEN_PID is us: listen.c adopts them) and a config
 * file passed as /proc/self/fd/N, which reload() reopens. */
static void
close_inherited_fds(const char *cfgpath)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	uint64_t p, n = 0;
	int keep = passed_fd(cfgpath);
	unsigned first;

	if (pid == NULL || nfds == NULL || util_str_to_u64(pid, UINT32_MAX, &p) < 0 ||
	    (pid_t)p != getpid() || util_str_to_u64(nfds, MASTER_MAX_LISTENERS, &n) < 0)
		n = 0;	/* not ours or malformed: listen.c reports a bad count */
	first = 3 + (unsigned)n;
	if (keep >= (int)first) {
		close_from(first, (unsigned)keep - 1);
		close_from((unsigned)keep + 1, ~0U);
	} else {
		close_from(first, ~0U);
	}
}

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f, "usage: postern-master [-c CONFIG | -c none] [-h] [-V]\n"
	    "  -c CONFIG   the config file (default $POSTERN_CONFIG, else /etc/postern/postern.conf);\n"
	    "              a missing file is fatal\n"
	    "  -c none     no file: defaults and POSTERN_* environment variables only\n"
	    "  -h, --help     this text\n"
	    "  -V, --version  print the version and exit\n");
	exit(status);
}

/* -c CONFIG, -h, -V; no operands.  Returns the config path. */
static const char *
parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = getenv("POSTERN_CONFIG");
	int opt;

	if (cfgpath == NULL || cfgpath[0] == '\0')
		cfgpath = "/etc/postern/postern.conf";
	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'V':
			printf("postern-master %s\n", version_string());
			exit(0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	return cfgpath;
}

static void
find_libexec(struct master *m)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (m->cfg.libexec_dir[0] != '\0') {
		snprintf(m->libexec, sizeof(m->libexec), "%s", m->cfg.libexec_dir);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		fatal("reason=\"cannot find my own binary\"");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	if (strlen(self) >= sizeof(m->libexec))
		fatal("reason=\"binary path too long\"");
	snprintf(m->libexec, sizeof(m->libexec), "%s", self);
}

/* The root of every worker: an empty directory nobody but root can change. */
static void
prepare_empty_root(const struct config *c)
{
	struct stat st;

	if (mkdir(c->empty_root, 0555) < 0 && errno != EEXIST)
		fatal("reason=\"cannot create empty_root\" path=%s errno=%d", c->empty_root, errno);
	if (stat(c->empty_root, &st) < 0 || !S_ISDIR(st.st_mode))
		fatal("reason=\"empty_root is not a directory\" path=%s", c->empty_root);
	if (!sandbox_unprivileged() && ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022) != 0))
		fatal("reason=\"empty_root must be owned by root or by the master and not writable by others\" path=%s",
		    c->empty_root);
	if (chmod(c->empty_root, 0555) < 0)
		fatal("reason=\"chmod empty_root failed\" errno=%d", errno);
}

/* The file (a missing one is an error: a mistyped -c must not start a
 * server on defaults; "-c none" asks for no file), then POSTERN_*
 * environment variables over it. */
static int
load_config(struct config *c, const char *path, char *err, size_t errlen)
{
	if (config_load_or_none(c, path, err, errlen) < 0)
		return -1;
	return config_apply_env(c, environ, err, errlen);
}

/* Listeners are bound once: a changed listen list waits for a restart, and
 * the running one stays in the config the children see. */
static void
keep_listeners(struct config *nc, const struct config *old)
{
	size_t i;

	for (i = 0; i < SERVICE_COUNT; i++) {
		const struct service *svc = &service_table[i];
		if (svc->listen_off == SERVICE_NO_KEY)
			continue;
		if (strcmp(service_listen(svc, nc), service_listen(svc, old)) != 0)
			log_event(LOG_LEVEL_WARN, "reload", "service=%s reason=\"listener changes "
			    "need a restart\"", svc->name);
		memcpy((char *)nc + svc->listen_off, (const char *)old + svc->listen_off,
		    CONFIG_PATH_MAX);
	}
}

int
master_reload(struct master *m, char *err, size_t errlen)
{
	struct config nc;

	if (load_config(&nc, m->config_path, err, errlen) < 0) {
		log_event(LOG_LEVEL_ERR, "reload_failed", "reason=\"%s\" keeping=old", err);
		return -1;
	}
	keep_listeners(&nc, &m->cfg);
	/* the control socket is bound once, like the listeners */
	memcpy(nc.control_socket, m->cfg.control_socket, sizeof(nc.control_socket));
	m->cfg = nc;
	logs_configure(m);
	master_listen_backlog(m);
	master_snapshot_config(m);
	master_send_authd_config(m);
	brokers_reload_keyd(m);
	brokers_reload_resolverd(m);
	log_event(LOG_LEVEL_INFO, "reloaded", "config=%s max_daemons=%llu max_per_ip=%llu",
	    m->config_path, (unsigned long long)m->cfg.max_daemons,
	    (unsigned long long)m->cfg.max_per_ip);
	return 0;
}

static void
final_kill(void *ctx)
{
	struct master *m = ctx;
	size_t i;

	log_event(LOG_LEVEL_WARN, "stopped", "clean=no sessions=%zu reason=\"still running "
	    "after the stop's grace time: killed\"", m->nsessions);
	for (i = 0; i < m->nsessions; i++) {
		if (m->sessions[i].worker_pid > 0)
			kill(m->sessions[i].worker_pid, SIGKILL);
		master_children_kill(&m->sessions[i], SIGKILL);
	}
	brokers_stop(m, SIGKILL);
	control_close();
	ev_stop();
}

/* How long workers get to say their shutdown line and close. */
#define STOP_GRACE_MS	5000

static uint64_t drain_timer;
static int brokers_stopping;

/* The end of a drain (or a stop without one): every worker gets SIGTERM
 * and says its protocol's line at its next command boundary (wk_session);
 * each stored ends with its worker.  Whatever still runs after the grace
 * time is killed. */
static void
close_sessions(void *ctx)
{
	struct master *m = ctx;
	size_t i;

	drain_timer = 0;
	log_event(LOG_LEVEL_INFO, "stopping", "sessions=%zu phase=close", m->nsessions);
	for (i = 0; i < m->nsessions; i++)
		if (m->sessions[i].worker_pid > 0)
			kill(m->sessions[i].worker_pid, SIGTERM);
	if (m->nsessions == 0 && !brokers_stopping) {
		brokers_stop(m, SIGTERM);
		brokers_stopping = 1;
	}
	ev_add_timer(STOP_GRACE_MS, final_kill, m);
}

void
master_stop(struct master *m, unsigned drain_s)
{
	int l;

	if (m->stopping) {
		/* a second stop ends a drain now */
		if (drain_timer != 0 && drain_s == 0) {
			ev_cancel_timer(drain_timer);
			close_sessions(m);
		}
		return;
	}
	m->stopping = 1;
	log_event(LOG_LEVEL_INFO, "stopping", "sessions=%zu drain_s=%u", m->nsessions, drain_s);
	for (l = 0; l < m->nlisteners; l++) {
		ev_del_fd(m->listeners[l].fd);
		close(m->listeners[l].fd);
	}
	if (drain_s > 0 && m->nsessions > 0)
		drain_timer = ev_add_timer((uint64_t)drain_s * 1000, close_sessions, m);
	else
		close_sessions(m);
}

static void
on_signal(int fd, short revents, void *ctx)
{
	struct master *m = ctx;
	struct signalfd_siginfo si;
	char err[512];

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			master_reap(m);
			if (m->stopping && m->nsessions == 0 && brokers_running(m) &&
			    !brokers_stopping) {
				/* the last session of a stop or a drain ended */
				if (drain_timer != 0) {
					ev_cancel_timer(drain_timer);
					drain_timer = 0;
					ev_add_timer(STOP_GRACE_MS, final_kill, m);
				}
				brokers_stop(m, SIGTERM);
				brokers_stopping = 1;
			}
			if (m->stopping && m->nsessions == 0 && !brokers_running(m)) {
				log_event(LOG_LEVEL_INFO, "stopped", "clean=yes");
				control_close();
				ev_stop();
			}
			break;
		case SIGHUP:
			(void)master_reload(m, err, sizeof(err));
			break;
		case SIGTERM:
		case SIGINT:
			master_stop(m, 0);
			break;
		}
	}
}

/* The master holds four fds per logged-in session (the control channel,
 * its copy of the client socket, the log pipes of the worker and of its
 * stored) beside its listeners and brokers: the soft limit goes up to the
 * hard one, and as root the hard one up to that.  Children get their own
 * limits (policy rows). */
static void
raise_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_daemons * 4 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	/* as root the hard limit itself may go up to what max_daemons needs
	 * (a container's or login's 1024/4096/20000 is too few for thousands) */
	if (rl.rlim_max < want) {
		struct rlimit up = { want, want };
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
		log_event(LOG_LEVEL_WARN, "fd_limit", "limit=%llu wanted=%llu reason=\"max_daemons "
		    "needs four fds per logged-in session in the master: raise LimitNOFILE / ulimit -n "
		    "(sessions past limit/4 are refused)\"",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

int
main(int argc, char **argv)
{
	const char *cfgpath;
	char err[512];
	sigset_t set;
	int sfd;

	log_init("master");
	cfgpath = parse_options(argc, argv);
	close_inherited_fds(cfgpath);
	/* about four fds per session: poll(2) would pass them all each turn */
	if (ev_use_epoll() < 0)
		fatal("reason=\"epoll_create1 failed\" errno=%d", errno);
	if ((cfgpath[0] != '/' && strcmp(cfgpath, CONFIG_NONE) != 0) ||
	    strlen(cfgpath) >= sizeof(M.config_path))
		fatal("reason=\"config path must be absolute (or none)\" path=%s", cfgpath);
	snprintf(M.config_path, sizeof(M.config_path), "%s", cfgpath);
	if (load_config(&M.cfg, M.config_path, err, sizeof(err)) < 0) {
		if (strcmp(cfgpath, CONFIG_NONE) != 0 && access(cfgpath, F_OK) < 0)
			fprintf(stderr, "postern-master: %s (-c none: defaults and POSTERN_* "
			    "environment only)\n", err);
		else
			fprintf(stderr, "postern-master: %s\n", err);
		return 1;
	}
	if (sandbox_unprivileged())
		log_event(LOG_LEVEL_WARN, "unprivileged",
		    "reason=\"not root: no uid separation or chroot; seccomp still applies\"");
	raise_fd_limit(&M.cfg);
	find_libexec(&M);
	if (mkdir(M.cfg.state_dir, 0755) < 0 && errno != EEXIST)
		fatal("reason=\"cannot create state_dir\" path=%s errno=%d", M.cfg.state_dir, errno);
	prepare_empty_root(&M.cfg);
	brokers_init(&M);
	logs_init(&M);
	logs_configure(&M);
	M.config_fd = -1;
	master_snapshot_config(&M);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		fatal("reason=\"signalfd failed\" errno=%d", errno);
	ev_add_fd(sfd, POLLIN, on_signal, &M);

	if (service_check_listen(&M.cfg, err, sizeof(err)) < 0 ||
	    master_listen_all(&M, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-master: %s\n", err);
		return 1;
	}
	if (control_open(&M, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-master: %s\n", err);
		return 1;
	}
	broker_start(&M, &M.authd);
	broker_start(&M, &M.keyd);
	if (master_dnsbl_enabled(&M))
		broker_start(&M, &M.resolverd);
	log_event(LOG_LEVEL_INFO, "ready", "config=%s libexec=%s version=%s", M.config_path,
	    M.libexec, version_string());
	if (ev_run() < 0)
		fatal("reason=\"event loop failed\" errno=%d", errno);
	return M.exit_status;
}
