/* delivered.c - the Delivered-To loop check (see delivered.h). */
#include "delivered.h"

#include <string.h>

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Does the field read so far say Delivered-To: this address? */
static int
field_matches(const struct delivered_scan *s)
{
	static const char name[] = "delivered-to";
	const uint8_t *f = s->field, *end = s->field + s->len;
	size_t i;

	if (s->overflow || s->len < sizeof(name) - 1)
		return 0;
	for (i = 0; i < sizeof(name) - 1; i++)
		if (lower(f[i]) != name[i])
			return 0;
	f += i;
	while (f < end && blank(*f))
		f++;
	if (f == end || *f++ != ':')
		return 0;
	while (f < end && (blank(*f) || *f == '\r'))
		f++;
	while (end > f && (blank(end[-1]) || end[-1] == '\r'))
		end--;
	if (end - f >= 2 && f[0] == '<' && end[-1] == '>') {
		f++;
		end--;
	}
	if ((size_t)(end - f) != s->addrlen || s->addrlen == 0)
		return 0;
	for (i = 0; i < s->addrlen; i++)
		if (lower(f[i]) != lower((unsigned char)s->addr[i]))
			return 0;
	return 1;
}

/* The field read so far is complete: check it, start the next one. */
static void
field_end(struct delivered_scan *s)
{
	if (field_matches(s)) {
		s->found = 1;
		s->done = 1;
	}
	s->len = 0;
	s->overflow = 0;
}

static void
field_add(struct delivered_scan *s, uint8_t c)
{
	if (s->len < sizeof(s->field))
		s->field[s->len++] = c;
	else
		s->overflow = 1;
}

void
delivered_scan_init(struct delivered_scan *s, const char *addr)
{
	size_t l = strlen(addr);

	memset(s, 0, sizeof(*s));
	s->bol = 1;
	if (l <= DELIVERED_ADDR_MAX) {
		memcpy(s->addr, addr, l + 1);
		s->addrlen = l;
	}
}

/* The first byte of a line decides: an empty line ends the header, a
 * blank continues the field (RFC 5322 2.2.3), anything else starts one. */
static void
line_start(struct delivered_scan *s, uint8_t c)
{
	s->bol = 0;
	if (c == '\n') {
		field_end(s);
		s->done = 1;
	} else if (c == '\r') {
		s->cr_first = 1;	/* CRLF, an empty line, or a stray CR */
	} else if (blank(c)) {
		field_add(s, c);
	} else {
		field_end(s);
		field_add(s, c);
	}
}

int
delivered_scan_feed(struct delivered_scan *s, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len && !s->done; i++) {
		uint8_t c = b[i];

		if (s->cr_first) {
			s->cr_first = 0;
			if (c == '\n') {
				field_end(s);
				s->done = 1;
				break;
			}
			field_end(s);
			field_add(s, '\r');
		} else if (s->bol) {
			line_start(s, c);
			continue;
		}
		if (c == '\n')
			s->bol = 1;	/* unfolding drops the line end */
		else
			field_add(s, c);
	}
	return s->done;
}

int
delivered_scan_end(struct delivered_scan *s)
{
	if (!s->done) {
		s->cr_first = 0;
		field_end(s);
		s->done = 1;
	}
	return s->found;
}
