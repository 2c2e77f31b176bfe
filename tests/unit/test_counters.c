/* test_counters.c - the brokers' counters pages: fixed indices that stay
 * inside the page, label tables without holes, a mapping that refuses
 * what is not a page, and increments that ignore what is out of range. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/ipc/counters.h"
#include "tap.h"

static void
test_indices(void)
{
	long a = counters_login_index("pop3", COUNTERS_MECH_USER, 0);
	long b = counters_login_index("imap", COUNTERS_MECH_PLAIN, AUTH_FAIL_CREDENTIALS);
	long last = counters_login_index("metrics", COUNTERS_MECH_OTHER, AUTH_FAIL_MAX);
	size_t i;
	int holes = 0;

	CHECK(a >= COUNTERS_AUTHD_LOGINS && b > a && b != a, "login indices differ");
	CHECK(last >= 0 && last < COUNTERS_AUTHD_THROTTLE, "the last login index is below the throttle's");
	CHECK(counters_login_index("nosuch", COUNTERS_MECH_USER, 0) == -1, "an unknown service: no index");
	CHECK(counters_login_index("pop3", COUNTERS_MECH_USER, AUTH_FAIL_MAX + 1) == -1,
	    "an unknown result: no index");
	CHECK(counters_mech("user") == COUNTERS_MECH_USER && counters_mech("PLAIN") == COUNTERS_MECH_PLAIN &&
	    counters_mech("login") == COUNTERS_MECH_LOGIN && counters_mech("X-\"evil\"") == COUNTERS_MECH_OTHER &&
	    counters_mech("") == COUNTERS_MECH_OTHER, "mechanisms map to the fixed set");
	for (i = 0; i < COUNTERS_RESULT_COUNT; i++)
		holes += counters_result_names[i] == NULL;
	for (i = 0; i < COUNTERS_REFUSED_COUNT; i++)
		holes += counters_refusal_names[i] == NULL;
	CHECK(holes == 0, "every index has a label value");
}

static void
test_page(void)
{
	int fd = memfd_create("t", MFD_CLOEXEC), small = memfd_create("s", MFD_CLOEXEC);
	uint64_t *p;

	CHECK(fd >= 0 && ftruncate(fd, COUNTERS_SIZE) == 0, "a page");
	p = counters_map(fd);
	CHECK(p != NULL, "a page of COUNTERS_SIZE maps");
	counters_inc(p, 5);
	counters_inc(p, 5);
	counters_inc(p, -1);
	counters_inc(p, COUNTERS_WORDS);
	counters_inc(NULL, 5);
	CHECK(p[5] == 2 && p[0] == 0 && p[COUNTERS_WORDS - 1] == 0, "increments stay in range");
	munmap(p, COUNTERS_SIZE);
	CHECK(small >= 0 && ftruncate(small, 100) == 0 && counters_map(small) == NULL,
	    "a file of another size is not a page");
	CHECK(counters_map(-1) == NULL, "no fd: not counting");
}

int
main(void)
{
	test_indices();
	test_page();
	return tap_done();
}
