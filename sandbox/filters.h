/* filters.h - seccomp programs compiled at build time.
 *
 * libseccomp's compiler (seccomp_init, rule_add, the BPF generator) costs
 * every process that runs it several thousand allocations and tens of
 * thousands of instructions, the same result each time.  The build runs it
 * once per process table row and mode instead (sandbox/gen_filters.c, the
 * table in build/gen/filters.c), and sandbox_lock() loads the stored
 * program with seccomp(2).  A spec that is not in the table (a test's own)
 * is still compiled by libseccomp at run time.  The lists are the key: an
 * entry holds copies of them, and only an identical spec uses its program.
 */
#ifndef POSTERN_FILTERS_H
#define POSTERN_FILTERS_H

#include <linux/filter.h>
#include <stddef.h>

#include "sandbox.h"

struct sandbox_filter {
	int debug;				/* SCMP_ACT_TRAP instead of KILL_PROCESS */
	const int *syscalls;			/* the spec's lists, copied */
	size_t nsyscalls;
	const struct sandbox_rule *rules;	/* "what" is not compared */
	size_t nrules;
	const struct sock_filter *prog;		/* libseccomp's program for them */
	unsigned short len;
};

/* The generated table (build/gen/filters.c); sandbox/filters_none.c is the
 * empty one the generator itself links. */
extern const struct sandbox_filter sandbox_filters[];
extern const size_t sandbox_nfilters;

/* The entry whose lists and mode are exactly s's, or NULL. */
const struct sandbox_filter *sandbox_filter_find(const struct sandbox_spec *s);

/* Compile s's filter with libseccomp and write the program (an array of
 * struct sock_filter) to fd.  Returns 0, or -1 with errno. */
int sandbox_export(const struct sandbox_spec *s, int fd);

#endif
