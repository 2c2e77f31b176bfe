/* keydproto.c - decoding worker requests to keyd. */
#include "keydproto.h"

int
keydproto_sign(struct ipc_in *in, struct keyd_sign_req *r)
{
	r->key_id = ipc_get_u32(in);
	r->algo = ipc_get_u32(in);
	r->hvlen = ipc_get_bytes(in, &r->hv, KEYD_HASH_MAX);
	if (ipc_in_end(in) < 0 || r->hvlen == 0)
		return -1;
	return 0;
}

int
keydproto_keyx(struct ipc_in *in, struct keyd_keyx_req *r)
{
	r->key_id = ipc_get_u32(in);
	r->len = ipc_get_bytes(in, &r->data, KEYD_KEYX_MAX);
	/* BearSSL passes at least 59 bytes (RSA key exchange) */
	if (ipc_in_end(in) < 0 || r->len < 59)
		return -1;
	return 0;
}

int
keydproto_cache_save(struct ipc_in *in, struct keyd_cache_req *r)
{
	size_t idl, msl;

	idl = ipc_get_bytes(in, &r->id, KEYD_SESSION_ID_LEN);
	r->version = ipc_get_u32(in);
	r->suite = ipc_get_u32(in);
	msl = ipc_get_bytes(in, &r->master, KEYD_MASTER_LEN);
	if (ipc_in_end(in) < 0 || idl != KEYD_SESSION_ID_LEN || msl != KEYD_MASTER_LEN)
		return -1;
	return 0;
}

int
keydproto_cache_load(struct ipc_in *in, struct keyd_cache_req *r)
{
	size_t idl = ipc_get_bytes(in, &r->id, KEYD_SESSION_ID_LEN);

	r->version = r->suite = 0;
	r->master = NULL;
	if (ipc_in_end(in) < 0 || idl != KEYD_SESSION_ID_LEN)
		return -1;
	return 0;
}
