/* backendsrv.c - the request loop of an authd backend helper (backendsrv.h). */
#include "backendsrv.h"

#include <errno.h>
#include <string.h>

#include "../base/log.h"
#include "ipc.h"

int
backend_serve(int fd, int (*run)(const struct backend_request *q, struct backend_reply *r))
{
	static struct ipc_in in;
	static struct ipc_out out;
	static struct backend_request q;
	static struct backend_reply r;
	int rc, keep;

	for (;;) {
		rc = ipc_recv(fd, &in);
		if (rc == 0)
			return 0;	/* authd is gone: so is its helper */
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fatal("reason=\"authd channel failed\" errno=%d", errno);
		}
		if (in.type != MSG_BACKEND_REQUEST || backendproto_request_get(&in, &q) < 0)
			fatal("reason=\"bad request from authd\" type=0x%04x", in.type);
		memset(&r, 0, sizeof(r));
		keep = run(&q, &r) == 0;
		explicit_bzero(in.data, sizeof(in.data));	/* it may hold the password */
		r.id = q.id;
		backendproto_reply_put(&out, &r);
		if (ipc_send(fd, &out) < 0)
			fatal("reason=\"authd channel failed\" errno=%d", errno);
		explicit_bzero(&q, sizeof(q));
		explicit_bzero(&r, sizeof(r));
		explicit_bzero(&out, sizeof(out));
		if (!keep)
			return 1;
	}
}
