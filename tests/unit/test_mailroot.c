/* test_mailroot.c - the fd walk to a mail root: parents made, symlinks and
 * foreign owners refused, the Maildir made by the user's uid. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/mail/mailroot.h"
#include "tap.h"

static char dir[64];

static int
same_dir(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
refused(const char *path, int privileged, const char *reason)
{
	char why[512] = "";
	int fd = mailroot_open(path, 7100, 7100, 7050, privileged, why, sizeof(why));

	if (fd >= 0)
		close(fd);
	if (fd < 0 && strstr(why, reason) == NULL)
		printf("# why: %s\n", why);
	return fd < 0 && strstr(why, reason) != NULL;
}

static void
test_walk(void)
{
	char p[256], q[256], why[512];
	int fd;

	snprintf(p, sizeof(p), "%s/a/b/Maildir", dir);
	fd = mailroot_open(p, 7100, 7100, 7050, 0, why, sizeof(why));
	CHECK(fd >= 0 && same_dir(fd, p), "parents and Maildir created, fd is the Maildir");
	if (fd >= 0)
		close(fd);
	snprintf(q, sizeof(q), "%s/a/b", dir);
	CHECK(symlink(q, (snprintf(p, sizeof(p), "%s/link", dir), p)) == 0, "symlink to a parent");
	snprintf(p, sizeof(p), "%s/link/Maildir", dir);
	CHECK(refused(p, 0, "link: is a symlink"), "symlinked parent refused");
	snprintf(q, sizeof(q), "%s/a/b/Maildir", dir);
	CHECK(symlink(q, (snprintf(p, sizeof(p), "%s/a/leaf", dir), p)) == 0, "symlink as mail root");
	CHECK(refused(p, 0, "leaf: is a symlink"), "symlinked mail root refused");
	fd = open((snprintf(p, sizeof(p), "%s/a/file", dir), p), O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK(refused(p, 0, "file: is not a directory"), "a file as mail root refused");
	snprintf(p, sizeof(p), "%s/a/file/Maildir", dir);
	CHECK(refused(p, 0, "file: is not a directory"), "a file as parent refused");
	snprintf(p, sizeof(p), "%s/a/../a/x", dir);
	CHECK(refused(p, 0, "'..'"), "'..' refused");
	CHECK(refused("relative/x", 0, "absolute"), "relative path refused");
}

static void
test_privileged(void)
{
	char p[256], why[512];
	struct stat st;
	int fd;

	if (geteuid() != 0) {
		CHECK(1, "# SKIP not root");
		return;
	}
	snprintf(p, sizeof(p), "%s/priv", dir);
	mkdir(p, 0700);
	chmod(p, 02700);	/* a setgid parent must not give its group away */
	snprintf(p, sizeof(p), "%s/priv/user", dir);
	fd = mailroot_open(p, 7100, 7100, 7050, 1, why, sizeof(why));
	CHECK(fd >= 0 && same_dir(fd, p), "privileged: Maildir created");
	CHECK(stat(p, &st) == 0 && st.st_uid == 7100 && st.st_gid == 7100 && (st.st_mode & 07777) == 0700,
	    "made by the user's uid and gid, mode 0700, no setgid bit");
	if (fd >= 0)
		close(fd);
	CHECK(chown(p, 7200, 7200) == 0, "give the Maildir to uid 7200");
	CHECK(refused(p, 1, "owned by uid 7200, not the user's uid 7100"), "a Maildir of another uid refused");
	snprintf(p, sizeof(p), "%s/priv/user/sub/x", dir);
	CHECK(refused(p, 1, "owned by uid 7200, not root, the service's uid 7050 or the user's uid 7100"),
	    "a parent of another uid refused");
	snprintf(p, sizeof(p), "%s/svc", dir);
	mkdir(p, 0700);
	CHECK(chown(p, 7050, 7050) == 0, "a parent of the service's uid");
	snprintf(p, sizeof(p), "%s/svc/user", dir);
	fd = mailroot_open(p, 7100, 7100, 7050, 1, why, sizeof(why));
	CHECK(fd >= 0, "a parent owned by the service's uid is accepted");
	if (fd >= 0)
		close(fd);
}


int
main(void)
{
	if (tap_tmpdir(dir, sizeof(dir), "mailroot") < 0)
		return tap_done();
	test_walk();
	test_privileged();
	tap_rmtree(dir);
	return tap_done();
}
