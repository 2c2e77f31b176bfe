/* postern-smtpd: one SMTP connection to the MX (RFC 5321).  fd 3 is the
 * client, fd 4 the master's control channel (recipients and deliver-view
 * stored channels), fd 5 authd (EOF only: no AUTH on the MX port), fd 6
 * keyd (STARTTLS).  The worker kit boots it: it enters its sandbox (worker
 * uid, empty root, no capabilities, no_new_privs, seccomp) before reading
 * a single byte from the network. */
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/worker/wk_boot.h"
#include "smtpd.h"

/* The Received header smtpd writes ahead of the client's bytes. */
#define RECEIVED_ROOM	4096

static struct wk_boot B;	/* in .bss: it holds the whole config */
static struct wk_smtp S;

/* The one file smtpd writes is its own message memfd, at most
 * smtp_max_message_size bytes plus the Received header: that is its
 * RLIMIT_FSIZE, and a write past it fails with EFBIG instead of raising
 * SIGXFSZ. */
static void
limit_file_size(const struct config *cfg)
{
	rlim_t max = cfg->smtp_max_message_size + RECEIVED_ROOM;
	struct rlimit rl = { max, max };

	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &rl) < 0)
		fatal("reason=\"cannot limit the file size\"");
}

int
main(int argc, char **argv)
{
	static char host[SMTP_HOSTNAME_MAX + 1];
	const char *name = host;

	B.name = "smtpd";
	B.policy = POLICY_SMTPD;
	wk_boot_config(&B, argc, argv);
	/* before the filter: uname(2) is not in it */
	if (B.cfg.hostname[0] != '\0')
		name = B.cfg.hostname;
	else if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		name = "localhost";
	limit_file_size(&B.cfg);
	B.idle_timeout_s = B.cfg.smtp_idle_timeout;
	B.refusal = "421 4.3.2";	/* RFC 5321 3.8, RFC 3463 */
	if (wk_boot_enter(&B) < 0)
		return 0;
	smtpd_run(&S, &B, name);
	return 0;
}
