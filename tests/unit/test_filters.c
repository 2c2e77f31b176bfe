/* test_filters.c - the build-time seccomp programs (sandbox/filters.h):
 * every process of the table finds its own in both modes, each program is
 * what libseccomp compiles from the same lists today, and a spec that
 * differs from every entry finds none (it is compiled at run time). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../policy/policy.h"
#include "../../sandbox/filters.h"
#include "tap.h"

static void
check_found(const char *what, struct sandbox_spec *s)
{
	char name[128];
	int debug;

	for (debug = 0; debug <= 1; debug++) {
		s->debug = debug;
		snprintf(name, sizeof(name), "%s, %s: a build-time program", what, debug ? "debug" : "kill");
		CHECK(sandbox_filter_find(s) != NULL, name);
	}
}

/* The entry's program against libseccomp's for the entry's lists. */
static int
same_as_libseccomp(const struct sandbox_filter *f)
{
	struct sandbox_spec s = { .name = "test", .root_fd = -1, .landlock_dir_fd = -1 };
	static struct sock_filter prog[4096];
	int fd = memfd_create("filter", 0);
	ssize_t n;

	s.debug = f->debug;
	s.syscalls = f->syscalls;
	s.nsyscalls = f->nsyscalls;
	s.rules = f->rules;
	s.nrules = f->nrules;
	if (fd < 0 || sandbox_export(&s, fd) < 0)
		return 0;
	n = pread(fd, prog, sizeof(prog), 0);
	close(fd);
	return n == (ssize_t)(f->len * sizeof(prog[0])) && memcmp(prog, f->prog, (size_t)n) == 0;
}

/* A spec without a build-time program is compiled at run time and still
 * enforced: the child's mmap(PROT_EXEC) dies by SIGSYS, getpid passes. */
static int
runtime_filter_kills(const struct sandbox_spec *s, int exec_map)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sandbox_lock(s);
		if (exec_map)
			(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		(void)getpid();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(void)
{
	struct sandbox_spec s;
	struct config cfg;
	char name[128];
	size_t i;
	int p;

	config_defaults(&cfg);
	for (p = 0; p < POLICY_NPROCS; p++) {
		policy_spec((enum policy_proc)p, &cfg, &s);
		check_found(policy_table[p].name, &s);
	}
	policy_spec(POLICY_STORED, &cfg, &s);
	policy_stored_view(POLICY_STORED_DELIVER, &s);
	check_found("stored, deliver view", &s);
	policy_stored_view(POLICY_STORED_IMAP, &s);
	check_found("stored, imap view", &s);
	policy_stored_view(POLICY_STORED_READ_ONLY, &s);
	check_found("stored, pop3 view (back from another)", &s);
	for (i = 0; i < sandbox_nfilters; i++) {
		snprintf(name, sizeof(name), "entry %zu (%u instructions) is libseccomp's program", i,
		    sandbox_filters[i].len);
		CHECK(same_as_libseccomp(&sandbox_filters[i]), name);
	}
	/* One call fewer: no entry matches, the run-time compiler is used. */
	policy_spec(POLICY_POP3D, &cfg, &s);
	s.nsyscalls--;
	CHECK(sandbox_filter_find(&s) == NULL, "a spec with other lists has no build-time program");
	s.debug = 0;
	CHECK(runtime_filter_kills(&s, 1) == 1, "run-time compiled filter: mmap PROT_EXEC killed by SIGSYS");
	CHECK(runtime_filter_kills(&s, 0) == 0, "run-time compiled filter: getpid allowed");
	return tap_done();
}
