/* spawn.c - fork+exec of a child with fixed descriptors. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPAWN_MAX_FDS 8

static void
child_setup(const int *fds, int nfds, int log_fd)
{
	int tmp[SPAWN_MAX_FDS], i, null, lfd = -1;
	sigset_t none;

	/* Its own session and process group: a signal aimed at a group
	 * (kill(-pgid), or SIGIO from an fd owned by a negative pid) then
	 * reaches this child alone, never the master or the other children. */
	if (setsid() < 0)
		_exit(127);
	/* First move every fd above the target range, so that dup2 below can
	 * never overwrite a source that is still needed. */
	for (i = 0; i < nfds; i++) {
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + SPAWN_MAX_FDS);
		if (tmp[i] < 0)
			_exit(127);
	}
	if (log_fd >= 0 && (lfd = fcntl(log_fd, F_DUPFD_CLOEXEC, 3 + SPAWN_MAX_FDS)) < 0)
		_exit(127);
	for (i = 0; i < nfds; i++)
		if (dup2(tmp[i], 3 + i) < 0)	/* dup2 clears FD_CLOEXEC */
			_exit(127);
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(127);
	/* A pipe of its own: a child never shares the open file description of
	 * the master's log, so it cannot seek, truncate or clear O_APPEND on it. */
	if (lfd >= 0 && dup2(lfd, 2) < 0)
		_exit(127);
	/* close_range(2) is Linux 5.9+; glibc 2.36 has no wrapper in every
	 * header set, so go through syscall(2). */
	if (syscall(SYS_close_range, 3 + nfds, ~0U, 0) < 0) {
		for (i = 3 + nfds; i < 1024; i++)
			close(i);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
}

pid_t
spawn_child(const char *path, char *const argv[], const int *fds, int nfds, int log_fd)
{
	static char *const envp[] = { "PATH=/nonexistent", NULL };
	pid_t pid;

	if (nfds > SPAWN_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	pid = fork();
	if (pid != 0)
		return pid;
	child_setup(fds, nfds, log_fd);
	execve(path, argv, envp);
	_exit(127);
}
