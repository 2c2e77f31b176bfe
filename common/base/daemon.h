/* daemon.h - the start every exec'd child shares: its log name, the
 * command line (-c CONFIG, -h, -V, plus the child's own options), the
 * master's config snapshot, SIGPIPE ignored.  authd, keyd and stored call
 * it from main(); the worker kit (common/worker/wk_boot.c) for workers.
 * What follows differs per process and stays with it: what to open before
 * the sandbox, then policy_spec(), sandbox_confine(), sandbox_lock(). */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

#include "config.h"

struct daemon_args {
	const char *name;	/* "authd": the log's proc=, the program postern-<name> */
	const char *opts;	/* getopt letters beyond "c:hV" ("" for none) */
	const char *usage;	/* the options, for the usage line */
	/* one of opts: 0, or -1 to refuse it (the usage line and exit) */
	int (*opt)(void *ctx, int letter, const char *arg);
	void *ctx;
};

/* Parse argv, load the config snapshot (fatal, with the reason, if it
 * fails) into cfg.  An -s option names the session of every log line from
 * then on (before the option handler sees it). */
void daemon_boot(const struct daemon_args *a, int argc, char **argv, struct config *cfg);

/* The same, with the config mapped read-only (config_map): a process per
 * session keeps no private copy of it. */
const struct config *daemon_boot_map(const struct daemon_args *a, int argc, char **argv);

#endif
