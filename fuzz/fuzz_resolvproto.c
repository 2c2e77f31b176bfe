/* fuzz_resolvproto.c - the DNSBL lookups' messages: what resolverd decodes
 * from the master (a check, a socket), what the master decodes from
 * resolverd (which parses the network's bytes, and may be compromised)
 * and what smtpd decodes from the master (the verdict).  Accepted
 * addresses are numeric, zones DNS names' characters, texts printable,
 * and every decoded message re-encodes to the bytes received. */
#include <arpa/inet.h>
#include <string.h>

#include "../common/ipc/masterproto.h"
#include "../common/ipc/resolvproto.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsbl_verdict v;
	struct resolvd_check c;
	uint8_t bin[16];
	uint32_t index;
	size_t i;

	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	switch (in.type) {
	case MSG_RESOLVD_CHECK:
		if (resolvproto_check_get(&in, &c) == 0) {
			CHECK(c.id != 0 && strlen(c.sid) == 24);
			CHECK(inet_pton(AF_INET, c.ip, bin) == 1 || inet_pton(AF_INET6, c.ip, bin) == 1);
			resolvproto_check_put(&out, &c);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_RESOLVD_SOCKET:
		if (resolvproto_socket_get(&in, &index) == 0) {
			CHECK(index < DNS_RESOLVERS_MAX && in.fd >= 0);
			resolvproto_socket_put(&out, index, in.fd);
			CHECK_REENCODES(out, in);
		}
		break;
	case MSG_MASTER_DNSBL_RESULT:
	case MSG_WORKER_DNSBL:
		if (resolvproto_verdict_get(&in, &v) == 0) {
			CHECK(v.status <= DNSBL_ERROR);
			CHECK(v.status != DNSBL_LISTED || inet_pton(AF_INET, v.addr, bin) == 1);
			for (i = 0; v.text[i] != '\0'; i++)
				CHECK(v.text[i] >= 0x20 && v.text[i] <= 0x7e);
			resolvproto_verdict_put(&out, in.type, &v);
			CHECK_REENCODES(out, in);
		}
		break;
	}
	return 0;
}
