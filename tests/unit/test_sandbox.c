/* test_sandbox.c - the loaded filters of every confined process, tried
 * call by call: a child locks itself with one process's policy
 * (sandbox_lock only: no chroot or uid change) and makes one call; the
 * filter must kill it by SIGSYS, or let it exit 0. */
#include <fcntl.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../policy/policy.h"
#include "tap.h"

enum call {
	CALL_FCNTL_SETOWN,
	CALL_FCNTL_SETOWN_EX,
	CALL_FCNTL_SETSIG,
	CALL_FCNTL_ASYNC,
	CALL_IOCTL_SETOWN,
	CALL_MMAP_EXEC,
	CALL_MPROTECT_EXEC,
	CALL_OPEN_CREATE,
	CALL_FCNTL_FLAGS,	/* allowed from here on */
	CALL_MMAP_RW,
	CALL_OPEN_READ,
	CALL_OPEN_FLAGS,	/* openat with open_flags: stored's views, below */
};

static int open_flags;

static const char *const call_names[] = {
	[CALL_FCNTL_SETOWN] = "fcntl F_SETOWN",
	[CALL_FCNTL_SETOWN_EX] = "fcntl F_SETOWN_EX",
	[CALL_FCNTL_SETSIG] = "fcntl F_SETSIG",
	[CALL_FCNTL_ASYNC] = "fcntl F_SETFL O_ASYNC",
	[CALL_IOCTL_SETOWN] = "ioctl FIOSETOWN",
	[CALL_MMAP_EXEC] = "mmap PROT_EXEC",
	[CALL_MPROTECT_EXEC] = "mprotect PROT_EXEC",
	[CALL_OPEN_CREATE] = "openat O_WRONLY|O_CREAT",
	[CALL_FCNTL_FLAGS] = "fcntl F_GETFL/F_SETFL O_NONBLOCK",
	[CALL_MMAP_RW] = "mmap+mprotect without PROT_EXEC",
	[CALL_OPEN_READ] = "openat O_RDONLY",
};

static void
make_call(enum call c, int fd, void *page)
{
	struct f_owner_ex owner = { F_OWNER_PGRP, 1 };
	int pgrp = 1;

	switch (c) {
	case CALL_FCNTL_SETOWN: (void)fcntl(fd, F_SETOWN, -1); break;
	case CALL_FCNTL_SETOWN_EX: (void)fcntl(fd, F_SETOWN_EX, &owner); break;
	case CALL_FCNTL_SETSIG: (void)fcntl(fd, F_SETSIG, SIGKILL); break;
	case CALL_FCNTL_ASYNC: (void)fcntl(fd, F_SETFL, O_ASYNC); break;
	case CALL_IOCTL_SETOWN: (void)ioctl(fd, FIOSETOWN, &pgrp); break;
	case CALL_MMAP_EXEC:
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case CALL_MPROTECT_EXEC: (void)mprotect(page, 4096, PROT_READ | PROT_EXEC); break;
	case CALL_OPEN_CREATE: (void)openat(AT_FDCWD, "/nonexistent/x", O_WRONLY | O_CREAT, 0600); break;
	case CALL_FCNTL_FLAGS: (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); break;
	case CALL_MMAP_RW:
		(void)mprotect(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		    4096, PROT_READ);
		break;
	case CALL_OPEN_READ: (void)openat(AT_FDCWD, "/nonexistent/x", O_RDONLY | O_CLOEXEC); break;
	case CALL_OPEN_FLAGS: (void)openat(AT_FDCWD, "/nonexistent/x", open_flags, 0600); break;
	}
}

/* 1 if the child was killed by SIGSYS, 0 if it exited 0, -1 otherwise. */
static int
run_locked(const struct sandbox_spec *spec, enum call c)
{
	int status, fds[2];
	void *page;
	pid_t pid;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || pipe(fds) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sandbox_lock(spec);
		make_call(c, fds[0], page);
		_exit(0);
	}
	close(fds[0]);
	close(fds[1]);
	munmap(page, 4096);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
try_call(enum policy_proc p, enum call c)
{
	struct sandbox_spec spec;
	struct config cfg;

	config_defaults(&cfg);
	policy_spec(p, &cfg, &spec);
	spec.debug = 0;
	return run_locked(&spec, c);
}

/* stored's filter per view: only the deliver and IMAP views create, and
 * only with O_WRONLY|O_CREAT|O_EXCL; both also append to an existing file
 * (maildirsize, the quota); the POP3 view stays read-only. */
static void
test_stored_views(void)
{
	static const struct {
		int flags, read_only_dies, deliver_dies, imap_dies;
		const char *what;
	} cases[] = {
		{ O_RDONLY | O_CLOEXEC, 0, 0, 0, "O_RDONLY" },
		{ O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 1, 0, 0, "O_WRONLY|O_CREAT|O_EXCL" },
		{ O_WRONLY | O_CREAT | O_TRUNC, 1, 1, 1, "O_WRONLY|O_CREAT|O_TRUNC" },
		{ O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 1, 1, 1, "O_WRONLY|O_CREAT|O_EXCL|O_APPEND" },
		{ O_RDWR | O_CREAT | O_EXCL, 1, 1, 1, "O_RDWR|O_CREAT|O_EXCL" },
		{ O_WRONLY, 1, 1, 1, "O_WRONLY" },
		{ O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 1, 0, 0, "O_WRONLY|O_APPEND" },
		{ O_WRONLY | O_APPEND | O_CREAT, 1, 1, 1, "O_WRONLY|O_APPEND|O_CREAT" },
		{ O_WRONLY | O_APPEND | O_TRUNC, 1, 1, 1, "O_WRONLY|O_APPEND|O_TRUNC" },
		{ O_RDWR | O_APPEND, 1, 1, 1, "O_RDWR|O_APPEND" },
	};
	struct sandbox_spec spec;
	struct config cfg;
	char name[160];
	size_t i;

	config_defaults(&cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		open_flags = cases[i].flags;
		policy_spec(POLICY_STORED, &cfg, &spec);
		spec.debug = 0;
		policy_stored_view(POLICY_STORED_READ_ONLY, &spec);
		snprintf(name, sizeof(name), "stored pop3 view: openat %s %s", cases[i].what,
		    cases[i].read_only_dies ? "killed by SIGSYS" : "allowed");
		CHECK(run_locked(&spec, CALL_OPEN_FLAGS) == cases[i].read_only_dies, name);
		policy_stored_view(POLICY_STORED_DELIVER, &spec);
		snprintf(name, sizeof(name), "stored deliver view: openat %s %s", cases[i].what,
		    cases[i].deliver_dies ? "killed by SIGSYS" : "allowed");
		CHECK(run_locked(&spec, CALL_OPEN_FLAGS) == cases[i].deliver_dies, name);
		policy_stored_view(POLICY_STORED_IMAP, &spec);
		snprintf(name, sizeof(name), "stored imap view: openat %s %s", cases[i].what,
		    cases[i].imap_dies ? "killed by SIGSYS" : "allowed");
		CHECK(run_locked(&spec, CALL_OPEN_FLAGS) == cases[i].imap_dies, name);
	}
	/* what the imap view gained did not open the rest */
	for (i = CALL_FCNTL_SETOWN; i <= CALL_OPEN_READ; i++) {
		int want = i < CALL_FCNTL_FLAGS;
		policy_spec(POLICY_STORED, &cfg, &spec);
		spec.debug = 0;
		policy_stored_view(POLICY_STORED_IMAP, &spec);
		snprintf(name, sizeof(name), "stored imap view: %s %s", call_names[i],
		    want ? "killed by SIGSYS" : "allowed");
		CHECK(run_locked(&spec, (enum call)i) == want, name);
	}
}

int
main(void)
{
	char name[128];
	int p, c;

	for (p = 0; p < POLICY_NPROCS; p++) {
		for (c = CALL_FCNTL_SETOWN; c <= CALL_OPEN_READ; c++) {
			/* only stored may open files; for the others openat dies either way */
			int want = c < CALL_FCNTL_FLAGS ? 1 : 0;
			if ((c == CALL_OPEN_READ) && p != POLICY_STORED)
				want = 1;
			/* metricsd has no fcntl at all: it never changes an fd */
			if (c == CALL_FCNTL_FLAGS && p == POLICY_METRICSD)
				want = 1;
			snprintf(name, sizeof(name), "%s: %s %s", policy_table[p].name, call_names[c],
			    want ? "killed by SIGSYS" : "allowed");
			CHECK(try_call((enum policy_proc)p, (enum call)c) == want, name);
		}
	}
	test_stored_views();
	return tap_done();
}
