/* client.c - buffered I/O on the client connection.  TLS will slot in
 * here (issue: TLS layer in common/), the protocol code only sees lines. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../common/proto.h"
#include "pop3d.h"

void
client_init(struct client *c, int fd, size_t max_line, uint64_t idle_timeout_ms)
{
	c->fd = fd;
	/* Room for a full line plus the next pipelined read. */
	buf_init(&c->in, max_line + 4096);
	c->outlen = 0;
	c->idle_timeout_ms = idle_timeout_ms;
	c->dead = 0;
}

long
client_fill(struct client *c)
{
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	ssize_t n;
	size_t room;
	int rc;

	if (c->dead)
		return -1;
	if (c->tls != NULL) {
		long r = tls_fill(c->tls);
		if (r <= 0)
			c->dead = 1;
		return r;
	}
	do {
		rc = poll(&pfd, 1, (int)c->idle_timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return 0;	/* idle timeout: treated as a vanished client */
	room = c->in.max - c->in.len;
	if (room == 0)
		return -1;	/* the parser consumes before this can happen */
	if (buf_reserve(&c->in, room > 4096 ? 4096 : room) < 0)
		return -1;
	do {
		n = read(c->fd, c->in.data + c->in.len, room > 4096 ? 4096 : room);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		c->dead = 1;
		return n < 0 ? -1 : 0;
	}
	c->in.len += (size_t)n;
	return n;
}

void
client_flush(struct client *c)
{
	size_t off = 0;

	if (c->tls != NULL) {
		if (!c->dead && c->outlen > 0 &&
		    (tls_write(c->tls, c->out, c->outlen) < 0 || tls_flush(c->tls) < 0))
			c->dead = 1;
		c->outlen = 0;
		return;
	}
	while (off < c->outlen && !c->dead) {
		ssize_t n = write(c->fd, c->out + off, c->outlen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->dead = 1;	/* EPIPE, timeout: the client is gone */
			break;
		}
		off += (size_t)n;
	}
	c->outlen = 0;
}

void
client_write(struct client *c, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len > 0 && !c->dead) {
		size_t room = sizeof(c->out) - c->outlen, k = len < room ? len : room;
		memcpy(c->out + c->outlen, b, k);
		c->outlen += k;
		b += k;
		len -= k;
		if (c->outlen == sizeof(c->out))
			client_flush(c);
	}
}

void
client_puts(struct client *c, const char *s)
{
	client_write(c, s, strlen(s));
}

void
client_printf(struct client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	client_write(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int
client_prepare_tls(struct client *c, const struct config *cfg)
{
	struct tls_settings ts;

	ts.min_version = cfg->tls_min_version == 10 ? BR_TLS10 :
	    cfg->tls_min_version == 11 ? BR_TLS11 : BR_TLS12;
	ts.legacy_suites = cfg->tls_legacy_suites;
	ts.timeout_ms = (int)c->idle_timeout_ms;
	c->pending_tls = malloc(sizeof(*c->pending_tls));
	if (c->pending_tls == NULL)
		return -1;
	if (tls_server_init(c->pending_tls, c->fd, FD_KEYD, &c->in, &ts) < 0) {
		free(c->pending_tls);
		c->pending_tls = NULL;
		return -1;
	}
	return 0;
}

void
client_attach_tls(struct client *c)
{
	/* Whatever the client sent in plaintext after STLS is dropped, never
	 * executed (CVE-2011-0411 class). */
	buf_reset(&c->in);
	c->tls = c->pending_tls;
	c->pending_tls = NULL;
}

int
client_start_tls(struct client *c, const struct config *cfg)
{
	if (client_prepare_tls(c, cfg) < 0)
		return -1;
	client_attach_tls(c);
	return 0;
}

void
client_close(struct client *c)
{
	client_flush(c);
	if (c->tls != NULL) {
		if (!c->dead)
			tls_close(c->tls);
		tls_free(c->tls);
		free(c->tls);
		c->tls = NULL;
	}
}
