/* services.h - the one table of services: what the master listens for and
 * what it runs for each connection.
 *
 * The master iterates this table and names no protocol itself: a row says
 * which worker serves the service, whether TLS starts with the first byte,
 * the systemd FileDescriptorName that selects it, the line the master sends
 * when it refuses a connection (a limit was hit), what a login grants, and
 * which config keys hold its listen addresses.  Rows of services that are
 * not implemented yet are present and disabled: the table is the map of
 * the product, and turning one on is turning on its row.
 */
#ifndef POSTERN_SERVICES_H
#define POSTERN_SERVICES_H

#include <stddef.h>

#include "../common/base/config.h"
#include "policy.h"

enum service_id {
	SERVICE_POP3,
	SERVICE_POP3S,
	SERVICE_IMAP,
	SERVICE_IMAPS,
	SERVICE_SMTP,
	SERVICE_SUBMISSION,
	SERVICE_SUBMISSIONS,
	SERVICE_LMTP,
	SERVICE_MANAGESIEVE,
	SERVICE_HTTP,
	SERVICE_METRICS,
	SERVICE_COUNT
};

/* What a successful login gives the session. */
enum service_grant {
	SERVICE_GRANT_NONE,	/* nothing (no login on this service) */
	SERVICE_GRANT_STORED,	/* a stored for the user, in the row's view */
	SERVICE_GRANT_QUEUE,	/* a channel to queued (submission) */
};

#define SERVICE_NO_KEY	((size_t)-1)	/* the config has no such key (yet) */

struct service {
	const char *name;		/* log proto=, FileDescriptorName=, authd's service */
	int enabled;			/* implemented: its listeners are opened */
	enum policy_proc worker;	/* the worker's policy row (POLICY_NPROCS: none yet) */
	const char *default_listen;	/* the usual addresses (config.c holds the defaults) */
	int implicit_tls;		/* RFC 8314: TLS from the first byte */
	const char *refusal;		/* line sent when refused, "%s" = the reason; NULL =
					   close without one (implicit TLS: plaintext is garbage) */
	enum service_grant grant;
	const char *store_view;		/* SERVICE_GRANT_STORED: the view stored serves */
	int intake;			/* mail intake (LMTP, SMTP): the worker may ask the
					   master for recipients and deliver-view stored
					   channels (common/ipc/masterproto.h) */
	size_t listen_off;		/* offsetof(struct config, <name>_listen) */
	size_t proxy_off;		/* offsetof(struct config, <name>_proxy_protocol) */
	size_t worker_off;		/* offsetof(struct config, a test-only worker override) */
};

extern const struct service service_table[SERVICE_COUNT];

/* The enabled row whose name is name[0..len), or NULL. */
const struct service *service_by_name(const char *name, size_t len);

/* The row's listen list in cfg ("" when it has no key). */
const char *service_listen(const struct service *s, const struct config *cfg);

/* Whether the row's listeners expect a PROXY header. */
int service_proxy(const struct service *s, const struct config *cfg);

/* The worker program override in cfg, or "" for the row's own binary. */
const char *service_worker_override(const struct service *s, const struct config *cfg);

/* The refusal line for reason why into out (NUL-terminated); returns its
 * length, 0 when the service closes without a line. */
size_t service_refusal(const struct service *s, const char *why, char *out, size_t outlen);

/* Check every enabled service's listen list as the master will bind it:
 * each entry a numeric host:port / [v6]:port (port 1-65535) or an
 * absolute unix socket path that fits, and no address twice across all
 * services.  Returns 0, or -1 with a message naming the key in err. */
int service_check_listen(const struct config *cfg, char *err, size_t errlen);

/* Print the table (posternctl services). */
void service_print(int fd);

#endif
