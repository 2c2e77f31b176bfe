/* hostile_metricsd - a test program the master runs in place of
 * postern-metricsd (config metrics_worker = ...).  It boots as metricsd
 * does and enters the exact metricsd sandbox, so it holds what a
 * compromised metrics worker holds: fd 3 the client, fd 4 the sealed
 * snapshot.  On one command line from the client it tries what such a
 * worker would try and reports, one line, what the kernel said:
 *   PROBE   write to the snapshot, map it writable, list the open fds
 *   SOCKET  socket(2), which its filter does not allow (it dies of SIGSYS)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/counters.h"
#include "../../common/ipc/proto.h"
#include "../../common/worker/wk_boot.h"
#include "../../sandbox/sandbox.h"

static struct wk_boot B;

static const char *
err_name(int e)
{
	return e == EPERM ? "EPERM" : e == EACCES ? "EACCES" : e == EBADF ? "EBADF" :
	    e == EFBIG ? "EFBIG" : "other";
}

static void
probe(void)
{
	char line[512], fds[128] = "";
	struct stat st;
	size_t used = 0;
	void *p;
	ssize_t w;
	int fd, n, werr, merr = 0;

	w = write(METRICS_SNAPSHOT_FD, "x", 1);
	werr = w < 0 ? errno : 0;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, METRICS_SNAPSHOT_FD, 0);
	if (p == MAP_FAILED)
		merr = errno;
	/* the raw newfstatat: musl's fstat of a closed fd also calls fcntl
	 * (its O_PATH fallback), which metricsd's filter rightly kills */
	for (fd = 0; fd < 64; fd++)
		if (syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) == 0 && used < sizeof(fds)) {
			n = snprintf(fds + used, sizeof(fds) - used, "%s%d", used ? "," : "", fd);
			if (n > 0)
				used += (size_t)n;
		}
	n = snprintf(line, sizeof(line), "write=%s mmap_write=%s fds=%s\n",
	    w < 0 ? err_name(werr) : "ok", p == MAP_FAILED ? err_name(merr) : "ok", fds);
	if (n > 0)
		(void)!write(FD_CLIENT, line, (size_t)n);
}

int
main(int argc, char **argv)
{
	struct sandbox_spec spec;
	struct pollfd pfd = { FD_CLIENT, POLLIN, 0 };
	char cmd[64];
	ssize_t n;

	B.name = "metricsd";
	B.policy = POLICY_METRICSD;
	wk_boot_config(&B, argc, argv);
	/* a write past RLIMIT_FSIZE (0 for a worker) would end it with
	 * SIGXFSZ before it could report */
	signal(SIGXFSZ, SIG_IGN);
	policy_spec(POLICY_METRICSD, B.cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	(void)!write(FD_CLIENT, "hostile metricsd ready\n", 23);
	if (poll(&pfd, 1, 10000) <= 0 || (n = read(FD_CLIENT, cmd, sizeof(cmd) - 1)) <= 0)
		return 0;
	cmd[n] = '\0';
	if (strncmp(cmd, "PROBE", 5) == 0)
		probe();
	else if (strncmp(cmd, "SOCKET", 6) == 0)
		(void)socket(AF_INET, SOCK_STREAM, 0);	/* not in the filter: SIGSYS */
	(void)shutdown(FD_CLIENT, SHUT_WR);
	return 0;
}
