/* control.c - the commands that talk to a running master over its
 * control socket (common/ipc/ctlproto.h): reload, status, who, kick,
 * throttle list|clear, stop, health.  One request, one reply; a reply's
 * body (a sealed memfd) is copied to stdout as the master wrote it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/ipc/ctlproto.h"
#include "ctl.h"

static struct ipc_in in;
static struct ipc_out out;

/* How long to wait for the master: longer than its own wait for authd. */
#define CONTROL_WAIT_MS	35000

static int
connect_master(void)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	rc = config_control_path(&cfg, sun.sun_path, sizeof(sun.sun_path));
	if (rc == 0)
		die("control_socket = none in %s: the master has no control socket", cfgpath);
	if (rc < 0)
		die("control_socket: the path does not fit a unix socket");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		die("cannot reach the master at %s: %s%s", sun.sun_path, strerror(errno),
		    errno == ENOENT || errno == ECONNREFUSED ? " (is it running with this config?)" :
		    errno == EACCES ? " (root or control_gid only)" : "");
	if (ipc_set_timeout(fd, CONTROL_WAIT_MS) < 0)
		die("socket: %s", strerror(errno));
	return fd;
}

/* Copy a reply's body to stdout; 0 if it was empty. */
static int
copy_body(int fd)
{
	char buf[8192];
	ssize_t n;
	int any = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		any = 1;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			die("cannot write the reply");
	}
	if (n < 0)
		die("cannot read the reply: %s", strerror(errno));
	return any;
}

/* Send one request; print the body (if any) on stdout, and the text on
 * stdout (ok) or stderr (refused).  Returns the reply's status. */
static int
request(uint8_t cmd, const char *arg, uint64_t num, int quiet_ok)
{
	struct ctl_request r = { .cmd = cmd, .num = num };
	char text[CTLPROTO_TEXT_MAX];
	uint8_t status;
	int fd = connect_master(), printed = 0;

	snprintf(r.arg, sizeof(r.arg), "%s", arg != NULL ? arg : "");
	if (arg != NULL && strlen(arg) > CTLPROTO_ARG_MAX)
		die("'%s': too long", arg);
	ctlproto_request_put(&out, &r);
	if (ipc_send(fd, &out) < 0)
		die("cannot send to the master: %s", strerror(errno));
	if (ipc_recv(fd, &in) <= 0)
		die("no answer from the master: %s", errno == EAGAIN ? "timed out" :
		    "connection closed (not allowed? see the master's log)");
	if (in.type != MSG_CTL_REPLY || ctlproto_reply_get(&in, &status, text) < 0)
		die("a malformed answer from the master");
	if (in.fd >= 0) {
		printed = copy_body(in.fd);
		close(in.fd);
	}
	close(fd);
	if (status == CTL_OK) {
		if (!quiet_ok || !printed)
			printf("%s\n", text);
	} else {
		fprintf(stderr, "posternctl: %s\n", text);
	}
	return status;
}

int
cmd_reload(const struct ctl_args *a)
{
	(void)a;
	return request(CTL_RELOAD, NULL, 0, 0) == CTL_OK ? 0 : 1;
}

int
cmd_status(const struct ctl_args *a)
{
	(void)a;
	return request(CTL_STATUS, NULL, 0, 1) == CTL_OK ? 0 : 1;
}

int
cmd_who(const struct ctl_args *a)
{
	(void)a;
	return request(CTL_WHO, NULL, 0, 1) == CTL_OK ? 0 : 1;
}

/* A session id is util_session_id's 24 hex digits; anything else is a user. */
static int
is_session_id(const char *s)
{
	return strlen(s) == 24 && strspn(s, "0123456789abcdef") == 24;
}

int
cmd_kick(const struct ctl_args *a)
{
	const char *arg = a->argv[0];

	return request(is_session_id(arg) ? CTL_KICK_SESSION : CTL_KICK_USER, arg, 0, 0) ==
	    CTL_OK ? 0 : 1;
}

int
cmd_throttle_list(const struct ctl_args *a)
{
	(void)a;
	return request(CTL_THROTTLE_LIST, NULL, 0, 1) == CTL_OK ? 0 : 1;
}

int
cmd_throttle_clear(const struct ctl_args *a)
{
	const char *arg = a->argv[0];
	unsigned char bin[16];
	int ip = inet_pton(AF_INET, arg, bin) == 1 || inet_pton(AF_INET6, arg, bin) == 1;

	return request(ip ? CTL_THROTTLE_CLEAR_IP : CTL_THROTTLE_CLEAR_USER, arg, 0, 0) ==
	    CTL_OK ? 0 : 1;
}

int
cmd_stop(const struct ctl_args *a)
{
	unsigned long long drain = 0;
	char *end;

	if (a->drain != NULL) {
		errno = 0;
		drain = strtoull(a->drain, &end, 10);
		if (a->drain[0] < '0' || a->drain[0] > '9' || *end != '\0' || errno != 0 ||
		    drain > CTLPROTO_DRAIN_MAX)
			usage_error("stop: --drain takes seconds, 0 to %u", CTLPROTO_DRAIN_MAX);
	}
	return request(CTL_STOP, NULL, drain, 0) == CTL_OK ? 0 : 1;
}

int
cmd_health(const struct ctl_args *a)
{
	(void)a;
	return request(CTL_HEALTH, NULL, 0, 0) == CTL_OK ? 0 : 1;
}
