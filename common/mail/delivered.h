/* delivered.h - the Delivered-To loop check (pure; untrusted bytes).
 *
 * At final delivery each copy gets "Delivered-To: user@domain" (the
 * resolved recipient) ahead of it, as Postfix, Dovecot and Courier write
 * it.  A message that already carries that field for this recipient has
 * been here before: it is looping through a forward somewhere, and is
 * refused for that recipient (554 5.4.6, as Postfix does).
 *
 * The scanner is fed the message in pieces of any size (the result does
 * not depend on how it is cut) and reads only its header: the fields up
 * to the first empty line, LF or CRLF line ends, folded lines unfolded.
 * A field matches when its name is Delivered-To (any case, blanks before
 * the colon allowed) and its value, blanks trimmed and one pair of angle
 * brackets removed, is the address (ASCII case ignored).  A field longer
 * than DELIVERED_FIELD_MAX cannot match and is skipped.  No allocation.
 */
#ifndef POSTERN_DELIVERED_H
#define POSTERN_DELIVERED_H

#include <stddef.h>
#include <stdint.h>

#define DELIVERED_ADDR_MAX	255	/* USERDB_NAME_MAX */
#define DELIVERED_FIELD_MAX	512	/* "Delivered-To: <" + address + ">" with room */

struct delivered_scan {
	char addr[DELIVERED_ADDR_MAX + 1];
	size_t addrlen;
	uint8_t field[DELIVERED_FIELD_MAX];	/* the field being read, unfolded */
	size_t len;
	int overflow;		/* the field is longer than field[]: it cannot match */
	int bol;		/* at the start of a line */
	int cr_first;		/* the line so far is one CR (an empty line, if LF follows) */
	int done;		/* the header has ended, or a match was found */
	int found;
};

/* Start a scan for addr (at most DELIVERED_ADDR_MAX bytes, else nothing
 * matches). */
void delivered_scan_init(struct delivered_scan *s, const char *addr);

/* Feed b[0..len).  Returns 1 when the answer is known (s->found says it;
 * later input is ignored), 0 when more of the header may follow. */
int delivered_scan_feed(struct delivered_scan *s, const uint8_t *b, size_t len);

/* The message ended (a header without an empty line ends with it).
 * Returns s->found. */
int delivered_scan_end(struct delivered_scan *s);

#endif
