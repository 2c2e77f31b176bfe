/* wk_auth.h - worker kit: the relay of a login to authd, as a state machine.
 *
 * The worker never decides a login: it forwards the client's bytes (USER/
 * PASS, or a SASL exchange) to authd and reports authd's verdict.  A
 * request goes out with a bounded send; the reply is read when the event
 * loop (common/base/ev.c) sees the authd fd readable, under a deadline timer,
 * so the worker keeps serving its timers meanwhile (authd may hold a
 * failure for auth_fail_delay_ms).  After authd says yes, the master hands
 * over the channel to this user's stored on the control fd, read the same
 * way.  A SASL challenge is framed by the protocol (ops->challenge: "+ "
 * for POP3 and IMAP, "334 " for SMTP); the protocol feeds the client's
 * response lines back with wk_auth_respond().  While wk_auth_busy(), the
 * protocol reads no further command.
 */
#ifndef POSTERN_WK_AUTH_H
#define POSTERN_WK_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct wk_client;

enum wk_auth_state {
	WK_AUTH_IDLE,		/* no exchange */
	WK_AUTH_WAIT_AUTHD,	/* a request is out, authd has not answered */
	WK_AUTH_WAIT_CLIENT,	/* a challenge was sent, the next line is the response */
	WK_AUTH_WAIT_STORE,	/* authd said yes, the master's hand-over is due */
};

enum wk_auth_result {
	WK_AUTH_OK,		/* logged in; store_fd is this session's stored channel */
	WK_AUTH_REFUSED,	/* authd said no; code is an AUTH_FAIL_* (proto.h) */
	WK_AUTH_UNAVAILABLE,	/* authd gone, silent past the deadline: end the session */
	WK_AUTH_NO_STORE,	/* the master had no stored for us: end the session */
};

struct wk_auth_ops {
	/* Write a challenge (base64 text, NUL-terminated) in the protocol's framing. */
	void (*challenge)(void *ctx, const char *text);
	/* The exchange ended (once per request that was started). */
	void (*done)(void *ctx, enum wk_auth_result r, uint32_t code, int store_fd);
};

struct wk_auth {
	enum wk_auth_state state;
	int authd_fd;
	int control_fd;
	uint64_t reply_timeout_ms;	/* authd's deadline, fail delay included */
	uint64_t timer;
	int sasl;			/* AUTH (challenges allowed), not USER/PASS */
	const struct wk_auth_ops *ops;
	void *ctx;
	/* optional, set after wk_auth_init: the session's client, whose TLS
	 * state the worker's login line reports (tls=yes|no) */
	const struct wk_client *client;
};

/* Set up a relay; no I/O. */
void wk_auth_init(struct wk_auth *a, int authd_fd, int control_fd, uint64_t reply_timeout_ms,
    const struct wk_auth_ops *ops, void *ctx);

/* Relay USER/PASS.  The exchange ends in ops->done (at once if authd
 * cannot be reached).  The copy of the password is wiped after sending. */
void wk_auth_userpass(struct wk_auth *a, const uint8_t *user, size_t userlen,
    const uint8_t *pass, size_t passlen);

/* Start SASL mech (<= 31 bytes) with an optional initial response
 * (has_ir; base64 text, "=" for empty).  Ends in ops->done, possibly
 * after challenges. */
void wk_auth_start(struct wk_auth *a, const uint8_t *mech, size_t mechlen, int has_ir,
    const uint8_t *ir, size_t irlen);

/* The client's response to a challenge (base64 text, or "*" to abort;
 * a line over SASL_LINE_MAX is cut one byte past it, so authd refuses it). */
void wk_auth_respond(struct wk_auth *a, const uint8_t *line, size_t len);

/* Non-zero while a request is out (no command may be read meanwhile). */
int wk_auth_busy(const struct wk_auth *a);

/* Non-zero while the next client line is a SASL response. */
int wk_auth_wants_line(const struct wk_auth *a);

#endif
