/* authd.h - the authentication broker: the only process that can name the
 * user of a session. */
#ifndef POSTERN_AUTHD_H
#define POSTERN_AUTHD_H

#include <stdint.h>

#include "../../common/db.h"
#include "../../common/sasl.h"
#include "../../common/userdb.h"

struct authd_config {
	char default_domain[256];
	char mail_root[256];
	uint32_t mail_uid, mail_gid;
	uint32_t fail_ip_max, fail_user_max, window_s, delay_ms;
	int have;	/* received from the master */
};

/* One worker channel. */
struct authsess {
	struct authsess *next;
	int fd;
	char sid[25];
	char ip[64];
	char service[16];
	int in_sasl;
	int done;		/* logged in: no more auth messages accepted */
	unsigned failures;
	int send_errno;		/* a reply could not be queued: close the channel */
	uint64_t timer;		/* pending delayed failure reply */
	uint32_t pending_code;
	char pending_text[96];
	struct sasl_server sasl;
};

/* throttle.c: failure accounting per IP and per user within a window. */
enum throttle_verdict { THROTTLE_OK, THROTTLE_IP, THROTTLE_USER };
enum throttle_verdict throttle_check(const struct authd_config *c, const char *ip, const char *user);
void throttle_fail(const struct authd_config *c, const char *ip, const char *user);

/* authd.c */
void authd_init(struct db *userdb, int master_fd);
void authd_on_master(int fd, short revents, void *ctx);

#endif
