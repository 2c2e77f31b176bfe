/* mailfiles.h - the text files other IMAP servers leave in a Maildir (pure):
 * Courier's courierimapuiddb, Dovecot's dovecot-uidlist (v1 and v3) and
 * dovecot-keywords.  They are the user's files (stored reads them as the
 * user; a rebuild keeps UIDs from them), so they are untrusted bytes: each
 * parser works on a NUL-terminated copy, modifies it in place, bounds every
 * number to 32 bits and hands out names that point into it. */
#ifndef POSTERN_MAILFILES_H
#define POSTERN_MAILFILES_H

#include <stddef.h>
#include <stdint.h>

enum mailfiles_uidlist {
	MAILFILES_COURIER,	/* "1 UIDVALIDITY UIDNEXT", then "UID name" */
	MAILFILES_DOVECOT,	/* "1 UIDV NEXT" or "3 V<uidv> N<next> ...", then records */
};

struct mailfiles_header {
	uint32_t uidvalidity, uidnext;
};

/* One "UID name" record: 0 to go on, -1 to stop (returned as -1). */
typedef int mailfiles_entry_cb(void *ctx, uint32_t uid, const char *name, size_t len);

/* Parse a UID list.  Returns 1 (h filled, every record given to entry),
 * 0 for a header of a format we do not know (nothing given), -1 when
 * entry stopped. */
int mailfiles_uidlist(char *text, enum mailfiles_uidlist f, struct mailfiles_header *h,
    mailfiles_entry_cb *entry, void *ctx);

/* dovecot-keywords: "N name" lines; kw gets slot N (any u32) and the name. */
typedef void mailfiles_keyword_cb(void *ctx, uint32_t slot, const char *name);
void mailfiles_keywords(char *text, mailfiles_keyword_cb *kw, void *ctx);

#endif
