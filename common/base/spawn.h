/* spawn.h - fork+exec of a child with fixed descriptors.
 *
 * The "fork" is clone(CLONE_VM | CLONE_VFORK) (spawn.c says why); for the
 * caller it behaves as fork+exec, except that spawn_child returns only
 * once the child has exec'd or exited.
 *
 * The child gets /dev/null on 0 and 1, log_fd on 2 (its own log pipe, or
 * the parent's stderr when log_fd is -1), fds[i] on 3+i, and nothing else:
 * every other descriptor is closed, the signal mask and dispositions are
 * reset, the environment is empty, and the child leads a session and
 * process group of its own (setsid).
 */
#ifndef POSTERN_SPAWN_H
#define POSTERN_SPAWN_H

#include <sys/types.h>

/* Start path with argv (argv[0] included, NULL-terminated). Returns the pid,
 * or -1 if fork failed.  A failed exec exits the child with status 127. */
pid_t spawn_child(const char *path, char *const argv[], const int *fds, int nfds, int log_fd);

#endif
