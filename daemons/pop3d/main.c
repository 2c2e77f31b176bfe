/* postern-pop3d: one POP3 connection.  fd 3 is the client, fd 4 the
 * master's control channel, fd 5 authd.  It enters its sandbox (worker uid,
 * empty root, no capabilities, no_new_privs, seccomp) before reading a
 * single byte from the network. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../common/config.h"
#include "../../common/log.h"
#include "../../common/proto.h"
#include "../../policy/policy.h"
#include "pop3d.h"

static struct pop3 P;

/* 127.0.0.0/8 and ::1, as the master wrote the address (never the client). */
static int
ip_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
	    strncmp(ip, "::ffff:127.", 11) == 0;
}

int
main(int argc, char **argv)
{
	const char *cfgpath = "/etc/postern/postern.conf";
	struct sandbox_spec spec;
	struct config cfg;
	struct timeval tv;
	char err[512];
	int opt;

	log_init("pop3d");
	while ((opt = getopt(argc, argv, "c:s:i:t")) != -1) {
		switch (opt) {
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

	policy_spec(POLICY_POP3D, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);

	P.cfg = &cfg;
	P.plaintext_ok = !cfg.pop3_tls_required ||
	    (cfg.tls_plaintext_loopback && ip_is_loopback(P.ip));
	P.store_fd = -1;
	P.state = POP3_AUTHORIZATION;
	client_init(&P.c, FD_CLIENT, cfg.pop3_max_line, cfg.pop3_idle_timeout * 1000);
	pop3_run(&P);
	return 0;
}
