/* wk_session.c - worker kit: one client session on the event loop. */
#include "wk_session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../base/ev.h"
#include "../base/log.h"

/* SIGTERM/SIGUSR1 -> one byte on this pipe (the handler's only work). */
static int sig_pipe[2] = { -1, -1 };

static void
on_stop_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* full: a byte already waits, which is enough */
	}
	errno = saved;
}

void
wk_session_signals(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		fatal("reason=\"no signal pipe\" errno=%d", errno);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0)
		fatal("reason=\"cannot catch SIGTERM\" errno=%d", errno);
}

void
wk_session_init(struct wk_session *s, struct wk_client *c, struct wk_auth *auth,
    const struct wk_session_ops *ops, void *ctx, uint64_t login_timeout_s, const char *ip)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->auth = auth;
	s->ops = ops;
	s->ctx = ctx;
	s->login_timeout_s = login_timeout_s;
	s->ip = ip;
}

static void
on_idle(void *ctx)
{
	struct wk_session *s = ctx;
	struct wk_client *c = s->c;

	s->idle_timer = 0;
	if (c->tls != NULL && !tls_ready(c->tls))
		log_event(LOG_LEVEL_WARN, "tls_failed", "reason=\"handshake timed out\" ip=%s", s->ip);
	else if (c->tls != NULL)
		log_event(LOG_LEVEL_INFO, "disconnect", "reason=idle_timeout tls=yes ip=%s", s->ip);
	else
		log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=idle_timeout", s->ip);
	if (s->ops->idle_timeout_line != NULL && wk_client_can_say(c)) {
		wk_client_puts(c, s->ops->idle_timeout_line);
		(void)wk_client_drain(c);
	}
	c->dead = 1;
	wk_session_kick(s);
}

/* Every wait has a deadline: without a timer the session may not go on. */
static void
idle_rearm(struct wk_session *s)
{
	if (s->idle_timer != 0)
		ev_cancel_timer(s->idle_timer);
	s->idle_timer = ev_add_timer(s->c->idle_timeout_ms, on_idle, s);
	if (s->idle_timer == 0)
		fatal("reason=\"no timer for the idle timeout\"");
}

static void
on_login_deadline(void *ctx)
{
	struct wk_session *s = ctx;

	s->login_timer = 0;
	if (s->logged_in)
		return;
	if (wk_client_can_say(s->c))
		wk_client_puts(s->c, s->ops->login_timeout_line);
	log_event(LOG_LEVEL_INFO, "disconnect", "reason=login_timeout ip=%s seconds=%llu", s->ip,
	    (unsigned long long)s->login_timeout_s);
	s->closing = 1;
	wk_session_kick(s);
}

void
wk_session_logged_in(struct wk_session *s)
{
	s->logged_in = 1;
	if (s->login_timer != 0)
		ev_cancel_timer(s->login_timer);
	s->login_timer = 0;
}

/* The master ends the session: its line at a command boundary, then close. */
static void
stop_at_boundary(struct wk_session *s)
{
	struct wk_client *c = s->c;
	const char *line;

	if (s->stop_signal == 0 || s->closing || c->dead || wk_auth_busy(s->auth) ||
	    (s->ops->busy != NULL && s->ops->busy(s->ctx)))
		return;
	line = s->stop_signal == SIGUSR1 ? s->ops->kick_line : s->ops->shutdown_line;
	if (line != NULL && wk_client_can_say(c))
		wk_client_puts(c, line);
	log_event(LOG_LEVEL_INFO, "disconnect", "reason=%s ip=%s", s->stop_signal == SIGUSR1 ?
	    "kicked" : "shutdown", s->ip);
	s->closing = 1;
}

void
wk_session_kick(struct wk_session *s)
{
	struct wk_client *c = s->c;

	if (s->in_kick || s->ended)
		return;
	s->in_kick = 1;
	for (;;) {
		s->ops->process(s->ctx);
		/* push the answers; take input the TLS engine held back while
		 * the input buffer was full (bounded: stops when it fills) */
		if (wk_client_io(c, 0) == 0)
			break;
		idle_rearm(s);
	}
	stop_at_boundary(s);
	s->in_kick = 0;
	if (c->dead || s->closing || (c->eof && !wk_auth_busy(s->auth))) {
		s->ended = 1;
		ev_stop();
		return;
	}
	ev_set_events(c->fd, wk_client_events(c));
}

static void
on_client(int fd, short revents, void *ctx)
{
	struct wk_session *s = ctx;

	(void)fd;
	if (wk_client_io(s->c, revents) > 0)
		idle_rearm(s);
	/* poll reports a hang-up or an error even when we asked for nothing
	 * (input buffer full while authd thinks): nothing more can come or
	 * go, so end here instead of spinning */
	if ((revents & POLLERR) || ((revents & POLLHUP) && !(wk_client_events(s->c) & POLLIN)))
		s->c->dead = 1;
	wk_session_kick(s);
}

/* login_timeout counts from the worker's start; the margin keeps the
 * worker's answer ahead of the master's SIGKILL at the same deadline. */
static uint64_t
login_deadline_ms(const struct wk_session *s, uint64_t started_ms)
{
	uint64_t limit = s->login_timeout_s * 1000, margin = limit / 4;
	uint64_t spent = ev_now_ms() - started_ms;

	if (margin > 1000)
		margin = 1000;
	return limit - margin > spent ? limit - margin - spent : 0;
}

static void
on_signal_pipe(int fd, short revents, void *ctx)
{
	struct wk_session *s = ctx;
	unsigned char b[16];
	ssize_t n, i;

	(void)revents;
	while ((n = read(fd, b, sizeof(b))) > 0)
		for (i = 0; i < n; i++)
			if (s->stop_signal != SIGTERM)	/* shutdown wins over a kick */
				s->stop_signal = b[i];
	wk_session_kick(s);
}

void
wk_session_run(struct wk_session *s, uint64_t started_ms)
{
	if (ev_add_fd(s->c->fd, POLLIN, on_client, s) < 0 ||
	    (sig_pipe[0] >= 0 && ev_add_fd(sig_pipe[0], POLLIN, on_signal_pipe, s) < 0))
		fatal("reason=\"event loop\"");
	idle_rearm(s);
	/* without it the master's kill is still the deadline */
	s->login_timer = ev_add_timer(login_deadline_ms(s, started_ms), on_login_deadline, s);
	wk_session_kick(s);
	if (!s->ended && ev_run() < 0)
		fatal("reason=\"event loop failed\"");
}
