/* fuzz_config.c - config_parse() over the input as a configuration file.
 *
 * The input is the file text.  On success the values must hold the
 * invariants the daemons rely on (terminated strings, absolute paths, no
 * uid/gid 0, buffer limits); on failure the message must name the file and
 * a line.  The text is then parsed again over the result ("key set twice"
 * is per call): it must load again and give the very same values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/base/config.h"
#include "fuzz.h"



#define U32MAX 0xffffffffULL

static void
check_str(const char *s, int path)
{
	size_t l = strnlen(s, CONFIG_PATH_MAX);

	CHECK(l < CONFIG_PATH_MAX);
	CHECK(memchr(s, '\n', l) == NULL);
	if (path)
		CHECK(s[0] == '/');
}

/* Invariants the daemons rely on (common/base/config.c's table has the full
 * ranges; only the ones that protect memory and privileges are repeated). */
static void
check_config(const struct config *c)
{
	check_str(c->state_dir, 1);
	check_str(c->userdb_path, 1);
	check_str(c->mail_root_template, 0);
	check_str(c->empty_root, 1);
	check_str(c->libexec_dir, 0);
	check_str(c->default_domain, 0);
	check_str(c->pop3_listen, 0);
	check_str(c->pop3_worker, 0);
	/* never root, never (uid_t)-1 */
	CHECK(c->auth_uid >= 1 && c->auth_uid < U32MAX);
	CHECK(c->auth_gid >= 1 && c->auth_gid < U32MAX);
	CHECK(c->worker_uid >= 1 && c->worker_uid < U32MAX);
	CHECK(c->worker_gid >= 1 && c->worker_gid < U32MAX);
	CHECK(c->mail_uid >= 1 && c->mail_uid < U32MAX);
	CHECK(c->mail_gid >= 1 && c->mail_gid < U32MAX);
	/* buffers and limits sized from these */
	CHECK(c->pop3_max_line >= 64 && c->pop3_max_line <= 65536);
	CHECK(c->max_daemons >= 1 && c->max_per_ip >= 1);
	CHECK(c->pop3_max_messages >= 1 && c->pop3_max_bad_commands >= 1);
	CHECK(c->userdb_map_size >= 1048576 && c->worker_max_memory >= 16777216);
	CHECK(c->debug_seccomp == 0 || c->debug_seccomp == 1);
	CHECK(c->test_triggers == 0 || c->test_triggers == 1);
}

static void
check_err(const char *err, size_t errlen)
{
	size_t l = strnlen(err, errlen);

	CHECK(l < errlen);
	CHECK(strncmp(err, "fuzz.conf:", l < 10 ? l : 10) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, first;
	char err[256], tiny[12];
	const char *text = (const char *)data;
	int rc;

	config_defaults(&c);
	check_config(&c);
	memset(err, 'x', sizeof(err));
	rc = config_parse(&c, "fuzz.conf", text, size, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		check_err(err, sizeof(err));
		/* a message cut to a small buffer stays terminated */
		config_defaults(&c);
		memset(tiny, 'x', sizeof(tiny));
		CHECK(config_parse(&c, "fuzz.conf", text, size, tiny, sizeof(tiny)) == -1);
		check_err(tiny, sizeof(tiny));
		return 0;
	}
	check_config(&c);
	memcpy(&first, &c, sizeof(c));
	rc = config_parse(&c, "fuzz.conf", text, size, err, sizeof(err));
	CHECK(rc == 0);
	CHECK(memcmp(&first, &c, sizeof(c)) == 0);
	return 0;
}
