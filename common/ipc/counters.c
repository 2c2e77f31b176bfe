/* counters.c - the brokers' counters pages (see counters.h). */
#include "counters.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"

const char *const counters_mech_names[COUNTERS_MECH_COUNT] = {
	[COUNTERS_MECH_USER] = "user", [COUNTERS_MECH_PLAIN] = "plain",
	[COUNTERS_MECH_LOGIN] = "login", [COUNTERS_MECH_OTHER] = "other",
};

const char *const counters_result_names[COUNTERS_RESULT_COUNT] = {
	[0] = "ok",
	[AUTH_FAIL_CREDENTIALS] = "credentials",
	[AUTH_FAIL_THROTTLED] = "throttled",
	[AUTH_FAIL_SYNTAX] = "syntax",
	[AUTH_FAIL_MECH] = "mechanism",
	[AUTH_FAIL_ABORTED] = "aborted",
	[AUTH_FAIL_TEMP] = "temporary",
	[AUTH_FAIL_DISABLED] = "disabled",
	[AUTH_FAIL_AUTHZ] = "authzid",
};

const char *const counters_throttle_names[COUNTERS_THROTTLE_COUNT] = {
	[COUNTERS_THROTTLE_IP] = "ip", [COUNTERS_THROTTLE_USER] = "user",
	[COUNTERS_THROTTLE_RATE] = "rate",
};

const char *const counters_key_names[COUNTERS_KEY_COUNT] = {
	[COUNTERS_KEY_RSA] = "rsa", [COUNTERS_KEY_EC] = "ec",
};

const char *const counters_op_names[COUNTERS_OP_COUNT] = {
	[COUNTERS_OP_SIGN] = "sign", [COUNTERS_OP_KEYX] = "keyx",
};

const char *const counters_refusal_names[COUNTERS_REFUSED_COUNT] = {
	[COUNTERS_REFUSED_UNKNOWN_KEY] = "unknown_key",
	[COUNTERS_REFUSED_ALGORITHM] = "algorithm",
	[COUNTERS_REFUSED_NOT_SKE] = "not_key_exchange",
	[COUNTERS_REFUSED_SIGN_FAILED] = "sign_failed",
	[COUNTERS_REFUSED_KEYX_OFF] = "rsa_kx_off",
	[COUNTERS_REFUSED_SECOND_OP] = "second_operation",
};

enum counters_mech
counters_mech(const char *mech)
{
	if (strcasecmp(mech, "USER") == 0)
		return COUNTERS_MECH_USER;
	if (strcasecmp(mech, "PLAIN") == 0)
		return COUNTERS_MECH_PLAIN;
	if (strcasecmp(mech, "LOGIN") == 0)
		return COUNTERS_MECH_LOGIN;
	return COUNTERS_MECH_OTHER;
}

long
counters_login_index(const char *service, enum counters_mech mech, uint32_t result)
{
	const struct service *s = service_by_name(service, strlen(service));

	if (s == NULL || (unsigned)mech >= COUNTERS_MECH_COUNT || result >= COUNTERS_RESULT_COUNT)
		return -1;
	return COUNTERS_AUTHD_LOGINS + ((long)(s - service_table) * COUNTERS_MECH_COUNT +
	    (long)mech) * COUNTERS_RESULT_COUNT + (long)result;
}

uint64_t *
counters_map(int fd)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0 || (size_t)st.st_size != COUNTERS_SIZE) {
		log_event(LOG_LEVEL_WARN, "counters", "reason=\"no counters page on fd %d; not "
		    "counting\" errno=%d", fd, errno);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, COUNTERS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_event(LOG_LEVEL_WARN, "counters", "reason=\"cannot map the counters page; not "
		    "counting\" errno=%d", errno);
		return NULL;
	}
	return p;
}

void
counters_inc(uint64_t *page, long idx)
{
	if (page == NULL || idx < 0 || idx >= COUNTERS_WORDS)
		return;
	/* one writer; relaxed is enough for a reader that takes a snapshot */
	__atomic_fetch_add(&page[idx], 1, __ATOMIC_RELAXED);
}
