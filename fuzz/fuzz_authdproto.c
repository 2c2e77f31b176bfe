/* fuzz_authdproto.c - what authd decodes from the master: the IPC frame,
 * then MSG_AUTHD_CONFIG or MSG_AUTHD_LOOKUP; and what the master decodes
 * from authd: MSG_MASTER_LOOKUP_RESULT.  A decoded config has terminated
 * strings within their fields and only values the master can send; a
 * decoded lookup result re-encodes to the bytes received. */
#include <string.h>

#include "../common/ipc/authdproto.h"
#include "../common/ipc/proto.h"
#include "fuzz.h"

static struct ipc_in in;
static struct ipc_out out;
static struct authd_config c;
static struct authd_lookup q;
static struct authd_lookup_result r;

static void
lookups(void)
{
	if (in.type == MSG_AUTHD_LOOKUP) {
		if (authdproto_lookup_get(&in, &q) == 0)
			CHECK(strlen(q.address) <= AUTHD_ADDRESS_MAX);
		return;
	}
	if (authdproto_lookup_result_get(&in, &r) < 0)
		return;
	CHECK(r.status <= AUTHD_LOOKUP_TEMP);
	CHECK(r.status != AUTHD_LOOKUP_FOUND || (r.uid != 0 && r.gid != 0 && r.mail_root[0] == '/'));
	authdproto_lookup_result_put(&out, &r);
	CHECK(out.err == 0 && out.len == IPC_HDR_LEN + in.len &&
	    memcmp(out.data + IPC_HDR_LEN, in.data + IPC_HDR_LEN, in.len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > IPC_MAX_MSG || ipc_decode(&in, data, size, 0) < 0)
		return 0;
	in.fd = -1;
	if (in.type == MSG_AUTHD_LOOKUP || in.type == MSG_MASTER_LOOKUP_RESULT) {
		lookups();
		return 0;
	}
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
