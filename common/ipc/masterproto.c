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
	if (ipc_in_end_no_fd(in) < 0 || (ip_r[0] != '\0' && !numeric_ip(ip_r))) {
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
	if (ipc_in_end_no_fd(in) < 0 || !numeric_ip(ip_r)) {
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
	ipc_get_str(in, text_r, MASTERPROTO_TEXT_MAX);
	if (ipc_in_end_no_fd(in) < 0 || !ipc_text_printable(text_r))
		goto bad;
	return 0;
bad:
	text_r[0] = '\0';
	return -1;
}

void
masterproto_store_put(struct ipc_out *o, int fd)
{
	masterproto_fd_put(o, MSG_WORKER_STORE, fd);
}

int
masterproto_store_get(struct ipc_in *in)
{
	return ipc_in_end(in) < 0 || in->fd < 0 ? -1 : 0;
}

void
masterproto_fd_put(struct ipc_out *o, uint16_t type, int fd)
{
	ipc_out_init(o, type);
	ipc_put_fd(o, fd);
}

void
masterproto_rcpt_put(struct ipc_out *o, uint32_t id, const char *address)
{
	ipc_out_init(o, MSG_MASTER_RCPT);
	ipc_put_u32(o, id);
	if (strlen(address) > MASTERPROTO_ADDRESS_MAX)
		o->err = 1;
	ipc_put_str(o, address);
}

int
masterproto_rcpt_get(struct ipc_in *in, struct master_rcpt *r)
{
	r->id = ipc_get_u32(in);
	ipc_get_str(in, r->address, sizeof(r->address));
	if (ipc_in_end_no_fd(in) < 0 || r->address[0] == '\0') {
		r->address[0] = '\0';
		return -1;
	}
	return 0;
}

void
masterproto_rcpt_result_put(struct ipc_out *o, const struct master_rcpt_result *r)
{
	uint32_t i;

	ipc_out_init(o, MSG_WORKER_RCPT);
	ipc_put_u32(o, r->id);
	ipc_put_u32(o, r->status);
	ipc_put_u32(o, r->n);
	for (i = 0; i < r->n && i < MASTERPROTO_TARGETS_MAX; i++)
		ipc_put_u32(o, r->index[i]);
	if (r->n > MASTERPROTO_TARGETS_MAX)
		o->err = 1;
}

int
masterproto_rcpt_result_get(struct ipc_in *in, struct master_rcpt_result *r)
{
	uint32_t i, j;

	memset(r, 0, sizeof(*r));
	r->id = ipc_get_u32(in);
	r->status = ipc_get_u32(in);
	r->n = ipc_get_u32(in);
	if (r->n > MASTERPROTO_TARGETS_MAX)
		return -1;
	for (i = 0; i < r->n; i++)
		r->index[i] = ipc_get_u32(in);
	/* status: an enum authd_lookup_status (0..5); only a found one has
	 * indexes, at least one, each once */
	if (ipc_in_end_no_fd(in) < 0 || r->status > 5 || (r->status == 0) != (r->n > 0))
		return -1;
	for (i = 0; i < r->n; i++) {
		if (r->index[i] >= MASTERPROTO_RCPT_MAX)
			return -1;
		for (j = 0; j < i; j++)
			if (r->index[j] == r->index[i])
				return -1;
	}
	return 0;
}

void
masterproto_deliver_put(struct ipc_out *o, uint32_t index)
{
	ipc_out_init(o, MSG_MASTER_DELIVER);
	ipc_put_u32(o, index);
}

int
masterproto_deliver_get(struct ipc_in *in, uint32_t *index_r)
{
	*index_r = ipc_get_u32(in);
	return ipc_in_end_no_fd(in) < 0 || *index_r >= MASTERPROTO_RCPT_MAX ? -1 : 0;
}

void
masterproto_empty_put(struct ipc_out *o, uint16_t type)
{
	ipc_out_init(o, type);
}

int
masterproto_empty_get(struct ipc_in *in)
{
	return ipc_in_end_no_fd(in);
}
