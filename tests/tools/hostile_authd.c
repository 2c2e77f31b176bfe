/* hostile_authd - a test program the master runs in place of authd (a
 * libexec_dir whose postern-authd is this).  It boots as authd does, loads
 * authd's sandbox, and then plays a compromised authd: it decides logins
 * by itself and sends the master the two write requests an authd may make,
 * MSG_MASTER_REHASH and MSG_MASTER_SCRAM_ADD, for whatever user it likes.
 *
 * The test drives it through real POP3 sessions: the USER name a client
 * sends arrives here (through the real pop3d) as a list of commands,
 *   login=NAME   MSG_MASTER_LOGIN for this session as NAME
 *   rehash=NAME  MSG_MASTER_REHASH for this session, user NAME, a real
 *                yescrypt hash of "hostile"
 *   scram=NAME   MSG_MASTER_SCRAM_ADD for this session, user NAME
 * separated by commas, sent in that order.  The worker then gets OK if a
 * login was sent, else a failure.  One log line says what was sent, and
 * the master's log lines say what it made of it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/ipc.h"
#include "../../common/ipc/proto.h"
#include "../../common/mail/userdb.h"
#include "../../policy/policy.h"

#define MAX_SESSIONS 16

static struct ipc_in in;
static struct ipc_out out;
static struct config cfg;
static char yescrypt[USERDB_HASH_MAX + 1];

static struct {
	char sid[AUTHD_SID_SIZE];
	int fd;
} sess[MAX_SESSIONS];

static void
to_master(const char *what)
{
	if (ipc_send(FD_PARENT, &out) < 0) {
		log_event(LOG_LEVEL_ERR, "hostile_authd", "send=%s errno=%d", what, errno);
		exit(1);
	}
}

static void
send_login(const char *sid, const char *user)
{
	static struct authd_login L;

	memset(&L, 0, sizeof(L));
	snprintf(L.sid, sizeof(L.sid), "%.*s", (int)sizeof(L.sid) - 1, sid);
	snprintf(L.user, sizeof(L.user), "%s", user);
	L.uid = (uint32_t)cfg.mail_uid;
	L.gid = (uint32_t)cfg.mail_gid;
	snprintf(L.mail_root, sizeof(L.mail_root), "/nonexistent/hostile/%s", user);
	authdproto_login_put(&out, &L);
	to_master("login");
}

static void
send_rehash(const char *sid, const char *user)
{
	static struct authd_rehash r;

	memset(&r, 0, sizeof(r));
	snprintf(r.sid, sizeof(r.sid), "%.*s", (int)sizeof(r.sid) - 1, sid);
	snprintf(r.user, sizeof(r.user), "%s", user);
	snprintf(r.hash, sizeof(r.hash), "%s", yescrypt);
	authdproto_rehash_put(&out, &r);
	to_master("rehash");
}

static void
send_scram(const char *sid, const char *user)
{
	static struct authd_scram_add r;

	memset(&r, 0, sizeof(r));
	snprintf(r.sid, sizeof(r.sid), "%.*s", (int)sizeof(r.sid) - 1, sid);
	snprintf(r.user, sizeof(r.user), "%s", user);
	snprintf(r.hash, sizeof(r.hash), "%s", yescrypt);
	r.scram.iterations = 4096;
	r.scram.saltlen = 16;
	memset(r.scram.salt, 0x5a, r.scram.saltlen);
	memset(r.scram.stored_key, 0xa5, sizeof(r.scram.stored_key));
	memset(r.scram.server_key, 0x3c, sizeof(r.scram.server_key));
	authdproto_scram_add_put(&out, &r);
	to_master("scram");
}

/* One USER/PASS from session i: run its commands, answer the worker. */
static void
on_userpass(int i)
{
	struct authd_userpass up;
	char cmds[256], *save = NULL, *c;
	int logged = 0;

	if (authdproto_userpass_get(&in, &up) < 0 || up.userlen >= sizeof(cmds)) {
		authdproto_fail_put(&out, AUTH_FAIL_SYNTAX, "bad request");
		(void)ipc_send(sess[i].fd, &out);
		return;
	}
	memcpy(cmds, up.user, up.userlen);
	cmds[up.userlen] = '\0';
	log_set_session(sess[i].sid);
	log_event(LOG_LEVEL_INFO, "hostile_authd", "commands=\"%s\"", cmds);
	for (c = strtok_r(cmds, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save)) {
		if (strncmp(c, "login=", 6) == 0) {
			send_login(sess[i].sid, c + 6);
			logged = 1;
		} else if (strncmp(c, "rehash=", 7) == 0) {
			send_rehash(sess[i].sid, c + 7);
		} else if (strncmp(c, "scram=", 6) == 0) {
			send_scram(sess[i].sid, c + 6);
		}
	}
	log_event(LOG_LEVEL_INFO, "hostile_authd", "done=1");
	log_set_session(NULL);
	if (logged)
		authdproto_ok_put(&out);
	else
		authdproto_fail_put(&out, AUTH_FAIL_CREDENTIALS, "no");
	(void)ipc_send(sess[i].fd, &out);
}

static void
on_master(void)
{
	struct authd_session s;
	int i;

	if (in.type != MSG_AUTHD_SESSION_NEW) {
		ipc_in_close_fd(&in);	/* config, lookups: not played */
		return;
	}
	if (authdproto_session_get(&in, &s) < 0 || in.fd < 0)
		exit(1);
	for (i = 0; i < MAX_SESSIONS && sess[i].fd >= 0; i++)
		;
	if (i == MAX_SESSIONS) {
		close(in.fd);
		return;
	}
	snprintf(sess[i].sid, sizeof(sess[i].sid), "%s", s.sid);
	sess[i].fd = in.fd;
	in.fd = -1;
}

int
main(int argc, char **argv)
{
	static const struct daemon_args args = { .name = "authd", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct pollfd p[MAX_SESSIONS + 1];
	int i, n;

	daemon_boot(&args, argc, argv, &cfg);
	if (userdb_hash_password("hostile", NULL, yescrypt) < 0)
		return 1;
	for (i = 0; i < MAX_SESSIONS; i++)
		sess[i].fd = -1;
	policy_spec(POLICY_AUTHD, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	log_event(LOG_LEVEL_INFO, "ready", "userdb=%s hostile=1", cfg.userdb_path);
	for (;;) {
		p[0] = (struct pollfd){ FD_PARENT, POLLIN, 0 };
		for (i = 0; i < MAX_SESSIONS; i++)
			p[i + 1] = (struct pollfd){ sess[i].fd, POLLIN, 0 };
		if (poll(p, MAX_SESSIONS + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			if (ipc_recv(FD_PARENT, &in) <= 0)
				return 0;	/* the master is gone or replaced us */
			on_master();
		}
		for (i = 0; i < MAX_SESSIONS; i++) {
			if (sess[i].fd < 0 || !p[i + 1].revents)
				continue;
			n = ipc_recv(sess[i].fd, &in);
			if (n <= 0) {
				close(sess[i].fd);
				sess[i].fd = -1;
			} else if (in.type == MSG_AUTH_USERPASS) {
				on_userpass(i);
			}
			ipc_in_close_fd(&in);
		}
	}
}
