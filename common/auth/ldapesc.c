/* ldapesc.c - RFC 4515 filter values and RFC 4514 DN values (ldapesc.h). */
#include "ldapesc.h"

#include <string.h>

static const char hex[] = "0123456789ABCDEF";

static int
put_hex(char *out, size_t cap, size_t *o, uint8_t b)
{
	if (*o + 3 >= cap)
		return -1;
	out[(*o)++] = '\\';
	out[(*o)++] = hex[b >> 4];
	out[(*o)++] = hex[b & 15];
	return 0;
}

static int
put_byte(char *out, size_t cap, size_t *o, uint8_t b)
{
	if (*o + 1 >= cap)
		return -1;
	out[(*o)++] = (char)b;
	return 0;
}

long
ldapesc_filter(const uint8_t *v, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	int rc;

	if (cap == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e || strchr("()*\\", v[i]) != NULL)
			rc = put_hex(out, cap, &o, v[i]);
		else
			rc = put_byte(out, cap, &o, v[i]);
		if (rc < 0)
			return -1;
	}
	out[o] = '\0';
	return (long)o;
}

long
ldapesc_dn(const uint8_t *v, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	int rc;

	if (cap == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e || strchr("\"+,;<>=\\", v[i]) != NULL ||
		    (i == 0 && v[i] == '#'))
			rc = put_hex(out, cap, &o, v[i]);	/* a blank is < 0x21 */
		else
			rc = put_byte(out, cap, &o, v[i]);
		if (rc < 0)
			return -1;
	}
	out[o] = '\0';
	return (long)o;
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One byte of s at *i: an escape or a plain byte (refused if in bad, or
 * NUL).  dn: '\' and a special character stands for it too. */
static int
next(const char *s, size_t len, size_t *i, const char *bad, int dn, uint8_t *b)
{
	int h, l;

	if (s[*i] != '\\') {
		if (s[*i] == '\0' || strchr(bad, s[*i]) != NULL)
			return -1;
		*b = (uint8_t)s[(*i)++];
		return 0;
	}
	if (*i + 1 < len && dn && s[*i + 1] != '\0' && strchr(" \"#+,;<=>\\", s[*i + 1]) != NULL) {
		*b = (uint8_t)s[*i + 1];
		*i += 2;
		return 0;
	}
	if (*i + 2 >= len || (h = unhex(s[*i + 1])) < 0 || (l = unhex(s[*i + 2])) < 0)
		return -1;
	*b = (uint8_t)(h << 4 | l);
	*i += 3;
	return 0;
}

static long
unescape(const char *s, size_t len, uint8_t *out, size_t cap, const char *bad, int dn)
{
	size_t i = 0, o = 0;
	uint8_t b;

	while (i < len) {
		if (next(s, len, &i, bad, dn, &b) < 0 || o == cap)
			return -1;
		out[o++] = b;
	}
	return (long)o;
}

long
ldapesc_filter_unescape(const char *s, size_t len, uint8_t *out, size_t cap)
{
	return unescape(s, len, out, cap, "()*", 0);
}

long
ldapesc_dn_unescape(const char *s, size_t len, uint8_t *out, size_t cap)
{
	return unescape(s, len, out, cap, "\"+,;<>", 1);
}
