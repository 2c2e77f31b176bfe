/* wk_mime.h - worker kit: the intake's MIME policy (smtp_bad_mime,
 * Courier's BOFHBADMIME) over a sealed message (wk_intake).
 *
 * After the data, before any stored sees the message, the worker asks
 * common/mail/mimecheck whether the client's bytes (without the header
 * the worker wrote ahead of them) are conformant MIME.  accept: nothing
 * is checked.  reject: a message that is not is refused with 550 5.6.0
 * naming the defect.  wrap: it is delivered inside a new multipart/mixed
 * (RFC 2046 5.1.3) whose first part is a short text saying why and whose
 * second is the original, unchanged: message/rfc822 (RFC 2046 5.2.1)
 * when its bytes are an RFC 5322 message, else application/octet-stream
 * in base64.  The original's From, To, Subject and Date (when clean to
 * copy) head the new message, after the worker's own header.  One log
 * line per refused or wrapped message (event=bad_mime).
 */
#ifndef POSTERN_WK_MIME_H
#define POSTERN_WK_MIME_H

#include "../proto/smtp_reply.h"
#include "wk_intake.h"

enum wk_mime_mode { WK_MIME_ACCEPT, WK_MIME_REJECT, WK_MIME_WRAP };

struct wk_mime_policy {
	enum wk_mime_mode mode;
	unsigned max_depth;		/* smtp_mime_max_depth */
	const char *hostname;		/* the wrapping text's "who" */
	const char *sid;		/* the wrapper's boundary */
};

/* The mode named by smtp_bad_mime ("accept", "reject", "wrap"; the
 * config checked it). */
enum wk_mime_mode wk_mime_mode_of(const char *word);

/* The largest file (memfd) the worker writes for a message of at most
 * max_message bytes (the worker's own header included) under mode: the
 * message, or with wrap its base64 wrapping with the new header and text.
 * For wk_boot_limit_file_size(). */
uint64_t wk_mime_file_limit(enum wk_mime_mode mode, uint64_t max_message);

/* Apply pol to w's sealed message.  Returns 0 to deliver it (wrapped:
 * w->msg then holds the new sealed message), 1 when it is refused (r is
 * the 550 5.6.0), -1 when the check could not be made (r is 451 4.3.0,
 * logged). */
int wk_mime_apply(struct wk_intake *w, const struct wk_mime_policy *pol, struct smtp_reply *r);

#endif
