/* hostile_helper.c - a compromised backend helper, in postern-auth-checkpw's
 * place (a libexec_dir of links with this one as the helper), under the
 * helper's identity: what authd and the master make of its answers.  The
 * local part of the login it is asked about picks the answer:
 *   ok       found, verified (the password is not even looked at)
 *   other    found, but naming another user (demo@localhost)
 *   keyd     found, with keyd's uid and gid (authd must refuse them)
 *   escape   a mail root with "..": the decoder refuses it
 *   garbage  a message of another type
 *   silent   no answer at all
 *   anything else: not found.
 * It confines itself as the real helper does (policy row auth-checkpw). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../../common/auth/backendq.h"
#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/log.h"
#include "../../common/ipc/backendproto.h"
#include "../../policy/policy.h"

static uint64_t cfg_keyd_uid;
static struct ipc_in in;
static struct ipc_out out;

static void
answer(const struct backend_request *q)
{
	struct backend_reply r;
	size_t n = strcspn(q->name, "@");

	memset(&r, 0, sizeof(r));
	r.id = q->id;
	r.status = BACKEND_FOUND;
	r.verified = 1;
	snprintf(r.user, sizeof(r.user), "%s", q->name);
	if (n == 5 && strncmp(q->name, "other", 5) == 0) {
		snprintf(r.user, sizeof(r.user), "demo@localhost");
	} else if (n == 4 && strncmp(q->name, "keyd", 4) == 0) {
		/* 0 stands for mail_uid: root cannot be named; the uid of
		 * keyd (its own, authd's, the workers') is what it would want */
		r.uid = (uint32_t)cfg_keyd_uid;
		r.gid = (uint32_t)cfg_keyd_uid;
	} else if (n == 6 && strncmp(q->name, "escape", 6) == 0) {
		/* the put does not check: the bytes go out as a compromised
		 * helper would send them */
		snprintf(r.mail_root, sizeof(r.mail_root), "/var/../etc");
	} else if (n == 7 && strncmp(q->name, "garbage", 7) == 0) {
		ipc_out_init(&out, 0x0e7f);
		ipc_put_str(&out, "hello");
		(void)ipc_send(3, &out);
		return;
	} else if (n == 6 && strncmp(q->name, "silent", 6) == 0) {
		return;
	} else if (!(n == 2 && strncmp(q->name, "ok", 2) == 0)) {
		memset(&r, 0, sizeof(r));
		r.id = q->id;
		r.status = BACKEND_NOT_FOUND;
	}
	backendproto_reply_put(&out, &r);
	(void)ipc_send(3, &out);
}

int
main(int argc, char **argv)
{
	static const struct daemon_args a = { .name = "auth-checkpw", .opts = "", .usage = "" };
	struct backend_request q;
	struct sandbox_spec spec;
	struct config cfg;
	int rc;

	daemon_boot(&a, argc, argv, &cfg);
	cfg_keyd_uid = cfg.keyd_uid;
	policy_spec(POLICY_AUTH_CHECKPW, &cfg, &spec);
	sandbox_confine(&spec);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("reason=\"PR_SET_NO_NEW_PRIVS failed\"");
	log_event(LOG_LEVEL_INFO, "ready", "backend=checkpw hostile=yes");
	for (;;) {
		rc = ipc_recv(3, &in);
		if (rc == 0)
			return 0;
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 || backendproto_request_get(&in, &q) < 0)
			return 1;
		answer(&q);
	}
}
