/* rfc5322.h - the message header (RFC 5322) as IMAP needs it (pure).
 *
 * Everything works on a message held in memory (the caller mmaps the
 * file): const bytes + length, never NUL-terminated, LF or CRLF line ends.
 * Nothing here allocates except into a caller's struct buf or the address
 * list below, and nothing recurses.
 *
 * Limits:
 * - RFC5322_VALUE_MAX: an unstructured value (Subject, Date, Message-ID,
 *   In-Reply-To) is unfolded into at most this many bytes for ENVELOPE;
 *   the rest of an over-long header line is cut there, never refused.
 *   Address fields are parsed in place and have no length limit.
 * - RFC5322_ADDR_MAX: addresses kept per address field; the rest are
 *   dropped (an open group is still closed).
 * Header lines themselves may be of any length: they are never copied.
 */
#ifndef POSTERN_RFC5322_H
#define POSTERN_RFC5322_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../base/buf.h"

#define RFC5322_VALUE_MAX 65536
#define RFC5322_ADDR_MAX 10000

/* Find the end of the header of m[0..len): *hdr_len_r is the length of the
 * fields (their last line end included), *body_off_r where the body starts
 * (after the empty line).  Without an empty line the whole of m is header
 * and the body is empty (both are len). */
void rfc5322_split(const uint8_t *m, size_t len, size_t *hdr_len_r, size_t *body_off_r);

struct rfc5322_field {
	const uint8_t *name;	/* the field name, without the colon */
	size_t name_len;
	const uint8_t *value;	/* after the colon to the end of the field, */
	size_t value_len;	/* folds included, the last line end not */
	size_t off, len;	/* the whole field in the header, last line end included */
};

struct rfc5322_iter {
	const uint8_t *h;
	size_t len, pos;
};

/* Iterate the fields of hdr[0..hdr_len) (from rfc5322_split).  A line that
 * starts with a blank continues the field before it (RFC 5322 2.2.3); a
 * line without a colon, or continuation lines before any field, are not
 * fields and are skipped.  The name may be followed by blanks before the
 * colon (obsolete syntax, 4.5). */
void rfc5322_iter_init(struct rfc5322_iter *it, const uint8_t *hdr, size_t hdr_len);
/* 1 and *f filled (pointing into hdr), or 0 at the end. */
int rfc5322_iter_next(struct rfc5322_iter *it, struct rfc5322_field *f);

/* Is the field's name name[0..len) (ASCII case-insensitive)? */
int rfc5322_name_is(const struct rfc5322_field *f, const uint8_t *name, size_t len);

/* The first field named name (NUL-terminated, case-insensitive): 1 and *f,
 * or 0 if there is none. */
int rfc5322_find(const uint8_t *hdr, size_t hdr_len, const char *name, struct rfc5322_field *f);

/* Append a field value unfolded (CR and LF removed, RFC 5322 2.2.3) with
 * blanks at both ends trimmed, at most max bytes of it.  0 or -1. */
int rfc5322_unfold(const uint8_t *v, size_t len, size_t max, struct buf *out);

/* The offset of the first byte at or after pos in p[0..len) that is not
 * white space, a line end or part of a comment (CFWS, RFC 5322 3.2.2);
 * comments nest and may be left open (then len). */
size_t rfc5322_cfws(const uint8_t *p, size_t len, size_t pos);

struct rfc5322_name {
	const uint8_t *s;
	size_t len;
};

/* BODY[HEADER.FIELDS (names)] (negate = 0) or BODY[HEADER.FIELDS.NOT
 * (names)] (negate = 1), RFC 3501 6.4.5: the matching fields of hdr in
 * their order, their exact bytes with CRLF line ends, then the empty line.
 * 0 or -1 (out past its max). */
int rfc5322_header_fields(const uint8_t *hdr, size_t hdr_len, const struct rfc5322_name *names,
    size_t n, int negate, struct buf *out);

/* Addresses as ENVELOPE lists them (RFC 3501 7.4.2): name, adl (source
 * route), mailbox, host.  A group is a start marker (mailbox = the group's
 * name, host NIL) and an end marker (all NIL).  Strings are spans of
 * list->text; RFC5322_NIL marks NIL. */
#define RFC5322_NIL ((size_t)-1)

enum rfc5322_addr_kind {
	RFC5322_ADDR_MAILBOX,
	RFC5322_ADDR_GROUP_START,
	RFC5322_ADDR_GROUP_END,
};

struct rfc5322_span {
	size_t off, len;	/* in list->text; off == RFC5322_NIL for NIL */
};

struct rfc5322_addr {
	enum rfc5322_addr_kind kind;
	struct rfc5322_span name, adl, mailbox, host;
};

struct rfc5322_addrs {
	struct rfc5322_addr *v;
	size_t n, cap, max;
	int truncated;		/* addresses past max were dropped */
	struct buf text;
};

/* An empty list that keeps at most max_addrs addresses (group markers
 * count) and max_text bytes of their text.  No allocation. */
void rfc5322_addrs_init(struct rfc5322_addrs *l, size_t max_addrs, size_t max_text);
void rfc5322_addrs_free(struct rfc5322_addrs *l);

/* Parse the address-list v[0..len) (a raw field value, folds allowed) and
 * append what it holds to l.  Tolerant as real mail needs (RFC 5322 3.4
 * and 4.4): display names as atoms, quoted strings or encoded-words (kept
 * as they are, as ENVELOPE wants), comments (a comment after a bare
 * addr-spec becomes its name), obsolete routes (<@a,@b:user@host>), groups,
 * a missing domain (host "MISSING_DOMAIN", never NIL, which would read as
 * a group marker), a missing '>' or closing quote.  "<>" gives nothing.
 * 0, or -1 (ENOMEM, or text past max_text: what was parsed stays). */
int rfc5322_addr_parse(const uint8_t *v, size_t len, struct rfc5322_addrs *l);

/* Append the list as ENVELOPE writes it: "((name adl mailbox host)...)",
 * or NIL when it is empty.  0 or -1. */
int rfc5322_addrs_write(const struct rfc5322_addrs *l, struct buf *out);

/* Parse an RFC 5322 3.3 date-time, with the obsolete forms of 4.3 (two- and
 * three-digit years, zone names, military zones read as +0000, no zone,
 * no seconds, comments) and the asctime form "Mon Jan  2 15:04:05 2006",
 * into *t_r (UTC).  0, or -1 if it is not a date. */
int rfc5322_date_parse(const uint8_t *s, size_t len, time_t *t_r);

/* As rfc5322_date_parse(), and *zone_r the date's zone in seconds east of
 * UTC (0 for an unknown or missing zone): SEARCH SENTON and friends compare
 * the date in its own zone (RFC 9051 6.4.4). */
int rfc5322_date_parse_zone(const uint8_t *s, size_t len, time_t *t_r, int *zone_r);

/* Append the ENVELOPE of the header hdr[0..hdr_len) (RFC 3501 7.4.2):
 * (date subject (from) (sender) (reply-to) (to) (cc) (bcc) in-reply-to
 * message-id), each from the first field of its name; sender and reply-to
 * are from's when absent or empty; NIL for what is absent.  0 or -1. */
int rfc5322_envelope_write(const uint8_t *hdr, size_t hdr_len, struct buf *out);

#endif
