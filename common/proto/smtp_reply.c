/* smtp_reply.c - SMTP replies: build, format, parse (RFC 5321 4.2, RFC 2034, RFC 3463). */
#include "smtp_reply.h"

#include <stdio.h>
#include <string.h>

void
smtp_reply_set(struct smtp_reply *r, unsigned code, const char *esc, const char *text)
{
	r->code = code;
	snprintf(r->esc, sizeof(r->esc), "%s", esc ? esc : "");
	snprintf(r->text, sizeof(r->text), "%s", text);
}

int
smtp_reply_add_line(struct smtp_reply *r, const char *line)
{
	size_t have = strlen(r->text), n = strlen(line);

	if (strpbrk(line, "\r\n") != NULL || have + 1 + n >= sizeof(r->text))
		return -1;
	r->text[have] = '\n';
	memcpy(r->text + have + 1, line, n + 1);
	return 0;
}

long
smtp_reply_format(const struct smtp_reply *r, char *out, size_t cap)
{
	const char *line = r->text;
	size_t o = 0;

	if (r->code < 200 || r->code > 599)
		return -1;
	for (;;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		int n = snprintf(out + o, cap - o, "%u%c%s%s%.*s\r\n", r->code, nl ? '-' : ' ',
		    r->esc, r->esc[0] && ll ? " " : "", (int)ll, line);

		if (n < 0 || (size_t)n >= cap - o || (size_t)n > SMTP_REPLY_LINE_MAX)
			return -1;
		o += (size_t)n;
		if (nl == NULL)
			return (long)o;
		line = nl + 1;
	}
}

void
smtp_reply_parser_init(struct smtp_reply_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static int
digits(const char *s, size_t len, size_t *i, size_t max)
{
	size_t start = *i;

	while (*i < len && *i - start < max + 1 && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > start && *i - start <= max;
}

int
smtp_esc_valid(const char *esc, size_t len, char cls)
{
	size_t i = 2;

	/* RFC 3463 2: only success, persistent and permanent failure */
	if (len < 5 || (cls != '2' && cls != '4' && cls != '5') || esc[0] != cls || esc[1] != '.')
		return 0;
	if (!digits(esc, len, &i, 3) || i >= len || esc[i++] != '.')
		return 0;
	return digits(esc, len, &i, 3) && i == len;
}

/* Append the text of one reply line to r (cut where it no longer fits). */
static void
add_text(struct smtp_reply *r, const uint8_t *t, size_t tl, int first)
{
	size_t have = strlen(r->text), i;

	if (!first && have + 1 < sizeof(r->text))
		r->text[have++] = '\n';
	for (i = 0; i < tl && have + 1 < sizeof(r->text); i++) {
		uint8_t c = t[i];
		/* a remote's control bytes never reach our logs or clients */
		r->text[have++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
	}
	r->text[have] = '\0';
}

/* The enhanced code at the start of t, if any: its length (0 if none). */
static size_t
esc_len(const uint8_t *t, size_t tl, char cls)
{
	size_t n = 0;

	while (n < tl && n <= SMTP_ESC_MAX && t[n] != ' ')
		n++;
	if (n > SMTP_ESC_MAX || !smtp_esc_valid((const char *)t, n, cls))
		return 0;
	return n;
}

static void
take_esc(struct smtp_reply_parser *p, struct smtp_reply *r, const uint8_t **t, size_t *tl)
{
	size_t n = esc_len(*t, *tl, (char)('0' + p->code / 100));

	if (n == 0) {
		p->esc_ok = 0;
	} else if (p->nlines == 0) {
		memcpy(r->esc, *t, n);
		r->esc[n] = '\0';
	} else if (strlen(r->esc) != n || memcmp(r->esc, *t, n) != 0) {
		p->esc_ok = 0;
	}
	if (n > 0) {
		*t += n;
		*tl -= n;
		if (*tl > 0) {
			(*t)++;
			(*tl)--;
		}
	}
}

enum smtp_reply_result
smtp_reply_parse(struct smtp_reply_parser *p, const uint8_t *line, size_t len,
    struct smtp_reply *r)
{
	unsigned code;
	int last;

	if (len < 3 || len + 2 > SMTP_REPLY_LINE_MAX || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		goto bad;
	code = (unsigned)(line[0] - '0') * 100 + (unsigned)(line[1] - '0') * 10 +
	    (unsigned)(line[2] - '0');
	if (p->nlines == 0) {
		memset(r, 0, sizeof(*r));
		r->code = code;
		p->code = code;
		p->esc_ok = 1;
	} else if (code != p->code || p->nlines >= SMTP_REPLY_LINES_MAX) {
		goto bad;
	}
	last = len == 3 || line[3] == ' ';
	line += len > 3 ? 4 : 3;
	len -= len > 3 ? 4 : 3;
	take_esc(p, r, &line, &len);
	add_text(r, line, len, p->nlines == 0);
	p->nlines++;
	if (!last)
		return SMTP_REPLY_MORE;
	if (!p->esc_ok)
		r->esc[0] = '\0';
	smtp_reply_parser_init(p);
	return SMTP_REPLY_DONE;
bad:
	smtp_reply_parser_init(p);
	return SMTP_REPLY_ERR;
}
