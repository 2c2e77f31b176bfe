/* postern-auth-checkpw: authd's checkpassword backend (docs/AUTH.md#backends).
 *
 * For each login authd asks about, it runs checkpw_command by the DJB
 * checkpassword interface: fd 3 of the program reads "login\0password\0
 * timestamp\0"; exit 0 means the password is right, 1 wrong (or no such
 * user), 111 a temporary failure; the rest of the command line is what
 * the program runs on success (give one that exits 0, e.g. /bin/true).
 * What the program prints on standard output (optional, at most
 * BACKENDQ_OUTPUT_MAX bytes) is key=value lines (common/auth/backendq.c:
 * mail_root, uid, gid, quota, options).  A program that takes longer than
 * auth_backend_timeout_ms is killed: a temporary failure.  Recipient
 * lookups are not answered (no password: "not found").
 *
 * Confinement: its own uid (auth_helper_uid), no capabilities, no
 * supplementary groups, no_new_privs, a small fd limit; no chroot and no
 * seccomp filter, because the program it runs is the operator's and
 * inherits both (a shell script needs the filesystem and most system
 * calls).  A setuid program does not gain root under no_new_privs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/auth/backendq.h"
#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/backendproto.h"
#include "../../common/ipc/backendsrv.h"
#include "../../policy/policy.h"

#define FD_AUTHD	3	/* policy row: SLOT_AUTHD first */
#define ARGS_MAX	16

static char command[CONFIG_PATH_MAX];
static char *args[ARGS_MAX + 1];
static uint64_t timeout_ms;

/* checkpw_command's words (blanks between them). */
static void
split_command(const char *text)
{
	char *p;
	size_t n = 0;

	snprintf(command, sizeof(command), "%s", text);
	for (p = strtok(command, " \t"); p != NULL && n < ARGS_MAX; p = strtok(NULL, " \t"))
		args[n++] = p;
	args[n] = NULL;
	if (n == 0 || args[0][0] != '/')
		fatal("reason=\"checkpw_command is not an absolute path\"");	/* config_parse checked */
}

/* In the child: fd 3 the request, 1 the output, 0 /dev/null, 2 the log;
 * nothing else; then the program. */
static void
child(int req, int outw)
{
	static char *const envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (nul < 0 || dup2(nul, 0) < 0 || dup2(outw, 1) < 0 || dup2(req, 3) < 0)
		_exit(111);
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
	execve(args[0], args, envp);
	_exit(111);
}

/* Read the output and wait for the exit, both by the deadline.  Returns
 * the exit status, or -1 (killed at the deadline, or died by a signal). */
static int
collect(pid_t pid, int outr, uint8_t *buf, size_t cap, size_t *len_r)
{
	uint64_t deadline = ev_now_ms() + timeout_ms, now;
	struct pollfd p = { .fd = outr, .events = POLLIN };
	int status, open_ = 1;
	ssize_t n;

	*len_r = 0;
	while (open_) {
		now = ev_now_ms();
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0)
			break;
		n = read(outr, buf + *len_r, cap - *len_r);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			open_ = 0;
		else if ((*len_r += (size_t)n) == cap)
			break;	/* too much: refused by backendq_lines */
	}
	while ((now = ev_now_ms()) < deadline) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return -1;
}

static int
check(const struct backend_request *q, struct backend_reply *r)
{
	static uint8_t buf[BACKENDQ_OUTPUT_MAX + 1];
	char stamp[32], quoted[128];
	int req[2], outp[2], st;
	const char *why;
	size_t len;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = BACKEND_TEMP;
	if (q->kind != BACKEND_LOGIN) {
		r->status = BACKEND_NOT_FOUND;	/* no password, nothing to ask */
		return 0;
	}
	if (pipe2(req, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)
		return 0;
	pid = fork();
	if (pid == 0)
		child(req[0], outp[1]);
	close(req[0]);
	close(outp[1]);
	if (pid > 0) {
		/* 1 KiB of name and password fit the pipe: no wait on a
		 * program that does not read them */
		snprintf(stamp, sizeof(stamp), "%lld", (long long)time(NULL));
		if (write(req[1], q->name, strlen(q->name) + 1) < 0 ||
		    write(req[1], q->pass ? q->pass : (const uint8_t *)"", q->passlen) < 0 ||
		    write(req[1], "", 1) < 0 || write(req[1], stamp, strlen(stamp) + 1) < 0) {
			/* the program decides with what it got */
		}
	}
	close(req[1]);
	if (pid < 0) {
		close(outp[0]);
		log_event(LOG_LEVEL_ERR, "checkpw_failed", "reason=\"fork failed\" errno=%d", errno);
		return 0;
	}
	st = collect(pid, outp[0], buf, sizeof(buf), &len);
	close(outp[0]);
	log_quote(quoted, sizeof(quoted), q->name, (unsigned)strlen(q->name));
	if (st == 0) {
		backendq_fields_init(r, q->name);
		r->verified = 1;
		if (backendq_lines(r, buf, len, &why) < 0 || r->hash[0] != '\0') {
			log_event(LOG_LEVEL_ERR, "checkpw_failed", "user=\"%s\" reason=\"output: %s\"",
			    quoted, r->hash[0] ? "a password hash (the program checks it)" : why);
			memset(r, 0, sizeof(*r));
			r->status = BACKEND_TEMP;
		}
	} else if (st == 1) {
		r->status = BACKEND_BAD_PASSWORD;
	} else {
		log_event(LOG_LEVEL_WARN, "checkpw_failed", "user=\"%s\" reason=\"%s\" exit=%d", quoted,
		    st < 0 ? "killed at auth_backend_timeout_ms, or by a signal" :
		    st == 111 ? "temporary failure" : "unexpected exit status", st);
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct daemon_args a = { .name = "auth-checkpw", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct config cfg;

	daemon_boot(&a, argc, argv, &cfg);
	split_command(cfg.checkpw_command);
	timeout_ms = cfg.auth_backend_timeout_ms;
	policy_spec(POLICY_AUTH_CHECKPW, &cfg, &spec);
	sandbox_confine(&spec);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("reason=\"PR_SET_NO_NEW_PRIVS failed\" errno=%d", errno);
	log_event(LOG_LEVEL_INFO, "ready", "backend=checkpw command=%s", args[0]);
	return backend_serve(FD_AUTHD, check) == 0 ? 0 : 1;
}
