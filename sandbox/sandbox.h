/* sandbox.h - the mechanisms that confine a process.
 *
 * The order is fixed (STYLE.md): what the process needs is opened first
 * (a chroot target that others can write to as an fd, root_fd), then
 * sandbox_confine() does chroot + chdir("/"), rlimits, and the uid/gid
 * change with every capability and supplementary group dropped; then the
 * caller may open per-user state as the new uid; then sandbox_lock() sets
 * PR_SET_NO_NEW_PRIVS and loads the seccomp allowlist.  Every step is
 * checked and a failure is fatal.  The data (which uid, which root, which
 * syscalls) lives in policy/.
 */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How a system call argument is compared (libseccomp's EQ and MASKED_EQ;
 * the comparison covers all 64 bits). */
enum sandbox_cmp_op {
	SANDBOX_CMP_NONE,	/* an unused slot: zero-initialised conditions end the list */
	SANDBOX_CMP_EQ,		/* arg == value */
	SANDBOX_CMP_MASKED_EQ,	/* (arg & mask) == value */
};

struct sandbox_cond {
	unsigned arg;		/* 0..5 */
	enum sandbox_cmp_op op;
	uint64_t mask;
	uint64_t value;
};

#define SANDBOX_MAX_CONDS 2

/* A conditional allow: the call passes when every condition holds.  Several
 * rules for one call are alternatives.  A call named by a rule must not also
 * be in the unconditional list (sandbox_lock refuses that: the plain allow
 * would silently win). */
struct sandbox_rule {
	int syscall;		/* SCMP_SYS number */
	const char *what;	/* short text for posternctl policy */
	struct sandbox_cond cond[SANDBOX_MAX_CONDS];
};

struct sandbox_spec {
	const char *name;	/* for log lines */
	uid_t uid;
	gid_t gid;
	const char *root;	/* chroot here; NULL = keep the filesystem view */
	int root_fd;		/* >= 0: chroot into this directory instead of root
				 * (fchdir + chroot("."): the directory checked is the
				 * directory entered); root then only names it in logs */
	const int *syscalls;	/* seccomp allowlist (SCMP_SYS numbers) */
	size_t nsyscalls;
	const struct sandbox_rule *rules;	/* argument-filtered allows */
	size_t nrules;
	uint64_t max_files;	/* RLIMIT_NOFILE */
	uint64_t max_memory;	/* RLIMIT_AS, 0 = unlimited */
	int no_fork;		/* RLIMIT_NPROC 0 */
	int no_file_writes;	/* RLIMIT_FSIZE 0: it may not grow any file */
	int debug;		/* SCMP_ACT_TRAP + a SIGSYS handler naming the call */
	int landlock_dir_fd;	/* >= 0: Landlock-restrict the fs to beneath this dir */
};

/* Non-zero when the process runs without root (demo/dev mode): uid changes
 * and chroot are skipped, seccomp and no_new_privs still apply. */
int sandbox_unprivileged(void);

/* chroot, rlimits, identity change and capability drop. Fatal on failure. */
void sandbox_confine(const struct sandbox_spec *s);

/* no_new_privs, Landlock (if asked), then the seccomp filter: s->syscalls
 * allowed outright, s->rules allowed under their argument conditions,
 * everything else kills the process (traps and names it with s->debug).
 * Fatal on failure. */
void sandbox_lock(const struct sandbox_spec *s);

/* Become uid/gid for good: no supplementary groups, every capability set
 * (bounding included) empty, checked afterwards, and setuid(0) must fail.
 * Returns 0, or -1 with *why_r set (the process may be half-changed then:
 * the caller must exit). */
int sandbox_change_id(uid_t uid, gid_t gid, const char **why_r);

/* Create directory name (mode 0700) under dirfd owned by uid/gid without any
 * chown: a child process becomes uid/gid keeping only CAP_DAC_OVERRIDE (the
 * parent may be a root-owned 0700 directory), creates it, and gives it the
 * group gid without a setgid bit inherited from the parent.  name is one
 * component; an existing entry is left alone (the caller checks what it
 * finds).  Returns 0, or -1 with errno. */
int sandbox_mkdirat_as(int dirfd, const char *name, uid_t uid, gid_t gid);

#endif
