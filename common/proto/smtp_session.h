/* smtp_session.h - the SMTP/LMTP/submission protocol state machine (pure).
 *
 * No I/O: the worker reads, the machine decides, the worker writes.  The
 * worker's loop:
 *
 *   smtp_session_greeting()                    send the 220
 *   n = smtp_line_end(buf, len, smtp_session_line_max(s))
 *   n == 0: read more.  Else smtp_session_input(s, buf, n, &st), drop n
 *   bytes, and do what st.action says (below).  Replies may be held back
 *   and written together, but must be flushed when st.flush is set or when
 *   no complete line is left in the buffer (RFC 2920 3.1: the last command
 *   of a group).
 *
 * Actions (st.reply is sent for each unless said otherwise):
 *   NONE       nothing to send (the tail of a refused over-long line)
 *   REPLY      send st.reply
 *   CLOSE      send st.reply, then close the connection
 *   RCPT       no reply yet: look st.cmd->path up, then smtp_session_rcpt_done();
 *              the worker keeps the accepted paths (the machine only counts)
 *   DATA       send the 354, read the message through a decoder set up with
 *              dotstuff_dec_init(&d, 1000, s->cfg.lim.max_size,
 *              DOTSTUFF_BARE_REFUSE), then smtp_session_data_end(s, d.flags)
 *   BDAT       read st.chunk bytes as message data, then smtp_session_bdat_end()
 *   BDAT_DISCARD  read st.chunk bytes and drop them, then send st.reply
 *   STARTTLS   send the 220, throw away every byte buffered after this line
 *              (pipelined plaintext must never count as sent under TLS,
 *              CVE-2011-0411), run the handshake, smtp_session_tls_started()
 *   AUTH       no reply yet: run SASL (st.cmd->mech, st.cmd->ir) with authd
 *              (challenges as "334 " lines, responses read with smtp_line_end()
 *              and max_line_ext), then smtp_session_auth_done()
 *   DELIVER    deliver the message to the accepted recipients, then send
 *              st.reply st.nreplies times (LMTP: one per recipient, in RCPT
 *              order, RFC 2033 4.2), the worker's own failure reply in place
 *              of it for a recipient it could not deliver to
 * After DATA/BDAT refusals in LMTP, st.reply is also sent st.nreplies times.
 * st.cmd->ir and st.cmd->arg point into the line: use them before dropping
 * it.  Limits: see struct smtp_limits (max_size is also the DATA decoder's).
 * Functions return 0, or -1 when the worker calls out of turn (a bug: the
 * session is unchanged).
 */
#ifndef POSTERN_SMTP_SESSION_H
#define POSTERN_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_parse.h"
#include "smtp_reply.h"

enum smtp_mode {
	SMTP_MODE_SMTP,		/* RFC 5321, port 25 */
	SMTP_MODE_LMTP,		/* RFC 2033: LHLO, a reply per recipient */
	SMTP_MODE_SUBMISSION,	/* RFC 6409: AUTH before MAIL */
};

/* struct smtp_config.offer: extensions beyond the ones always offered
 * (SIZE, 8BITMIME, PIPELINING, ENHANCEDSTATUSCODES, CHUNKING) */
#define SMTP_OFFER_STARTTLS	0x01
#define SMTP_OFFER_AUTH		0x02
#define SMTP_OFFER_SMTPUTF8	0x04
#define SMTP_OFFER_DSN		0x08
#define SMTP_OFFER_BINARYMIME	0x10

#define SMTP_HOSTNAME_MAX	255
#define SMTP_MECHS_MAX		128

struct smtp_config {
	enum smtp_mode mode;
	struct smtp_limits lim;
	char hostname[SMTP_HOSTNAME_MAX + 1];	/* ours: greeting, EHLO */
	unsigned offer;				/* SMTP_OFFER_* */
	char auth_mechs[SMTP_MECHS_MAX + 1];	/* "PLAIN LOGIN" */
	int auth_needs_tls;			/* AUTH only under TLS (RFC 4954 4) */
};

/* Defaults: smtp_limits_default(), SMTPUTF8 and DSN offered, and for
 * submission AUTH PLAIN LOGIN under TLS.  STARTTLS is the worker's to add
 * when it has a certificate.  hostname is cut at SMTP_HOSTNAME_MAX. */
void smtp_config_default(struct smtp_config *c, enum smtp_mode mode, const char *hostname);

enum smtp_state {
	SMTP_ST_GREETING,	/* before EHLO/HELO/LHLO (also right after STARTTLS) */
	SMTP_ST_READY,		/* no transaction */
	SMTP_ST_MAIL,		/* MAIL accepted */
	SMTP_ST_RCPT,		/* at least one recipient accepted */
	SMTP_ST_DATA,		/* 354 sent: the worker reads the message */
	SMTP_ST_BDAT,		/* BDAT chunks are coming */
	SMTP_ST_CLOSED,
};

enum smtp_wait {		/* what the worker owes the machine */
	SMTP_WAIT_NONE, SMTP_WAIT_RCPT, SMTP_WAIT_DATA, SMTP_WAIT_BDAT,
	SMTP_WAIT_AUTH, SMTP_WAIT_TLS,
};

enum smtp_action {
	SMTP_ACT_NONE, SMTP_ACT_REPLY, SMTP_ACT_CLOSE, SMTP_ACT_RCPT, SMTP_ACT_DATA,
	SMTP_ACT_BDAT, SMTP_ACT_BDAT_DISCARD, SMTP_ACT_STARTTLS, SMTP_ACT_AUTH,
	SMTP_ACT_DELIVER,
};

struct smtp_step {
	enum smtp_action action;
	int flush;			/* write every held-back reply now */
	struct smtp_reply reply;
	unsigned nreplies;		/* times to send reply (LMTP after the data) */
	uint64_t chunk;			/* BDAT, BDAT_DISCARD: bytes to read */
	const struct smtp_cmd *cmd;	/* the command (in the session), or NULL */
};

struct smtp_session {
	struct smtp_config cfg;
	enum smtp_state state;
	enum smtp_wait wait;
	int tls, authed, esmtp;
	int skipping;			/* inside a refused over-long line */
	/* the transaction */
	struct smtp_path mail_from;
	struct smtp_params mail_params;
	unsigned nrcpt;			/* accepted recipients */
	uint64_t bdat_total;		/* chunk bytes announced so far */
	int bdat_failed;		/* a BDAT was refused: the rest are dropped */
	/* the session */
	char helo[SMTP_DOMAIN_MAX + 1];
	unsigned errors, junk;
	struct smtp_cmd cmd;		/* the last command parsed */
};

/* Start a session; tls: the connection is already under TLS (implicit TLS
 * on 465, or a trusted local socket for LMTP). */
void smtp_session_init(struct smtp_session *s, const struct smtp_config *c, int tls);

/* The 220 greeting (no enhanced code, RFC 2034 3). */
void smtp_session_greeting(const struct smtp_session *s, struct smtp_reply *r);

/* The most bytes the worker hands to smtp_session_input() as one line. */
size_t smtp_session_line_max(const struct smtp_session *s);

/* The length of the line at the front of buf[0..len): up to and including
 * its LF; max when there is no LF within max bytes (a piece of an over-long
 * line, to be fed like a line); 0 when more bytes are needed. */
size_t smtp_line_end(const uint8_t *buf, size_t len, size_t max);

/* Feed one line as smtp_line_end() cut it (its LF included).  A line
 * ending in a bare LF closes the session: see smtp_session.c. */
int smtp_session_input(struct smtp_session *s, const uint8_t *line, size_t len,
    struct smtp_step *st);

enum smtp_rcpt_verdict {
	SMTP_RCPT_OK,		/* 250 2.1.5 */
	SMTP_RCPT_UNKNOWN,	/* 550 5.1.1 no such user */
	SMTP_RCPT_DISABLED,	/* 550 5.2.1 mailbox disabled */
	SMTP_RCPT_RELAY,	/* 550 5.7.1 relaying denied */
	SMTP_RCPT_TEMP,		/* 451 4.3.0 try again later */
	SMTP_RCPT_INVALID,	/* 501 5.1.3 not an address the user db takes */
};

/* The worker's answer for the RCPT it was given. */
int smtp_session_rcpt_done(struct smtp_session *s, enum smtp_rcpt_verdict v,
    struct smtp_step *st);

/* The message after DATA is read: flags is dotstuff_dec.flags (any flag
 * refuses it).  Action DELIVER or REPLY; the transaction is over. */
int smtp_session_data_end(struct smtp_session *s, unsigned flags, struct smtp_step *st);

/* A BDAT chunk is read: REPLY (250, more chunks may come) or, after LAST,
 * DELIVER. */
int smtp_session_bdat_end(struct smtp_session *s, struct smtp_step *st);

enum smtp_auth_result {
	SMTP_AUTH_OK,		/* 235 2.7.0 */
	SMTP_AUTH_FAILED,	/* 535 5.7.8 */
	SMTP_AUTH_ABORTED,	/* 501 5.0.0: the client sent "*" */
	SMTP_AUTH_SYNTAX,	/* 501 5.5.2: not base64 */
	SMTP_AUTH_TEMP,		/* 454 4.7.0: authd unavailable */
};

int smtp_session_auth_done(struct smtp_session *s, enum smtp_auth_result r,
    struct smtp_step *st);

/* The TLS handshake after STARTTLS succeeded: everything learnt before is
 * forgotten (RFC 3207 4.2), EHLO must come again; no reply. */
int smtp_session_tls_started(struct smtp_session *s);

/* The worker could not start TLS after STARTTLS (no certificates from
 * keyd): it sends its own 454 4.7.0 instead of the 220, and the session
 * goes on in plaintext as before the command (RFC 3207 4). */
int smtp_session_tls_failed(struct smtp_session *s);

/* The EHLO/LHLO reply for this session: "250-hostname", then SIZE n,
 * 8BITMIME, PIPELINING, ENHANCEDSTATUSCODES, CHUNKING and the offered ones
 * (SMTPUTF8, DSN, BINARYMIME, STARTTLS before TLS, AUTH mechs when usable). */
void smtp_session_caps(const struct smtp_session *s, struct smtp_reply *r);

#endif
