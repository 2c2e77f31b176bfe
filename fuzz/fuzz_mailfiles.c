/* fuzz_mailfiles.c - the UID lists and keyword files a user's Maildir may
 * hold (courierimapuiddb, dovecot-uidlist, dovecot-keywords).  Byte 0
 * picks the file; the rest is its text.  Every record has a non-zero UID
 * and a non-empty name inside the text with no line end; a header we do
 * not know yields nothing. */
#include <string.h>

#include "../common/mail/mailfiles.h"
#include "fuzz.h"

static char text[70000];
static size_t textlen;

static int
entry(void *ctx, uint32_t uid, const char *name, size_t len)
{
	(*(unsigned *)ctx)++;
	CHECK(uid != 0 && len > 0 && name >= text && name + len <= text + textlen);
	CHECK(memchr(name, '\n', len) == NULL && strlen(name) == len);
	return *(unsigned *)ctx > 100000 ? -1 : 0;
}

static void
keyword(void *ctx, uint32_t slot, const char *name)
{
	(void)slot;
	(*(unsigned *)ctx)++;
	CHECK(name >= text && name < text + textlen && *name != '\0' && strchr(name, '\n') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailfiles_header h;
	unsigned n = 0;
	int rc;

	if (size == 0 || size > sizeof(text))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	textlen = strlen(text);
	if (data[0] % 3 == 2) {
		mailfiles_keywords(text, keyword, &n);
		return 0;
	}
	rc = mailfiles_uidlist(text, data[0] % 3 ? MAILFILES_DOVECOT : MAILFILES_COURIER, &h, entry, &n);
	CHECK(rc == 1 || rc == 0 || rc == -1);
	if (rc == 0)
		CHECK(n == 0 && h.uidvalidity == 0 && h.uidnext == 0);
	if (rc == -1)
		CHECK(n > 100000);
	return 0;
}
