/* policy.h - the one table of processes: who runs as whom, where, with
 * which fds and which syscalls.  The mechanisms are in sandbox/. */
#ifndef POSTERN_POLICY_H
#define POSTERN_POLICY_H

#include <fcntl.h>
#include <stddef.h>

#include "../common/base/config.h"
#include "../sandbox/sandbox.h"

enum policy_proc {
	POLICY_AUTHD,
	POLICY_KEYD,
	POLICY_STORED,
	POLICY_POP3D,
	POLICY_LMTPD,
	POLICY_IMAPD,
	POLICY_SMTPD,
	POLICY_METRICSD,
	POLICY_RESOLVERD,
	POLICY_AUTH_PGSQL,	/* authd's PostgreSQL backend (docs/AUTH.md#backends) */
	POLICY_AUTH_CHECKPW,	/* authd's checkpassword backend */
	POLICY_AUTH_LDAP,	/* authd's LDAP backend */
	POLICY_NPROCS
};

/* The seals lmtpd puts on a message memfd before any stored sees it (the
 * only F_ADD_SEALS its filter allows): no write, no growing, no shrinking,
 * and no seal can be removed or changed, so every recipient's stored reads
 * the same bytes. */
/* The access-mode bits of open flags as the kernel defines them (O_RDONLY
 * 0, O_WRONLY 1, O_RDWR 2).  Not libc's O_ACCMODE: musl's also holds
 * O_PATH, which would refuse the O_PATH directory opens stored makes. */
#define POLICY_ACCMODE	03
#define POLICY_LMTPD_SEALS	(F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

enum policy_ident {
	POLICY_IDENT_AUTH,	/* auth_uid/auth_gid */
	POLICY_IDENT_KEYD,	/* keyd_uid/keyd_gid */
	POLICY_IDENT_WORKER,	/* worker_uid/worker_gid */
	POLICY_IDENT_USER,	/* the verified user's mail uid/gid (from authd) */
	POLICY_IDENT_RESOLVERD,	/* resolverd_uid/resolverd_gid */
	POLICY_IDENT_AUTH_HELPER,	/* auth_helper_uid/auth_helper_gid */
};

enum policy_root {
	POLICY_ROOT_EMPTY,	/* chroot to empty_root: sees no files */
	POLICY_ROOT_MAILROOT,	/* chroot to the user's mail root */
	POLICY_ROOT_HOST,	/* no chroot: the checkpassword program needs the files */
};

/* The fixed descriptors of a process are named slots: the row lists its
 * slots in order, the first is fd 3, the next 4, ... (common/ipc/proto.h
 * names the same numbers for the children, and test_policy checks that
 * they agree).  The spawner hands fds over by slot name, never by number;
 * the config snapshot is every process's last slot. */
enum policy_slot {
	SLOT_CLIENT,		/* worker: the client connection */
	SLOT_CONTROL,		/* worker: its control channel to the master */
	SLOT_AUTHD,		/* worker, authd's backend helpers: the channel to authd */
	SLOT_KEYD,		/* worker: its channel to keyd */
	SLOT_MASTER,		/* authd, keyd, resolverd: the master channel */
	SLOT_WORKER,		/* stored: its session's worker channel */
	SLOT_CONFIG,		/* the master's sealed config snapshot */
	SLOT_SNAPSHOT,		/* metricsd: the sealed memfd of rendered metrics */
	SLOT_COUNTERS,		/* authd, keyd: their counters page (common/ipc/counters.h) */
	SLOT_COUNT
};
#define POLICY_FD_FIRST	3
#define POLICY_MAX_SLOTS	6

struct policy_entry {
	const char *name;		/* log name and the key of this row */
	const char *binary;		/* file name under libexec_dir */
	enum policy_ident ident;
	enum policy_root root;
	enum policy_slot slots[POLICY_MAX_SLOTS];	/* fd 3, 4, ... in this order */
	size_t nslots;
	const int *syscalls;		/* allowed outright */
	size_t nsyscalls;
	const struct sandbox_rule *rules;	/* allowed with argument conditions */
	size_t nrules;
	unsigned max_files;
	int no_fork;
	int net_parser;			/* parses network bytes: invariant 1 applies */
	int memfd_writes;		/* writes the memfds it creates (lmtpd's messages):
					   no RLIMIT_FSIZE 0; the worker sets its own
					   bound before entering the sandbox */
};

extern const struct policy_entry policy_table[POLICY_NPROCS];

/* Build the sandbox spec of a process from its row and the config.  For
 * POLICY_IDENT_USER / POLICY_ROOT_MAILROOT, uid/gid/root come from the
 * caller (stored's argv, set by the master from authd's verdict). */
void policy_spec(enum policy_proc p, const struct config *cfg, struct sandbox_spec *s);

/* stored's filter depends on its view, which the master chose (stored's
 * -v): every view opens files read-only, the deliver view may also create
 * a message file with O_WRONLY|O_CREAT|O_EXCL; the IMAP view writes the
 * user's mailbox (APPEND, COPY, folders, subscriptions, maildirsize). */
enum policy_stored_view {
	POLICY_STORED_READ_ONLY,	/* pop3 */
	POLICY_STORED_DELIVER,		/* deliver */
	POLICY_STORED_IMAP,		/* imap */
};

/* Set s's syscall list and argument rules to those of view v (after
 * policy_spec). */
void policy_stored_view(enum policy_stored_view v, struct sandbox_spec *s);

/* The fd number of slot in process p's layout, or -1 if it has none. */
int policy_fd(enum policy_proc p, enum policy_slot slot);

/* Lay out fds for p's exec: by_slot[SLOT_COUNT] holds an fd per slot (-1
 * for none); out[i] receives the fd for descriptor 3+i.  Returns the
 * number of fds, or -1 when a slot of the row has no fd in by_slot or
 * outmax is too small. */
int policy_arrange_fds(enum policy_proc p, const int by_slot[SLOT_COUNT], int *out, size_t outmax);

/* The name of a slot ("client", "control", ...). */
const char *policy_slot_name(enum policy_slot slot);

/* Print the process table (posternctl policy, docs). */
void policy_print(int fd);

#endif
