/* mailroot.h - reach a user's mail root without following what a user may
 * have put in the way.
 *
 * The mail root and whatever lies below it belong to the user, and so may
 * be swapped for a symlink at any moment.  A privileged process therefore
 * never names them by path: it walks the path one component at a time with
 * O_PATH | O_NOFOLLOW | O_DIRECTORY fds, creates missing parents relative to
 * the fd of the directory above, has the mail root itself created by the
 * user's uid (sandbox_mkdirat_as), and hands back an fd of the directory it
 * checked, to be entered with fchdir + chroot(".").
 */
#ifndef POSTERN_MAILROOT_H
#define POSTERN_MAILROOT_H

#include <stddef.h>
#include <sys/types.h>

/* Open the mail root at path (absolute), creating missing parents (mode
 * 0755 less the umask, owned by the caller) and the mail root itself.
 * Refused: a component that is a symlink or not a directory, a parent owned
 * by anyone but root, service_uid (the uid the service runs as: systemd
 * User= creates parents as it) or uid, and a mail root not owned by uid.
 * privileged = 0 (no root, demo mode): the caller's euid stands for uid and
 * the mail root is created directly.
 * Returns an O_PATH directory fd, or -1 with a reason in why (the path of
 * the component and what is wrong with it). */
int mailroot_open(const char *path, uid_t uid, gid_t gid, uid_t service_uid, int privileged,
    char *why, size_t whylen);

#endif
