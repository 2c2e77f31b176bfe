/* postern-smtpd: one SMTP connection to the MX (RFC 5321).  fd 3 is the
 * client, fd 4 the master's control channel (recipients and deliver-view
 * stored channels), fd 5 authd (EOF only: no AUTH on the MX port), fd 6
 * keyd (STARTTLS).  The worker kit boots it: it enters its sandbox (worker
 * uid, empty root, no capabilities, no_new_privs, seccomp) before reading
 * a single byte from the network. */
#include <sys/resource.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/worker/wk_boot.h"
#include "../../common/worker/wk_mime.h"
#include "smtpd.h"

/* The Received header smtpd writes ahead of the client's bytes. */
#define RECEIVED_ROOM	4096

static struct wk_boot B;	/* in .bss: it holds the whole config */
static struct wk_smtp S;

int
main(int argc, char **argv)
{
	static char host[SMTP_HOSTNAME_MAX + 1];
	const char *name;

	B.name = "smtpd";
	B.policy = POLICY_SMTPD;
	wk_boot_config(&B, argc, argv);
	/* before the filter: uname(2) is not in it */
	name = wk_boot_hostname(B.cfg, host, sizeof(host));
	/* its one file: the message memfd, at most the message limit (with
	 * smtp_bad_mime = wrap, the wrapping of such a message) */
	wk_boot_limit_file_size(wk_mime_file_limit(wk_mime_mode_of(B.cfg->smtp_bad_mime),
	    B.cfg->smtp_max_message_size + RECEIVED_ROOM));
	B.idle_timeout_s = B.cfg->smtp_idle_timeout;
	B.refusal = "421 4.3.2";	/* RFC 5321 3.8, RFC 3463 */
	if (wk_boot_enter(&B) < 0)
		return 0;
	smtpd_run(&S, &B, name);
	return 0;
}
