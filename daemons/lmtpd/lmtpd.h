/* lmtpd.h - the LMTP worker (RFC 2033): one client connection, no
 * privileges, no users.
 *
 * The session is the kit's SMTP-family loop (common/worker/wk_smtp.h) in
 * SMTP_MODE_LMTP, the recipients and deliveries the kit's intake
 * (wk_intake.h).  What is LMTP's own is here: the limits from the lmtp_*
 * keys and one reply per accepted recipient after the data, each written
 * as soon as that recipient's copy is durable (RFC 2033 4.2).
 */
#ifndef POSTERN_LMTPD_H
#define POSTERN_LMTPD_H

#include "../../common/worker/wk_smtp.h"

/* lmtpd.c: serve the session booted in b until it ends. */
void lmtp_run(struct wk_smtp *p, struct wk_boot *b, const char *hostname);

#endif
