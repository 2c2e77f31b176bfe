/* fuzz_ctlproto.c - the control socket: what the master decodes from
 * whatever connected (a request) and what posternctl decodes from the
 * master (a reply).  An accepted request names a known command with an
 * argument exactly when the command takes one, holds no byte a log line
 * or a terminal could be fooled by (controls, spaces, DEL), carries a
 * number only for stop and within the drain limit; an accepted reply has
 * a known status and printable text; both re-encode to the bytes received. */
#include <string.h>

#include "../common/ipc/ctlproto.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[CTLPROTO_TEXT_MAX];
	struct ctl_request r;
	uint8_t status;
	size_t i;

	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	if (in.type == MSG_CTL_REQUEST) {
		if (ctlproto_request_get(&in, &r) < 0) {
			CHECK(r.cmd == 0 && r.arg[0] == '\0' && r.num == 0);
			return 0;
		}
		CHECK(in.fd < 0);
		CHECK(ctlproto_cmd_arg(r.cmd) == (r.arg[0] != '\0'));
		CHECK(strlen(r.arg) <= CTLPROTO_ARG_MAX);
		for (i = 0; r.arg[i] != '\0'; i++)
			CHECK((unsigned char)r.arg[i] > 0x20 && (unsigned char)r.arg[i] != 0x7f);
		CHECK(r.num == 0 || (r.cmd == CTL_STOP && r.num <= CTLPROTO_DRAIN_MAX));
		ctlproto_request_put(&out, &r);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_CTL_REPLY) {
		if (ctlproto_reply_get(&in, &status, text) < 0) {
			CHECK(text[0] == '\0');
			return 0;
		}
		CHECK(status <= CTL_UNHEALTHY);
		for (i = 0; text[i] != '\0'; i++)
			CHECK(text[i] >= 0x20 && text[i] <= 0x7e);
		ctlproto_reply_put(&out, status, text, in.fd >= 0 ? FUZZ_FAKE_FD : -1);
		CHECK_REENCODES(out, in);
		CHECK((out.fd >= 0) == (in.fd >= 0));
	}
	return 0;
}
