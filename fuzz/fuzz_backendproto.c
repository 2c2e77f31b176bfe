/* fuzz_backendproto.c - the channel between authd and a backend helper.
 * What a helper decodes from authd (a request) and what authd decodes
 * from a helper, which it trusts no further than this decoder (a reply):
 * an accepted message names only well-formed values (names, hashes,
 * canonical mail roots, known flags, nothing beside a non-FOUND status)
 * and re-encodes to the bytes received. */
#include <string.h>

#include "../common/base/config.h"
#include "../common/ipc/backendproto.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backend_request q;
	struct backend_reply r;

	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	if (in.type == MSG_BACKEND_REQUEST) {
		if (backendproto_request_get(&in, &q) < 0)
			return 0;
		CHECK(backendproto_name_ok(q.name) && q.passlen <= BACKEND_PASS_MAX);
		CHECK(q.kind == BACKEND_LOGIN || (q.passlen == 0 && q.service[0] == '\0'));
		backendproto_request_put(&out, &q);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_BACKEND_REPLY) {
		if (backendproto_reply_get(&in, &r) < 0)
			return 0;
		CHECK(r.status <= BACKEND_STATUS_MAX && (r.flags & ~(uint32_t)BACKEND_FLAGS) == 0);
		if (r.status == BACKEND_FOUND)
			CHECK(backendproto_name_ok(r.user) && backendproto_hash_ok(r.hash) &&
			    (r.mail_root[0] == '\0' || config_path_canonical(r.mail_root)) &&
			    !(r.verified && r.hash[0] != '\0'));
		else
			CHECK(r.user[0] == '\0' && r.hash[0] == '\0' && r.mail_root[0] == '\0' &&
			    !r.verified);
		backendproto_reply_put(&out, &r);
		CHECK_REENCODES(out, in);
	}
	return 0;
}
