/* imap_fmt.h - server-side IMAP writers and the small value parsers of
 * APPEND and SEARCH: strings as atom, quoted or literal (RFC 9051 section
 * 4.3), INTERNALDATE date-time, dates, flag lists. */
#ifndef POSTERN_IMAP_FMT_H
#define POSTERN_IMAP_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "imap_parse.h"

#define IMAP_QUOTED_MAX	1024	/* longer strings go out as literals */
#define IMAP_DATETIME_LEN 26	/* "dd-Mon-yyyy hh:mm:ss +zzzz" */
#define IMAP_FLAGS_MAX_KEYWORDS 64	/* keywords in one flag list */
#define IMAP_KEYWORD_MAX 128	/* longest keyword */

/* Append s[0..len) as an astring: atom when it can be one (not "NIL"),
 * else quoted when short 7-bit text, else a literal.  0, or -1 (NUL in s,
 * which no string may carry, or the buffer's max). */
int imap_put_astring(struct buf *b, const uint8_t *s, size_t len);

/* Append s[0..len) as a string: quoted or literal, never an atom. */
int imap_put_string(struct buf *b, const uint8_t *s, size_t len);

/* Append an nstring: NIL when s is NULL, else as imap_put_string. */
int imap_put_nstring(struct buf *b, const uint8_t *s, size_t len);

struct imap_date {
	uint16_t year;
	uint8_t mon, day;	/* 1-12, 1-31 */
};

/* date-text "d-Mon-yyyy" or "dd-Mon-yyyy" (RFC 9051 section 9), checked
 * against the month's length.  0 or -1. */
int imap_date_parse(const uint8_t *s, size_t len, struct imap_date *d_r);

/* APPEND's date-time without its quotes: "dd-Mon-yyyy hh:mm:ss +zzzz"
 * (the day also " d" or "d").  *t_r gets seconds since 1970 UTC,
 * *tzoff_r the zone in minutes east.  0 or -1. */
int imap_datetime_parse(const uint8_t *s, size_t len, int64_t *t_r, int *tzoff_r);

/* Format t (seconds since 1970 UTC) in zone tzoff (minutes east, within
 * +-24h) as INTERNALDATE text (no quotes) into out, NUL-terminated.
 * 0, or -1 for a year outside 1..9999 or a bad zone. */
int imap_datetime_format(int64_t t, int tzoff, char out[IMAP_DATETIME_LEN + 1]);

/* Days since 1970-01-01 of a (valid) date. */
int64_t imap_date_days(const struct imap_date *d);

#define IMAP_FLAG_ANSWERED	0x01
#define IMAP_FLAG_FLAGGED	0x02
#define IMAP_FLAG_DELETED	0x04
#define IMAP_FLAG_SEEN		0x08
#define IMAP_FLAG_DRAFT		0x10

struct imap_flags {
	unsigned system;	/* IMAP_FLAG_ bits */
	const struct imap_arg *keyword[IMAP_FLAGS_MAX_KEYWORDS];	/* atoms */
	unsigned nkeywords;
};

enum imap_flags_err {
	IMAP_FLAGS_OK = 0,
	IMAP_FLAGS_ERR_LIST = -1,	/* not a parenthesized list */
	IMAP_FLAGS_ERR_FLAG = -2,	/* not an atom, \Recent, unknown \flag, bad keyword */
	IMAP_FLAGS_ERR_TOO_MANY = -3,	/* over IMAP_FLAGS_MAX_KEYWORDS */
};

/* APPEND's / STORE's flag-list (RFC 9051 section 9: "(" [flag *(SP flag)]
 * ")").  Keywords point into the argument tree. */
enum imap_flags_err imap_flags_parse(const struct imap_arg *list, struct imap_flags *f);

/* 1 if a is a flag-keyword: an atom of ATOM-CHARs, at most IMAP_KEYWORD_MAX. */
int imap_is_keyword(const struct imap_arg *a);

#endif
