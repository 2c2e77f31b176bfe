/* wk_auth.c - worker kit: the authd relay, driven by the event loop. */
#include "wk_auth.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../base/ev.h"
#include "../ipc/authdproto.h"
#include "../ipc/ipc.h"
#include "../ipc/scratch.h"
#include "../ipc/masterproto.h"
#include "../base/log.h"
#include "../ipc/proto.h"
#include "../proto/sasl.h"
#include "wk_client.h"


void
wk_auth_init(struct wk_auth *a, int authd_fd, int control_fd, uint64_t reply_timeout_ms,
    const struct wk_auth_ops *ops, void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->state = WK_AUTH_IDLE;
	a->authd_fd = authd_fd;
	a->control_fd = control_fd;
	a->reply_timeout_ms = reply_timeout_ms;
	a->ops = ops;
	a->ctx = ctx;
}

int
wk_auth_busy(const struct wk_auth *a)
{
	return a->state == WK_AUTH_WAIT_AUTHD || a->state == WK_AUTH_WAIT_STORE;
}

int
wk_auth_wants_line(const struct wk_auth *a)
{
	return a->state == WK_AUTH_WAIT_CLIENT;
}

/* Stop waiting on whichever fd, then report. */
static void
finish(struct wk_auth *a, enum wk_auth_result r, uint32_t code, int store_fd)
{
	if (a->state == WK_AUTH_WAIT_AUTHD)
		ev_del_fd(a->authd_fd);
	else if (a->state == WK_AUTH_WAIT_STORE)
		ev_del_fd(a->control_fd);
	if (a->timer != 0)
		ev_cancel_timer(a->timer);
	a->timer = 0;
	a->state = WK_AUTH_IDLE;
	/* authd's login line names the user; the worker's says what only the
	 * worker knows: whether the session is under TLS (its own word) */
	if (r == WK_AUTH_OK && a->client != NULL)
		log_event(LOG_LEVEL_INFO, "login", "tls=%s ip=%s", a->client->tls != NULL &&
		    wk_client_can_say(a->client) ? "yes" : "no", a->client->ip);
	a->ops->done(a->ctx, r, code, store_fd);
}

static void
on_deadline(void *ctx)
{
	struct wk_auth *a = ctx;

	a->timer = 0;
	log_event(LOG_LEVEL_WARN, "auth", "reason=\"%s did not answer in time\"",
	    a->state == WK_AUTH_WAIT_STORE ? "master" : "authd");
	finish(a, WK_AUTH_UNAVAILABLE, 0, -1);
}

static void on_authd(int fd, short revents, void *ctx);
static void on_control(int fd, short revents, void *ctx);

/* Wait for the peer's answer on fd, at most ms. */
static void
await(struct wk_auth *a, enum wk_auth_state st, int fd, uint64_t ms)
{
	a->state = st;
	if (ev_add_fd(fd, POLLIN, st == WK_AUTH_WAIT_STORE ? on_control : on_authd, a) < 0 ||
	    (a->timer = ev_add_timer(ms, on_deadline, a)) == 0) {
		finish(a, WK_AUTH_UNAVAILABLE, 0, -1);
	}
}

/* Send ipc_scratch_out (then wipe it: it carries credentials) and await authd. */
static void
request(struct wk_auth *a)
{
	int rc = ipc_send(a->authd_fd, &ipc_scratch_out);

	explicit_bzero(ipc_scratch_out.data, ipc_scratch_out.len);
	if (rc < 0) {
		a->state = WK_AUTH_IDLE;
		a->ops->done(a->ctx, WK_AUTH_UNAVAILABLE, 0, -1);
		return;
	}
	await(a, WK_AUTH_WAIT_AUTHD, a->authd_fd, a->reply_timeout_ms);
}

void
wk_auth_userpass(struct wk_auth *a, const uint8_t *user, size_t userlen,
    const uint8_t *pass, size_t passlen)
{
	authdproto_userpass_put(&ipc_scratch_out, user, userlen, pass, passlen);
	a->sasl = 0;
	request(a);
}

void
wk_auth_start(struct wk_auth *a, const uint8_t *mech, size_t mechlen, int has_ir,
    const uint8_t *ir, size_t irlen)
{
	authdproto_start_put(&ipc_scratch_out, mech, mechlen, has_ir, ir, irlen);
	a->sasl = 1;
	request(a);
}

void
wk_auth_respond(struct wk_auth *a, const uint8_t *line, size_t len)
{
	if (a->state != WK_AUTH_WAIT_CLIENT)
		return;
	authdproto_continue_put(&ipc_scratch_out, line, len);
	request(a);
}

/* authd's answer to one step. */
static void
on_authd(int fd, short revents, void *ctx)
{
	struct wk_auth *a = ctx;
	/* a failure text or a challenge (SCRAM's server-first is the longer) */
	char text[AUTHD_CHALLENGE_SIZE > AUTHD_TEXT_SIZE ? AUTHD_CHALLENGE_SIZE : AUTHD_TEXT_SIZE];
	uint32_t code;

	(void)revents;
	if (a->state != WK_AUTH_WAIT_AUTHD)
		return;
	if (ipc_recv(fd, &ipc_scratch_in) != 1) {
		finish(a, WK_AUTH_UNAVAILABLE, 0, -1);
		return;
	}
	if (ipc_scratch_in.type == MSG_AUTH_OK && authdproto_ok_get(&ipc_scratch_in) == 0) {
		ev_del_fd(a->authd_fd);
		ev_cancel_timer(a->timer);
		await(a, WK_AUTH_WAIT_STORE, a->control_fd, BROKER_CALL_TIMEOUT_MS);
		return;
	}
	if (ipc_scratch_in.type == MSG_AUTH_CHALLENGE && a->sasl) {
		if (authdproto_challenge_get(&ipc_scratch_in, text) == 0) {
			ev_del_fd(a->authd_fd);
			ev_cancel_timer(a->timer);
			a->timer = 0;
			a->state = WK_AUTH_WAIT_CLIENT;
			a->ops->challenge(a->ctx, text);
			return;
		}
	}
	if (ipc_scratch_in.type == MSG_AUTH_FAIL) {
		if (authdproto_fail_get(&ipc_scratch_in, &code, text) == 0) {
			finish(a, WK_AUTH_REFUSED, code, -1);
			return;
		}
	}
	ipc_in_close_fd(&ipc_scratch_in);
	fatal("reason=\"bad message from authd\" type=0x%04x", ipc_scratch_in.type);
}

/* The master's hand-over of the stored channel after a verified login. */
static void
on_control(int fd, short revents, void *ctx)
{
	struct wk_auth *a = ctx;

	(void)revents;
	if (a->state != WK_AUTH_WAIT_STORE)
		return;
	if (ipc_recv(fd, &ipc_scratch_in) == 1 && ipc_scratch_in.type == MSG_WORKER_STORE &&
	    masterproto_store_get(&ipc_scratch_in) == 0) {
		finish(a, WK_AUTH_OK, 0, ipc_scratch_in.fd);
		return;
	}
	ipc_in_close_fd(&ipc_scratch_in);
	finish(a, WK_AUTH_NO_STORE, 0, -1);
}
