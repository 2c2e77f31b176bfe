/* policy.c - process table and per-daemon seccomp allowlists.
 *
 * Lists are grouped by purpose.  Everything not listed kills the process
 * (SCMP_ACT_KILL_PROCESS); with debug_seccomp = yes the call is trapped and
 * named in the log instead.  No list holds socket, connect, bind, execve,
 * fork/clone, ptrace, or any chown or chmod call.
 */
#include "policy.h"

#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Every confined process: memory, time, exit, signals return, logging.
 * mmap and mprotect are in RULES_MEMORY (no PROT_EXEC). */
#define SYSCALLS_BASE \
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), \
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getpid), \
	SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), \
	SCMP_SYS(restart_syscall), /* a poll interrupted by SIGSTOP/SIGCONT resumes so */ \
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex), \
	SCMP_SYS(write), SCMP_SYS(close)

/* Moving bytes on fds it was given: client socket, IPC channels, message fds.
 * fcntl is in RULES_FD_FLAGS / RULES_LMDB_LOCKS. */
#define SYSCALLS_IO \
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), \
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto), \
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(lseek), SCMP_SYS(fstat), \
	SCMP_SYS(newfstatat), SCMP_SYS(shutdown)

static const int pop3d_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
};

/* lmtpd: pop3d's, plus an anonymous file per message (memfd_create: in
 * lmtpd_rules, with its flags), sealed before stored gets it (fcntl
 * F_ADD_SEALS / F_GET_SEALS, also there).  It still opens no file by name. */
static const int lmtpd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
};

/* smtpd: lmtpd's (the MX is the same intake, over SMTP); its STARTTLS
 * goes through keyd like pop3d's STLS, with nothing more in the filter. */
static const int smtpd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
};

/* imapd: pop3d's, plus APPEND's message memfd, as lmtpd's (in imapd_rules).
 * Message bodies arrive as read-only fds from stored; it opens no file. */
static const int imapd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
};

/* metricsd: read the sealed snapshot (its size: glibc's fstat is
 * newfstatat(fd, "", AT_EMPTY_PATH), musl's the fstat call; then one read-only mmap, in
 * RULES_MEMORY) and the client's one request, write the answer, shut the
 * socket down, exit.  Nothing else: no memfd, no fcntl, no recvmsg, no
 * channel to anyone. */
static const int metricsd_syscalls[] = {
	SYSCALLS_BASE,
	SCMP_SYS(read), SCMP_SYS(poll), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(shutdown),
};

static const int authd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	/* LMDB readers on the already-open, read-only environment: the reader
	 * table in lock.mdb is shared memory (futex), nothing is written */
	SCMP_SYS(sched_yield),
	/* crypt(3) salts and session ids */
	SCMP_SYS(getrandom),
};

static const int keyd_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	/* nothing else: keys were read before the sandbox */
};

/* The base and I/O groups on the fds a process was given, and random
 * bytes; no socket, connect, bind or open.  Three processes have exactly
 * this list:
 * - resolverd: the master channel and the UDP sockets the master connected
 *   to dns_resolvers; random query ids and 0x20 bits.  A connected UDP
 *   socket only reaches its peer (a sendto with an address on it fails
 *   with EISCONN), and only that peer's datagrams are queued on it.
 * - postern-auth-pgsql: its one connection to the server was made before
 *   the filter (sandbox_confine, then PQconnectdb, then sandbox_lock);
 *   after that it moves bytes on that socket and on authd's channel, so it
 *   cannot reach any other server, and when the connection breaks it
 *   exits and the master starts it again (the new one connects before its
 *   filter).  libpq (glibc, dynamically linked) sends with
 *   send(MSG_NOSIGNAL), waits with poll, and may ask for random bytes
 *   (OpenSSL, with sslmode=require).
 * - postern-auth-ldap: the same, its connection bound before the filter;
 *   libldap's lber reads and writes the socket and waits in poll. */
static const int io_random_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	SCMP_SYS(getrandom),
};

/* Every view of stored. */
#define SYSCALLS_STORED \
	SYSCALLS_BASE, \
	SYSCALLS_IO, \
	/* Maildir++ inside the chroot of one user's mail root (openat: below) */ \
	SCMP_SYS(getdents64), SCMP_SYS(rename), SCMP_SYS(renameat), \
	SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(mkdir), \
	SCMP_SYS(mkdirat), SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(flock), \
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(statx), \
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(access), SCMP_SYS(faccessat), \
	SCMP_SYS(umask), \
	/* glibc's qsort of more than 1 KiB (a POP3 snapshot of 59 messages or \
	 * more, mindex_sync's new files) asks once for the size of physical \
	 * memory: sysconf(_SC_PHYS_PAGES) is sysinfo(2), which reads nothing \
	 * of anyone's */ \
	SCMP_SYS(sysinfo), \
	/* change notifications of the imap view (new/ and cur/) */ \
	SCMP_SYS(inotify_init1), SCMP_SYS(inotify_add_watch), \
	/* the LMDB index */ \
	SCMP_SYS(msync), SCMP_SYS(pwrite64), SCMP_SYS(pwritev), SCMP_SYS(sched_yield), \
	SCMP_SYS(fallocate), SCMP_SYS(getrandom)

static const int stored_syscalls[] = {
	SYSCALLS_STORED,
};

/* The IMAP view: stored's, plus what its requests need beyond them (the
 * Maildir++ calls above already cover folders: mkdirat, unlinkat with
 * AT_REMOVEDIR, renameat2 RENAME_NOREPLACE; COPY: linkat; EXPUNGE:
 * unlinkat; APPEND: tmp/ then renameat, fsync of the directory). */
static const int stored_imap_syscalls[] = {
	SYSCALLS_STORED,
	/* the watch follows the selected folder */
	SCMP_SYS(inotify_rm_watch),
	/* APPEND's INTERNALDATE as the file's mtime (mindex_append) */
	SCMP_SYS(utimensat),
};

/* Argument conditions (sandbox.h): a rule allows its call only when all of
 * its conditions hold; anything else is refused like an unlisted call. */
#define ARG_EQ(n, v)		{ .arg = (n), .op = SANDBOX_CMP_EQ, .value = (uint64_t)(v) }
#define ARG_CLEAR(n, bits)	{ .arg = (n), .op = SANDBOX_CMP_MASKED_EQ, .mask = (uint64_t)(bits), .value = 0 }
#define FCNTL_CMD(c)		{ .syscall = SCMP_SYS(fcntl), .what = #c, .cond = { ARG_EQ(1, c) } }

/* W^X: no page becomes executable once the filter is on.  The static-pie
 * loader mapped and relocated the code before main(); after that glibc's
 * malloc and our code only ever ask for PROT_READ|PROT_WRITE (strace of
 * the test suite), so injected code has nowhere to run. */
#define RULES_MEMORY \
	{ .syscall = SCMP_SYS(mmap), .what = "prot without PROT_EXEC", .cond = { ARG_CLEAR(2, PROT_EXEC) } }, \
	{ .syscall = SCMP_SYS(mprotect), .what = "prot without PROT_EXEC", .cond = { ARG_CLEAR(2, PROT_EXEC) } }

/* fcntl on fd flags only.  Never F_SETOWN, F_SETOWN_EX or F_SETSIG (a
 * worker could aim SIGIO, or any signal, at every process of its uid),
 * nor O_ASYNC, nor F_SETLEASE / F_NOTIFY / F_DUPFD*.  No code of ours
 * calls fcntl after the filter (strace of make test: none in pop3d and
 * keyd, only LMDB's F_SETLK in authd and stored); these four are kept
 * because they reach no other process and glibc uses F_GETFL/F_SETFD on
 * some paths (fdopen, fdopendir). */
#define RULES_FD_FLAGS \
	FCNTL_CMD(F_GETFD), FCNTL_CMD(F_SETFD), FCNTL_CMD(F_GETFL), \
	{ .syscall = SCMP_SYS(fcntl), .what = "F_SETFL without O_ASYNC", \
	  .cond = { ARG_EQ(1, F_SETFL), ARG_CLEAR(2, O_ASYNC) } }

/* LMDB tests other readers' byte-range locks on lock.mdb (F_GETLK) when it
 * clears stale reader slots after a process died holding the reader-table
 * mutex.  Its own F_SETLK happens at open (db.c), before the filter. */
#define RULES_LMDB_LOCKS \
	FCNTL_CMD(F_GETLK)

/* stored reads messages and lists directories; it renames and unlinks
 * (new/ to cur/, DELE) but never writes a message: files open read-only,
 * nothing is created or truncated.  Its lock file and LMDB index are open
 * before the filter.  (O_TMPFILE needs write access, so it is refused too.) */
#define RULES_READ_ONLY_OPEN \
	{ .syscall = SCMP_SYS(openat), .what = "read-only: no O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/O_APPEND", \
	  .cond = { ARG_CLEAR(2, POLICY_ACCMODE | O_CREAT | O_TRUNC | O_APPEND) } }

/* stored's deliver view writes exactly one kind of file: a new message in
 * tmp/, created exclusively (maildir_deliver).  Read-only opens stay
 * allowed beside it; truncation, appending and O_RDWR stay refused. */
#define RULES_DELIVER_OPEN \
	{ .syscall = SCMP_SYS(openat), .what = "or O_WRONLY|O_CREAT|O_EXCL (deliver view)", \
	  .cond = { { .arg = 2, .op = SANDBOX_CMP_MASKED_EQ, \
	    .mask = POLICY_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_TMPFILE, \
	    .value = O_WRONLY | O_CREAT | O_EXCL } } }

/* maildirsize (quota_update): one line appended to the existing file,
 * never created or truncated this way. */
#define RULES_QUOTA_APPEND \
	{ .syscall = SCMP_SYS(openat), .what = "or O_WRONLY|O_APPEND, no O_CREAT/O_TRUNC (imap, deliver)", \
	  .cond = { { .arg = 2, .op = SANDBOX_CMP_MASKED_EQ, \
	    .mask = POLICY_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE, \
	    .value = O_WRONLY | O_APPEND } } }

static const struct sandbox_rule pop3d_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
};

/* The message memfd: close-on-exec and sealable, nothing else (no
 * MFD_HUGETLB, no MFD_EXEC); sealed with exactly POLICY_LMTPD_SEALS, the
 * seals read back to check they took. */
#define RULES_MEMFD \
	{ .syscall = SCMP_SYS(fcntl), .what = "F_ADD_SEALS write|grow|shrink|seal", \
	  .cond = { ARG_EQ(1, F_ADD_SEALS), ARG_EQ(2, POLICY_LMTPD_SEALS) } }, \
	FCNTL_CMD(F_GET_SEALS), \
	{ .syscall = SCMP_SYS(memfd_create), .what = "MFD_CLOEXEC|MFD_ALLOW_SEALING", \
	  .cond = { ARG_EQ(1, MFD_CLOEXEC | MFD_ALLOW_SEALING) } }

/* RULES_MEMFD's fcntl rules follow RULES_FD_FLAGS': one call's rules
 * stay adjacent (policy_print) */
static const struct sandbox_rule lmtpd_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_MEMFD,
};

static const struct sandbox_rule smtpd_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_MEMFD,
};

static const struct sandbox_rule imapd_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_MEMFD,
};

static const struct sandbox_rule metricsd_rules[] = {
	RULES_MEMORY,
};

static const struct sandbox_rule authd_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_LMDB_LOCKS,
};

/* resolverd's and the auth helpers' argument rules: memory without
 * PROT_EXEC and fd flags only. */
static const struct sandbox_rule memory_fd_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
};

/* postern-auth-checkpw loads no filter: one would pass to the
 * operator's program it runs, which is arbitrary (it never calls
 * sandbox_lock, only no_new_privs after sandbox_confine).  This list is
 * never loaded; it names what its own loop calls, for posternctl policy,
 * but kill(2) of its timed-out program, which no list may hold. */
static const int auth_checkpw_syscalls[] = {
	SYSCALLS_BASE,
	SYSCALLS_IO,
	SCMP_SYS(pipe2), SCMP_SYS(clone), SCMP_SYS(fork), SCMP_SYS(execve), SCMP_SYS(wait4),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(dup2),
};

static const struct sandbox_rule keyd_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
};

static const struct sandbox_rule stored_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_LMDB_LOCKS,
	RULES_READ_ONLY_OPEN,
};

/* and appends a delivery's line to maildirsize (the quota) */
static const struct sandbox_rule stored_deliver_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_LMDB_LOCKS,
	RULES_READ_ONLY_OPEN,
	RULES_DELIVER_OPEN,
	RULES_QUOTA_APPEND,
};

/* The IMAP view creates files only as the deliver view does (a message,
 * maildirfolder, the subscription file and maildirsize through tmp/, all
 * O_WRONLY|O_CREAT|O_EXCL) and appends to maildirsize. */
static const struct sandbox_rule stored_imap_rules[] = {
	RULES_MEMORY,
	RULES_FD_FLAGS,
	RULES_LMDB_LOCKS,
	RULES_READ_ONLY_OPEN,
	RULES_DELIVER_OPEN,
	RULES_QUOTA_APPEND,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct policy_entry policy_table[POLICY_NPROCS] = {
	[POLICY_AUTHD] = {
		.name = "authd",
		.binary = "postern-authd",
		.ident = POLICY_IDENT_AUTH,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_MASTER, SLOT_COUNTERS, SLOT_CONFIG },	/* + worker channels passed in */
		.nslots = 3,
		.syscalls = authd_syscalls,
		.nsyscalls = N(authd_syscalls),
		.rules = authd_rules,
		.nrules = N(authd_rules),
		.max_files = 4096,
		.no_fork = 1,
		.net_parser = 0,
	},
	[POLICY_KEYD] = {
		.name = "keyd",
		.binary = "postern-keyd",
		.ident = POLICY_IDENT_KEYD,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_MASTER, SLOT_COUNTERS, SLOT_CONFIG },	/* + worker channels passed in */
		.nslots = 3,
		.syscalls = keyd_syscalls,
		.nsyscalls = N(keyd_syscalls),
		.rules = keyd_rules,
		.nrules = N(keyd_rules),
		.max_files = 4096,
		.no_fork = 1,
		.net_parser = 0,
	},
	[POLICY_STORED] = {
		.name = "stored",
		.binary = "postern-stored",
		.ident = POLICY_IDENT_USER,
		.root = POLICY_ROOT_MAILROOT,
		.slots = { SLOT_WORKER, SLOT_CONFIG },
		.nslots = 2,
		.syscalls = stored_syscalls,
		.nsyscalls = N(stored_syscalls),
		.rules = stored_rules,
		.nrules = N(stored_rules),
		.max_files = 256,
		.no_fork = 1,
		.net_parser = 0,
	},
	[POLICY_POP3D] = {
		.name = "pop3d",
		.binary = "postern-pop3d",
		.ident = POLICY_IDENT_WORKER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_CLIENT, SLOT_CONTROL, SLOT_AUTHD, SLOT_KEYD, SLOT_CONFIG },
		.nslots = 5,
		.syscalls = pop3d_syscalls,
		.nsyscalls = N(pop3d_syscalls),
		.rules = pop3d_rules,
		.nrules = N(pop3d_rules),
		.max_files = 32,
		.no_fork = 1,
		.net_parser = 1,
	},
	[POLICY_LMTPD] = {
		.name = "lmtpd",
		.binary = "postern-lmtpd",
		.ident = POLICY_IDENT_WORKER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_CLIENT, SLOT_CONTROL, SLOT_AUTHD, SLOT_KEYD, SLOT_CONFIG },
		.nslots = 5,
		.syscalls = lmtpd_syscalls,
		.nsyscalls = N(lmtpd_syscalls),
		.rules = lmtpd_rules,
		.nrules = N(lmtpd_rules),
		.max_files = 32,
		.no_fork = 1,
		.net_parser = 1,
		.memfd_writes = 1,
	},
	[POLICY_IMAPD] = {
		.name = "imapd",
		.binary = "postern-imapd",
		.ident = POLICY_IDENT_WORKER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_CLIENT, SLOT_CONTROL, SLOT_AUTHD, SLOT_KEYD, SLOT_CONFIG },
		.nslots = 5,
		.syscalls = imapd_syscalls,
		.nsyscalls = N(imapd_syscalls),
		.rules = imapd_rules,
		.nrules = N(imapd_rules),
		.max_files = 32 + 64,	/* + one memfd per message of a MULTIAPPEND */
		.no_fork = 1,
		.net_parser = 1,
		.memfd_writes = 1,
	},
	[POLICY_SMTPD] = {
		.name = "smtpd",
		.binary = "postern-smtpd",
		.ident = POLICY_IDENT_WORKER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_CLIENT, SLOT_CONTROL, SLOT_AUTHD, SLOT_KEYD, SLOT_CONFIG },
		.nslots = 5,
		.syscalls = smtpd_syscalls,
		.nsyscalls = N(smtpd_syscalls),
		.rules = smtpd_rules,
		.nrules = N(smtpd_rules),
		.max_files = 32,
		.no_fork = 1,
		.net_parser = 1,
		.memfd_writes = 1,
	},
	/* the metrics endpoint: no authd, keyd or stored channel, no control
	 * channel either; it holds one request's worth of data (daemons/metricsd) */
	[POLICY_METRICSD] = {
		.name = "metricsd",
		.binary = "postern-metricsd",
		.ident = POLICY_IDENT_WORKER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_CLIENT, SLOT_SNAPSHOT, SLOT_CONFIG },
		.nslots = 3,
		.syscalls = metricsd_syscalls,
		.nsyscalls = N(metricsd_syscalls),
		.rules = metricsd_rules,
		.nrules = N(metricsd_rules),
		.max_files = 16,
		.no_fork = 1,
		.net_parser = 1,
	},
	/* the DNSBL lookups: the resolvers' UDP sockets come over the master
	 * channel (DNS_RESOLVERS_MAX); it parses their datagrams */
	[POLICY_RESOLVERD] = {
		.name = "resolverd",
		.binary = "postern-resolverd",
		.ident = POLICY_IDENT_RESOLVERD,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_MASTER, SLOT_CONFIG },	/* + the resolvers' sockets passed in */
		.nslots = 2,
		.syscalls = io_random_syscalls,
		.nsyscalls = N(io_random_syscalls),
		.rules = memory_fd_rules,
		.nrules = N(memory_fd_rules),
		.max_files = 16,
		.no_fork = 1,
		.net_parser = 1,
	},
	/* authd's PostgreSQL backend: a query per request on the one
	 * connection it opened at start (daemons/auth-pgsql) */
	[POLICY_AUTH_PGSQL] = {
		.name = "auth-pgsql",
		.binary = "postern-auth-pgsql",
		.ident = POLICY_IDENT_AUTH_HELPER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_AUTHD, SLOT_CONFIG },
		.nslots = 2,
		.syscalls = io_random_syscalls,
		.nsyscalls = N(io_random_syscalls),
		.rules = memory_fd_rules,
		.nrules = N(memory_fd_rules),
		.max_files = 16,
		.no_fork = 1,
		.net_parser = 0,
	},
	/* authd's LDAP backend: a search (and a bind as the user) per
	 * request on the one connection it opened at start (daemons/auth-ldap) */
	[POLICY_AUTH_LDAP] = {
		.name = "auth-ldap",
		.binary = "postern-auth-ldap",
		.ident = POLICY_IDENT_AUTH_HELPER,
		.root = POLICY_ROOT_EMPTY,
		.slots = { SLOT_AUTHD, SLOT_CONFIG },
		.nslots = 2,
		.syscalls = io_random_syscalls,
		.nsyscalls = N(io_random_syscalls),
		.rules = memory_fd_rules,
		.nrules = N(memory_fd_rules),
		.max_files = 16,
		.no_fork = 1,
		.net_parser = 0,
	},
	/* authd's checkpassword backend: runs checkpw_command per login
	 * (daemons/auth-checkpw); no chroot and no filter, see its syscalls */
	[POLICY_AUTH_CHECKPW] = {
		.name = "auth-checkpw",
		.binary = "postern-auth-checkpw",
		.ident = POLICY_IDENT_AUTH_HELPER,
		.root = POLICY_ROOT_HOST,
		.slots = { SLOT_AUTHD, SLOT_CONFIG },
		.nslots = 2,
		.syscalls = auth_checkpw_syscalls,
		.nsyscalls = N(auth_checkpw_syscalls),
		.rules = memory_fd_rules,
		.nrules = N(memory_fd_rules),
		.max_files = 32,
		.no_fork = 0,
		.net_parser = 0,
	},
};

void
policy_spec(enum policy_proc p, const struct config *cfg, struct sandbox_spec *s)
{
	const struct policy_entry *e = &policy_table[p];

	s->name = e->name;
	s->syscalls = e->syscalls;
	s->nsyscalls = e->nsyscalls;
	s->rules = e->rules;
	s->nrules = e->nrules;
	s->max_files = e->max_files;
	/* authd and keyd hold a channel per session */
	/* authd and keyd hold a channel per session.  Sized from the largest
	 * max_daemons a reload may set, not today's (sandbox_confine clamps
	 * it to the hard limit we inherit): a SIGHUP that raises max_daemons
	 * must not leave a broker's fd table too small for the new sessions. */
	if (p == POLICY_AUTHD || p == POLICY_KEYD)
		s->max_files = CONFIG_MAX_DAEMONS_LIMIT + 64;
	s->max_memory = e->net_parser ? cfg->worker_max_memory : 0;
	s->no_fork = e->no_fork;
	/* a network worker writes only to sockets and pipes, never to a file
	 * (lmtpd: only to its own memfds, bounded by its own RLIMIT_FSIZE) */
	s->no_file_writes = e->net_parser && !e->memfd_writes;
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
	case POLICY_IDENT_RESOLVERD:
		s->uid = (uid_t)cfg->resolverd_uid;
		s->gid = (gid_t)cfg->resolverd_gid;
		break;
	case POLICY_IDENT_AUTH_HELPER:
		s->uid = (uid_t)cfg->auth_helper_uid;
		s->gid = (gid_t)cfg->auth_helper_gid;
		break;
	case POLICY_IDENT_USER:
		s->uid = 0;	/* the caller fills in the verified user's ids */
		s->gid = 0;
		break;
	}
}

void
policy_stored_view(enum policy_stored_view v, struct sandbox_spec *s)
{
	s->syscalls = stored_syscalls;
	s->nsyscalls = N(stored_syscalls);
	switch (v) {
	case POLICY_STORED_DELIVER:
		s->rules = stored_deliver_rules;
		s->nrules = N(stored_deliver_rules);
		break;
	case POLICY_STORED_IMAP:
		s->syscalls = stored_imap_syscalls;
		s->nsyscalls = N(stored_imap_syscalls);
		s->rules = stored_imap_rules;
		s->nrules = N(stored_imap_rules);
		break;
	case POLICY_STORED_READ_ONLY:
		s->rules = stored_rules;
		s->nrules = N(stored_rules);
		break;
	}
}

/* One line per filtered call: "fcntl: F_GETFD F_SETFD ...". Rules of one
 * call are adjacent in every list. */
static void
print_rules(int fd, const struct sandbox_rule *rules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct sandbox_rule *r = &rules[i];
		if (i == 0 || rules[i - 1].syscall != r->syscall) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->syscall);
			dprintf(fd, "%s%-9s   %s:", i ? "\n" : "", "", name ? name : "?");
			free(name);
		}
		dprintf(fd, " %s%s", r->what, i + 1 < n && rules[i + 1].syscall == r->syscall ? "," : "");
	}
	if (n)
		dprintf(fd, "\n");
}

static const char *const slot_names[SLOT_COUNT] = {
	[SLOT_CLIENT] = "client", [SLOT_CONTROL] = "control", [SLOT_AUTHD] = "authd",
	[SLOT_KEYD] = "keyd", [SLOT_MASTER] = "master", [SLOT_WORKER] = "worker",
	[SLOT_CONFIG] = "config", [SLOT_SNAPSHOT] = "snapshot", [SLOT_COUNTERS] = "counters",
};

const char *
policy_slot_name(enum policy_slot slot)
{
	return (unsigned)slot < SLOT_COUNT ? slot_names[slot] : "?";
}

int
policy_fd(enum policy_proc p, enum policy_slot slot)
{
	const struct policy_entry *e = &policy_table[p];
	size_t i;

	for (i = 0; i < e->nslots; i++)
		if (e->slots[i] == slot)
			return POLICY_FD_FIRST + (int)i;
	return -1;
}

int
policy_arrange_fds(enum policy_proc p, const int by_slot[SLOT_COUNT], int *out, size_t outmax)
{
	const struct policy_entry *e = &policy_table[p];
	size_t i;

	if (e->nslots > outmax)
		return -1;
	for (i = 0; i < e->nslots; i++) {
		if (by_slot[e->slots[i]] < 0)
			return -1;
		out[i] = by_slot[e->slots[i]];
	}
	return (int)e->nslots;
}

/* "3=client 4=control ..." */
static void
format_slots(const struct policy_entry *e, char *out, size_t outlen)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < e->nslots && used < outlen; i++) {
		int n = snprintf(out + used, outlen - used, "%s%zu=%s", i ? " " : "",
		    POLICY_FD_FIRST + i, slot_names[e->slots[i]]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* The calls the imap view's list has beyond stored's. */
static void
print_imap_extra(int fd)
{
	size_t i, j, n = 0;

	for (i = 0; i < N(stored_imap_syscalls); i++) {
		char *name;
		for (j = 0; j < N(stored_syscalls) && stored_syscalls[j] != stored_imap_syscalls[i]; j++)
			;
		if (j < N(stored_syscalls))
			continue;
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, stored_imap_syscalls[i]);
		dprintf(fd, "%s%s", n++ ? ", " : "            imap view also: ", name ? name : "?");
		free(name);
	}
	if (n > 0)
		dprintf(fd, "\n");
}

void
policy_print(int fd)
{
	static const char *const idents[] = { "auth_uid", "keyd_uid", "worker_uid", "user's mail uid",
	    "resolverd_uid", "auth_helper_uid" };
	static const char *const roots[] = { "empty_root", "user's mail root", "(none: host)" };
	size_t i;

	/* syscalls: allowed outright + allowed only with the arguments below */
	dprintf(fd, "%-9s %-17s %-16s %-18s %-9s %s\n", "name", "binary", "identity", "root",
	    "syscalls", "fds");
	for (i = 0; i < POLICY_NPROCS; i++) {
		const struct policy_entry *e = &policy_table[i];
		char n[32], slots[128];
		snprintf(n, sizeof(n), "%zu+%zu", e->nsyscalls, e->nrules);
		format_slots(e, slots, sizeof(slots));
		dprintf(fd, "%-9s %-17s %-16s %-18s %-9s %s%s\n", e->name, e->binary,
		    idents[e->ident], roots[e->root], n, slots,
		    i == POLICY_RESOLVERD ? " (+ the resolvers' UDP sockets passed in)" :
		    e->slots[0] == SLOT_MASTER ? " (+ worker channels passed in)" : "");
		print_rules(fd, e->rules, e->nrules);
		if (i == POLICY_STORED) {
			/* the deliver view's filter: the same plus one openat rule;
			 * the imap view's: that, one more, and a few calls */
			static const struct sandbox_rule more[] = { RULES_DELIVER_OPEN, RULES_QUOTA_APPEND };
			print_rules(fd, more, N(more));
			print_imap_extra(fd);
		}
	}
}
