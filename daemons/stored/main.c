/* postern-stored: one verified user's mail store for one session.  The
 * master starts it (as root) with the uid, gid and mail root that authd
 * named and the view of the session's service (-v: pop3, imap, deliver);
 * it reaches the mail root through fds (the Maildir, if missing, is made
 * by the user's uid), chroots into the directory it checked, becomes the
 * user's uid with the view's filter, completes cur/ new/ tmp/ as the user,
 * and answers the worker's requests on fd 3 until EOF, through the view's
 * table (view.h) into the engine (engine.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/ipc/ipc.h"
#include "../../common/base/log.h"
#include "../../common/mail/maildir.h"
#include "../../common/mail/mailroot.h"
#include "../../common/mail/quota.h"
#include "../../common/ipc/proto.h"
#include "../../common/base/util.h"
#include "../../policy/policy.h"
#include "engine.h"
#include "view.h"

/* The one pair of scratch buffers of this process. */
static struct ipc_in inmsg;
static struct ipc_out outmsg;
static struct engine engine;

/* Refusals of a mail root: the session ends, pop3d answers [SYS/TEMP].
 * The reason names a path, kept readable; only what would break the
 * quoted value (quotes, backslashes, controls) is replaced. */
static void __attribute__((noreturn))
refuse_mailroot(const char *user, const char *why)
{
	char text[CONFIG_PATH_MAX + 128];
	size_t i;

	snprintf(text, sizeof(text), "%s", why);
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == '"' || text[i] == '\\' || text[i] == 0x7f)
			text[i] = '?';
	log_event(LOG_LEVEL_ERR, "mailroot_refused", "user=%s reason=\"%s\"", user, text);
	exit(1);
}

/* Before confinement, with privileges: reach the mail root through fds
 * (common/mail/mailroot.h), never by a path the user could have swapped for a
 * symlink; a missing Maildir is made by the user's uid.  Returns the O_PATH
 * fd that sandbox_confine() enters. */
static int
open_mailroot(const char *root, uid_t uid, gid_t gid, const char *user)
{
	char why[CONFIG_PATH_MAX + 128];
	int fd;

	/* The master's uid is the service's: as systemd User= it made the
	 * parents that earlier logins created. */
	fd = mailroot_open(root, uid, gid, geteuid(), !sandbox_unprivileged(), why, sizeof(why));
	if (fd < 0)
		refuse_mailroot(user, why);
	return fd;
}

struct args {
	const char *sid, *root, *user;
	const struct view *view;
	uint64_t uid, gid;
	uint64_t quota;		/* the user db's, bytes; 0: none (maildirsize rules) */
};

static int
set_arg(void *ctx, int opt, const char *arg)
{
	struct args *a = ctx;

	switch (opt) {
	case 's': a->sid = arg; return 0;
	case 'u': return util_str_to_u64(arg, 0xfffffffe, &a->uid);
	case 'g': return util_str_to_u64(arg, 0xfffffffe, &a->gid);
	case 'r': a->root = arg; return 0;
	case 'n': a->user = arg; return 0;
	case 'q': return util_str_to_u64(arg, UINT64_MAX, &a->quota);
	case 'v':
		if ((a->view = view_find(arg)) == NULL)
			fatal("reason=\"unknown view\" view=%s", arg);
		return 0;
	default: return -1;
	}
}

static void
parse_args(int argc, char **argv, struct args *a, struct config *cfg)
{
	const struct daemon_args da = { .name = "stored", .opts = "s:u:g:r:n:q:v:",
	    .usage = "-s sid -u uid -g gid -r root -n user [-q quota] -v pop3|imap|deliver", .opt = set_arg,
	    .ctx = a };

	*a = (struct args){ .user = "?" };
	daemon_boot(&da, argc, argv, cfg);
	/* The master names the view from the service; there is no default, so
	 * a spawner that forgets it fails here rather than in a looser one. */
	if (a->sid == NULL || a->root == NULL || a->uid == 0 || a->gid == 0 || a->root[0] != '/' ||
	    a->view == NULL)
		fatal("reason=\"usage: postern-stored -c cfg -s sid -u uid -g gid -r root -n user "
		    "-v pop3|imap|deliver\"");
}

/* The user db's quota is the definition of maildirsize (Maildir++: the
 * delivery agent keeps the file): written, recounted, when it is missing
 * or says another limit.  Without one in the user db, a maildirsize made
 * by other means (Courier's maildirmake -q) is left as it is. */
static void
sync_quota(const struct args *a, int rootfd)
{
	char def[32];
	struct quota q;

	if (a->quota == 0)
		return;
	if (quota_read(rootfd, time(NULL), &q, NULL) == 0 && q.has_storage &&
	    q.storage_limit == a->quota && !q.has_messages)
		return;
	snprintf(def, sizeof(def), "%lluS", (unsigned long long)a->quota);
	if (quota_recalc(rootfd, def, &q) < 0)
		log_event(LOG_LEVEL_WARN, "quota_unwritable", "user=%s errno=%d reason=\"cannot write "
		    "maildirsize\"", a->user, errno);
}

/* Enter the mail root as the user, with the view's filter, and prepare
 * what the filter will no longer allow (the index, the lock file). */
static void
confine(const struct args *a, const struct config *cfg, struct view_session *vs)
{
	struct sandbox_spec spec;
	const char *why;
	int rootfd;

	rootfd = open_mailroot(a->root, (uid_t)a->uid, (gid_t)a->gid, a->user);
	policy_spec(POLICY_STORED, cfg, &spec);
	/* chosen before seccomp_load: only the deliver view may create files */
	policy_stored_view(a->view->filter, &spec);
	spec.uid = (uid_t)a->uid;
	spec.gid = (gid_t)a->gid;
	spec.root = a->root;
	spec.root_fd = rootfd;
	if (sandbox_unprivileged()) {
		/* No chroot without root: Landlock confines us beneath the root. */
		if (fchdir(rootfd) < 0)
			fatal("reason=\"cannot enter mail root\" errno=%d", errno);
		spec.landlock_dir_fd = rootfd;
	}
	sandbox_confine(&spec);
	/* Now the user, inside the mail root: cur/ new/ tmp/ are made by the
	 * user's own uid, and a symlink in their place is refused. */
	if (maildir_check(AT_FDCWD, &why) < 0)
		refuse_mailroot(a->user, why);
	quota_set_count_trash(cfg->quota_count_trash);
	sync_quota(a, rootfd);
	if (a->view->prepare != NULL)	/* its own index, and the mail root's fd */
		a->view->prepare(vs, rootfd, cfg);
	else
		engine_open_index(&engine);
	engine.max_messages = cfg->pop3_max_messages;
	if (engine_lock_prepare(&engine) < 0)	/* reported again when a view locks */
		log_event(LOG_LEVEL_ERR, "mailbox_lock", "reason=\"cannot open the lock file\" errno=%d", errno);
	sandbox_lock(&spec);
	if (a->view->prepare == NULL)
		close(rootfd);	/* else the view keeps it: folders.h works relative to it */
}

int
main(int argc, char **argv)
{
	struct view_session vs = { .e = &engine, .chan = { .phase = VIEW_PHASE_IDLE }, .out = &outmsg,
	    .worker_fd = FD_PARENT, .watch_fd = -1, .watch_wd = { -1, -1 } };
	struct config *cfg;
	struct args a;

	/* The config is needed until the sandbox is in place (the views copy
	 * the few values they keep): it lives in pages of its own, given back
	 * then, so an idle session does not carry its 20 KiB. */
	cfg = mmap(NULL, sizeof(*cfg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cfg == MAP_FAILED)
		return 1;
	parse_args(argc, argv, &a, cfg);
	vs.user = a.user;	/* the deliver view's Delivered-To */
	umask(077);
	engine_init(&engine);	/* the host name, before a filter without uname */
	confine(&a, cfg, &vs);
	munmap(cfg, sizeof(*cfg));
	log_event(LOG_LEVEL_DEBUG, "ready", "user=%s view=%s", a.user, a.view->name);

	return view_serve(a.view, &vs, &inmsg);
}
