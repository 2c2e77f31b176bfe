/* wk_boot.h - worker kit: the boot of a network worker, up to its first
 * protocol byte.
 *
 * The fds are fixed (common/ipc/proto.h: FD_CLIENT, FD_CONTROL, FD_AUTH,
 * FD_KEYD).  wk_boot_config() reads the command line and the config
 * snapshot the master passed; the worker then fills in its per-service
 * values (idle timeout, refusal line, implicit TLS from -t), and
 * wk_boot_enter() sets the socket and broker-channel timeouts, enters the
 * sandbox (policy_spec of the worker's row) and, on a PROXY listener,
 * reads the header and takes the master's verdict, all before the worker
 * parses a protocol byte.
 */
#ifndef POSTERN_WK_BOOT_H
#define POSTERN_WK_BOOT_H

#include <stdint.h>

#include "../base/config.h"
#include "../../policy/policy.h"

struct wk_boot {
	/* set by the worker before wk_boot_config() */
	const char *name;		/* log name, e.g. "pop3d" */
	enum policy_proc policy;	/* its row in policy/policy.c */
	/* set by the worker before wk_boot_enter() */
	uint64_t idle_timeout_s;	/* client socket and PROXY read deadline */
	const char *refusal;		/* the master's refusal prefix, e.g. "-ERR [SYS/TEMP]" */
	/* filled by wk_boot_config() and wk_boot_enter() */
	const struct config *cfg;	/* mapped read-only (config_map) */
	char sid[25];
	char ip[64];			/* the client: the master's word, or the PROXY source */
	int proxy;			/* -p: a PROXY header comes first */
	int implicit_tls;		/* -t: TLS before the greeting */
	uint64_t started_ms;		/* ev_now_ms() at boot: login_timeout counts from here */
};

/* Parse "-c cfg -s sid -i ip [-t] [-p]", start logging as b->name, load
 * the config snapshot and close the master's copy.  Fatal on any error
 * (the worker has no client to tell yet). */
void wk_boot_config(struct wk_boot *b, int argc, char **argv);

/* Timeouts, sandbox, PROXY.  Returns 0 when the session may start, -1
 * when it must end quietly (malformed PROXY header, or the master refused
 * the real client: the refusal line has been written in plaintext unless
 * the port is implicit TLS).  Fatal if the fds or the sandbox fail. */
int wk_boot_enter(struct wk_boot *b);

/* The one file a worker may write is a message memfd of its own: its
 * RLIMIT_FSIZE is that message's limit, so a write past it fails with
 * EFBIG (SIGXFSZ is ignored) instead of killing the session.  Before
 * wk_boot_enter(); fatal on failure. */
void wk_boot_limit_file_size(uint64_t bytes);

/* The name the worker greets with: cfg's hostname, else gethostname(2)
 * (before the sandbox: uname is not in the filters), else "localhost";
 * buf holds it. */
const char *wk_boot_hostname(const struct config *cfg, char *buf, size_t len);

/* Non-zero for 127.0.0.0/8 and ::1 (tls_plaintext_loopback), as the master
 * or the PROXY header wrote the address. */
int wk_ip_is_loopback(const char *ip);

#endif
