/* masterproto.c - encoding and decoding the worker control channel. */
#include "masterproto.h"

#include <arpa/inet.h>
#include <string.h>

/* A numeric address of either family ("" refused: callers allow it). */
static int
numeric_ip(const char *ip)
{
	uint8_t bin[16];

	return inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, bin) == 1;
}

static int
end_no_fd(struct ipc_in *in)
{
	return ipc_in_end(in) < 0 || in->fd >= 0 ? -1 : 0;
}

void
masterproto_proxy_put(struct ipc_out *o, const char *ip)
{
	ipc_out_init(o, MSG_MASTER_PROXY);
	ipc_put_str(o, ip);
}

int
masterproto_proxy_get(struct ipc_in *in, char ip_r[MASTERPROTO_IP_MAX])
{
	ipc_get_str(in, ip_r, MASTERPROTO_IP_MAX);
	if (end_no_fd(in) < 0 || (ip_r[0] != '\0' && !numeric_ip(ip_r))) {
		ip_r[0] = '\0';
		return -1;
	}
	return 0;
}

void
masterproto_proxy_ok_put(struct ipc_out *o, const char *ip)
{
	ipc_out_init(o, MSG_WORKER_PROXY_OK);
	ipc_put_str(o, ip);
}

int
masterproto_proxy_ok_get(struct ipc_in *in, char ip_r[MASTERPROTO_IP_MAX])
{
	ipc_get_str(in, ip_r, MASTERPROTO_IP_MAX);
	if (end_no_fd(in) < 0 || !numeric_ip(ip_r)) {
		ip_r[0] = '\0';
		return -1;
	}
	return 0;
}

void
masterproto_text_put(struct ipc_out *o, uint16_t type, const char *text)
{
	ipc_out_init(o, type);
	ipc_put_str(o, text);
}

int
masterproto_text_get(struct ipc_in *in, char text_r[MASTERPROTO_TEXT_MAX])
{
	size_t i;

	ipc_get_str(in, text_r, MASTERPROTO_TEXT_MAX);
	if (end_no_fd(in) < 0)
		goto bad;
	for (i = 0; text_r[i] != '\0'; i++)
		if (text_r[i] < 0x20 || text_r[i] > 0x7e)
			goto bad;
	return 0;
bad:
	text_r[0] = '\0';
	return -1;
}

void
masterproto_store_put(struct ipc_out *o, int fd)
{
	ipc_out_init(o, MSG_WORKER_STORE);
	ipc_put_fd(o, fd);
}

int
masterproto_store_get(struct ipc_in *in)
{
	return ipc_in_end(in) < 0 || in->fd < 0 ? -1 : 0;
}
