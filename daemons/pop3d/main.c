/* postern-pop3d: one POP3 connection.  fd 3 is the client, fd 4 the
 * master's control channel, fd 5 authd, fd 6 keyd.  The worker kit boots
 * it: it enters its sandbox (worker uid, empty root, no capabilities,
 * no_new_privs, seccomp) before reading a single byte from the network. */
#include "../../common/worker/wk_boot.h"
#include "pop3d.h"

static struct wk_boot B;	/* in .bss: it holds the whole config */
static struct pop3 P;

int
main(int argc, char **argv)
{
	B.name = "pop3d";
	B.policy = POLICY_POP3D;
	wk_boot_config(&B, argc, argv);
	B.idle_timeout_s = B.cfg->pop3_idle_timeout;
	B.refusal = "-ERR [SYS/TEMP]";	/* the master's refusal line, RFC 2449 */
	if (wk_boot_enter(&B) < 0)
		return 0;
	pop3_run(&P, &B);
	return 0;
}
