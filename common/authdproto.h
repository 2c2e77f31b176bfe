/* authdproto.h - MSG_AUTHD_CONFIG, the settings the master sends authd.
 *
 * One codec used by both ends, so the layout and the field sizes are written
 * once: a 256-byte field on one side against CONFIG_PATH_MAX on the other
 * crash-looped authd on a long mail_root.  Every string field is sized from
 * config.h, so any value config_parse() accepts fits.
 */
#ifndef POSTERN_AUTHDPROTO_H
#define POSTERN_AUTHDPROTO_H

#include <stdint.h>

#include "config.h"
#include "ipc.h"

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

#endif
