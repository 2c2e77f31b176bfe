/* authdproto.h - the two channels of authd: master <-> authd (a new
 * session's worker channel, the settings, the login verdict, recipient
 * lookups) and worker <-> authd (the SASL relay).
 *
 * One codec used by both ends, so the layout and the field sizes are written
 * once: a 256-byte field on one side against CONFIG_PATH_MAX on the other
 * crash-looped authd on a long mail_root.  Every string field is sized from
 * config.h, so any value config_parse() accepts fits.
 */
#ifndef POSTERN_AUTHDPROTO_H
#define POSTERN_AUTHDPROTO_H

#include <stdint.h>

#include "../base/config.h"
#include "ipc.h"
#include "../mail/aliases.h"
#include "../mail/userdb.h"
#include "../proto/sasl.h"

enum authdproto_msg {
	/* master -> authd */
	MSG_AUTHD_SESSION_NEW = 0x0101,	/* sid, ip, service + fd: worker channel */
	MSG_AUTHD_CONFIG = 0x0102,	/* struct authd_config */
	MSG_AUTHD_LOOKUP = 0x0103,	/* id u32, address: a recipient lookup */
	MSG_AUTHD_THROTTLE = 0x0110,	/* id u32, op u8, key: list or clear records */
	/* authd -> master */
	MSG_MASTER_LOGIN = 0x0201,	/* sid, user, uid, gid, mail root, quota */
	MSG_MASTER_LOOKUP_RESULT = 0x0212, /* struct authd_lookup_result (0x0202 named one user) */
	MSG_MASTER_THROTTLE_RESULT = 0x0210, /* id u32, status u8, count u32, text */
	MSG_MASTER_REHASH = 0x0211,	/* sid, user, hash: a weak hash's replacement */
	/* worker -> authd */
	MSG_AUTH_START = 0x0301,	/* mech, has_ir u8, ir bytes (base64 text) */
	MSG_AUTH_CONTINUE = 0x0302,	/* response line (base64 text or "*") */
	MSG_AUTH_USERPASS = 0x0303,	/* user bytes, password bytes (POP3 USER/PASS) */
	/* authd -> worker */
	MSG_AUTH_CHALLENGE = 0x0401,	/* base64 text */
	MSG_AUTH_OK = 0x0402,		/* (empty) the master will send the stored fd */
	MSG_AUTH_FAIL = 0x0403,		/* code u32, text */
	/* master -> authd, right after MSG_AUTHD_CONFIG */
	MSG_AUTHD_SASL_CONFIG = 0x0120,	/* struct authd_sasl_config */
	/* authd -> master, right after a login */
	MSG_MASTER_SCRAM_ADD = 0x0213,	/* struct authd_scram_add */
	/* master -> authd: a backend helper's channel (+ fd) */
	MSG_AUTHD_BACKEND = 0x0130,	/* backend u8 (enum backendq_kind), pid u32 */
};

enum auth_fail_code {
	AUTH_FAIL_CREDENTIALS = 1,	/* wrong user or password (never says which) */
	AUTH_FAIL_THROTTLED = 2,	/* too many failures from this IP / for this user */
	AUTH_FAIL_SYNTAX = 3,		/* malformed SASL data */
	AUTH_FAIL_MECH = 4,		/* unknown mechanism */
	AUTH_FAIL_ABORTED = 5,		/* client sent "*" */
	AUTH_FAIL_TEMP = 6,		/* db or internal failure: try later */
	AUTH_FAIL_DISABLED = 7,		/* account disabled */
	AUTH_FAIL_AUTHZ = 8,		/* SASL authorization identity not allowed */
};
#define AUTH_FAIL_MAX		AUTH_FAIL_AUTHZ

/* Field sizes, with the NUL. */
#define AUTHD_SID_SIZE		25	/* util_session_id(): 24 hex digits */
#define AUTHD_IP_SIZE		64	/* numeric address or "local:uid=N" */
#define AUTHD_SERVICE_SIZE	16
#define AUTHD_MECH_SIZE		32
#define AUTHD_TEXT_SIZE		128	/* a failure text */
#define AUTHD_CHALLENGE_SIZE	sizeof(((struct sasl_server *)0)->challenge)

struct authd_config {
	char default_domain[CONFIG_PATH_MAX];
	char mail_root[CONFIG_PATH_MAX];
	uint32_t mail_uid, mail_gid;
	uint32_t fail_ip_max, fail_user_max, window_s, delay_ms;
	uint32_t trusted_window_s;	/* auth_trusted_window */
	uint32_t ipv6_prefix;		/* auth_ipv6_prefix */
	uint32_t max_checks_per_s;	/* auth_max_checks_per_second */
	char delimiter[8];		/* recipient_delimiter */
	char postmaster[256];		/* postmaster: "" or an address */
	char local_domains[CONFIG_PATH_MAX];	/* local_domains, as in the config */
	uint32_t alias_max_targets;	/* 1..AUTHD_LOOKUP_TARGETS_MAX */
	uint32_t alias_max_depth;	/* 1..ALIASES_DEPTH_MAX */
	int have;	/* received from the master */
};

/* Start o as MSG_AUTHD_CONFIG and put c's authd settings into it. */
void authdproto_config_put(struct ipc_out *o, const struct config *c);

/* Read a MSG_AUTHD_CONFIG payload into r (have = 1).  Returns 0, or -1 for
 * a short, oversized or trailing message or an out-of-range value. */
int authdproto_config_get(struct ipc_in *in, struct authd_config *r);

/* A recipient lookup (LMTP, SMTP RCPT): which user, mail root, ids and
 * quota an address delivers to, with aliases and default_domain applied as
 * for a login.  No password is involved and none is returned. */
#define AUTHD_ADDRESS_MAX	320	/* RFC 5321 4.5.3.1: 64 + 1 + 255 */

enum authd_lookup_status {
	AUTHD_LOOKUP_FOUND = 0,
	AUTHD_LOOKUP_UNKNOWN = 1,	/* no such user or alias */
	AUTHD_LOOKUP_DISABLED = 2,	/* the account is disabled */
	AUTHD_LOOKUP_INVALID = 3,	/* not an address userdb_normalize accepts */
	AUTHD_LOOKUP_TEMP = 4,		/* db error, unusable mail root; retry later */
	AUTHD_LOOKUP_RELAY = 5,		/* unknown, and its domain is not hosted here */
};

struct authd_lookup {
	uint32_t id;			/* the master's, echoed in the result */
	char address[AUTHD_ADDRESS_MAX + 1];
};

/* A FOUND lookup names the users the address reaches: one for a user or
 * a one-target alias, several for an alias with several targets (nested
 * aliases expanded, each user once).  The bound keeps the message within
 * IPC_MAX_PAYLOAD at the longest fields. */
#define AUTHD_LOOKUP_TARGETS_MAX	ALIASES_TARGETS_MAX

struct authd_lookup_target {
	char user[USERDB_NAME_MAX + 1];	/* canonical, after the aliases */
	uint32_t uid, gid;		/* the user's, or mail_uid/mail_gid */
	uint64_t quota;			/* bytes, 0 = none */
	char mail_root[CONFIG_PATH_MAX];
};

struct authd_lookup_result {
	uint32_t id;
	uint32_t status;		/* enum authd_lookup_status */
	uint32_t n;			/* FOUND: 1..AUTHD_LOOKUP_TARGETS_MAX; else 0 */
	struct authd_lookup_target t[AUTHD_LOOKUP_TARGETS_MAX];
};

/* id, status, n, then per user two strings (u32 length + bytes) and the
 * ids and quota: the longest result must fit one message. */
_Static_assert(12 + AUTHD_LOOKUP_TARGETS_MAX * (4 + USERDB_NAME_MAX + 16 + 4 + CONFIG_PATH_MAX)
    <= IPC_MAX_PAYLOAD, "a lookup result of the most users fits one IPC message");

/* Start o as MSG_AUTHD_LOOKUP for address (at most AUTHD_ADDRESS_MAX bytes,
 * else the send fails with EMSGSIZE). */
void authdproto_lookup_put(struct ipc_out *o, uint32_t id, const char *address);

/* Read a MSG_AUTHD_LOOKUP payload.  Returns 0, or -1 (malformed). */
int authdproto_lookup_get(struct ipc_in *in, struct authd_lookup *r);

/* Start o as MSG_MASTER_LOOKUP_RESULT with r. */
void authdproto_lookup_result_put(struct ipc_out *o, const struct authd_lookup_result *r);

/* Read a MSG_MASTER_LOOKUP_RESULT payload.  A FOUND result must name
 * 1..AUTHD_LOOKUP_TARGETS_MAX distinct users, each with non-zero ids and a
 * canonical mail root; any other status must name none.  Returns 0, or -1
 * (r is then zeroed). */
int authdproto_lookup_result_get(struct ipc_in *in, struct authd_lookup_result *r);

/* MSG_AUTHD_SESSION_NEW: a new session's worker channel (the fd), its id,
 * the client address as the master knows it and the service name. */
struct authd_session {
	char sid[AUTHD_SID_SIZE];
	char ip[AUTHD_IP_SIZE];
	char service[AUTHD_SERVICE_SIZE];
};
void authdproto_session_put(struct ipc_out *o, const struct authd_session *r, int fd);
/* Returns 0 (the fd stays in in->fd for the caller), or -1. */
int authdproto_session_get(struct ipc_in *in, struct authd_session *r);

/* MSG_MASTER_LOGIN: authd's verdict, the one message that names a user. */
struct authd_login {
	char sid[AUTHD_SID_SIZE];
	char user[USERDB_NAME_MAX + 1];
	uint32_t uid, gid;
	char mail_root[CONFIG_PATH_MAX];
	uint64_t quota;			/* bytes, 0 = none (the user db's) */
};
void authdproto_login_put(struct ipc_out *o, const struct authd_login *r);
/* Form only: the master checks meaning (never uid 0, canonical root). */
int authdproto_login_get(struct ipc_in *in, struct authd_login *r);

/* Worker -> authd.  The puts bound each field as authd will (an oversized
 * one fails the send with EMSGSIZE); the gets point into the message. */
struct authd_start {
	char mech[AUTHD_MECH_SIZE];
	int has_ir;
	const uint8_t *ir;		/* base64 text, irlen bytes */
	size_t irlen;
};
void authdproto_start_put(struct ipc_out *o, const uint8_t *mech, size_t mechlen, int has_ir,
    const uint8_t *ir, size_t irlen);
int authdproto_start_get(struct ipc_in *in, struct authd_start *r);

/* A response line longer than SASL_LINE_MAX is sent as SASL_LINE_MAX + 1
 * bytes: authd refuses it as too long, with the rest of the exchange. */
void authdproto_continue_put(struct ipc_out *o, const uint8_t *line, size_t len);
int authdproto_continue_get(struct ipc_in *in, const uint8_t **line_r, size_t *len_r);

struct authd_userpass {
	const uint8_t *user, *pass;
	size_t userlen, passlen;
};
void authdproto_userpass_put(struct ipc_out *o, const uint8_t *user, size_t userlen,
    const uint8_t *pass, size_t passlen);
int authdproto_userpass_get(struct ipc_in *in, struct authd_userpass *r);

/* Authd -> worker. */
void authdproto_challenge_put(struct ipc_out *o, const char *b64);
int authdproto_challenge_get(struct ipc_in *in, char text_r[AUTHD_CHALLENGE_SIZE]);
void authdproto_ok_put(struct ipc_out *o);
int authdproto_ok_get(struct ipc_in *in);
void authdproto_fail_put(struct ipc_out *o, uint32_t code, const char *text);
int authdproto_fail_get(struct ipc_in *in, uint32_t *code_r, char text_r[AUTHD_TEXT_SIZE]);

/* The control socket's throttle commands (posternctl throttle), relayed
 * by the master: list authd's live failure records, or clear the record
 * of one address (its IPv6 prefix) or one user.  The answer's text is one
 * line per record, printable ASCII or UTF-8 and newlines only (the master
 * hands it to an admin's terminal), records at their limit first. */
enum authd_throttle_op {
	AUTHD_THROTTLE_LIST = 1,
	AUTHD_THROTTLE_CLEAR_IP = 2,	/* key: a numeric address */
	AUTHD_THROTTLE_CLEAR_USER = 3,	/* key: a user name (authd normalises it) */
};
#define AUTHD_THROTTLE_KEY_MAX	320
#define AUTHD_THROTTLE_TEXT_MAX	60000

struct authd_throttle {
	uint32_t id;			/* the master's, echoed */
	uint8_t op;			/* enum authd_throttle_op */
	char key[AUTHD_THROTTLE_KEY_MAX + 1];	/* "" for LIST */
};
void authdproto_throttle_put(struct ipc_out *o, const struct authd_throttle *r);
/* Returns 0, or -1 (unknown op, a key for LIST or none to clear). */
int authdproto_throttle_get(struct ipc_in *in, struct authd_throttle *r);

/* status 0: done (count records listed or cleared); 1: the key is not an
 * address or a user name (text says why). */
struct authd_throttle_result {
	uint32_t id;
	uint8_t status;
	uint32_t count;
	size_t len;
	const uint8_t *text;		/* into the message; not NUL-terminated */
};
void authdproto_throttle_result_put(struct ipc_out *o, uint32_t id, uint8_t status,
    uint32_t count, const char *text, size_t len);
/* Returns 0, or -1 (malformed, or a byte of text that is a control other
 * than a newline). */
int authdproto_throttle_result_get(struct ipc_in *in, struct authd_throttle_result *r);

/* MSG_MASTER_REHASH: right after MSG_MASTER_LOGIN, when the user's stored
 * hash is of a weak scheme (md5-crypt, DES, bcrypt $2a$: imported with
 * --allow-weak), authd's yescrypt hash of the password it just checked.
 * The master writes it only for the user that session just logged in as,
 * once, and only over a hash that is still weak (userdb_upgrade_hash). */
struct authd_rehash {
	char sid[AUTHD_SID_SIZE];
	char user[USERDB_NAME_MAX + 1];
	char hash[USERDB_HASH_MAX + 1];
};
void authdproto_rehash_put(struct ipc_out *o, const struct authd_rehash *r);
/* Returns 0, or -1 (malformed; a hash that is not yescrypt "$y$" of the
 * crypt alphabet; no user). */
int authdproto_rehash_get(struct ipc_in *in, struct authd_rehash *r);

/* MSG_AUTHD_SASL_CONFIG: the login-name policy and the SASL settings,
 * sent by the master after MSG_AUTHD_CONFIG (at authd's start and on every
 * SIGHUP).  authd starts with its snapshot's values, so one that never gets
 * this message (tests/tools/authd_lookup) still has them. */
struct authd_sasl_config {
	char username_chars[256];	/* auth_username_chars */
	uint8_t username_utf8;		/* auth_username_utf8 */
	uint32_t username_max;		/* auth_username_max */
	char mechanisms[128];		/* auth_mechanisms */
	uint32_t scram_iterations;	/* scram_iterations */
};
/* c's settings into r (for the master, and authd's own snapshot). */
void authdproto_sasl_config_from(const struct config *c, struct authd_sasl_config *r);
void authdproto_sasl_config_put(struct ipc_out *o, const struct authd_sasl_config *r);
/* Returns 0, or -1 (malformed, a name policy that does not compile, an
 * unknown mechanism, fewer than 4096 iterations). */
int authdproto_sasl_config_get(struct ipc_in *in, struct authd_sasl_config *r);

/* MSG_MASTER_SCRAM_ADD: right after MSG_MASTER_LOGIN (and never with a
 * MSG_MASTER_REHASH), when the user's record has no SCRAM secrets, those
 * of the password authd just checked.  The master writes them only for the
 * user that session just logged in as, once, and only while the record
 * still has none and still holds hash (the same password). */
struct authd_scram_add {
	char sid[AUTHD_SID_SIZE];
	char user[USERDB_NAME_MAX + 1];
	char hash[USERDB_HASH_MAX + 1];	/* the crypt hash the password was checked against */
	struct scram_secrets scram;
};
void authdproto_scram_add_put(struct ipc_out *o, const struct authd_scram_add *r);
/* Returns 0, or -1 (malformed; no user or hash; a count under 4096; a
 * salt of 0 or over SCRAM_SALT_MAX bytes; keys not SCRAM_KEY_LEN). */
int authdproto_scram_add_get(struct ipc_in *in, struct authd_scram_add *r);

/* MSG_AUTHD_BACKEND: the channel to a (re)started backend helper
 * (common/ipc/backendproto.h), which replaces any earlier one of that
 * backend; pid names it in authd's log lines. */
void authdproto_backend_put(struct ipc_out *o, uint8_t backend, uint32_t pid, int fd);
/* Returns 0 (the fd stays in in->fd), or -1 (malformed, no fd, a backend
 * that has no helper: only pgsql, checkpw and ldap do). */
int authdproto_backend_get(struct ipc_in *in, uint8_t *backend_r, uint32_t *pid_r);

#endif
