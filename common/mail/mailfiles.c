/* mailfiles.c - Courier's and Dovecot's UID lists and keyword files. */
#include "mailfiles.h"

#include <string.h>

#include "../base/util.h"

/* The next line of *p (cut at '\n'), or NULL at the end. */
static char *
next_line(char **p)
{
	char *l = *p, *nl;

	if (*l == '\0')
		return NULL;
	nl = strchr(l, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = l + strlen(l);
	}
	return l;
}

/* A decimal number at *s ended by a space or the end; *s moves past it. */
static int
number(char **s, uint32_t *v)
{
	size_t d = strspn(*s, "0123456789");
	uint64_t u;

	if (d == 0 || util_parse_u64((const uint8_t *)*s, d, UINT32_MAX, &u) < 0)
		return -1;
	*v = (uint32_t)u;
	*s += d;
	*s += **s == ' ';
	return 0;
}

/* Dovecot header: "1 UIDV NEXT" or "3 V<uidv> N<next> G<guid> ...". */
static int
dovecot_header(char *l, uint32_t *ver, struct mailfiles_header *h)
{
	if (number(&l, ver) < 0 || (*ver != 1 && *ver != 3))
		return -1;
	if (*ver == 1)
		return number(&l, &h->uidvalidity) < 0 || number(&l, &h->uidnext) < 0 ? -1 : 0;
	while (*l != '\0') {
		char c = *l++;
		if ((c != 'V' && c != 'N') || number(&l, c == 'V' ? &h->uidvalidity : &h->uidnext) < 0)
			l += strcspn(l, " ") + (l[strcspn(l, " ")] == ' ');
	}
	return h->uidvalidity != 0 ? 0 : -1;
}

static int
header(char *l, enum mailfiles_uidlist f, uint32_t *ver, struct mailfiles_header *h)
{
	if (l == NULL)
		return -1;
	if (f == MAILFILES_DOVECOT)
		return dovecot_header(l, ver, h);
	*ver = 1;
	return number(&l, ver) < 0 || *ver != 1 || number(&l, &h->uidvalidity) < 0 ||
	    number(&l, &h->uidnext) < 0 ? -1 : 0;
}

int
mailfiles_uidlist(char *text, enum mailfiles_uidlist f, struct mailfiles_header *h,
    mailfiles_entry_cb *entry, void *ctx)
{
	uint32_t ver, uid;
	char *t = text, *l, *n;

	memset(h, 0, sizeof(*h));
	if (header(next_line(&t), f, &ver, h) < 0) {
		memset(h, 0, sizeof(*h));
		return 0;	/* a format we do not know: no UIDs kept */
	}
	while ((l = next_line(&t)) != NULL) {
		if (number(&l, &uid) < 0 || uid == 0)
			continue;
		/* Dovecot v3: optional fields, then " :name" */
		n = ver == 3 ? strstr(l - 1, " :") : NULL;
		if (ver == 3 && n == NULL)
			continue;
		if (n != NULL)
			l = n + 2;
		if (*l != '\0' && entry(ctx, uid, l, strlen(l)) < 0)
			return -1;
	}
	return 1;
}

void
mailfiles_keywords(char *text, mailfiles_keyword_cb *kw, void *ctx)
{
	uint32_t slot;
	char *t = text, *l;

	while ((l = next_line(&t)) != NULL)
		if (number(&l, &slot) == 0 && *l != '\0')
			kw(ctx, slot, l);
}
