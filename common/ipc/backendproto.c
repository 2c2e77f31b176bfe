/* backendproto.c - authd <-> backend helper (backendproto.h): one codec
 * for both ends, fuzzed by fuzz/fuzz_backendproto.c. */
#include "backendproto.h"

#include <string.h>

#include "../base/config.h"

/* A name as userdb_normalize makes them: no controls, blanks, DEL, '/'
 * or '%' (8-bit bytes pass: UTF-8 names). */
int
backendproto_name_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '/' || *p == '%')
			return 0;
	return 1;
}

int
backendproto_hash_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("$./=,", *s) == NULL && !(*s >= '0' && *s <= '9') &&
		    !(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z'))
			return 0;
	return 1;
}

void
backendproto_request_put(struct ipc_out *o, const struct backend_request *r)
{
	ipc_out_init(o, MSG_BACKEND_REQUEST);
	ipc_put_u32(o, r->id);
	ipc_put_u8(o, r->kind);
	ipc_put_str(o, r->service);
	ipc_put_str(o, r->name);
	if (r->passlen > BACKEND_PASS_MAX || (r->kind != BACKEND_LOGIN && r->passlen > 0))
		o->err = 1;
	ipc_put_bytes(o, r->passlen ? r->pass : (const uint8_t *)"",
	    r->passlen > BACKEND_PASS_MAX ? 0 : r->passlen);
}

int
backendproto_request_get(struct ipc_in *in, struct backend_request *r)
{
	memset(r, 0, sizeof(*r));
	r->id = ipc_get_u32(in);
	r->kind = ipc_get_u8(in);
	ipc_get_str(in, r->service, sizeof(r->service));
	ipc_get_str(in, r->name, sizeof(r->name));
	r->passlen = ipc_get_bytes(in, &r->pass, BACKEND_PASS_MAX);
	if (ipc_in_end_no_fd(in) < 0 || (r->kind != BACKEND_LOGIN && r->kind != BACKEND_LOOKUP) ||
	    !backendproto_name_ok(r->name) || !ipc_text_printable(r->service) ||
	    (r->kind == BACKEND_LOOKUP && (r->passlen > 0 || r->service[0] != '\0'))) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	if (r->passlen == 0)
		r->pass = NULL;
	return 0;
}

void
backendproto_reply_put(struct ipc_out *o, const struct backend_reply *r)
{
	ipc_out_init(o, MSG_BACKEND_REPLY);
	ipc_put_u32(o, r->id);
	ipc_put_u8(o, r->status);
	ipc_put_u8(o, r->verified);
	ipc_put_str(o, r->user);
	ipc_put_str(o, r->hash);
	ipc_put_str(o, r->mail_root);
	ipc_put_u32(o, r->uid);
	ipc_put_u32(o, r->gid);
	ipc_put_u64(o, r->quota);
	ipc_put_u32(o, r->flags);
}

/* The fields of a FOUND reply make sense; any other reply names nothing. */
static int
reply_ok(const struct backend_reply *r)
{
	if (r->status > BACKEND_STATUS_MAX || r->verified > 1 || (r->flags & ~(uint32_t)BACKEND_FLAGS))
		return 0;
	if (r->status != BACKEND_FOUND)
		return r->verified == 0 && r->user[0] == '\0' && r->hash[0] == '\0' &&
		    r->mail_root[0] == '\0' && r->uid == 0 && r->gid == 0 && r->quota == 0 &&
		    r->flags == 0;
	if (!backendproto_name_ok(r->user) || !backendproto_hash_ok(r->hash) || (r->verified && r->hash[0] != '\0'))
		return 0;
	return r->mail_root[0] == '\0' || config_path_canonical(r->mail_root);
}

int
backendproto_reply_get(struct ipc_in *in, struct backend_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->id = ipc_get_u32(in);
	r->status = ipc_get_u8(in);
	r->verified = ipc_get_u8(in);
	ipc_get_str(in, r->user, sizeof(r->user));
	ipc_get_str(in, r->hash, sizeof(r->hash));
	ipc_get_str(in, r->mail_root, sizeof(r->mail_root));
	r->uid = ipc_get_u32(in);
	r->gid = ipc_get_u32(in);
	r->quota = ipc_get_u64(in);
	r->flags = ipc_get_u32(in);
	if (ipc_in_end_no_fd(in) < 0 || !reply_ok(r)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}
