/* wk_session.h - worker kit: the event loop of one client session.
 *
 * One loop (common/base/ev.c) over the client fd and the session's timers: the
 * idle timeout, re-armed by every byte of input, and the session's own
 * login deadline, counted from the worker's start and set ahead of the
 * master's kill (a quarter of login_timeout, at most one second), so a
 * correct worker tells its client why it closes.  The authd fd joins the
 * loop through wk_auth while a login is out.  The protocol supplies
 * process(): take every complete line from c->in while the session may
 * read; the kit then pushes the output, takes input the TLS engine held
 * back, and re-arms the client's poll events.
 */
#ifndef POSTERN_WK_SESSION_H
#define POSTERN_WK_SESSION_H

#include <stdint.h>

#include "wk_auth.h"
#include "wk_client.h"

struct wk_session_ops {
	/* Handle the buffered input (may queue output, start a login, set
	 * s->closing).  Called again whenever more input or a login verdict
	 * arrives. */
	void (*process)(void *ctx);
	/* The line for a session past its login deadline, CRLF included
	 * (POP3 "-ERR [SYS/TEMP] login timeout", IMAP "* BYE ..."). */
	const char *login_timeout_line;
	/* The line for a session idle past its timeout, or NULL to close
	 * without one (IMAP "* BYE Autologout", RFC 9051 5.4). */
	const char *idle_timeout_line;
	/* The lines for a session the master ends: at shutdown (SIGTERM from
	 * `posternctl stop`, the end of a drain, or the master's own SIGTERM)
	 * and at `posternctl kick` (SIGUSR1).  Written at the next command
	 * boundary (IMAP "* BYE", POP3 "-ERR", SMTP "421"), then the session
	 * closes; NULL to close without one. */
	const char *shutdown_line;
	const char *kick_line;
	/* Non-zero while a command is half done (a delivery out, a message
	 * being received): the line waits for its end.  NULL: never. */
	int (*busy)(void *ctx);
};

struct wk_session {
	struct wk_client *c;
	struct wk_auth *auth;
	const struct wk_session_ops *ops;
	void *ctx;
	const char *ip;
	uint64_t login_timeout_s;
	uint64_t idle_timer, login_timer;
	int logged_in;
	int closing;		/* answer, drain, then end the session */
	int ended;		/* the loop was told to stop */
	int in_kick;		/* wk_session_kick() is running (callbacks re-enter it) */
	int stop_signal;	/* SIGTERM or SIGUSR1 arrived: end at the next boundary */
};

/* Before the sandbox: SIGTERM and SIGUSR1 become events of the session's
 * loop (a pipe the handler writes one byte to), so a signal that comes
 * between two polls is not lost.  Fatal on failure. */
void wk_session_signals(void);

/* Tie a session to its client and login relay; no I/O. */
void wk_session_init(struct wk_session *s, struct wk_client *c, struct wk_auth *auth,
    const struct wk_session_ops *ops, void *ctx, uint64_t login_timeout_s, const char *ip);

/* Run the loop until the session ends: watch the client fd, arm the idle
 * timer and the login deadline (started_ms: the worker's start, from
 * wk_boot), process what is buffered (the greeting may be queued already).
 * Returns when the session is over; the caller closes the client. */
void wk_session_run(struct wk_session *s, uint64_t started_ms);

/* Process input, push output, re-arm the poll events; stop the loop once
 * the client is dead, the session closing, or the client gone with no
 * login out.  Safe from any callback (re-entry is a no-op). */
void wk_session_kick(struct wk_session *s);

/* The login succeeded: the login deadline no longer applies. */
void wk_session_logged_in(struct wk_session *s);

#endif
