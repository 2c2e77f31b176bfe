/* tap.h - minimal TAP output for unit tests: "ok N - name" / "not ok N - name".
 * tests/runner.py counts these lines; a test binary exits 1 if any failed. */
#ifndef POSTERN_TAP_H
#define POSTERN_TAP_H

#include <stdio.h>

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

#endif
