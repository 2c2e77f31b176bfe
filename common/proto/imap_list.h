/* imap_list.h - LIST/LSUB pattern matching (RFC 9051 6.3.9), pure.
 *
 * "*" matches any characters, "%" any but the hierarchy separator; every
 * other byte matches itself, except that a leading "INBOX" (any case, as
 * the whole pattern or before the separator) is the INBOX, whose name is
 * case-insensitive.  No recursion and no backtracking: the match is a
 * dynamic programme over the pattern, O(|name| x |pattern|) time and
 * O(|pattern|) memory, so no pattern makes LIST slow.
 */
#ifndef POSTERN_IMAP_LIST_H
#define POSTERN_IMAP_LIST_H

#include <stddef.h>

#define IMAP_LIST_PATTERN_MAX 2048	/* longest reference + pattern matched */

/* Write the canonical form of pattern pat (NUL-terminated, at most
 * IMAP_LIST_PATTERN_MAX bytes) into pat itself: a leading "inbox" that can
 * only name the INBOX becomes "INBOX". */
void imap_list_canon(char *pat, char sep);

/* 1 if name matches the (canonical) pattern, 0 if not or if either is
 * longer than IMAP_LIST_PATTERN_MAX. */
int imap_list_match(const char *pat, const char *name, char sep);

#endif
