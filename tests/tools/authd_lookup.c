/* authd_lookup.c - the master's end of the recipient lookup, for tests.
 *
 * Usage: authd_lookup AUTHD_BINARY CONFIG ADDRESS...
 * Starts postern-authd on a channel of its own (fd 3, as the master does),
 * sends it the config message and one MSG_AUTHD_LOOKUP per address, and
 * prints one line per result:
 *   id=N status=S user=U uid=N gid=N quota=N root=PATH [users=U,U2,...]
 * with the codec both ends use (common/ipc/authdproto.c).  "-" as an address
 * sends a malformed lookup (a trailing byte): authd must exit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"

static struct ipc_out out;
static struct ipc_in in;

static pid_t
start_authd(const char *bin, const char *conf, int *fd_r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (dup2(sv[1], FD_PARENT) < 0)
			_exit(127);
		execl(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd_r = sv[0];
	return pid;
}

static void
lookup(int fd, uint32_t id, const char *address)
{
	static struct authd_lookup_result r;
	uint32_t i;
	int rc;

	authdproto_lookup_put(&out, id, strcmp(address, "-") ? address : "x");
	if (!strcmp(address, "-"))
		ipc_put_u8(&out, 0);
	if (ipc_send(fd, &out) < 0) {
		printf("id=%u send-failed errno=%d\n", id, errno);
		return;
	}
	rc = ipc_recv(fd, &in);
	if (rc != 1) {
		printf("id=%u authd-closed rc=%d\n", id, rc);
		return;
	}
	if (in.type != MSG_MASTER_LOOKUP_RESULT || authdproto_lookup_result_get(&in, &r) < 0) {
		printf("id=%u bad-reply type=0x%04x\n", id, in.type);
		return;
	}
	/* the first user's fields (empty ones for none); an alias of several
	 * users adds them all: users=a,b,... */
	printf("id=%u status=%u user=%s uid=%u gid=%u quota=%llu root=%s", r.id, r.status,
	    r.t[0].user, r.t[0].uid, r.t[0].gid, (unsigned long long)r.t[0].quota, r.t[0].mail_root);
	for (i = 0; r.n > 1 && i < r.n; i++)
		printf("%s%s", i == 0 ? " users=" : ",", r.t[i].user);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	int fd, status, i;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: authd_lookup AUTHD_BINARY CONFIG ADDRESS...\n");
		return 2;
	}
	if (config_load(&cfg, argv[2], err, sizeof(err)) < 0) {
		fprintf(stderr, "authd_lookup: %s\n", err);
		return 2;
	}
	pid = start_authd(argv[1], argv[2], &fd);
	if (pid < 0 || ipc_set_timeout(fd, 10000) < 0)
		return 2;
	authdproto_config_put(&out, &cfg);
	if (ipc_send(fd, &out) < 0)
		return 2;
	for (i = 3; i < argc; i++)
		lookup(fd, (uint32_t)(i - 2), argv[i]);
	fflush(stdout);
	close(fd);
	if (waitpid(pid, &status, 0) != pid)
		return 2;
	printf("authd exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
