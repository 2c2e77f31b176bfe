/* fuzz_authdproto.c - what authd decodes from the master: the IPC frame,
 * then MSG_AUTHD_CONFIG.  A decoded config has terminated strings within
 * their fields and only values the master can send. */
#include <string.h>

#include "../common/authdproto.h"
#include "../common/proto.h"
#include "fuzz.h"

static struct ipc_in in;
static struct authd_config c;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > IPC_MAX_MSG || ipc_decode(&in, data, size, 0) < 0)
		return 0;
	in.fd = -1;
	if (in.type != MSG_AUTHD_CONFIG)
		return 0;
	if (authdproto_config_get(&in, &c) == 0) {
		CHECK(c.have == 1);
		CHECK(memchr(c.default_domain, '\0', sizeof(c.default_domain)) != NULL);
		CHECK(memchr(c.mail_root, '\0', sizeof(c.mail_root)) != NULL);
		CHECK(c.ipv6_prefix <= 128 && c.max_checks_per_s > 0);
	} else {
		CHECK(c.have == 0);
	}
	return 0;
}
