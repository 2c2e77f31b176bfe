/* imap_seqset.h - IMAP sequence sets (RFC 9051 section 9, "sequence-set").
 *
 * A set is parsed into ranges that are sorted, merged (overlapping or
 * adjacent ranges become one) and bounded in number.  Numbers are 1..2^32-1;
 * "*" (the largest number in use) stays symbolic until imap_seqset_resolve()
 * is given that number: after normalisation at most one range holds "*",
 * kept apart from the numeric ranges as [star_lo, *].  "$" (RFC 5182
 * SEARCHRES) is accepted only as the whole set and only sets searchres.
 * No allocation: the caller gives the range storage.
 */
#ifndef POSTERN_IMAP_SEQSET_H
#define POSTERN_IMAP_SEQSET_H

#include <stddef.h>
#include <stdint.h>

/* A sensible capacity for one set (merged ranges); callers may give more. */
#define IMAP_SEQSET_MAX_RANGES 1024

enum imap_seqset_err {
	IMAP_SEQSET_OK = 0,
	IMAP_SEQSET_ERR_EMPTY = -1,	/* empty set or empty part ("1,,2", "1,") */
	IMAP_SEQSET_ERR_ZERO = -2,	/* 0 is not a sequence number */
	IMAP_SEQSET_ERR_RANGE = -3,	/* number over 4294967295 */
	IMAP_SEQSET_ERR_SYNTAX = -4,	/* other character, "1:", "$" inside a list */
	IMAP_SEQSET_ERR_TOO_MANY = -5,	/* more merged ranges than the storage holds */
	IMAP_SEQSET_ERR_STAR = -6,	/* resolve: "*" with an empty mailbox */
};

struct imap_range {
	uint32_t lo, hi;	/* lo <= hi */
};

struct imap_seqset {
	struct imap_range *r;	/* caller's storage, sorted, disjoint, not adjacent */
	unsigned n, cap;
	uint8_t star;		/* the set also holds [star_lo, *] */
	uint8_t searchres;	/* the set was "$": the saved search result */
	uint32_t star_lo;	/* 0: the range is "*" alone */
};

/* Make set empty, using storage r[0..cap). */
void imap_seqset_init(struct imap_seqset *set, struct imap_range *r, unsigned cap);

/* Parse s[0..len) (no NUL needed) into set (emptied first).  Returns
 * IMAP_SEQSET_OK or an error; the set is undefined after an error. */
enum imap_seqset_err imap_seqset_parse(struct imap_seqset *set, const uint8_t *s, size_t len);

/* Add [lo, hi] (1 <= lo <= hi) keeping the set normalised.  0 or
 * IMAP_SEQSET_ERR_TOO_MANY. */
enum imap_seqset_err imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi);

/* Replace "*" by max (the message count or UIDNEXT-1): "5:*" with max 3 is
 * 3:5 (RFC 9051 section 9).  IMAP_SEQSET_ERR_STAR if the set holds "*" and
 * max is 0; the caller answers BAD for sequence numbers, matches nothing
 * for UIDs. */
enum imap_seqset_err imap_seqset_resolve(struct imap_seqset *set, uint32_t max);

/* 1 if v is in the (resolved) set. */
int imap_seqset_contains(const struct imap_seqset *set, uint32_t v);

/* How many numbers the (resolved) set holds. */
uint64_t imap_seqset_count(const struct imap_seqset *set);

/* Iterate over the numbers of a resolved set in ascending order:
 *   struct imap_seqset_iter it; uint32_t v;
 *   imap_seqset_iter_init(&it, set); while (imap_seqset_iter_next(&it, &v)) ... */
struct imap_seqset_iter {
	const struct imap_seqset *set;
	unsigned i;
	uint64_t next;
};
void imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *set);
int imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *v_r);

/* Write the compact form ("1:3,5,7:*") NUL-terminated into out.  Returns
 * its length, or -1 if it does not fit in cap bytes or the set is empty. */
long imap_seqset_format(const struct imap_seqset *set, char *out, size_t cap);

#endif
