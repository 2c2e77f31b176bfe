/* wk_intake.h - worker kit: mail intake for LMTP and SMTP (masterproto.h,
 * storeproto.h).
 *
 * What an intake worker (lmtpd, smtpd) does besides speaking its protocol:
 * it asks the master about each RCPT address (the master asks authd) and
 * keeps only the index the master answers, never a user; it writes the
 * message into a memfd it seals (POLICY_LMTPD_SEALS) before any stored
 * sees it; and after the data it asks the master, per recipient, for a
 * deliver-view stored of that user, which writes the message durably
 * (tmp/, fsync, rename into new/, fsync) before it answers.  Only then
 * may that recipient's delivery count as done (invariant 5).
 *
 * The control channel is strict request/reply.  A call that times out
 * leaves a late answer in it that would be read as the next one's (a
 * stored of one user taken for another's): w->broken is then set, the
 * channel is not used again and the worker closes the session.
 */
#ifndef POSTERN_WK_INTAKE_H
#define POSTERN_WK_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "../ipc/masterproto.h"
#include "../proto/smtp_session.h"

struct wk_intake_msg {
	int fd;			/* the memfd, -1 when none */
	char sender[SMTP_MAILBOX_MAX + 1];	/* MAIL FROM, "" for <>: the Return-Path */
	uint64_t len;		/* bytes written */
	int failed;		/* a write failed: no recipient gets it */
	int cr_held;		/* BDAT: a CR ended the last chunk (its LF may follow) */
	uint64_t head;		/* bytes the worker wrote ahead of the client's (Received) */
	unsigned mime_flags;	/* MIMECHECK_8BITMIME, _SMTPUTF8: what MAIL FROM declared */
};

/* How one recipient's delivery ended, so that a second address of the
 * same user gets the same reply without a second copy. */
enum wk_intake_outcome {
	WK_INTAKE_NOT_YET = 0,
	WK_INTAKE_DELIVERED,
	WK_INTAKE_QUOTA,	/* 552 5.2.2 over quota */
	WK_INTAKE_TOOBIG,	/* 552 5.2.2 too big */
	WK_INTAKE_LOOP,		/* 554 5.4.6 */
	WK_INTAKE_TEMP,		/* 451 4.3.0 */
};

struct wk_intake {
	const char *ip;			/* for log lines */
	int relay_refused;		/* a domain not hosted is SMTP_RCPT_RELAY (SMTP);
					 * else it is an unknown user (LMTP) */
	int quota_temporary;		/* over quota: 452 4.2.2, else 552 5.2.2
					 * (quota_full_reply) */
	struct wk_intake_msg msg;
	/* the transaction's accepted recipients, in RCPT order: recipient i
	 * reaches the users idx[first[i] .. first[i] + count[i]), the master's
	 * indexes (one per user: two addresses of a user share one; an alias
	 * of several targets has several) */
	uint32_t idx[MASTERPROTO_RCPT_MAX];
	uint16_t first[MASTERPROTO_RCPT_MAX];
	uint8_t count[MASTERPROTO_RCPT_MAX];
	unsigned nrcpt, nidx;
	uint8_t done[MASTERPROTO_RCPT_MAX];	/* enum wk_intake_outcome, by master index */
	uint32_t next_id;		/* of the next lookup */
	int master_dirty;		/* the master holds recipients: reset them */
	int broken;			/* the control channel lost step: close */
	uint64_t delivered;		/* copies made durable, for the logout line */
};

/* Set w up for a session from ip (kept, not copied).  No I/O. */
void wk_intake_init(struct wk_intake *w, const char *ip, int relay_refused);

/* Look address up through the master: the verdict for the machine
 * (smtp_session_rcpt_done), TEMP when the master cannot be asked.  An
 * accepted recipient is kept.  Fatal if the master's answer is malformed. */
enum smtp_rcpt_verdict wk_intake_rcpt(struct wk_intake *w, const char *address);

/* A message from sender (the MAIL FROM mailbox as parsed, "" for <>)
 * starts (DATA, or the first BDAT): a fresh memfd.  Each recipient's
 * stored writes the sender as the copy's Return-Path. */
void wk_intake_msg_open(struct wk_intake *w, const char *sender);
/* Append decoded message bytes (DATA, after the dotstuff decoder; a
 * header the worker adds). */
void wk_intake_msg_write(struct wk_intake *w, const uint8_t *b, size_t len);
/* Append a BDAT chunk: CRLF becomes LF, as Maildir stores lines (and as
 * the DATA decoder writes them); other bytes are kept as they are. */
void wk_intake_msg_chunk(struct wk_intake *w, const uint8_t *b, size_t len);

/* The message is complete: end it and seal it.  Returns 0, or -1 when it
 * cannot be delivered to anyone (a write or the seal failed: logged). */
int wk_intake_seal(struct wk_intake *w);

/* Deliver the sealed message to accepted recipient i (in RCPT order): to
 * each user it reaches.  r holds the success reply and is left as it is
 * when the copies are durable; otherwise it is set to 552 5.2.2 (the
 * mailbox refused the size), 554 5.4.6 (the message already has the
 * user's Delivered-To: a mail loop) or 451 4.3.0.  A user an earlier
 * recipient of this transaction reached already (the master gave the same
 * index) is not written to again: it keeps that outcome.  For several
 * users, one reply: 451 if any copy failed for now (the client retries;
 * those delivered get it again), else 250 if any was delivered (a
 * permanent refusal of another is logged), else as for one user (a loop
 * when all looped).  Returns 0 delivered, -1 not. */
int wk_intake_deliver_one(struct wk_intake *w, unsigned i, struct smtp_reply *r);

/* The transaction is over (delivered, refused, RSET, EHLO): drop the
 * message and the recipients, here and in the master. */
void wk_intake_txn_end(struct wk_intake *w);

/* The time now as an RFC 5322 3.3 date in UTC ("Tue, 01 Dec 2026
 * 16:29:56 +0000"), into out (at least 32 bytes). */
void wk_intake_date(char *out, size_t outlen);

#endif
