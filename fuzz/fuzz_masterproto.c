/* fuzz_masterproto.c - the worker control channel: what the master decodes
 * from a (possibly compromised) worker (MSG_MASTER_PROXY: an address or
 * nothing) and what a worker decodes from the master (the stored fd, the
 * PROXY verdict, refusal texts).  Accepted addresses are numeric, texts
 * printable, and every decoded message re-encodes to the bytes received. */
#include <arpa/inet.h>
#include <string.h>

#include "../common/ipc/masterproto.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;

static int
numeric(const char *ip)
{
	uint8_t bin[16];

	return inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1;
}

/* The mail-intake messages. */
static void
intake(void)
{
	struct master_rcpt_result res;
	static struct master_rcpt r;
	uint32_t index;

	if (in.type == MSG_MASTER_RCPT && masterproto_rcpt_get(&in, &r) == 0) {
		CHECK(r.address[0] != '\0' && strlen(r.address) <= MASTERPROTO_ADDRESS_MAX);
		masterproto_rcpt_put(&out, r.id, r.address);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_WORKER_RCPT && masterproto_rcpt_result_get(&in, &res) == 0) {
		CHECK((res.status == 0) == (res.n > 0) && res.n <= MASTERPROTO_TARGETS_MAX);
		for (index = 0; index < res.n; index++)
			CHECK(res.index[index] < MASTERPROTO_RCPT_MAX);
		masterproto_rcpt_result_put(&out, &res);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_MASTER_DELIVER && masterproto_deliver_get(&in, &index) == 0) {
		masterproto_deliver_put(&out, index);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_MASTER_RESET && masterproto_empty_get(&in) == 0) {
		CHECK(in.len == 0 && in.fd < 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ip[MASTERPROTO_IP_MAX], text[MASTERPROTO_TEXT_MAX];
	size_t i;

	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	switch (in.type) {
	case MSG_MASTER_PROXY:
		if (masterproto_proxy_get(&in, ip) == 0) {
			CHECK(ip[0] == '\0' || numeric(ip));
			masterproto_proxy_put(&out, ip);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_WORKER_PROXY_OK:
		if (masterproto_proxy_ok_get(&in, ip) == 0) {
			CHECK(numeric(ip));
			masterproto_proxy_ok_put(&out, ip);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_WORKER_PROXY_REFUSE:
	case MSG_WORKER_STORE_FAIL:
		if (masterproto_text_get(&in, text) == 0) {
			for (i = 0; text[i] != '\0'; i++)
				CHECK(text[i] >= 0x20 && text[i] <= 0x7e);
			masterproto_text_put(&out, in.type, text);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_WORKER_STORE:
	case MSG_WORKER_DELIVER:
		if (masterproto_store_get(&in) == 0)
			CHECK(in.fd >= 0 && in.len == 0);
		break;
	default:
		intake();
		break;
	}
	return 0;
}
