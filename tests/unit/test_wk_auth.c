/* test_wk_auth.c - the worker kit's authd relay as a state machine: the
 * test plays authd and the master on socketpairs, the event loop reads
 * their answers, the deadline timer ends a silent peer. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/ipc/ipc.h"
#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/worker/wk_auth.h"
#include "tap.h"

static struct ipc_in in;
static struct ipc_out out;
static struct wk_auth a;
static int authd[2], control[2];
static int ndone, nchallenge, last_fd = -1;
static enum wk_auth_result last;
static uint32_t last_code;
static char last_challenge[64];

static void
on_challenge(void *ctx, const char *text)
{
	(void)ctx;
	nchallenge++;
	snprintf(last_challenge, sizeof(last_challenge), "%s", text);
	ev_stop();
}

static void
on_done(void *ctx, enum wk_auth_result r, uint32_t code, int store_fd)
{
	(void)ctx;
	ndone++;
	last = r;
	last_code = code;
	last_fd = store_fd;
	ev_stop();
}

static const struct wk_auth_ops ops = { .challenge = on_challenge, .done = on_done };

static void
setup(uint64_t timeout_ms)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, authd) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, control) < 0)
		abort();
	wk_auth_init(&a, authd[0], control[0], timeout_ms, &ops, NULL);
	ndone = nchallenge = 0;
}

static void
teardown(void)
{
	close(authd[0]);
	if (authd[1] >= 0)
		close(authd[1]);
	close(control[0]);
	close(control[1]);
	if (last_fd >= 0)
		close(last_fd);
	last_fd = -1;
}

static void
test_userpass_refused(void)
{
	setup(5000);
	wk_auth_userpass(&a, (const uint8_t *)"demo", 4, (const uint8_t *)"pw", 2);
	CHECK(wk_auth_busy(&a) && ndone == 0, "request out: busy, no verdict yet");
	CHECK(ipc_recv(authd[1], &in) == 1 && in.type == MSG_AUTH_USERPASS, "authd got USERPASS");
	ipc_out_init(&out, MSG_AUTH_FAIL);
	ipc_put_u32(&out, AUTH_FAIL_CREDENTIALS);
	ipc_put_str(&out, "no");
	CHECK(ipc_send(authd[1], &out) == 0, "authd answers FAIL");
	ev_run();
	CHECK(ndone == 1 && last == WK_AUTH_REFUSED && last_code == AUTH_FAIL_CREDENTIALS,
	    "the loop read the refusal");
	CHECK(!wk_auth_busy(&a) && !wk_auth_wants_line(&a), "idle again");
	teardown();
}

static void
test_sasl_then_store(void)
{
	int p[2];

	setup(5000);
	wk_auth_start(&a, (const uint8_t *)"PLAIN", 5, 0, NULL, 0);
	CHECK(ipc_recv(authd[1], &in) == 1 && in.type == MSG_AUTH_START, "authd got START");
	ipc_out_init(&out, MSG_AUTH_CHALLENGE);
	ipc_put_str(&out, "");
	(void)ipc_send(authd[1], &out);
	ev_run();
	CHECK(nchallenge == 1 && last_challenge[0] == '\0', "challenge framed by the protocol");
	CHECK(wk_auth_wants_line(&a) && !wk_auth_busy(&a), "the next line is the response");
	wk_auth_respond(&a, (const uint8_t *)"AGRlbW8AZGVtbw==", 16);
	CHECK(ipc_recv(authd[1], &in) == 1 && in.type == MSG_AUTH_CONTINUE, "authd got CONTINUE");
	ipc_out_init(&out, MSG_AUTH_OK);
	(void)ipc_send(authd[1], &out);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) < 0)
		abort();
	ipc_out_init(&out, MSG_WORKER_STORE);
	ipc_put_fd(&out, p[1]);
	(void)ipc_send(control[1], &out);
	close(p[1]);
	ev_run();
	CHECK(ndone == 1 && last == WK_AUTH_OK && last_fd >= 0, "OK, then the master's stored fd");
	close(p[0]);
	teardown();
}

static void
test_silent_and_dead_authd(void)
{
	uint64_t t0;

	setup(100);
	t0 = ev_now_ms();
	wk_auth_userpass(&a, (const uint8_t *)"demo", 4, (const uint8_t *)"pw", 2);
	ev_run();
	CHECK(ndone == 1 && last == WK_AUTH_UNAVAILABLE, "a silent authd: unavailable");
	CHECK(ev_now_ms() - t0 >= 95 && ev_now_ms() - t0 < 2000, "at the deadline");
	teardown();
	setup(5000);
	wk_auth_userpass(&a, (const uint8_t *)"demo", 4, (const uint8_t *)"pw", 2);
	close(authd[1]);
	authd[1] = -1;
	ev_run();
	CHECK(ndone == 1 && last == WK_AUTH_UNAVAILABLE, "authd gone: unavailable");
	teardown();
}

int
main(void)
{
	log_init("test_wk_auth");
	test_userpass_refused();
	test_sasl_then_store();
	test_silent_and_dead_authd();
	return tap_done();
}
