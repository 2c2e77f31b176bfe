/* mailroot.c - reach a user's mail root through fds, never by a path a user
 * may have changed (see mailroot.h). */
#include "mailroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../sandbox/sandbox.h"

/* O_NOFOLLOW with O_PATH alone would open a symlink itself; O_DIRECTORY
 * makes a symlink (or anything but a directory) fail with ENOTDIR. */
#define WALK_FLAGS (O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)

struct walk {
	const char *path;
	size_t done;		/* bytes of path reached so far, for messages */
	uid_t uid;
	gid_t gid;
	uid_t service_uid;
	int privileged;
	char *why;
	size_t whylen;
};

static int __attribute__((format(printf, 2, 3)))
refuse(struct walk *w, const char *fmt, ...)
{
	int n = snprintf(w->why, w->whylen, "%.*s: ", (int)w->done, w->path);
	va_list ap;

	if (n >= 0 && (size_t)n < w->whylen) {
		va_start(ap, fmt);
		vsnprintf(w->why + n, w->whylen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Why name could not be opened as a directory, for the message only: the
 * decision was the failed open itself, not this second look. */
static int
refuse_open(struct walk *w, int dfd, const char *name, int err)
{
	struct stat st;

	if ((err == ENOTDIR || err == ELOOP) && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return refuse(w, S_ISLNK(st.st_mode) ? "is a symlink" : "is not a directory");
	return refuse(w, "cannot open: %s", strerror(err));
}

/* A parent: missing ones are made here, by the caller (root), relative to
 * the directory above.  Whoever owns a parent decides what its entries are,
 * so only root, the service's own uid (systemd User=) and the user may. */
static int
open_parent(struct walk *w, int dfd, const char *name)
{
	struct stat st;
	int fd = openat(dfd, name, WALK_FLAGS);

	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
			return refuse(w, "cannot create: %s", strerror(errno));
		fd = openat(dfd, name, WALK_FLAGS);
	}
	if (fd < 0)
		return refuse_open(w, dfd, name, errno);
	if (fstat(fd, &st) < 0 || (st.st_uid != 0 && st.st_uid != w->service_uid && st.st_uid != w->uid)) {
		close(fd);
		return refuse(w, "owned by uid %u, not root, the service's uid %u or the user's uid %u",
		    (unsigned)st.st_uid, (unsigned)w->service_uid, (unsigned)w->uid);
	}
	return fd;
}

/* The mail root itself: made by the user's uid, never by root, so that no
 * chown is ever needed; it must belong to the user whoever made it. */
static int
open_leaf(struct walk *w, int dfd, const char *name)
{
	uid_t owner = w->privileged ? w->uid : geteuid();
	struct stat st;
	int fd = openat(dfd, name, WALK_FLAGS), rc;

	if (fd < 0 && errno == ENOENT) {
		rc = w->privileged ? sandbox_mkdirat_as(dfd, name, w->uid, w->gid) : mkdirat(dfd, name, 0700);
		if (rc < 0 && errno != EEXIST)
			return refuse(w, "cannot create the Maildir: %s", strerror(errno));
		fd = openat(dfd, name, WALK_FLAGS);
	}
	if (fd < 0)
		return refuse_open(w, dfd, name, errno);
	if (fstat(fd, &st) < 0 || st.st_uid != owner) {
		close(fd);
		return refuse(w, "owned by uid %u, not the user's uid %u", (unsigned)st.st_uid,
		    (unsigned)owner);
	}
	return fd;
}

int
mailroot_open(const char *path, uid_t uid, gid_t gid, uid_t service_uid, int privileged,
    char *why, size_t whylen)
{
	struct walk w = { .path = path, .done = strlen(path), .uid = uid, .gid = gid,
		.service_uid = service_uid, .privileged = privileged, .why = why, .whylen = whylen };
	char name[NAME_MAX + 1];
	const char *p = path;
	int dfd, fd = -1;

	if (path[0] != '/' || path[1] == '\0')
		return refuse(&w, "not an absolute path below /");
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return refuse(&w, "cannot open /: %s", strerror(errno));
	while (*p != '\0') {
		const char *end;
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		w.done = (size_t)(end - path);
		if (end == p || (size_t)(end - p) > NAME_MAX || !strncmp(p, ".", (size_t)(end - p)) ||
		    !strncmp(p, "..", (size_t)(end - p))) {
			fd = refuse(&w, "empty, '.', '..' or overlong component");
			break;
		}
		memcpy(name, p, (size_t)(end - p));
		name[end - p] = '\0';
		fd = *end == '\0' ? open_leaf(&w, dfd, name) : open_parent(&w, dfd, name);
		close(dfd);
		dfd = fd;
		if (fd < 0 || *end == '\0')
			break;
		p = end;
	}
	if (fd < 0 && dfd >= 0)
		close(dfd);
	return fd;
}
