/* wk_smtp.h - worker kit: the SMTP-family session (LMTP, SMTP) on the
 * kit's event loop.
 *
 * The protocol is common/proto/smtp_session (pure); the intake (recipient
 * lookups, the sealed message memfd, one delivery per recipient) is
 * wk_intake.  This loop feeds the machine command lines, DATA bytes
 * (through the dotstuff decoder: only CRLF "." CRLF ends the data, a bare
 * LF never does, CVE-2023-51764) and BDAT chunks counted by length (RFC
 * 3030), and does what the machine hands out.  Replies are queued as they
 * are made and pushed when the machine says flush and whenever the
 * buffered input runs out (RFC 2920 3.1).
 *
 * What differs between the protocols is in the worker (struct wk_smtp_ops):
 * the replies after the data (LMTP: one per recipient; SMTP: one for the
 * transaction), STARTTLS, and what is written ahead of the message (SMTP:
 * a Received header).
 */
#ifndef POSTERN_WK_SMTP_H
#define POSTERN_WK_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "../base/config.h"
#include "../proto/dotstuff.h"
#include "../proto/smtp_session.h"
#include "wk_auth.h"
#include "wk_boot.h"
#include "wk_client.h"
#include "wk_intake.h"
#include "wk_mime.h"
#include "wk_session.h"

enum wk_smtp_input {
	WK_SMTP_IN_LINES,	/* commands */
	WK_SMTP_IN_DATA,	/* after the 354: through the decoder */
	WK_SMTP_IN_CHUNK,	/* a BDAT chunk kept */
	WK_SMTP_IN_DISCARD,	/* a refused BDAT's chunk, dropped */
};

struct wk_smtp;

struct wk_smtp_ops {
	/* SMTP_ACT_DELIVER: deliver to every accepted recipient (wk_intake)
	 * and write the replies (the machine's success reply is st->reply). */
	void (*deliver)(struct wk_smtp *p, const struct smtp_step *st);
	/* A message memfd was just opened: write what goes ahead of the
	 * client's bytes, or NULL. */
	void (*msg_start)(struct wk_smtp *p);
	/* SMTP_ACT_STARTTLS: answer and switch, or NULL (never offered). */
	void (*starttls)(struct wk_smtp *p, const struct smtp_step *st);
	/* Before each RCPT's lookup: 1 to refuse it with *r (SMTP: a DNSBL
	 * listing), 0 to look it up; or NULL. */
	int (*rcpt_check)(struct wk_smtp *p, struct smtp_reply *r);
};

struct wk_smtp {
	const struct config *cfg;
	const char *ip, *sid;
	const struct wk_smtp_ops *ops;
	struct wk_client c;
	struct wk_auth auth;	/* idle: no login on intake services, the kit wants one */
	struct wk_session s;
	struct smtp_session sm;
	enum wk_smtp_input in;
	struct dotstuff_dec dec;
	uint64_t chunk_left;		/* WK_SMTP_IN_CHUNK / _DISCARD */
	struct smtp_step held;		/* WK_SMTP_IN_DISCARD: the reply after the chunk */
	struct wk_intake w;
	struct wk_mime_policy mime;	/* smtp_bad_mime, checked after the data */
	uint64_t messages;		/* transactions delivered to every recipient, for
					 * the logout line (the worker's deliver counts) */
};

/* The session's limits as the worker read them from its config keys. */
struct wk_smtp_limits {
	uint64_t max_line, max_recipients, max_message_size, max_bad_commands;
	uint64_t idle_timeout_s;
	uint64_t greet_pause_ms;	/* before the greeting; 0 = greet at once */
};

/* Serve the session booted in b until it ends: sc is the machine's
 * configuration (mode, offers; its limits are set from lim here),
 * relay_refused as wk_intake_init's. */
void wk_smtp_run(struct wk_smtp *p, struct wk_boot *b, const struct wk_smtp_ops *ops,
    struct smtp_config *sc, const struct wk_smtp_limits *lim, int relay_refused);

/* Write reply r n times (LMTP: one per recipient). */
void wk_smtp_reply(struct wk_smtp *p, const struct smtp_reply *r, unsigned n);

/* Push the queued replies now (without waiting). */
void wk_smtp_flush(struct wk_smtp *p);

#endif
