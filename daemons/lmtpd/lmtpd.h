/* lmtpd.h - the LMTP worker (RFC 2033): one client connection, no
 * privileges, no users.
 *
 * The protocol is common/proto/smtp_session (pure) in SMTP_MODE_LMTP; the
 * plumbing is the worker kit.  lmtpd.c feeds the machine lines, DATA bytes
 * (through the dotstuff decoder) and BDAT chunks, and writes its replies;
 * intake.c does what the machine hands out: a recipient lookup by the
 * master (the worker names an address, never a user), the message in a
 * sealed memfd, and one delivery per accepted recipient through a
 * deliver-view stored the master spawns for it.  A recipient's 250 is
 * written only after its stored answered MSG_STORE_DELIVERED (durable).
 */
#ifndef POSTERN_LMTPD_H
#define POSTERN_LMTPD_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/base/config.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/proto/dotstuff.h"
#include "../../common/proto/smtp_session.h"
#include "../../common/worker/wk_auth.h"
#include "../../common/worker/wk_boot.h"
#include "../../common/worker/wk_client.h"
#include "../../common/worker/wk_session.h"

enum lmtp_input {
	LMTP_IN_LINES,		/* commands */
	LMTP_IN_DATA,		/* after the 354: through the decoder */
	LMTP_IN_CHUNK,		/* a BDAT chunk kept */
	LMTP_IN_DISCARD,	/* a refused BDAT's chunk, dropped */
};

struct lmtp_msg {
	int fd;			/* the memfd, -1 when none */
	uint64_t len;		/* bytes written */
	int failed;		/* a write failed: every recipient gets 451 */
	int cr_held;		/* BDAT: a CR ended the last chunk (its LF may follow) */
};

struct lmtp {
	const struct config *cfg;
	const char *ip;
	struct wk_client c;
	struct wk_auth auth;	/* idle: LMTP has no login, the kit wants one */
	struct wk_session s;
	struct smtp_session sm;
	enum lmtp_input in;
	struct dotstuff_dec dec;
	uint64_t chunk_left;		/* LMTP_IN_CHUNK / _DISCARD */
	struct smtp_step held;		/* LMTP_IN_DISCARD: the reply after the chunk */
	struct lmtp_msg msg;
	/* the transaction's accepted recipients, in RCPT order */
	uint32_t rcpt[MASTERPROTO_RCPT_MAX];
	unsigned nrcpt;
	uint32_t next_id;		/* of the next lookup */
	int master_dirty;		/* the master holds recipients: reset them */
	int broken;			/* the control channel lost step: close */
	uint64_t delivered;		/* for the logout line */
};

/* lmtpd.c: serve the session booted in b until it ends. */
void lmtp_run(struct lmtp *p, struct wk_boot *b, const char *hostname);

/* Write reply r n times (LMTP: one per recipient). */
void lmtp_reply(struct lmtp *p, const struct smtp_reply *r, unsigned n);

/* intake.c */
/* Look the RCPT's path up through the master and tell the machine; the
 * reply goes to the client.  Fatal if the master's answer is malformed. */
void lmtp_rcpt(struct lmtp *p, const struct smtp_cmd *cmd);

/* A message starts (DATA, or the first BDAT): a fresh memfd. */
void lmtp_msg_open(struct lmtp *p);
/* Append decoded message bytes (DATA, after the dotstuff decoder). */
void lmtp_msg_write(struct lmtp *p, const uint8_t *b, size_t len);
/* Append a BDAT chunk: CRLF becomes LF, as Maildir stores lines (and as
 * the DATA decoder writes them); other bytes are kept as they are. */
void lmtp_msg_chunk(struct lmtp *p, const uint8_t *b, size_t len);

/* The machine said DELIVER: seal the message, deliver it to every accepted
 * recipient in order and write one reply each (ok: st's reply). */
void lmtp_deliver(struct lmtp *p, const struct smtp_step *st);

/* The transaction is over (delivered, refused, RSET, LHLO): drop the
 * message and the recipients, here and in the master. */
void lmtp_txn_end(struct lmtp *p);

#endif
