/* spawn.c - fork+exec of a child with fixed descriptors.
 *
 * The child is made with clone(CLONE_VM | CLONE_VFORK), as posix_spawn
 * does: it shares the parent's memory until its execve, so no page table
 * is copied and no page of the parent is made copy-on-write (a fork costs
 * the master both, per connection).  The parent waits, blocked, until the
 * exec; the child only makes system calls on its own stack and never
 * returns into the parent's frames.  All signals stay blocked in the child
 * until their dispositions are reset, so no handler of the parent's can
 * run on shared memory. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPAWN_MAX_FDS 8
#define SPAWN_STACK (32 * 1024)	/* the child's, until execve: child_setup's frames */

struct spawn_args {
	const char *path;
	char *const *argv;
	const int *fds;
	int nfds;
	int log_fd;
};

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
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
child_main(void *arg)
{
	static char *const envp[] = { "PATH=/nonexistent", NULL };
	const struct spawn_args *a = arg;

	child_setup(a->fds, a->nfds, a->log_fd);
	execve(a->path, a->argv, envp);
	_exit(127);
}

pid_t
spawn_child(const char *path, char *const argv[], const int *fds, int nfds, int log_fd)
{
	struct spawn_args a = { path, argv, fds, nfds, log_fd };
	_Alignas(16) char stack[SPAWN_STACK];
	sigset_t all, old;
	pid_t pid;
	int err;

	if (nfds > SPAWN_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* The stack grows down: the child starts at the buffer's end. */
	pid = clone(child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return pid;
}
