/* postern-imapd: one IMAP connection.  fd 3 is the client, fd 4 the
 * master's control channel, fd 5 authd, fd 6 keyd; after the login the
 * master hands over the channel to this user's stored (IMAP view).  The
 * worker kit boots it: it enters its sandbox (worker uid, empty root, no
 * capabilities, no_new_privs, seccomp) before reading a single byte from
 * the network. */
#include <sys/resource.h>

#include "../../common/base/log.h"
#include "../../common/worker/wk_boot.h"
#include "imapd.h"

static struct wk_boot B;	/* in .bss: it holds the whole config */
static struct imap I;

int
main(int argc, char **argv)
{
	B.name = "imapd";
	B.policy = POLICY_IMAPD;
	wk_boot_config(&B, argc, argv);
	/* its one file: the message memfd, at most the message limit */
	wk_boot_limit_file_size(B.cfg->imap_max_message_size);
	B.idle_timeout_s = B.cfg->imap_idle_timeout;
	B.refusal = "* BYE [UNAVAILABLE]";	/* RFC 9051 7.1.5 */
	if (wk_boot_enter(&B) < 0)
		return 0;
	imap_run(&I, &B);
	return 0;
}
