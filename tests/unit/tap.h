/* tap.h - minimal TAP output for unit tests: "ok N - name" / "not ok N - name".
 * tests/runner.py counts these lines; a test binary exits 1 if any failed. */
#ifndef POSTERN_TAP_H
#define POSTERN_TAP_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int tap_n, tap_failed;

/* Record one check; prints the expression on failure. */
#define CHECK(cond, name) tap_check((cond) != 0, name, #cond, __FILE__, __LINE__)

static inline void
tap_check(int ok, const char *name, const char *expr, const char *file, int line)
{
	tap_n++;
	if (ok) {
		printf("ok %d - %s\n", tap_n, name);
	} else {
		tap_failed++;
		printf("not ok %d - %s\n#   %s:%d: %s\n", tap_n, name, file, line, expr);
	}
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/* A fresh directory /tmp/postern-test-NAME-XXXXXX in dir (len bytes);
 * 0, or -1 after recording the failure. */
static inline int
tap_tmpdir(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/postern-test-%s-XXXXXX", name);
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return -1;
	}
	return 0;
}

static inline int
tap_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Remove dir and everything below it (symlinks are not followed). */
static inline void
tap_rmtree(const char *dir)
{
	CHECK(nftw(dir, tap_rm_one, 8, FTW_DEPTH | FTW_PHYS) == 0, "temp dir removed");
}

/* n bytes from 2n hex digits (either case) into out; 0, or -1 when hex
 * is not exactly that. */
static inline int
tap_unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t i;
	unsigned v;

	if (strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

#endif
