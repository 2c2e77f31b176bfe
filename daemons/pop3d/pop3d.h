/* pop3d.h - the POP3 worker: one client connection, no privileges. */
#ifndef POSTERN_POP3D_H
#define POSTERN_POP3D_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"
#include "../../common/config.h"
#include "../../common/pop3_parse.h"
#include "../../common/tls.h"

#define POP3_OUT_MAX 16384

/* The client connection: buffered lines in, buffered bytes out. */
struct client {
	int fd;
	struct buf in;
	uint8_t out[POP3_OUT_MAX];
	size_t outlen;
	uint64_t idle_timeout_ms;
	int dead;		/* write failed or peer gone */
	struct tls_server *tls;	/* NULL until STLS or on an implicit-TLS port */
	struct tls_server *pending_tls;	/* STLS: certificates fetched, +OK not yet sent */
};

enum pop3_state { POP3_AUTHORIZATION, POP3_TRANSACTION, POP3_UPDATE };

struct pop3 {
	const struct config *cfg;
	struct client c;
	struct pop3_parser parser;
	enum pop3_state state;
	char sid[25];
	char ip[64];
	uint8_t user[256];	/* from USER, until PASS */
	size_t userlen;
	int have_user;
	unsigned bad_commands;
	int closing;
	int plaintext_ok;
	int implicit_tls;	/* port 995: TLS before the greeting */	/* login allowed without TLS (policy, loopback opt-out) */		/* answer, flush, then end the session */
	int store_fd;
	/* the maildrop snapshot: sizes and deletion marks */
	uint64_t *sizes;
	uint8_t *deleted;
	size_t nmsgs;
	/* statistics for the logout line */
	uint64_t retr_count, retr_bytes;
};

/* client.c */
void client_init(struct client *c, int fd, size_t max_line, uint64_t idle_timeout_ms);
/* Read more input; returns bytes read, 0 on EOF/timeout, -1 on error. */
long client_fill(struct client *c);
void client_write(struct client *c, const void *p, size_t len);
void client_puts(struct client *c, const char *s);
void client_printf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void client_flush(struct client *c);
/* Switch the connection to TLS (after STLS, or at once on port 995).
 * Returns 0, or -1 if keyd could not provide certificates. */
int client_start_tls(struct client *c, const struct config *cfg);
/* The two halves of client_start_tls(), for STLS: prepare (ask keyd for the
 * certificates) before answering +OK, attach after it is flushed. */
int client_prepare_tls(struct client *c, const struct config *cfg);
void client_attach_tls(struct client *c);
void client_close(struct client *c);

/* auth.c: USER/PASS and AUTH, relayed to authd. */
void pop3_cmd_user(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_pass(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_auth(struct pop3 *p, const struct pop3_cmd *cmd);

/* mailbox.c: TRANSACTION and UPDATE, talking to stored. */
int pop3_enter_transaction(struct pop3 *p);
void pop3_cmd_stat(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_list(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_uidl(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_retr(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_top(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_dele(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_rset(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_update(struct pop3 *p);

/* pop3d.c */
void pop3_run(struct pop3 *p);

#endif
