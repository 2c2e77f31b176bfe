/* postern-stored: one verified user's mail store for one session.  The
 * master starts it (as root) with the uid, gid and mail root that authd
 * named; it reaches the mail root through fds (the Maildir, if missing, is
 * made by the user's uid), chroots into the directory it checked, becomes
 * the user's uid, completes cur/ new/ tmp/ as the user, and answers the
 * worker's requests on fd 3 until EOF. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/config.h"
#include "../../common/ipc.h"
#include "../../common/log.h"
#include "../../common/maildir.h"
#include "../../common/mailroot.h"
#include "../../common/proto.h"
#include "../../common/util.h"
#include "../../policy/policy.h"
#include "stored.h"

static struct ipc_in inmsg;
static struct ipc_out outmsg;
static struct popbox box;
static int worker_fd = FD_PARENT;

static void
reply_err(uint32_t code, const char *text)
{
	ipc_out_init(&outmsg, MSG_STORE_ERR);
	ipc_put_u32(&outmsg, code);
	ipc_put_str(&outmsg, text);
	if (ipc_send(worker_fd, &outmsg) < 0)
		exit(0);
}

static void
reply_ok(uint64_t v)
{
	ipc_out_init(&outmsg, MSG_STORE_OK);
	ipc_put_u64(&outmsg, v);
	if (ipc_send(worker_fd, &outmsg) < 0)
		exit(0);
}

static int
on_open(void *ctx, struct ipc_in *in)
{
	(void)ctx;
	if (ipc_in_end(in) < 0 || box.opened)
		return -1;
	if (popbox_open(&box) < 0) {
		if (errno == EWOULDBLOCK) {
			log_event(LOG_LEVEL_INFO, "mailbox_in_use", "reason=\"another POP3 session holds the lock\"");
			reply_err(STORE_ERR_INUSE, "mailbox in use by another session");
		} else {
			log_event(LOG_LEVEL_ERR, "mailbox_open", "errno=%d", errno);
			reply_err(STORE_ERR_IO, "cannot open mailbox");
		}
		return 0;
	}
	reply_ok(box.n);
	return 0;
}

static int
on_sizes(void *ctx, struct ipc_in *in)
{
	uint32_t start = ipc_get_u32(in), count, i;

	(void)ctx;
	if (ipc_in_end(in) < 0 || !box.opened || start > box.n)
		return -1;
	count = (uint32_t)(box.n - start > STORE_SIZES_PAGE ? STORE_SIZES_PAGE : box.n - start);
	ipc_out_init(&outmsg, MSG_STORE_SIZES);
	ipc_put_u32(&outmsg, start);
	ipc_put_u32(&outmsg, count);
	ipc_put_u8(&outmsg, start + count < box.n);
	for (i = 0; i < count; i++)
		ipc_put_u64(&outmsg, box.msgs[start + i].size);
	return ipc_send(worker_fd, &outmsg) < 0 ? -1 : 0;
}

static int
on_uidls(void *ctx, struct ipc_in *in)
{
	uint32_t start = ipc_get_u32(in), count, i;

	(void)ctx;
	if (ipc_in_end(in) < 0 || !box.opened || start > box.n)
		return -1;
	count = (uint32_t)(box.n - start > STORE_UIDLS_PAGE ? STORE_UIDLS_PAGE : box.n - start);
	ipc_out_init(&outmsg, MSG_STORE_UIDLS);
	ipc_put_u32(&outmsg, start);
	ipc_put_u32(&outmsg, count);
	ipc_put_u8(&outmsg, start + count < box.n);
	for (i = 0; i < count; i++)
		ipc_put_str(&outmsg, box.msgs[start + i].uidl);
	return ipc_send(worker_fd, &outmsg) < 0 ? -1 : 0;
}

static int
on_fetch(void *ctx, struct ipc_in *in)
{
	uint32_t i = ipc_get_u32(in);
	int fd;

	(void)ctx;
	if (ipc_in_end(in) < 0 || !box.opened)
		return -1;
	if (i >= box.n) {
		reply_err(STORE_ERR_NOMSG, "no such message");
		return 0;
	}
	fd = popbox_fetch(&box, i);
	if (fd < 0 && errno == ENOENT) {
		log_event(LOG_LEVEL_WARN, "message_gone", "index=%u reason=\"file removed by another program\"", i);
		reply_err(STORE_ERR_GONE, "message no longer available");
		return 0;
	}
	if (fd < 0) {
		log_event(LOG_LEVEL_ERR, "message_unreadable", "index=%u errno=%d reason=\"%s\"", i, errno,
		    errno == EACCES ? "permission denied: is the file owned by the mail uid?" : "open failed");
		reply_err(STORE_ERR_IO, "message cannot be read");
		return 0;
	}
	ipc_out_init(&outmsg, MSG_STORE_MSGFD);
	ipc_put_u64(&outmsg, box.msgs[i].size);
	ipc_put_fd(&outmsg, fd);
	if (ipc_send(worker_fd, &outmsg) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
on_commit(void *ctx, struct ipc_in *in)
{
	static struct db_kv gone[STORE_COMMIT_MAX];
	uint32_t count, k, removed = 0, failed = 0;
	uint8_t final;

	(void)ctx;
	final = ipc_get_u8(in);
	count = ipc_get_u32(in);
	if (in->err || !box.opened || count > box.n || count > STORE_COMMIT_MAX || final > 1)
		return -1;
	for (k = 0; k < count; k++) {
		uint32_t i = ipc_get_u32(in);
		if (in->err || i >= box.n)
			return -1;
		if (popbox_remove(&box, i) < 0) {
			failed++;
			continue;
		}
		gone[removed].k = box.msgs[i].name;
		gone[removed].kl = strcspn(box.msgs[i].name, ":");
		removed++;
	}
	if (ipc_in_end(in) < 0)
		return -1;
	/* Forget the cached sizes of removed files, in one transaction. */
	if (box.index != NULL && db_del_batch(box.index, 0, gone, removed) < 0)
		log_event(LOG_LEVEL_WARN, "index", "op=del reason=\"%s\"", db_strerror(box.index));
	if (failed) {
		log_event(LOG_LEVEL_ERR, "expunge", "removed=%u failed=%u", removed, failed);
		reply_err(STORE_ERR_IO, "some messages could not be removed");
		return 0;
	}
	if (final)
		log_event(LOG_LEVEL_INFO, "update", "removed=%u", removed);
	reply_ok(removed);
	return 0;
}

static const struct ipc_handler handlers[] = {
	{ MSG_STORE_POP_OPEN, 0, on_open },
	{ MSG_STORE_POP_SIZES, 0, on_sizes },
	{ MSG_STORE_POP_UIDLS, 0, on_uidls },
	{ MSG_STORE_POP_FETCH, 0, on_fetch },
	{ MSG_STORE_POP_COMMIT, 0, on_commit },
};

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
 * (common/mailroot.h), never by a path the user could have swapped for a
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

static void
open_index(const struct config *cfg)
{
	static const char *const names[] = { "sizes" };
	char err[256];

	(void)cfg;
	/* Keep the index out of Maildir++ folder names (those start with '.'). */
	if (db_open(&box.index, "postern-index", 64ULL << 20, 0, names, 1, err, sizeof(err)) < 0) {
		log_event(LOG_LEVEL_WARN, "index", "reason=\"%s\" fallback=\"read sizes from files\"", err);
		box.index = NULL;
	}
}

int
main(int argc, char **argv)
{
	const char *cfgpath = "/etc/postern/postern.conf", *sid = NULL, *root = NULL, *user = "?";
	uint64_t uid = 0, gid = 0;
	struct sandbox_spec spec;
	struct config cfg;
	char err[512];
	int opt, rootfd;

	log_init("stored");
	while ((opt = getopt(argc, argv, "c:s:u:g:r:n:")) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 's': sid = optarg; break;
		case 'u': if (util_str_to_u64(optarg, 0xfffffffe, &uid) < 0) fatal("reason=\"bad uid\""); break;
		case 'g': if (util_str_to_u64(optarg, 0xfffffffe, &gid) < 0) fatal("reason=\"bad gid\""); break;
		case 'r': root = optarg; break;
		case 'n': user = optarg; break;
		default: fatal("reason=\"usage\"");
		}
	}
	if (sid == NULL || root == NULL || uid == 0 || gid == 0 || root[0] != '/')
		fatal("reason=\"usage: postern-stored -c cfg -s sid -u uid -g gid -r root -n user\"");
	log_set_session(sid);
	if (config_load(&cfg, cfgpath, err, sizeof(err)) < 0)
		fatal("reason=\"%s\"", err);
	config_close_passed(cfgpath);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	rootfd = open_mailroot(root, (uid_t)uid, (gid_t)gid, user);

	policy_spec(POLICY_STORED, &cfg, &spec);
	spec.uid = (uid_t)uid;
	spec.gid = (gid_t)gid;
	spec.root = root;
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
	{
		const char *why;
		if (maildir_check(AT_FDCWD, &why) < 0)
			refuse_mailroot(user, why);
	}
	open_index(&cfg);
	box.max_messages = cfg.pop3_max_messages;
	if (popbox_prepare(&box) < 0)	/* reported again at MSG_STORE_POP_OPEN */
		log_event(LOG_LEVEL_ERR, "mailbox_lock", "reason=\"cannot open the lock file\" errno=%d", errno);
	sandbox_lock(&spec);
	close(rootfd);
	log_event(LOG_LEVEL_DEBUG, "ready", "user=%s", user);

	for (;;) {
		int rc = ipc_recv(worker_fd, &inmsg);
		if (rc == 0)
			break;
		if (rc < 0 || ipc_dispatch(handlers, sizeof(handlers) / sizeof(handlers[0]),
		    NULL, &inmsg) < 0) {
			log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=worker type=0x%04x "
			    "reason=\"malformed or unexpected request\"", rc == 1 ? inmsg.type : 0);
			return 1;
		}
	}
	return 0;
}
