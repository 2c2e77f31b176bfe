/* imap_fmt.c - IMAP strings, dates and flags (RFC 9051 sections 4.3, 9). */
#include "imap_fmt.h"
#include "../base/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* ATOM-CHAR: CHAR except atom-specials ( ) { SP CTL % * " \ ] */
static int
is_atom_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static int
can_be_atom(const uint8_t *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IMAP_QUOTED_MAX ||
	    (len == 3 && strncasecmp((const char *)s, "NIL", 3) == 0))
		return 0;
	for (i = 0; i < len; i++)
		if (!is_atom_char(s[i]) && s[i] != ']')	/* ASTRING-CHAR */
			return 0;
	return 1;
}

static int
can_be_quoted(const uint8_t *s, size_t len)
{
	size_t i;

	if (len > IMAP_QUOTED_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] >= 0x80 || s[i] == '\r' || s[i] == '\n')
			return 0;
	return 1;
}

int
imap_put_string(struct buf *b, const uint8_t *s, size_t len)
{
	size_t i;

	if (memchr(s, '\0', len) != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (!can_be_quoted(s, len))
		return buf_printf(b, "{%zu}\r\n", len) < 0 ? -1 : buf_append(b, s, len);
	if (buf_append(b, "\"", 1) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_append(b, "\\", 1) < 0)
			return -1;
		if (buf_append(b, s + i, 1) < 0)
			return -1;
	}
	return buf_append(b, "\"", 1);
}

int
imap_put_astring(struct buf *b, const uint8_t *s, size_t len)
{
	if (can_be_atom(s, len))
		return buf_append(b, s, len);
	return imap_put_string(b, s, len);
}

int
imap_put_nstring(struct buf *b, const uint8_t *s, size_t len)
{
	if (s == NULL)
		return buf_append(b, "NIL", 3);
	return imap_put_string(b, s, len);
}

/* n digits at s[*i] (exactly n) into *v; advances *i. */
static int
digits(const uint8_t *s, size_t len, size_t *i, unsigned n, unsigned *v)
{
	unsigned k;

	*v = 0;
	if (len - *i < n)
		return -1;
	for (k = 0; k < n; k++) {
		if (s[*i + k] < '0' || s[*i + k] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[*i + k] - '0');
	}
	*i += n;
	return 0;
}

static int
expect(const uint8_t *s, size_t len, size_t *i, uint8_t c)
{
	if (*i >= len || s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

static unsigned
month_days(unsigned y, unsigned m)
{
	static const uint8_t d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return d[m - 1] + (m == 2 && leap);
}

/* "-Mon-yyyy" after the day at s[*i]. */
static int
month_year(const uint8_t *s, size_t len, size_t *i, struct imap_date *d)
{
	unsigned m, y;

	if (expect(s, len, i, '-') < 0 || len - *i < 3)
		return -1;
	for (m = 0; m < 12; m++)
		if (strncasecmp((const char *)s + *i, months[m], 3) == 0)
			break;
	if (m == 12)
		return -1;
	*i += 3;
	if (expect(s, len, i, '-') < 0 || digits(s, len, i, 4, &y) < 0 || y == 0)
		return -1;
	if (d->day == 0 || d->day > month_days(y, m + 1))
		return -1;
	d->mon = (uint8_t)(m + 1);
	d->year = (uint16_t)y;
	return 0;
}

/* The day: 1 or 2 digits; with space_ok also " d" (date-day-fixed). */
static int
day(const uint8_t *s, size_t len, size_t *i, int space_ok, struct imap_date *d)
{
	unsigned v;

	if (space_ok && *i < len && s[*i] == ' ') {
		(*i)++;
		if (digits(s, len, i, 1, &v) < 0)
			return -1;
	} else if (digits(s, len, i, 2, &v) < 0 && digits(s, len, i, 1, &v) < 0) {
		return -1;
	}
	d->day = (uint8_t)v;
	return 0;
}

int
imap_date_parse(const uint8_t *s, size_t len, struct imap_date *d_r)
{
	size_t i = 0;

	if (day(s, len, &i, 0, d_r) < 0 || month_year(s, len, &i, d_r) < 0)
		return -1;
	return i == len ? 0 : -1;
}

int64_t
imap_date_days(const struct imap_date *d)
{
	/* days from civil: March-based years, so February is last */
	int64_t y = (int64_t)d->year - (d->mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (d->mon + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* " hh:mm:ss +zzzz" after the date. */
static int
time_zone(const uint8_t *s, size_t len, size_t *i, unsigned hms[3], int *tzoff)
{
	unsigned zh, zm;
	int sign;

	if (expect(s, len, i, ' ') < 0 || digits(s, len, i, 2, &hms[0]) < 0 ||
	    expect(s, len, i, ':') < 0 || digits(s, len, i, 2, &hms[1]) < 0 ||
	    expect(s, len, i, ':') < 0 || digits(s, len, i, 2, &hms[2]) < 0 ||
	    expect(s, len, i, ' ') < 0 || *i >= len)
		return -1;
	if (hms[0] > 23 || hms[1] > 59 || hms[2] > 60)
		return -1;
	if (s[*i] != '+' && s[*i] != '-')
		return -1;
	sign = s[(*i)++] == '-' ? -1 : 1;
	if (digits(s, len, i, 2, &zh) < 0 || digits(s, len, i, 2, &zm) < 0 || zm > 59)
		return -1;
	*tzoff = sign * (int)(zh * 60 + zm);
	return 0;
}

int
imap_datetime_parse(const uint8_t *s, size_t len, int64_t *t_r, int *tzoff_r)
{
	struct imap_date d;
	unsigned hms[3];
	size_t i = 0;
	int tz;

	if (day(s, len, &i, 1, &d) < 0 || month_year(s, len, &i, &d) < 0 ||
	    time_zone(s, len, &i, hms, &tz) < 0 || i != len)
		return -1;
	*t_r = imap_date_days(&d) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2] - (int64_t)tz * 60;
	*tzoff_r = tz;
	return 0;
}

int
imap_datetime_format(int64_t t, int tzoff, char out[IMAP_DATETIME_LEN + 1])
{
	int64_t local, days, secs, y;
	unsigned m, d, az = (unsigned)(tzoff < 0 ? -tzoff : tzoff);
	int w;

	if (tzoff <= -24 * 60 || tzoff >= 24 * 60 || t < -62135596800LL || t > 253402300799LL)
		return -1;
	local = t + (int64_t)tzoff * 60;
	days = (local >= 0 ? local : local - 86399) / 86400;
	secs = local - days * 86400;
	util_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	w = snprintf(out, IMAP_DATETIME_LEN + 1, "%02u-%s-%04u %02u:%02u:%02u %c%02u%02u", d,
	    months[m - 1], (unsigned)y, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
	    (unsigned)(secs % 60), tzoff < 0 ? '-' : '+', az / 60, az % 60);
	return w == IMAP_DATETIME_LEN ? 0 : -1;
}

int
imap_is_keyword(const struct imap_arg *a)
{
	size_t i;

	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > IMAP_KEYWORD_MAX)
		return 0;
	for (i = 0; i < a->len; i++)
		if (!is_atom_char(a->text[i]))
			return 0;
	return 1;
}

static int
system_flag(const struct imap_arg *a)
{
	static const struct { const char *name; unsigned bit; } sys[] = {
		{ "\\Answered", IMAP_FLAG_ANSWERED }, { "\\Flagged", IMAP_FLAG_FLAGGED },
		{ "\\Deleted", IMAP_FLAG_DELETED }, { "\\Seen", IMAP_FLAG_SEEN },
		{ "\\Draft", IMAP_FLAG_DRAFT },
	};
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (a->len == strlen(sys[i].name) &&
		    strncasecmp((const char *)a->text, sys[i].name, a->len) == 0)
			return (int)sys[i].bit;
	return 0;
}

enum imap_flags_err
imap_flags_parse(const struct imap_arg *list, struct imap_flags *f)
{
	const struct imap_arg *a;

	memset(f, 0, sizeof(*f));
	if (list == NULL || list->type != IMAP_ARG_LIST)
		return IMAP_FLAGS_ERR_LIST;
	for (a = list->child; a != NULL; a = a->next) {
		int bit;
		if (a->type != IMAP_ARG_ATOM)
			return IMAP_FLAGS_ERR_FLAG;
		if (a->text[0] == '\\') {
			/* \Recent may not be set; other \flags are future expansion */
			if ((bit = system_flag(a)) == 0)
				return IMAP_FLAGS_ERR_FLAG;
			f->system |= (unsigned)bit;
			continue;
		}
		if (!imap_is_keyword(a))
			return IMAP_FLAGS_ERR_FLAG;
		if (f->nkeywords == IMAP_FLAGS_MAX_KEYWORDS)
			return IMAP_FLAGS_ERR_TOO_MANY;
		f->keyword[f->nkeywords++] = a;
	}
	return IMAP_FLAGS_OK;
}
