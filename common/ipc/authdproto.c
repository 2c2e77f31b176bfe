/* authdproto.c - the master <-> authd configuration and lookup messages. */
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

void
authdproto_lookup_put(struct ipc_out *o, uint32_t id, const char *address)
{
	ipc_out_init(o, MSG_AUTHD_LOOKUP);
	ipc_put_u32(o, id);
	if (strlen(address) > AUTHD_ADDRESS_MAX)
		o->err = 1;
	ipc_put_str(o, address);
}

int
authdproto_lookup_get(struct ipc_in *in, struct authd_lookup *r)
{
	r->id = ipc_get_u32(in);
	ipc_get_str(in, r->address, sizeof(r->address));
	return ipc_in_end(in) < 0 || in->fd >= 0 ? -1 : 0;
}

void
authdproto_lookup_result_put(struct ipc_out *o, const struct authd_lookup_result *r)
{
	ipc_out_init(o, MSG_MASTER_LOOKUP_RESULT);
	ipc_put_u32(o, r->id);
	ipc_put_u32(o, r->status);
	ipc_put_str(o, r->user);
	ipc_put_u32(o, r->uid);
	ipc_put_u32(o, r->gid);
	ipc_put_u64(o, r->quota);
	ipc_put_str(o, r->mail_root);
}

/* Meaning, beyond form: what a FOUND result needs, and nothing otherwise. */
static int
lookup_result_valid(const struct authd_lookup_result *r)
{
	if (r->status == AUTHD_LOOKUP_FOUND)
		return r->user[0] != '\0' && r->uid != 0 && r->gid != 0 &&
		    config_path_canonical(r->mail_root);
	return r->status <= AUTHD_LOOKUP_TEMP && r->user[0] == '\0' && r->uid == 0 &&
	    r->gid == 0 && r->quota == 0 && r->mail_root[0] == '\0';
}

int
authdproto_lookup_result_get(struct ipc_in *in, struct authd_lookup_result *r)
{
	memset(r, 0, sizeof(*r));
	r->id = ipc_get_u32(in);
	r->status = ipc_get_u32(in);
	ipc_get_str(in, r->user, sizeof(r->user));
	r->uid = ipc_get_u32(in);
	r->gid = ipc_get_u32(in);
	r->quota = ipc_get_u64(in);
	ipc_get_str(in, r->mail_root, sizeof(r->mail_root));
	if (ipc_in_end(in) < 0 || in->fd >= 0 || !lookup_result_valid(r)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}
