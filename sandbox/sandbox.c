/* sandbox.c - chroot, identity, capabilities, rlimits, Landlock, seccomp. */
#include "sandbox.h"
#include "filters.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "../common/base/log.h"

/* Privileged = root, or a non-root uid holding CAP_SETUID in its effective
 * set (systemd User= + AmbientCapabilities=): both take the chroot and
 * uid-change path, and a missing capability is then fatal, never a silent
 * fallback to the unprivileged mode. */
int
sandbox_unprivileged(void)
{
	static int cached = -1;

	if (cached < 0) {
		cached = geteuid() != 0;
		if (cached && capng_get_caps_process() == 0 &&
		    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID))
			cached = 0;
	}
	return cached;
}

/* Only ever lower a limit: a container or unit may already set a hard
 * limit below ours (podman --ulimit nofile=1024:1024), and raising it
 * would need CAP_SYS_RESOURCE. */
static void
set_rlimit(int res, uint64_t v, const char *name)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		fatal("reason=\"getrlimit %s failed\" errno=%d", name, errno);
	if (rl.rlim_max != RLIM_INFINITY && (rlim_t)v > rl.rlim_max)
		v = (uint64_t)rl.rlim_max;
	rl.rlim_cur = (rlim_t)v;
	rl.rlim_max = (rlim_t)v;
	if (setrlimit(res, &rl) < 0)
		fatal("reason=\"setrlimit %s failed\" errno=%d", name, errno);
}

/* Empty the bounding set, one call per capability the kernel has:
 * PR_CAPBSET_READ fails with EINVAL past the last one, so neither /proc
 * (chrooted away by now) nor libcap-ng's table is needed.  Only a set bit
 * is dropped: each drop commits new credentials.  With drop 0 it only
 * checks that the set is empty. */
static int
bounding_clear(int drop)
{
	int cap, r;

	for (cap = 0; cap < 64; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			return errno == EINVAL && cap > 0 ? 0 : -1;
		if (r == 1 && (!drop || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0))
			return -1;
	}
	return -1;
}

/* capget/capset (glibc has no wrappers): version 3 = two 32-bit words. */
static int
caps_set_empty(int set)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (set)
		return (int)syscall(SYS_capset, &hdr, data);
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	return data[0].effective | data[0].permitted | data[0].inheritable |
	    data[1].effective | data[1].permitted | data[1].inheritable ? -1 : 0;
}

/* The raw calls in openssh's order (privsep_child_demote: groups, gid,
 * uid), with the bounding and ambient sets emptied while CAP_SETPCAP is
 * still held.  libcap-ng's capng_change_id did the same with about 250
 * prctl calls per process (it re-reads every set through prctl when /proc
 * is not there); this makes about 45. */
int
sandbox_change_id(uid_t uid, gid_t gid, const char **why_r)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	*why_r = "refusing to become root";
	if (uid == 0 || gid == 0)
		return -1;
	*why_r = "setgroups/setresgid failed";
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0)
		return -1;
	*why_r = "cannot empty the bounding or ambient set";
	if (bounding_clear(1) < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	/* From root the kernel clears the permitted set here (no KEEPCAPS);
	 * a non-root uid with capabilities (systemd AmbientCapabilities=)
	 * keeps them until the capset below. */
	*why_r = "setresuid failed";
	if (setresuid(uid, uid, uid) < 0)
		return -1;
	*why_r = "capset failed";
	if (caps_set_empty(1) < 0)
		return -1;
	*why_r = "identity change did not stick";
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid ||
	    getgroups(0, NULL) != 0)
		return -1;
	/* Ambient is a subset of permitted and inheritable (the kernel keeps
	 * that invariant), so both empty means it is empty too. */
	*why_r = "capabilities remain after drop";
	if (caps_set_empty(0) < 0 || bounding_clear(0) < 0)
		return -1;
	/* Going back must be impossible. */
	*why_r = "setuid(0) succeeded after drop";
	if (setuid(0) == 0)
		return -1;
	return 0;
}

static void
change_identity(const struct sandbox_spec *s)
{
	const char *why;

	if (sandbox_change_id(s->uid, s->gid, &why) < 0)
		fatal("reason=\"%s\" proc=%s uid=%u", why, s->name, (unsigned)s->uid);
}

/* The child of sandbox_mkdirat_as(): exit status 0 or an errno value. */
static void __attribute__((noreturn))
mkdir_child(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, err;

	/* Only DAC_OVERRIDE survives: enough to write into a root-owned 0700
	 * parent, not to give anything away (no CAP_CHOWN, no CAP_FOWNER). */
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_DAC_OVERRIDE) != 0 ||
	    capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0 ||
	    getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		_exit(EPERM);
	if (mkdirat(dirfd, name, 0700) < 0)
		_exit(errno == EEXIST ? 0 : errno);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = errno;
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_ALL) != 0)
		_exit(EPERM);
	if (fd < 0)
		_exit(err);
	/* A setgid parent (Debian's /var/mail) would hand its group and the
	 * setgid bit to the new directory and so to cur/ new/ tmp/: undo it as
	 * the owner, through the fd, and only on the directory made here. */
	if (fstat(fd, &st) < 0 || st.st_uid != uid)
		_exit(EPERM);
	if ((st.st_gid != gid && fchown(fd, (uid_t)-1, gid) < 0) ||
	    ((st.st_mode & S_ISGID) && fchmod(fd, 0700) < 0))
		_exit(errno);
	_exit(0);
}

int
sandbox_mkdirat_as(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	pid_t pid, r;
	int status;

	if (uid == 0 || gid == 0 || strchr(name, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		mkdir_child(dirfd, name, uid, gid);
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -1;
	if (!WIFEXITED(status)) {
		errno = EIO;
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		errno = WEXITSTATUS(status);
		return -1;
	}
	return 0;
}

void
sandbox_confine(const struct sandbox_spec *s)
{
	set_rlimit(RLIMIT_CORE, 0, "core");
	if (s->max_files)
		set_rlimit(RLIMIT_NOFILE, s->max_files, "nofile");
	if (s->max_memory)
		set_rlimit(RLIMIT_AS, s->max_memory, "as");
	if (s->no_file_writes)
		set_rlimit(RLIMIT_FSIZE, 0, "fsize");
	if (sandbox_unprivileged())
		return;
	if (s->root_fd >= 0) {
		if (fchdir(s->root_fd) < 0 || chroot(".") < 0)
			fatal("reason=\"chroot failed\" root=%s errno=%d", s->root ? s->root : "?", errno);
		if (chdir("/") < 0)
			fatal("reason=\"chdir / failed\" errno=%d", errno);
	} else if (s->root != NULL) {
		if (chroot(s->root) < 0)
			fatal("reason=\"chroot failed\" root=%s errno=%d", s->root, errno);
		if (chdir("/") < 0)
			fatal("reason=\"chdir / failed\" errno=%d", errno);
	}
	change_identity(s);
	/* After the uid change, so RLIMIT_NPROC counts the new uid's processes. */
	if (s->no_fork)
		set_rlimit(RLIMIT_NPROC, 0, "nproc");
}

/* Landlock (kernel ABI >= 1). Debian 12's header covers ABI 2 only, so the
 * few constants are defined here (linux/landlock.h). */
#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1
#define LL_ACCESS_FS_ABI1		((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_ACCESS_FS_REFER		(1ULL << 13)
#define LL_ACCESS_FS_TRUNCATE		(1ULL << 14)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));	/* the kernel's layout is packed (uapi header) */

static void
landlock_beneath(int dirfd)
{
	struct ll_ruleset_attr ra;
	struct ll_path_beneath_attr pb;
	long abi;
	int rfd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_event(LOG_LEVEL_WARN, "landlock", "reason=\"not available\" errno=%d", errno);
		return;
	}
	ra.handled_access_fs = LL_ACCESS_FS_ABI1;
	if (abi >= 2)
		ra.handled_access_fs |= LL_ACCESS_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LL_ACCESS_FS_TRUNCATE;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rfd < 0)
		fatal("reason=\"landlock_create_ruleset failed\" errno=%d", errno);
	pb.allowed_access = ra.handled_access_fs;
	pb.parent_fd = dirfd;
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		fatal("reason=\"landlock_add_rule failed\" errno=%d", errno);
	if (syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		fatal("reason=\"landlock_restrict_self failed\" errno=%d", errno);
	close(rfd);
}

static const char *debug_name = "?";

/* Debug mode only: name the refused syscall (and, on x86-64, its first
 * arguments: an argument filter refuses fcntl(F_SETOWN) but not F_GETFL),
 * then die as KILL would. */
static void
sigsys_handler(int sig, siginfo_t *si, void *ucv)
{
	unsigned long long a[3] = { 0, 0, 0 };
	char line[224];
	char *name;
	int n;

	(void)sig;
#if defined(__x86_64__)
	{
		const ucontext_t *uc = ucv;
		a[0] = (unsigned long long)uc->uc_mcontext.gregs[REG_RDI];
		a[1] = (unsigned long long)uc->uc_mcontext.gregs[REG_RSI];
		a[2] = (unsigned long long)uc->uc_mcontext.gregs[REG_RDX];
	}
#else
	(void)ucv;
#endif
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	n = snprintf(line, sizeof(line),
	    "proc=%s level=error event=seccomp_violation syscall=%s nr=%d args=0x%llx,0x%llx,0x%llx\n",
	    debug_name, name ? name : "?", si->si_syscall, a[0], a[1], a[2]);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n > sizeof(line) - 1 ? sizeof(line) - 1 : (size_t)n);
	_exit(128 + SIGSYS);
}

static void
install_debug_handler(const struct sandbox_spec *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	debug_name = s->name;
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		fatal("reason=\"sigaction SIGSYS failed\"");
}

/* A call both in the plain list and in a rule would be allowed outright:
 * the unconditional allow wins in libseccomp, and the argument filter would
 * be void without a word. */
static void
check_no_overlap(const struct sandbox_spec *s)
{
	size_t i, j;

	for (i = 0; i < s->nrules; i++)
		for (j = 0; j < s->nsyscalls; j++)
			if (s->rules[i].syscall == s->syscalls[j])
				fatal("reason=\"syscall both allowed and argument-filtered\" proc=%s nr=%d",
				    s->name, s->syscalls[j]);
}

/* musl's open(), opendir() and fopen() make the open system call on
 * x86-64 where glibc's make openat with AT_FDCWD.  open(path, flags, mode)
 * is openat(AT_FDCWD, path, flags, mode): an openat rule that puts no
 * condition on the directory fd (none does) gets the same rule on open,
 * its arguments one place lower.  That allows nothing openat did not:
 * openat takes absolute and cwd-relative paths too. */
static void
add_open_twin(scmp_filter_ctx ctx, const struct sandbox_rule *r, const struct scmp_arg_cmp *cmp,
    unsigned n)
{
	struct scmp_arg_cmp twin[SANDBOX_MAX_CONDS];
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		if (cmp[i].arg == 0)
			fatal("reason=\"openat rule on the directory fd has no open twin\" what=\"%s\"",
			    r->what);
		twin[i] = cmp[i];
		twin[i].arg = cmp[i].arg - 1;
	}
	rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), n, twin);
	if (rc < 0)
		fatal("reason=\"seccomp_rule_add failed\" nr=%d what=\"%s (open)\" rc=%d",
		    SCMP_SYS(open), r->what, rc);
}

static void
add_rule(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	struct scmp_arg_cmp cmp[SANDBOX_MAX_CONDS];
	unsigned n;
	int rc;

	for (n = 0; n < SANDBOX_MAX_CONDS && r->cond[n].op != SANDBOX_CMP_NONE; n++) {
		const struct sandbox_cond *c = &r->cond[n];
		cmp[n] = (struct scmp_arg_cmp){
			.arg = c->arg,
			.op = c->op == SANDBOX_CMP_EQ ? SCMP_CMP_EQ : SCMP_CMP_MASKED_EQ,
			.datum_a = c->op == SANDBOX_CMP_EQ ? c->value : c->mask,
			.datum_b = c->op == SANDBOX_CMP_EQ ? 0 : c->value,
		};
	}
	/* A rule without conditions would be an unconditional allow in disguise. */
	if (n == 0)
		fatal("reason=\"argument rule without conditions\" nr=%d", r->syscall);
	rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->syscall, n, cmp);
	if (rc < 0)
		fatal("reason=\"seccomp_rule_add failed\" nr=%d what=\"%s\" rc=%d", r->syscall, r->what, rc);
	if (r->syscall == SCMP_SYS(openat))
		add_open_twin(ctx, r, cmp, n);
}

static int
spec_allows(const struct sandbox_spec *s, int nr)
{
	size_t i;

	for (i = 0; i < s->nsyscalls; i++)
		if (s->syscalls[i] == nr)
			return 1;
	return 0;
}

/* libseccomp's filter for s: the default action, s->syscalls allowed
 * outright, s->rules under their conditions.  Fatal on failure. */
static scmp_filter_ctx
build_filter(const struct sandbox_spec *s)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	check_no_overlap(s);
	ctx = seccomp_init(s->debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		fatal("reason=\"seccomp_init failed\"");
	/* A binary tree of syscall numbers instead of a linear list: fewer
	 * BPF instructions run per call, and at load time, when the kernel
	 * runs the filter once for every syscall number (its action cache). */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		fatal("reason=\"seccomp_attr_set OPTIMIZE failed\"");
	for (i = 0; i < s->nsyscalls; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s->syscalls[i], 0);
		if (rc < 0)
			fatal("reason=\"seccomp_rule_add failed\" nr=%d rc=%d", s->syscalls[i], rc);
		/* (add_open_twin: the same for an unconditional openat) */
		if (s->syscalls[i] == SCMP_SYS(openat) && !spec_allows(s, SCMP_SYS(open)) &&
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 0) < 0)
			fatal("reason=\"seccomp_rule_add failed\" nr=%d", SCMP_SYS(open));
	}
	for (i = 0; i < s->nrules; i++)
		add_rule(ctx, &s->rules[i]);
	return ctx;
}

int
sandbox_export(const struct sandbox_spec *s, int fd)
{
	scmp_filter_ctx ctx = build_filter(s);
	int rc = seccomp_export_bpf(ctx, fd);

	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

static int
rules_equal(const struct sandbox_rule *a, const struct sandbox_rule *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].syscall != b[i].syscall || memcmp(a[i].cond, b[i].cond, sizeof(a[i].cond)) != 0)
			return 0;
	return 1;
}

const struct sandbox_filter *
sandbox_filter_find(const struct sandbox_spec *s)
{
	size_t i;

	for (i = 0; i < sandbox_nfilters; i++) {
		const struct sandbox_filter *f = &sandbox_filters[i];
		if (f->debug == !!s->debug && f->nsyscalls == s->nsyscalls && f->nrules == s->nrules &&
		    memcmp(f->syscalls, s->syscalls, s->nsyscalls * sizeof(s->syscalls[0])) == 0 &&
		    rules_equal(f->rules, s->rules, s->nrules))
			return f;
	}
	return NULL;
}

/* The build-time program of s (filters.h), loaded as libseccomp's
 * seccomp_load would: no_new_privs is already set, no flags. */
static int
load_prebuilt(const struct sandbox_spec *s)
{
	const struct sandbox_filter *f = sandbox_filter_find(s);
	struct sock_fprog prog;

	if (f == NULL)
		return 0;
	check_no_overlap(s);
	prog.len = f->len;
	prog.filter = (struct sock_filter *)f->prog;	/* the kernel only reads it */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		fatal("reason=\"seccomp(SET_MODE_FILTER) failed\" errno=%d", errno);
	return 1;
}

void
sandbox_lock(const struct sandbox_spec *s)
{
	scmp_filter_ctx ctx;
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("reason=\"PR_SET_NO_NEW_PRIVS failed\" errno=%d", errno);
	if (s->landlock_dir_fd >= 0)
		landlock_beneath(s->landlock_dir_fd);
	if (s->debug)
		install_debug_handler(s);
	if (load_prebuilt(s))
		return;
	ctx = build_filter(s);
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		fatal("reason=\"seccomp_load failed\" rc=%d", rc);
}
