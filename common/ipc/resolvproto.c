/* resolvproto.c - encoding and decoding the DNSBL lookups (see
 * resolvproto.h). */
#include "resolvproto.h"

#include <arpa/inet.h>
#include <string.h>

#include "../base/config.h"

static int
numeric_ip(const char *ip)
{
	uint8_t bin[16];

	return inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, bin) == 1;
}

static int
hex24(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == RESOLVPROTO_SID_MAX - 1;
}

void
resolvproto_check_put(struct ipc_out *o, const struct resolvd_check *c)
{
	ipc_out_init(o, MSG_RESOLVD_CHECK);
	ipc_put_u32(o, c->id);
	ipc_put_str(o, c->sid);
	ipc_put_str(o, c->ip);
}

int
resolvproto_check_get(struct ipc_in *in, struct resolvd_check *c)
{
	c->id = ipc_get_u32(in);
	ipc_get_str(in, c->sid, sizeof(c->sid));
	ipc_get_str(in, c->ip, sizeof(c->ip));
	if (ipc_in_end_no_fd(in) < 0 || c->id == 0 || !hex24(c->sid) || !numeric_ip(c->ip)) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	return 0;
}

void
resolvproto_socket_put(struct ipc_out *o, uint32_t index, int fd)
{
	ipc_out_init(o, MSG_RESOLVD_SOCKET);
	ipc_put_u32(o, index);
	ipc_put_fd(o, fd);
}

int
resolvproto_socket_get(struct ipc_in *in, uint32_t *index_r)
{
	*index_r = ipc_get_u32(in);
	if (ipc_in_end(in) < 0 || in->fd < 0 || *index_r >= DNS_RESOLVERS_MAX)
		return -1;
	return 0;
}

void
resolvproto_verdict_put(struct ipc_out *o, uint16_t type, const struct dnsbl_verdict *v)
{
	ipc_out_init(o, type);
	ipc_put_u32(o, v->id);
	ipc_put_u32(o, v->status);
	ipc_put_str(o, v->zone);
	ipc_put_str(o, v->addr);
	ipc_put_str(o, v->text);
}

/* The characters dns.c lets a zone name have (or ""). */
static int
zone_chars(const char *z)
{
	size_t i;

	for (i = 0; z[i] != '\0'; i++)
		if (!((z[i] >= 'a' && z[i] <= 'z') || (z[i] >= 'A' && z[i] <= 'Z') ||
		    (z[i] >= '0' && z[i] <= '9') || z[i] == '-' || z[i] == '_' || z[i] == '.'))
			return 0;
	return 1;
}

int
resolvproto_verdict_get(struct ipc_in *in, struct dnsbl_verdict *v)
{
	uint8_t a[4];

	v->id = ipc_get_u32(in);
	v->status = ipc_get_u32(in);
	ipc_get_str(in, v->zone, sizeof(v->zone));
	ipc_get_str(in, v->addr, sizeof(v->addr));
	ipc_get_str(in, v->text, sizeof(v->text));
	if (ipc_in_end_no_fd(in) < 0 || v->status > DNSBL_ERROR || !zone_chars(v->zone) ||
	    !ipc_text_printable(v->text) || (v->status == DNSBL_CLEAN && v->zone[0] != '\0') ||
	    (v->status == DNSBL_LISTED && (v->zone[0] == '\0' ||
	    inet_pton(AF_INET, v->addr, a) != 1)) || (v->status != DNSBL_LISTED && v->addr[0] != '\0'))
		goto bad;
	return 0;
bad:
	memset(v, 0, sizeof(*v));
	return -1;
}
