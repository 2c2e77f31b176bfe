/* tls.h - server-side TLS for workers: a BearSSL engine whose private-key
 * operations and session cache live in keyd.
 *
 * The worker never sees a private key: tls_server_init() fetches only the
 * certificate chains (public) from keyd; the policy's do_sign/do_keyx and
 * the session cache forward over the keyd channel (short request/replies
 * with the channel's timeouts, made from inside the engine's callbacks).
 * Socket I/O never blocks: the caller's event loop polls the client fd for
 * tls_events() and calls tls_step() on readiness; tls_step() moves records
 * between the socket and the engine and decrypted bytes into the caller's
 * bounded input buffer.  tls_put() hands application bytes to the engine,
 * tls_push() closes the record so tls_step() can send it.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "x509.h"

#define TLS_MAX_CHAINS	64

struct tls_chain {
	uint32_t key_id;
	int key_type;			/* BR_KEYTYPE_RSA / BR_KEYTYPE_EC */
	int curve;
	struct x509_names names;
	br_x509_certificate *certs;
	size_t ncerts;
};

struct tls_server;

struct tls_policy {
	const br_ssl_server_policy_class *vtable;	/* must be first */
	struct tls_server *t;
};

struct tls_cache {
	const br_ssl_session_cache_class *vtable;	/* must be first */
	struct tls_server *t;
};

struct tls_server {
	br_ssl_server_context sc;
	struct tls_policy policy;
	struct tls_cache cache;
	int fd;				/* the client socket */
	int keyd_fd;
	int timeout_ms;			/* tls_close(): longest wait per close_notify write */
	const char *peer;		/* the client's address, for log lines */
	struct buf *in;			/* decrypted input goes here */
	struct tls_chain chains[TLS_MAX_CHAINS];
	size_t nchains;
	int chosen;			/* index into chains, -1 before choose() */
	int sni_unknown;		/* the client named a host we have no cert for */
	int logged;			/* handshake result logged */
	int failed;
	int choose_called;		/* the ClientHello got as far as our policy */
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

struct tls_settings {
	unsigned min_version;		/* BR_TLS10 .. BR_TLS12 */
	int legacy_suites;		/* CBC and RSA key exchange too */
	int timeout_ms;			/* tls_close(): longest wait per close_notify write */
	const char *peer;		/* the client's address, for log lines (kept, not copied) */
};

/* Fetch chains from keyd and prepare a server engine on client fd.
 * Returns 0 or -1 (keyd unavailable or sent nothing usable). */
int tls_server_init(struct tls_server *t, int client_fd, int keyd_fd, struct buf *in,
    const struct tls_settings *s);

/* Move what can move without blocking: send pending records, read
 * records the socket holds, append decrypted bytes to t->in (as far as its
 * max allows; the rest waits in the engine, which then reads no further
 * records).  The handshake runs here too, keyd calls included.  Returns 0,
 * or -1 once the connection failed or was closed (the handshake result is
 * logged once either way). */
int tls_step(struct tls_server *t);

/* The poll(2) events tls_step() waits for now (POLLIN, POLLOUT, both or 0). */
short tls_events(const struct tls_server *t);

/* Non-zero once the handshake is complete and the connection is usable. */
int tls_ready(const struct tls_server *t);

/* "version=TLS1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256" (for a Received
 * header's comment) into out.  Returns 0, or -1 before the handshake is
 * done or when outlen is too small. */
int tls_describe(const struct tls_server *t, char *out, size_t outlen);

/* Copy up to len application bytes into the engine's send buffer; returns
 * how many it took (0 during the handshake or while records wait to go
 * out).  Call tls_push() after the last one, then tls_step(). */
size_t tls_put(struct tls_server *t, const uint8_t *data, size_t len);

/* Non-zero if tls_put() would take bytes now. */
int tls_can_put(const struct tls_server *t);

/* End the current record so that tls_step() sends what tls_put() queued. */
void tls_push(struct tls_server *t);

/* Non-zero while encrypted records wait to be written to the socket. */
int tls_sending(const struct tls_server *t);

/* Send close_notify (best effort, waits at most timeout_ms per write). */
void tls_close(struct tls_server *t);

/* Free the chains' memory. */
void tls_free(struct tls_server *t);

/* Pick the chain for a server name (NULL or "" when the client sent none)
 * among those whose key type the client can use.  Pure; exposed for tests
 * and the fuzz target.  Returns an index or -1. */
int tls_pick_chain(const struct tls_chain *chains, size_t n, const char *sni, int ec_ok,
    int rsa_ok, uint32_t curves, int *sni_unknown_r);

#endif
