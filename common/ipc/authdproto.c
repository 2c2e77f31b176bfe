/* authdproto.c - the master <-> authd configuration and lookup messages. */
#include "authdproto.h"

#include "../auth/backendq.h"

#include <stdio.h>
#include <string.h>

#include "../auth/namechars.h"

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
	ipc_put_str(o, c->recipient_delimiter);
	ipc_put_str(o, c->postmaster);
	ipc_put_str(o, c->local_domains);
	ipc_put_u32(o, (uint32_t)c->alias_max_targets);
	ipc_put_u32(o, (uint32_t)c->alias_max_depth);
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
	ipc_get_str(in, r->delimiter, sizeof(r->delimiter));
	ipc_get_str(in, r->postmaster, sizeof(r->postmaster));
	ipc_get_str(in, r->local_domains, sizeof(r->local_domains));
	r->alias_max_targets = ipc_get_u32(in);
	r->alias_max_depth = ipc_get_u32(in);
	/* the master validated these; a value it could not have sent is a bug */
	if (ipc_in_end(in) < 0 || r->ipv6_prefix > 128 || r->max_checks_per_s == 0 ||
	    r->alias_max_targets == 0 || r->alias_max_targets > AUTHD_LOOKUP_TARGETS_MAX ||
	    r->alias_max_depth == 0 || r->alias_max_depth > ALIASES_DEPTH_MAX) {
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
	return ipc_in_end_no_fd(in);
}

void
authdproto_lookup_result_put(struct ipc_out *o, const struct authd_lookup_result *r)
{
	uint32_t i, n = r->n > AUTHD_LOOKUP_TARGETS_MAX ? AUTHD_LOOKUP_TARGETS_MAX : r->n;

	ipc_out_init(o, MSG_MASTER_LOOKUP_RESULT);
	ipc_put_u32(o, r->id);
	ipc_put_u32(o, r->status);
	ipc_put_u32(o, r->n);
	for (i = 0; i < n; i++) {
		ipc_put_str(o, r->t[i].user);
		ipc_put_u32(o, r->t[i].uid);
		ipc_put_u32(o, r->t[i].gid);
		ipc_put_u64(o, r->t[i].quota);
		ipc_put_str(o, r->t[i].mail_root);
	}
	if (r->n > AUTHD_LOOKUP_TARGETS_MAX)
		o->err = 1;
}

/* Meaning, beyond form: a FOUND result names 1..AUTHD_LOOKUP_TARGETS_MAX
 * distinct users with non-zero ids and canonical roots; any other names
 * none. */
static int
lookup_result_valid(const struct authd_lookup_result *r)
{
	uint32_t i, j;

	if (r->status != AUTHD_LOOKUP_FOUND)
		return r->status <= AUTHD_LOOKUP_RELAY && r->n == 0;
	if (r->n == 0 || r->n > AUTHD_LOOKUP_TARGETS_MAX)
		return 0;
	for (i = 0; i < r->n; i++) {
		if (r->t[i].user[0] == '\0' || r->t[i].uid == 0 || r->t[i].gid == 0 ||
		    !config_path_canonical(r->t[i].mail_root))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(r->t[i].user, r->t[j].user) == 0)
				return 0;
	}
	return 1;
}

int
authdproto_lookup_result_get(struct ipc_in *in, struct authd_lookup_result *r)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->id = ipc_get_u32(in);
	r->status = ipc_get_u32(in);
	r->n = ipc_get_u32(in);
	for (i = 0; i < r->n && i < AUTHD_LOOKUP_TARGETS_MAX; i++) {
		ipc_get_str(in, r->t[i].user, sizeof(r->t[i].user));
		r->t[i].uid = ipc_get_u32(in);
		r->t[i].gid = ipc_get_u32(in);
		r->t[i].quota = ipc_get_u64(in);
		ipc_get_str(in, r->t[i].mail_root, sizeof(r->t[i].mail_root));
	}
	if (ipc_in_end(in) < 0 || in->fd >= 0 || !lookup_result_valid(r)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

void
authdproto_session_put(struct ipc_out *o, const struct authd_session *r, int fd)
{
	ipc_out_init(o, MSG_AUTHD_SESSION_NEW);
	ipc_put_str(o, r->sid);
	ipc_put_str(o, r->ip);
	ipc_put_str(o, r->service);
	ipc_put_fd(o, fd);
}

int
authdproto_session_get(struct ipc_in *in, struct authd_session *r)
{
	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->sid, sizeof(r->sid));
	ipc_get_str(in, r->ip, sizeof(r->ip));
	ipc_get_str(in, r->service, sizeof(r->service));
	return ipc_in_end(in) < 0 || in->fd < 0 || r->sid[0] == '\0' || r->service[0] == '\0' ?
	    -1 : 0;
}

void
authdproto_login_put(struct ipc_out *o, const struct authd_login *r)
{
	ipc_out_init(o, MSG_MASTER_LOGIN);
	ipc_put_str(o, r->sid);
	ipc_put_str(o, r->user);
	ipc_put_u32(o, r->uid);
	ipc_put_u32(o, r->gid);
	ipc_put_str(o, r->mail_root);
	ipc_put_u64(o, r->quota);
}

int
authdproto_login_get(struct ipc_in *in, struct authd_login *r)
{
	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->sid, sizeof(r->sid));
	ipc_get_str(in, r->user, sizeof(r->user));
	r->uid = ipc_get_u32(in);
	r->gid = ipc_get_u32(in);
	ipc_get_str(in, r->mail_root, sizeof(r->mail_root));
	r->quota = ipc_get_u64(in);
	if (ipc_in_end_no_fd(in) < 0 || r->user[0] == '\0') {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

/* Put len bytes, or fail the message when they exceed max (the receiver
 * would refuse them anyway; failing here names the sender's bug). */
static void
put_bounded(struct ipc_out *o, const uint8_t *p, size_t len, size_t max)
{
	if (len > max)
		o->err = 1;
	ipc_put_bytes(o, len ? p : (const uint8_t *)"", len > max ? 0 : len);
}

void
authdproto_start_put(struct ipc_out *o, const uint8_t *mech, size_t mechlen, int has_ir,
    const uint8_t *ir, size_t irlen)
{
	ipc_out_init(o, MSG_AUTH_START);
	put_bounded(o, mech, mechlen, AUTHD_MECH_SIZE - 1);
	ipc_put_u8(o, has_ir != 0);
	put_bounded(o, ir, has_ir ? irlen : 0, SASL_LINE_MAX);
}

int
authdproto_start_get(struct ipc_in *in, struct authd_start *r)
{
	uint8_t has_ir;

	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->mech, sizeof(r->mech));
	has_ir = ipc_get_u8(in);
	r->irlen = ipc_get_bytes(in, &r->ir, SASL_LINE_MAX);
	r->has_ir = has_ir;
	if (ipc_in_end_no_fd(in) < 0 || has_ir > 1 || (!has_ir && r->irlen != 0)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

void
authdproto_continue_put(struct ipc_out *o, const uint8_t *line, size_t len)
{
	ipc_out_init(o, MSG_AUTH_CONTINUE);
	ipc_put_bytes(o, line, len > SASL_LINE_MAX ? SASL_LINE_MAX + 1 : len);
}

int
authdproto_continue_get(struct ipc_in *in, const uint8_t **line_r, size_t *len_r)
{
	*len_r = ipc_get_bytes(in, line_r, SASL_LINE_MAX + 1);
	return ipc_in_end_no_fd(in);
}

void
authdproto_userpass_put(struct ipc_out *o, const uint8_t *user, size_t userlen,
    const uint8_t *pass, size_t passlen)
{
	ipc_out_init(o, MSG_AUTH_USERPASS);
	put_bounded(o, user, userlen, SASL_FIELD_MAX);
	put_bounded(o, pass, passlen, SASL_PASS_MAX);
}

int
authdproto_userpass_get(struct ipc_in *in, struct authd_userpass *r)
{
	r->userlen = ipc_get_bytes(in, &r->user, SASL_FIELD_MAX);
	r->passlen = ipc_get_bytes(in, &r->pass, SASL_PASS_MAX);
	return ipc_in_end_no_fd(in);
}

void
authdproto_challenge_put(struct ipc_out *o, const char *b64)
{
	ipc_out_init(o, MSG_AUTH_CHALLENGE);
	ipc_put_str(o, b64);
}

int
authdproto_challenge_get(struct ipc_in *in, char text_r[AUTHD_CHALLENGE_SIZE])
{
	size_t i;

	ipc_get_str(in, text_r, AUTHD_CHALLENGE_SIZE);
	if (ipc_in_end_no_fd(in) < 0)
		return -1;
	/* base64 text only: it goes to the client after "+ " or "334 " */
	for (i = 0; text_r[i] != '\0'; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
		    text_r[i]) == NULL) {
			text_r[0] = '\0';
			return -1;
		}
	return 0;
}

void
authdproto_ok_put(struct ipc_out *o)
{
	ipc_out_init(o, MSG_AUTH_OK);
}

int
authdproto_ok_get(struct ipc_in *in)
{
	return ipc_in_end_no_fd(in);
}

void
authdproto_fail_put(struct ipc_out *o, uint32_t code, const char *text)
{
	ipc_out_init(o, MSG_AUTH_FAIL);
	ipc_put_u32(o, code);
	ipc_put_str(o, text);
}

int
authdproto_fail_get(struct ipc_in *in, uint32_t *code_r, char text_r[AUTHD_TEXT_SIZE])
{
	*code_r = ipc_get_u32(in);
	ipc_get_str(in, text_r, AUTHD_TEXT_SIZE);
	if (ipc_in_end_no_fd(in) < 0 || *code_r == 0 || *code_r > AUTH_FAIL_MAX) {
		text_r[0] = '\0';
		return -1;
	}
	return 0;
}

void
authdproto_throttle_put(struct ipc_out *o, const struct authd_throttle *r)
{
	ipc_out_init(o, MSG_AUTHD_THROTTLE);
	ipc_put_u32(o, r->id);
	ipc_put_u8(o, r->op);
	ipc_put_str(o, r->key);
}

int
authdproto_throttle_get(struct ipc_in *in, struct authd_throttle *r)
{
	r->id = ipc_get_u32(in);
	r->op = ipc_get_u8(in);
	ipc_get_str(in, r->key, sizeof(r->key));
	if (ipc_in_end_no_fd(in) < 0 || r->op < AUTHD_THROTTLE_LIST ||
	    r->op > AUTHD_THROTTLE_CLEAR_USER ||
	    (r->op == AUTHD_THROTTLE_LIST) != (r->key[0] == '\0')) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

void
authdproto_throttle_result_put(struct ipc_out *o, uint32_t id, uint8_t status, uint32_t count,
    const char *text, size_t len)
{
	ipc_out_init(o, MSG_MASTER_THROTTLE_RESULT);
	ipc_put_u32(o, id);
	ipc_put_u8(o, status);
	ipc_put_u32(o, count);
	ipc_put_bytes(o, text, len);
}

int
authdproto_throttle_result_get(struct ipc_in *in, struct authd_throttle_result *r)
{
	size_t i;

	r->id = ipc_get_u32(in);
	r->status = ipc_get_u8(in);
	r->count = ipc_get_u32(in);
	r->len = ipc_get_bytes(in, &r->text, AUTHD_THROTTLE_TEXT_MAX);
	if (ipc_in_end_no_fd(in) < 0 || r->status > 1)
		goto bad;
	for (i = 0; i < r->len; i++)
		if ((r->text[i] < 0x20 && r->text[i] != '\n') || r->text[i] == 0x7f)
			goto bad;
	return 0;
bad:
	memset(r, 0, sizeof(*r));
	return -1;
}

void
authdproto_rehash_put(struct ipc_out *o, const struct authd_rehash *r)
{
	ipc_out_init(o, MSG_MASTER_REHASH);
	ipc_put_str(o, r->sid);
	ipc_put_str(o, r->user);
	ipc_put_str(o, r->hash);
}

int
authdproto_rehash_get(struct ipc_in *in, struct authd_rehash *r)
{
	static const char alphabet[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz$";

	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->sid, sizeof(r->sid));
	ipc_get_str(in, r->user, sizeof(r->user));
	ipc_get_str(in, r->hash, sizeof(r->hash));
	if (ipc_in_end_no_fd(in) < 0 || r->user[0] == '\0' || strncmp(r->hash, "$y$", 3) != 0 ||
	    strlen(r->hash) < 20 || strspn(r->hash, alphabet) != strlen(r->hash)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

void
authdproto_sasl_config_from(const struct config *c, struct authd_sasl_config *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->username_chars, sizeof(r->username_chars), "%s", c->auth_username_chars);
	r->username_utf8 = c->auth_username_utf8 != 0;
	r->username_max = (uint32_t)c->auth_username_max;
	snprintf(r->mechanisms, sizeof(r->mechanisms), "%s", c->auth_mechanisms);
	r->scram_iterations = (uint32_t)c->scram_iterations;
}

void
authdproto_sasl_config_put(struct ipc_out *o, const struct authd_sasl_config *r)
{
	ipc_out_init(o, MSG_AUTHD_SASL_CONFIG);
	ipc_put_str(o, r->username_chars);
	ipc_put_u8(o, r->username_utf8);
	ipc_put_u32(o, r->username_max);
	ipc_put_str(o, r->mechanisms);
	ipc_put_u32(o, r->scram_iterations);
}

int
authdproto_sasl_config_get(struct ipc_in *in, struct authd_sasl_config *r)
{
	struct namechars nc;
	const char *why;

	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->username_chars, sizeof(r->username_chars));
	r->username_utf8 = ipc_get_u8(in);
	r->username_max = ipc_get_u32(in);
	ipc_get_str(in, r->mechanisms, sizeof(r->mechanisms));
	r->scram_iterations = ipc_get_u32(in);
	/* the master validated these; a value it could not have sent is a bug */
	if (ipc_in_end_no_fd(in) < 0 || r->username_utf8 > 1 ||
	    namechars_parse(r->username_chars, r->username_utf8, r->username_max, &nc, &why) < 0 ||
	    sasl_mechs_check(r->mechanisms, &why) < 0 || r->scram_iterations < 4096) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

void
authdproto_scram_add_put(struct ipc_out *o, const struct authd_scram_add *r)
{
	ipc_out_init(o, MSG_MASTER_SCRAM_ADD);
	ipc_put_str(o, r->sid);
	ipc_put_str(o, r->user);
	ipc_put_str(o, r->hash);
	ipc_put_u32(o, r->scram.iterations);
	ipc_put_bytes(o, r->scram.salt, r->scram.saltlen);
	ipc_put_bytes(o, r->scram.stored_key, SCRAM_KEY_LEN);
	ipc_put_bytes(o, r->scram.server_key, SCRAM_KEY_LEN);
}

/* A byte string of at most max bytes into out: its length, or -1. */
static long
get_key(struct ipc_in *in, uint8_t *out, size_t max)
{
	const uint8_t *p;
	size_t n = ipc_get_bytes(in, &p, max);

	if (p == NULL)
		return -1;
	memcpy(out, p, n);
	return (long)n;
}

int
authdproto_scram_add_get(struct ipc_in *in, struct authd_scram_add *r)
{
	long sl, k1, k2;

	memset(r, 0, sizeof(*r));
	ipc_get_str(in, r->sid, sizeof(r->sid));
	ipc_get_str(in, r->user, sizeof(r->user));
	ipc_get_str(in, r->hash, sizeof(r->hash));
	r->scram.iterations = ipc_get_u32(in);
	sl = get_key(in, r->scram.salt, SCRAM_SALT_MAX);
	k1 = get_key(in, r->scram.stored_key, SCRAM_KEY_LEN);
	k2 = get_key(in, r->scram.server_key, SCRAM_KEY_LEN);
	if (ipc_in_end_no_fd(in) < 0 || r->user[0] == '\0' || r->hash[0] == '\0' || sl < 1 ||
	    k1 != SCRAM_KEY_LEN || k2 != SCRAM_KEY_LEN || r->scram.iterations < SCRAM_ITER_MIN ||
	    r->scram.iterations > SCRAM_ITER_MAX) {
		explicit_bzero(r, sizeof(*r));
		return -1;
	}
	r->scram.saltlen = (size_t)sl;
	return 0;
}

void
authdproto_backend_put(struct ipc_out *o, uint8_t backend, uint32_t pid, int fd)
{
	ipc_out_init(o, MSG_AUTHD_BACKEND);
	ipc_put_u8(o, backend);
	ipc_put_u32(o, pid);
	ipc_put_fd(o, fd);
}

int
authdproto_backend_get(struct ipc_in *in, uint8_t *backend_r, uint32_t *pid_r)
{
	*backend_r = ipc_get_u8(in);
	*pid_r = ipc_get_u32(in);
	if (ipc_in_end(in) < 0 || in->fd < 0 ||
	    (*backend_r != BACKENDQ_PGSQL && *backend_r != BACKENDQ_CHECKPW &&
	    *backend_r != BACKENDQ_LDAP)) {
		*backend_r = 0;
		*pid_r = 0;
		return -1;
	}
	return 0;
}
