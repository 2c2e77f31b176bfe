/* tls.h - server-side TLS for workers: a BearSSL engine whose private-key
 * operations and session cache live in keyd.
 *
 * The worker never sees a private key: tls_server_init() fetches only the
 * certificate chains (public) from keyd; the policy's do_sign/do_keyx and
 * the session cache forward over the keyd channel.  I/O is blocking with a
 * poll(2) timeout, driven by the engine's state flags.  Any protocol can
 * wire it in: tls_fill() appends decrypted bytes to its input buffer,
 * tls_write() queues bytes, tls_flush() sends them.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
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
	int timeout_ms;
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
	int timeout_ms;
};

/* Fetch chains from keyd and prepare a server engine on client fd.
 * Returns 0 or -1 (keyd unavailable or sent nothing usable). */
int tls_server_init(struct tls_server *t, int client_fd, int keyd_fd, struct buf *in,
    const struct tls_settings *s);

/* Read more application data into t->in (runs the handshake first if
 * needed). Returns bytes added, 0 on close/timeout, -1 on a TLS error
 * (already logged). */
long tls_fill(struct tls_server *t);

/* Queue len bytes of application data; sends records as buffers fill.
 * Returns 0 or -1. */
int tls_write(struct tls_server *t, const void *data, size_t len);

/* Send everything queued. Returns 0 or -1. */
int tls_flush(struct tls_server *t);

/* Send close_notify (best effort). */
void tls_close(struct tls_server *t);

/* Free the chains' memory. */
void tls_free(struct tls_server *t);

/* Pick the chain for a server name (NULL or "" when the client sent none)
 * among those whose key type the client can use.  Pure; exposed for tests
 * and the fuzz target.  Returns an index or -1. */
int tls_pick_chain(const struct tls_chain *chains, size_t n, const char *sni, int ec_ok,
    int rsa_ok, uint32_t curves, int *sni_unknown_r);

#endif
