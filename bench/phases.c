/* phases.c - the start-up phases of a confined worker, one at a time: each
 * of N children runs one phase and exits, and the CPU of the children
 * (getrusage) less that of bare fork+exit children is the phase's cost.
 * With -1 the phase runs once in this process instead (for callgrind's
 * instruction counts; the phases that change identity need root and do
 * not run under valgrind).  Run as root: build/bench/phases [-1] [-n N]
 * [-b binary] [phase...]
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/base/config.h"
#include "../common/base/spawn.h"
#include "../policy/policy.h"
#include "../sandbox/filters.h"

static struct config cfg;
static const char *binary = "build/bin/postern-pop3d";
static char empty_dir[] = "/tmp/postern-phases-XXXXXX";

static void
worker_spec(struct sandbox_spec *s)
{
	policy_spec(POLICY_POP3D, &cfg, s);
	s->root = empty_dir;
}

static void
ph_nothing(void)
{
}

/* The config snapshot: the master's dump, the worker's parse. */
static void
ph_config(void)
{
	struct config c;
	char path[64], err[256];
	int fd = memfd_create("postern.conf", 0);

	if (fd < 0 || config_dump(&cfg, fd) < 0)
		exit(2);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(&c, path, err, sizeof(err)) < 0)
		exit(3);
}

static void
ph_confine(void)
{
	struct sandbox_spec s;

	worker_spec(&s);
	sandbox_confine(&s);
}

static void
ph_compile(void)
{
	struct sandbox_spec s;
	int fd = open("/dev/null", O_WRONLY);

	worker_spec(&s);
	if (sandbox_export(&s, fd) < 0)
		exit(2);
}

static void
ph_lock(void)
{
	struct sandbox_spec s;

	worker_spec(&s);
	sandbox_lock(&s);
}

/* exec of the worker binary as spawn_child does it; the child prints its
 * version and exits before it reads a config. */
static void
ph_spawn(void)
{
	char *argv[] = { (char *)binary, "-V", NULL };
	int status;
	pid_t pid = spawn_child(binary, argv, NULL, 0, -1);

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		exit(2);
}

static const struct {
	const char *name;
	void (*fn)(void);
	const char *what;
} phases[] = {
	{ "fork", ph_nothing, "fork + _exit of this process (the baseline, subtracted)" },
	{ "config", ph_config, "config snapshot: dump to a memfd, config_load" },
	{ "confine", ph_confine, "rlimits, chroot, sandbox_change_id, checks" },
	{ "compile", ph_compile, "libseccomp: seccomp_init, rule_add, export" },
	{ "lock", ph_lock, "no_new_privs + seccomp(2) of the build-time program" },
	{ "spawn", ph_spawn, "spawn_child + exec of the binary with -V + wait" },
};

static double
children_us(void)
{
	struct rusage r;

	getrusage(RUSAGE_CHILDREN, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
	    (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

/* CPU microseconds per child that runs fn and exits. */
static double
per_child(void (*fn)(void), int n)
{
	double t0 = children_us();
	int i, status;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			fn();
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "phases: child failed (status 0x%x)\n", status);
			exit(1);
		}
	}
	return (children_us() - t0) / n;
}

int
main(int argc, char **argv)
{
	int opt, once = 0, n = 2000;
	double base;
	size_t i;

	while ((opt = getopt(argc, argv, "1n:b:")) != -1) {
		switch (opt) {
		case '1': once = 1; break;
		case 'n': n = atoi(optarg); break;
		case 'b': binary = optarg; break;
		default: return 2;
		}
	}
	config_defaults(&cfg);
	if (mkdtemp(empty_dir) == NULL)
		return 1;
	base = once ? 0 : per_child(ph_nothing, n);
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		int j, want = optind == argc;
		for (j = optind; j < argc; j++)
			want |= strcmp(argv[j], phases[i].name) == 0;
		if (!want)
			continue;
		if (once)
			phases[i].fn();
		else
			printf("%-8s %8.1f us  %s\n", phases[i].name, per_child(phases[i].fn, n) - base,
			    phases[i].what);
	}
	if (!once)
		printf("(fork+exit baseline %.1f us per child, %d children per phase)\n", base, n);
	rmdir(empty_dir);
	return 0;
}
