/* smtpd.h - the SMTP worker for the MX role (RFC 5321): one client
 * connection, no privileges, no users, local recipients only.
 *
 * The session is the kit's SMTP-family loop (common/worker/wk_smtp.h) in
 * SMTP_MODE_SMTP, the recipients and deliveries the kit's intake
 * (wk_intake.h), exactly as lmtpd's.  What is SMTP's own is here: the
 * smtp_* limits, STARTTLS through the kit (keys in keyd), a Received
 * header ahead of each message (RFC 5321 4.4), a domain that is not hosted
 * refused as relaying (550 5.7.1: there is no outbound queue), and one
 * reply for the whole transaction after the data (RFC 5321 4.2), 250 only
 * when every accepted recipient's copy is durable.
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include "../../common/worker/wk_smtp.h"

/* smtpd.c: serve the session booted in b until it ends. */
void smtpd_run(struct wk_smtp *p, struct wk_boot *b, const char *hostname);

#endif
