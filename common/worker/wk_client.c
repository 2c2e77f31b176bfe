/* wk_client.c - worker kit: non-blocking client I/O, plaintext or TLS. */
#include "wk_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../base/log.h"

void
wk_client_init(struct wk_client *c, int fd, int keyd_fd, size_t max_line,
    uint64_t idle_timeout_ms, const char *ip)
{
	/* Field by field, never a memset of the whole: zeroing the 16 KiB
	 * queue would dirty four pages an idle session never uses. */
	c->fd = fd;
	c->keyd_fd = keyd_fd;
	/* Room for a full line plus the next pipelined read. */
	buf_init(&c->in, max_line + WK_READ_CHUNK);
	c->outlen = 0;
	c->idle_timeout_ms = idle_timeout_ms;
	c->ip = ip;
	c->dead = c->eof = 0;
	c->tls = c->pending_tls = NULL;
}

static int
would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void
out_consume(struct wk_client *c, size_t n)
{
	memmove(c->out, c->out + n, c->outlen - n);
	c->outlen -= n;
}

/* Plaintext: send what the socket takes, read one chunk if it has one. */
static void
plain_io(struct wk_client *c, short revents)
{
	size_t room = c->in.max - c->in.len;
	ssize_t n;

	while (c->outlen > 0) {
		n = send(c->fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && would_block())
			break;
		if (n <= 0) {
			c->dead = 1;	/* EPIPE, reset: the client is gone */
			return;
		}
		out_consume(c, (size_t)n);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)) || room == 0 || c->eof)
		return;
	if (room > WK_READ_CHUNK)
		room = WK_READ_CHUNK;
	if (buf_reserve(&c->in, room) < 0) {
		c->dead = 1;
		return;
	}
	n = recv(c->fd, c->in.data + c->in.len, room, MSG_DONTWAIT);
	if (n > 0)
		c->in.len += (size_t)n;
	else if (n == 0)
		c->eof = 1;
	else if (!would_block())
		c->dead = 1;
}

/* TLS: hand queued output to the engine and step it, again while the
 * engine can take more (its records went out, or the handshake just
 * finished with a greeting waiting). */
static void
tls_io(struct wk_client *c)
{
	for (;;) {
		size_t k, moved = 0;
		while (c->outlen > 0 && (k = tls_put(c->tls, c->out, c->outlen)) > 0) {
			out_consume(c, k);
			moved += k;
		}
		if (moved > 0 && c->outlen == 0)
			tls_push(c->tls);	/* the last bytes: close the record */
		if (tls_step(c->tls) < 0) {
			c->dead = 1;
			return;
		}
		if (c->outlen == 0 || !tls_can_put(c->tls))
			return;
	}
}

size_t
wk_client_io(struct wk_client *c, short revents)
{
	size_t before = c->in.len;

	if (c->dead)
		return 0;
	if (c->tls != NULL)
		tls_io(c);
	else
		plain_io(c, revents);
	return c->in.len - before;
}

short
wk_client_events(const struct wk_client *c)
{
	short ev = 0;

	if (c->dead)
		return 0;
	if (c->tls != NULL)
		return tls_events(c->tls);
	if (c->in.len < c->in.max && !c->eof)
		ev |= POLLIN;
	if (c->outlen > 0)
		ev |= POLLOUT;
	return ev;
}

static int
pending(const struct wk_client *c)
{
	return c->outlen > 0 || (c->tls != NULL && tls_sending(c->tls));
}

int
wk_client_drain(struct wk_client *c)
{
	struct pollfd pfd;
	int rc;

	while (!c->dead) {
		wk_client_io(c, 0);
		if (c->dead || !pending(c))
			break;
		pfd.fd = c->fd;
		pfd.events = c->tls != NULL ? tls_events(c->tls) : POLLOUT;
		pfd.revents = 0;
		if (pfd.events == 0) {
			c->dead = 1;	/* the engine wants nothing: it cannot send */
			break;
		}
		do {
			rc = poll(&pfd, 1, (int)c->idle_timeout_ms);
		} while (rc < 0 && errno == EINTR);
		if (rc <= 0) {
			log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=send_timeout "
			    "queued=%zu seconds=%llu", c->ip, c->outlen,
			    (unsigned long long)(c->idle_timeout_ms / 1000));
			c->dead = 1;
			break;
		}
		wk_client_io(c, pfd.revents);
	}
	return c->dead ? -1 : 0;
}

void
wk_client_write(struct wk_client *c, const uint8_t *p, size_t len)
{
	while (len > 0 && !c->dead) {
		size_t room = sizeof(c->out) - c->outlen, k = len < room ? len : room;
		memcpy(c->out + c->outlen, p, k);
		c->outlen += k;
		p += k;
		len -= k;
		if (c->outlen == sizeof(c->out))
			(void)wk_client_drain(c);
	}
}

void
wk_client_puts(struct wk_client *c, const char *s)
{
	wk_client_write(c, (const uint8_t *)s, strlen(s));
}

void
wk_client_printf(struct wk_client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	wk_client_write(c, (const uint8_t *)line,
	    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int
wk_client_prepare_tls(struct wk_client *c, const struct config *cfg)
{
	struct tls_settings ts;

	ts.min_version = cfg->tls_min_version == 10 ? BR_TLS10 :
	    cfg->tls_min_version == 11 ? BR_TLS11 : BR_TLS12;
	ts.legacy_suites = cfg->tls_legacy_suites;
	ts.timeout_ms = (int)c->idle_timeout_ms;
	ts.peer = c->ip;
	c->pending_tls = malloc(sizeof(*c->pending_tls));
	if (c->pending_tls == NULL)
		return -1;
	if (tls_server_init(c->pending_tls, c->fd, c->keyd_fd, &c->in, &ts) < 0) {
		tls_free(c->pending_tls);
		free(c->pending_tls);
		c->pending_tls = NULL;
		return -1;
	}
	return 0;
}

void
wk_client_attach_tls(struct wk_client *c)
{
	buf_reset(&c->in);
	c->tls = c->pending_tls;
	c->pending_tls = NULL;
}

int
wk_client_start_tls(struct wk_client *c, const struct config *cfg)
{
	if (wk_client_prepare_tls(c, cfg) < 0)
		return -1;
	wk_client_attach_tls(c);
	return 0;
}

int
wk_client_can_say(const struct wk_client *c)
{
	return !c->dead && (c->tls == NULL || tls_ready(c->tls));
}

void
wk_client_close(struct wk_client *c)
{
	if (!c->dead && (c->tls == NULL || tls_ready(c->tls)))
		(void)wk_client_drain(c);
	if (c->tls != NULL) {
		/* no alert into an unfinished handshake: just close */
		if (!c->dead && tls_ready(c->tls))
			tls_close(c->tls);
		tls_free(c->tls);
		free(c->tls);
		c->tls = NULL;
	}
	if (c->pending_tls != NULL) {	/* STLS whose answer never went out */
		tls_free(c->pending_tls);
		free(c->pending_tls);
		c->pending_tls = NULL;
	}
	buf_free(&c->in, 1);
}

void
wk_client_drop_keyd(struct wk_client *c)
{
	if (c->keyd_fd >= 0 && c->pending_tls == NULL) {
		close(c->keyd_fd);
		c->keyd_fd = -1;
	}
}
