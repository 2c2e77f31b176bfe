/* authdproto.h - the master <-> authd messages that carry data:
 * MSG_AUTHD_CONFIG (the settings the master sends authd) and the recipient
 * lookup (MSG_AUTHD_LOOKUP / MSG_MASTER_LOOKUP_RESULT).
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
#include "../mail/userdb.h"

struct authd_config {
	char default_domain[CONFIG_PATH_MAX];
	char mail_root[CONFIG_PATH_MAX];
	uint32_t mail_uid, mail_gid;
	uint32_t fail_ip_max, fail_user_max, window_s, delay_ms;
	uint32_t trusted_window_s;	/* auth_trusted_window */
	uint32_t ipv6_prefix;		/* auth_ipv6_prefix */
	uint32_t max_checks_per_s;	/* auth_max_checks_per_second */
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
};

struct authd_lookup {
	uint32_t id;			/* the master's, echoed in the result */
	char address[AUTHD_ADDRESS_MAX + 1];
};

struct authd_lookup_result {
	uint32_t id;
	uint32_t status;		/* enum authd_lookup_status */
	/* only with AUTHD_LOOKUP_FOUND (else empty and 0): */
	char user[USERDB_NAME_MAX + 1];	/* canonical, after the alias */
	uint32_t uid, gid;		/* the user's, or mail_uid/mail_gid */
	uint64_t quota;			/* bytes, 0 = none */
	char mail_root[CONFIG_PATH_MAX];
};

/* Start o as MSG_AUTHD_LOOKUP for address (at most AUTHD_ADDRESS_MAX bytes,
 * else the send fails with EMSGSIZE). */
void authdproto_lookup_put(struct ipc_out *o, uint32_t id, const char *address);

/* Read a MSG_AUTHD_LOOKUP payload.  Returns 0, or -1 (malformed). */
int authdproto_lookup_get(struct ipc_in *in, struct authd_lookup *r);

/* Start o as MSG_MASTER_LOOKUP_RESULT with r. */
void authdproto_lookup_result_put(struct ipc_out *o, const struct authd_lookup_result *r);

/* Read a MSG_MASTER_LOOKUP_RESULT payload.  A FOUND result must name a
 * user, non-zero ids and a canonical mail root; any other status must
 * carry none of them.  Returns 0, or -1 (r is then zeroed). */
int authdproto_lookup_result_get(struct ipc_in *in, struct authd_lookup_result *r);

#endif
