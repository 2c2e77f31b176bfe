/* wk_client.h - worker kit: the client connection of a network worker.
 *
 * One interface over plaintext, a STLS/STARTTLS upgrade and implicit TLS.
 * Input lands in a bounded buffer (a full line plus one read); output waits
 * in a bounded queue (WK_OUT_MAX).  The socket is never read or written in
 * a blocking way: the worker's event loop (common/base/ev.c) polls the fd for
 * wk_client_events() and calls wk_client_io() on readiness.  The one
 * exception is wk_client_drain(), for a producer that fills the queue
 * (a RETR of a big message) and for the end of the session: it waits for
 * the client to read, at most idle_timeout_ms, then gives the client up,
 * as SO_SNDTIMEO did before.
 */
#ifndef POSTERN_WK_CLIENT_H
#define POSTERN_WK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/config.h"
#include "../net/tls.h"

#define WK_OUT_MAX	16384	/* the bound of the output queue */
#define WK_READ_CHUNK	4096	/* room kept beyond one full line */

struct wk_client {
	int fd;
	int keyd_fd;
	struct buf in;			/* plaintext input (decrypted under TLS) */
	uint8_t out[WK_OUT_MAX];	/* plaintext output not yet sent or encrypted */
	size_t outlen;
	uint64_t idle_timeout_ms;
	const char *ip;			/* for log lines */
	int dead;			/* gone, failed or timed out: no more I/O */
	int eof;			/* the client closed its side */
	struct tls_server *tls;		/* NULL until STLS or on an implicit-TLS port */
	struct tls_server *pending_tls;	/* STLS: certificates fetched, reply not yet sent */
};

/* Set up c on fd with room for lines up to max_line bytes.  No I/O, no
 * allocation (the input buffer grows on the first read). */
void wk_client_init(struct wk_client *c, int fd, int keyd_fd, size_t max_line,
    uint64_t idle_timeout_ms, const char *ip);

/* The poll(2) events c needs now: POLLIN while there is room for input,
 * POLLOUT while output is queued (or TLS records are pending). */
short wk_client_events(const struct wk_client *c);

/* Move bytes both ways without blocking, after poll reported revents (0
 * to only push queued output).  Returns the number of input bytes that
 * arrived; sets c->eof or c->dead when the connection ended. */
size_t wk_client_io(struct wk_client *c, short revents);

/* Queue len bytes.  When the queue is full it is drained first
 * (wk_client_drain); on a dead client the bytes are dropped. */
void wk_client_write(struct wk_client *c, const uint8_t *p, size_t len);
void wk_client_puts(struct wk_client *c, const char *s);
void wk_client_printf(struct wk_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Wait until everything queued is on the wire, at most idle_timeout_ms
 * without progress; a client that does not read by then is marked dead
 * and logged (event=disconnect reason=send_timeout).  Returns 0 or -1. */
int wk_client_drain(struct wk_client *c);

/* STLS in two halves: prepare fetches the certificates from keyd (before
 * the protocol answers its "go ahead"), attach switches to TLS after that
 * answer is drained and drops any plaintext the client pipelined behind
 * the command (never executed: CVE-2011-0411 class).  prepare returns 0,
 * or -1 if keyd could not provide certificates. */
int wk_client_prepare_tls(struct wk_client *c, const struct config *cfg);
void wk_client_attach_tls(struct wk_client *c);

/* Both halves at once, for an implicit-TLS port (before the greeting). */
int wk_client_start_tls(struct wk_client *c, const struct config *cfg);

/* Non-zero if text written now reaches the client readably: plaintext, or
 * TLS with the handshake done. */
int wk_client_can_say(const struct wk_client *c);

/* Drain, send close_notify under TLS, free the TLS state and the buffers. */
void wk_client_close(struct wk_client *c);

/* After the login: no handshake can follow (STLS/STARTTLS are refused once
 * logged in, renegotiation is off), so keyd's channel is closed and keyd
 * forgets this session (a retired keyd can then exit once idle). */
void wk_client_drop_keyd(struct wk_client *c);

#endif
