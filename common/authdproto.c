/* authdproto.c - the master -> authd configuration message. */
#include "authdproto.h"

#include <string.h>

#include "proto.h"

void
authdproto_config_put(struct ipc_out *o, const struct config *c)
{
	ipc_out_init(o, MSG_AUTHD_CONFIG);
	ipc_put_str(o, c->default_domain);
	ipc_put_str(o, c->mail_root_template);
	ipc_put_u32(o, (uint32_t)c->mail_uid);
	ipc_put_u32(o, (uint32_t)c->mail_gid);
	ipc_put_u32(o, (uint32_t)c->auth_fail_ip_max);
	ipc_put_u32(o, (uint32_t)c->auth_fail_user_max);
	ipc_put_u32(o, (uint32_t)c->auth_fail_window);
	ipc_put_u32(o, (uint32_t)c->auth_fail_delay_ms);
	ipc_put_u32(o, (uint32_t)c->auth_trusted_window);
	ipc_put_u32(o, (uint32_t)c->auth_ipv6_prefix);
	ipc_put_u32(o, (uint32_t)c->auth_max_checks_per_second);
}

int
authdproto_config_get(struct ipc_in *in, struct authd_config *r)
{
	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->default_domain, sizeof(r->default_domain));
	ipc_get_str(in, r->mail_root, sizeof(r->mail_root));
	r->mail_uid = ipc_get_u32(in);
	r->mail_gid = ipc_get_u32(in);
	r->fail_ip_max = ipc_get_u32(in);
	r->fail_user_max = ipc_get_u32(in);
	r->window_s = ipc_get_u32(in);
	r->delay_ms = ipc_get_u32(in);
	r->trusted_window_s = ipc_get_u32(in);
	r->ipv6_prefix = ipc_get_u32(in);
	r->max_checks_per_s = ipc_get_u32(in);
	/* the master validated these; a value it could not have sent is a bug */
	if (ipc_in_end(in) < 0 || r->ipv6_prefix > 128 || r->max_checks_per_s == 0) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	r->have = 1;
	return 0;
}
