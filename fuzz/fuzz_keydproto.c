/* fuzz_keydproto.c - what keyd decodes from a (possibly compromised)
 * worker: the IPC frame, then the request of that type.  Decoded fields
 * must lie inside the message and respect the documented sizes. */
#include <string.h>

#include "../common/keydproto.h"
#include "../common/proto.h"
#include "fuzz.h"

static struct ipc_in in;

static int
inside(const uint8_t *p, size_t len)
{
	return p >= in.data + IPC_HDR_LEN && p + len <= in.data + IPC_HDR_LEN + in.len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyd_sign_req s;
	struct keyd_keyx_req k;
	struct keyd_cache_req c;

	if (size > IPC_MAX_MSG || ipc_decode(&in, data, size, 0) < 0)
		return 0;
	in.fd = -1;
	switch (in.type) {
	case MSG_KEYD_SIGN:
		if (keydproto_sign(&in, &s) == 0)
			CHECK(s.hvlen >= 1 && s.hvlen <= KEYD_HASH_MAX && inside(s.hv, s.hvlen));
		break;
	case MSG_KEYD_KEYX:
		if (keydproto_keyx(&in, &k) == 0)
			CHECK(k.len >= 59 && k.len <= KEYD_KEYX_MAX && inside(k.data, k.len));
		break;
	case MSG_KEYD_CACHE_SAVE:
		if (keydproto_cache_save(&in, &c) == 0)
			CHECK(inside(c.id, KEYD_SESSION_ID_LEN) && inside(c.master, KEYD_MASTER_LEN));
		break;
	case MSG_KEYD_CACHE_LOAD:
		if (keydproto_cache_load(&in, &c) == 0)
			CHECK(inside(c.id, KEYD_SESSION_ID_LEN) && c.master == NULL);
		break;
	default:
		break;
	}
	return 0;
}
