/* pop3d.h - the POP3 worker: one client connection, no privileges.
 *
 * The plumbing is the worker kit (common/wk_boot, wk_client, wk_auth,
 * wk_session); what is POP3 lives here: the command table (pop3d.c), the
 * parser glue and the login replies (auth.c), the maildrop (mailbox.c). */
#ifndef POSTERN_POP3D_H
#define POSTERN_POP3D_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/base/config.h"
#include "../../common/proto/pop3_parse.h"
#include "../../common/worker/wk_auth.h"
#include "../../common/worker/wk_boot.h"
#include "../../common/worker/wk_client.h"
#include "../../common/worker/wk_session.h"

/* The names mailbox.c writes to the client with. */
#define client_write(c, p, len)	wk_client_write((c), (const uint8_t *)(p), (len))
#define client_puts		wk_client_puts
#define client_printf		wk_client_printf
#define client_flush(c)		((void)wk_client_drain(c))

enum pop3_state { POP3_AUTHORIZATION, POP3_TRANSACTION, POP3_UPDATE };

struct pop3 {
	const struct config *cfg;
	struct wk_client c;
	struct wk_auth auth;
	struct pop3_parser parser;
	enum pop3_state state;
	const char *ip;
	uint8_t user[256];	/* from USER, until PASS */
	size_t userlen;
	int have_user;
	unsigned bad_commands;
	struct wk_session s;	/* the loop: timers, closing */
	int plaintext_ok;	/* login allowed without TLS (policy, loopback opt-out) */
	int implicit_tls;	/* port 995: TLS before the greeting */
	int store_fd;
	/* the maildrop snapshot: sizes and deletion marks */
	uint64_t *sizes;
	uint8_t *deleted;
	size_t nmsgs;
	/* statistics for the logout line */
	uint64_t retr_count, retr_bytes;
};

/* auth.c: USER/PASS and AUTH, relayed to authd through the kit. */
extern const struct wk_auth_ops pop3_auth_ops;
void pop3_cmd_user(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_pass(struct pop3 *p, const struct pop3_cmd *cmd);
void pop3_cmd_auth(struct pop3 *p, const struct pop3_cmd *cmd);
/* One client line while a SASL exchange waits for the response. */
void pop3_sasl_line(struct pop3 *p, enum pop3_parse_result r, const struct pop3_cmd *cmd);

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
/* Serve the session booted in b until it ends; returns after the client
 * connection is closed. */
void pop3_run(struct pop3 *p, struct wk_boot *b);

#endif
