/* version.h - the version every binary reports: `git describe --always
 * --dirty` of the tree it was built from (the Makefile writes it into
 * build/gen/version_gen.h), or "unknown" when built without git. */
#ifndef POSTERN_VERSION_H
#define POSTERN_VERSION_H

/* The version string (static storage, never NULL). */
const char *version_string(void);

/* For the brokers' -h and -V (they are started by postern-master, never
 * by hand): print "PROG VERSION" for 'V', else the one-line usage, to
 * stdout, and exit 0. */
void version_or_help(const char *prog, int opt) __attribute__((noreturn));

#endif
