/* postern-lmtpd: one LMTP connection (RFC 2033).  fd 3 is the client, fd
 * 4 the master's control channel (recipients and deliver-view stored
 * channels), fd 5 authd and fd 6 keyd (unused: LMTP has no login and no
 * TLS).  The worker kit boots it: it enters its sandbox (worker uid, empty
 * root, no capabilities, no_new_privs, seccomp) before reading a single
 * byte from the network. */
#include <sys/resource.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/worker/wk_boot.h"
#include "../../common/worker/wk_mime.h"
#include "lmtpd.h"

static struct wk_boot B;	/* in .bss: it holds the whole config */
static struct wk_smtp L;

int
main(int argc, char **argv)
{
	static char host[SMTP_HOSTNAME_MAX + 1];
	const char *name;

	B.name = "lmtpd";
	B.policy = POLICY_LMTPD;
	wk_boot_config(&B, argc, argv);
	/* before the filter: uname(2) is not in it (smtp_config_default()
	 * cuts a long name) */
	name = wk_boot_hostname(B.cfg, host, sizeof(host));
	/* its one file: the message memfd, at most the message limit (with
	 * smtp_bad_mime = wrap, the wrapping of such a message) */
	wk_boot_limit_file_size(wk_mime_file_limit(wk_mime_mode_of(B.cfg->smtp_bad_mime),
	    B.cfg->lmtp_max_message_size));
	B.idle_timeout_s = B.cfg->lmtp_idle_timeout;
	B.refusal = "421 4.3.2";	/* RFC 5321 3.8, RFC 3463 */
	if (wk_boot_enter(&B) < 0)
		return 0;
	lmtp_run(&L, &B, name);
	return 0;
}
