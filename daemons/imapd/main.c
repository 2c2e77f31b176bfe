/* postern-imapd: one IMAP connection.  fd 3 is the client, fd 4 the
 * master's control channel, fd 5 authd, fd 6 keyd; after the login the
 * master hands over the channel to this user's stored (IMAP view).  The
 * worker kit boots it: it enters its sandbox (worker uid, empty root, no
 * capabilities, no_new_privs, seccomp) before reading a single byte from
 * the network. */
#include <signal.h>
#include <sys/resource.h>

#include "../../common/base/log.h"
#include "../../common/worker/wk_boot.h"
#include "imapd.h"

static struct wk_boot B;	/* in .bss: it holds the whole config */
static struct imap I;

/* The one file imapd writes is an APPEND's memfd, at most
 * imap_max_message_size bytes: that is its RLIMIT_FSIZE, and a write past
 * it fails with EFBIG instead of raising SIGXFSZ. */
static void
limit_file_size(const struct config *cfg)
{
	struct rlimit rl = { cfg->imap_max_message_size, cfg->imap_max_message_size };

	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &rl) < 0)
		fatal("reason=\"cannot limit the file size\"");
}

int
main(int argc, char **argv)
{
	B.name = "imapd";
	B.policy = POLICY_IMAPD;
	wk_boot_config(&B, argc, argv);
	limit_file_size(&B.cfg);
	B.idle_timeout_s = B.cfg.imap_idle_timeout;
	B.refusal = "* BYE [UNAVAILABLE]";	/* RFC 9051 7.1.5 */
	if (wk_boot_enter(&B) < 0)
		return 0;
	imap_run(&I, &B);
	return 0;
}
