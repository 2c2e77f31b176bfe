/* postern-pop3d: one POP3 connection.  fd 3 is the client, fd 4 the
 * master's control channel, fd 5 authd.  It enters its sandbox (worker uid,
 * empty root, no capabilities, no_new_privs, seccomp) before reading a
 * single byte from the network. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../common/config.h"
#include "../../common/ipc.h"
#include "../../common/proxy.h"
#include "../../common/log.h"
#include "../../common/proto.h"
#include "../../policy/policy.h"
#include "pop3d.h"

static struct pop3 P;
static struct ipc_in inmsg;
static struct ipc_out outmsg;

/* 127.0.0.0/8 and ::1, as the master wrote the address (never the client). */
static int
ip_is_loopback(const char *ip)
{
	/* "local:uid=N": a unix socket listener's peer is on this host too */
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
	    strncmp(ip, "::ffff:127.", 11) == 0 || strncmp(ip, "local", 5) == 0;
}

/* PROXY protocol (only on listeners configured for it, only from trusted
 * proxies: the master checked the peer).  Read exactly the header, report
 * the client address to the master, and take its verdict. */
static int
read_proxy_header(struct pop3 *p)
{
	uint8_t hdr[PROXY_MAX];
	struct proxy_info info;
	struct pollfd pfd = { FD_CLIENT, POLLIN, 0 };
	size_t len = 0, n, used;
	ssize_t r;

	while ((n = proxy_next_read(hdr, len)) > 0 && len + n <= sizeof(hdr)) {
		if (poll(&pfd, 1, (int)(p->cfg->pop3_idle_timeout * 1000)) <= 0 ||
		    (r = read(FD_CLIENT, hdr + len, n)) <= 0)
			return -1;
		len += (size_t)r;
	}
	if (proxy_parse(hdr, len, &info, &used) != PROXY_OK) {
		log_event(LOG_LEVEL_WARN, "proxy_failed", "peer=%s reason=\"malformed PROXY header\"", p->ip);
		return -1;
	}
	ipc_out_init(&outmsg, MSG_MASTER_PROXY);
	ipc_put_str(&outmsg, info.local ? "" : info.src);
	if (ipc_send(FD_CONTROL, &outmsg) < 0 || ipc_recv(FD_CONTROL, &inmsg) != 1)
		return -1;
	if (inmsg.type == MSG_WORKER_PROXY_OK) {
		ipc_get_str(&inmsg, p->ip, sizeof(p->ip));
		return ipc_in_end(&inmsg);
	}
	ipc_in_close_fd(&inmsg);
	if (inmsg.type == MSG_WORKER_PROXY_REFUSE && !p->implicit_tls) {
		char why[96], line[160];
		int l;
		ipc_get_str(&inmsg, why, sizeof(why));
		l = snprintf(line, sizeof(line), "-ERR [SYS/TEMP] %s, try again later\r\n",
		    inmsg.err ? "refused" : why);
		if (l > 0 && (size_t)l < sizeof(line))
			(void)!write(FD_CLIENT, line, (size_t)l);
	}
	return -1;
}

int
main(int argc, char **argv)
{
	const char *cfgpath = "/etc/postern/postern.conf";
	struct sandbox_spec spec;
	struct config cfg;
	struct timeval tv;
	char err[512];
	int proxy = 0;
	int opt;

	log_init("pop3d");
	while ((opt = getopt(argc, argv, "c:s:i:tp")) != -1) {
		switch (opt) {
		case 'p': proxy = 1; break;
		case 't': P.implicit_tls = 1; break;
		case 'c': cfgpath = optarg; break;
		case 's': snprintf(P.sid, sizeof(P.sid), "%s", optarg); break;
		case 'i': snprintf(P.ip, sizeof(P.ip), "%s", optarg); break;
		default: fatal("reason=\"usage: postern-pop3d -c cfg -s sid -i ip\"");
		}
	}
	log_set_session(P.sid);
	if (config_load(&cfg, cfgpath, err, sizeof(err)) < 0)
		fatal("reason=\"%s\"", err);
	config_close_passed(cfgpath);
	signal(SIGPIPE, SIG_IGN);
	/* A client that stops reading must not hold the worker forever. */
	tv.tv_sec = (time_t)cfg.pop3_idle_timeout;
	tv.tv_usec = 0;
	if (setsockopt(FD_CLIENT, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		fatal("reason=\"client fd missing\"");
	/* A broker or the master that stops answering ends this session's
	 * wait with a temporary error instead of holding it for ever; authd
	 * may hold a failure reply for auth_fail_delay_ms. */
	if (ipc_set_timeout(FD_AUTH, (unsigned)cfg.auth_fail_delay_ms + BROKER_CALL_TIMEOUT_MS) < 0 ||
	    ipc_set_timeout(FD_KEYD, BROKER_CALL_TIMEOUT_MS) < 0 ||
	    ipc_set_timeout(FD_CONTROL, BROKER_CALL_TIMEOUT_MS) < 0)
		fatal("reason=\"broker channels missing\"");

	policy_spec(POLICY_POP3D, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);

	P.cfg = &cfg;
	if (proxy && read_proxy_header(&P) < 0)
		return 0;
	P.plaintext_ok = !cfg.pop3_tls_required ||
	    (cfg.tls_plaintext_loopback && ip_is_loopback(P.ip));
	P.store_fd = -1;
	P.state = POP3_AUTHORIZATION;
	client_init(&P.c, FD_CLIENT, cfg.pop3_max_line, cfg.pop3_idle_timeout * 1000);
	pop3_run(&P);
	return 0;
}
