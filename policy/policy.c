/* policy.c - process table and per-daemon seccomp allowlists.
 *
 * Lists are grouped by purpose.  Everything not listed kills the process
 * (SCMP_ACT_KILL_PROCESS); with debug_seccomp = yes the call is trapped and
 * named in the log instead.  No list holds socket, connect, bind, execve,
 * fork/clone, ptrace, or any chown or chmod call.
 */
#include "policy.h"

#include <seccomp.h>
#include <stdio.h>

/* Every confined process: memory, time, exit, signals return, logging. */
#define SYSCALLS_BASE \
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), \
	SCMP_SYS(madvise), SCMP_SYS(mprotect), \
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getpid), \
	SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), \
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex), \
	SCMP_SYS(write), SCMP_SYS(close)

/* Moving bytes on fds it was given: client socket, IPC channels, message fds. */
#define SYSCALLS_IO \
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), \
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto), \
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(lseek), SCMP_SYS(fstat), \
	SCMP_SYS(newfstatat), SCMP_SYS(shutdown), SCMP_SYS(fcntl)

static const int pop3d_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
};

static const int authd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	/* LMDB readers on the already-open environment */
	SCMP_SYS(msync), SCMP_SYS(fdatasync), SCMP_SYS(pwrite64),
	SCMP_SYS(sched_yield),
	/* crypt(3) salts and session ids */
	SCMP_SYS(getrandom),
};

static const int keyd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	/* nothing else: keys were read before the sandbox */
};

static const int stored_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	/* Maildir++ inside the chroot of one user's mail root */
	SCMP_SYS(openat), SCMP_SYS(getdents64), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat), SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(flock),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(statx),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(umask),
	/* the LMDB index */
	SCMP_SYS(msync), SCMP_SYS(pwrite64), SCMP_SYS(pwritev), SCMP_SYS(sched_yield),
	SCMP_SYS(fallocate), SCMP_SYS(getrandom),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct policy_entry policy_table[POLICY_NPROCS] = {
	[POLICY_AUTHD] = {
		"authd", "postern-authd", POLICY_IDENT_AUTH, POLICY_ROOT_EMPTY,
		"3=master channel (+ worker channels passed in)",
		authd_syscalls, N(authd_syscalls), 4096, 1, 0,
	},
	[POLICY_KEYD] = {
		"keyd", "postern-keyd", POLICY_IDENT_KEYD, POLICY_ROOT_EMPTY,
		"3=master channel (+ worker channels passed in)",
		keyd_syscalls, N(keyd_syscalls), 4096, 1, 0,
	},
	[POLICY_STORED] = {
		"stored", "postern-stored", POLICY_IDENT_USER, POLICY_ROOT_MAILROOT,
		"3=worker channel",
		stored_syscalls, N(stored_syscalls), 256, 1, 0,
	},
	[POLICY_POP3D] = {
		"pop3d", "postern-pop3d", POLICY_IDENT_WORKER, POLICY_ROOT_EMPTY,
		"3=client 4=master control 5=authd 6=keyd",
		pop3d_syscalls, N(pop3d_syscalls), 32, 1, 1,
	},
};

void
policy_spec(enum policy_proc p, const struct config *cfg, struct sandbox_spec *s)
{
	const struct policy_entry *e = &policy_table[p];

	s->name = e->name;
	s->syscalls = e->syscalls;
	s->nsyscalls = e->nsyscalls;
	s->max_files = e->max_files;
	/* authd and keyd hold a channel per session */
	if ((p == POLICY_AUTHD || p == POLICY_KEYD) && cfg->max_daemons + 64 > s->max_files)
		s->max_files = cfg->max_daemons + 64;
	s->max_memory = e->net_parser ? cfg->worker_max_memory : 0;
	s->no_fork = e->no_fork;
	/* a network worker writes only to sockets and pipes, never to a file */
	s->no_file_writes = e->net_parser;
	s->debug = cfg->debug_seccomp;
	s->landlock_dir_fd = -1;
	s->root_fd = -1;
	s->root = e->root == POLICY_ROOT_EMPTY ? cfg->empty_root : NULL;
	switch (e->ident) {
	case POLICY_IDENT_AUTH:
		s->uid = (uid_t)cfg->auth_uid;
		s->gid = (gid_t)cfg->auth_gid;
		break;
	case POLICY_IDENT_KEYD:
		s->uid = (uid_t)cfg->keyd_uid;
		s->gid = (gid_t)cfg->keyd_gid;
		break;
	case POLICY_IDENT_WORKER:
		s->uid = (uid_t)cfg->worker_uid;
		s->gid = (gid_t)cfg->worker_gid;
		break;
	case POLICY_IDENT_USER:
		s->uid = 0;	/* the caller fills in the verified user's ids */
		s->gid = 0;
		break;
	}
}

void
policy_print(int fd)
{
	static const char *const idents[] = { "auth_uid", "keyd_uid", "worker_uid", "user's mail uid" };
	static const char *const roots[] = { "empty_root", "user's mail root" };
	size_t i;

	dprintf(fd, "%-8s %-16s %-16s %-18s %-9s %s\n", "name", "binary", "identity", "root",
	    "syscalls", "fds");
	for (i = 0; i < POLICY_NPROCS; i++) {
		const struct policy_entry *e = &policy_table[i];
		dprintf(fd, "%-8s %-16s %-16s %-18s %-9zu %s\n", e->name, e->binary,
		    idents[e->ident], roots[e->root], e->nsyscalls, e->fds);
	}
}
