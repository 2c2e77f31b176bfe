/* imapstr.h - IMAP string output (RFC 3501 section 4.3, RFC 9051 4.3).
 *
 * The writers the ENVELOPE and BODYSTRUCTURE code use, and that the IMAP
 * worker can use for any string it sends: a quoted string when the bytes
 * are plain 7-bit text without CR, LF, '"' or '\', else a literal {n}.
 * A NUL can be in neither (RFC 3501 section 9: CHAR8 excludes %x00), so
 * NUL bytes are never written (a literal's count leaves them out).  All
 * functions append to a caller's struct buf and return 0, or -1 when the
 * buffer would grow past its max (errno ENOBUFS) or on ENOMEM; on -1 the
 * buffer holds a partial answer the caller must discard.
 */
#ifndef POSTERN_IMAPSTR_H
#define POSTERN_IMAPSTR_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

/* Append "NIL". */
int imap_out_nil(struct buf *b);

/* Append s[0..len) as an IMAP string: quoted if it may be, else a literal. */
int imap_out_string(struct buf *b, const uint8_t *s, size_t len);

/* As imap_out_string(), or NIL when s is NULL. */
int imap_out_nstring(struct buf *b, const uint8_t *s, size_t len);

/* As imap_out_nstring() for a NUL-terminated string (NULL = NIL). */
int imap_out_nstr(struct buf *b, const char *s);

/* Append p[0..len) with every LF that does not follow a CR written as CRLF:
 * message bytes as IMAP sends them (the count imap_crlf_size() gives). */
int imap_out_crlf(struct buf *b, const uint8_t *p, size_t len);

/* The size of p[0..len) as IMAP counts it: every bare LF counts as CRLF. */
uint64_t imap_crlf_size(const uint8_t *p, size_t len);

/* The LFs of p[0..len) into *lf_r, and those without a CR before them
 * (bare; one at p[0] is bare) into *bare_r: eight bytes at a time, for
 * whole message bodies (a memchr per line was a sixth of a cold
 * BODYSTRUCTURE with musl's). */
void imap_count_lf(const uint8_t *p, size_t len, uint64_t *lf_r, uint64_t *bare_r);

/* The offset of the first LF of p[0..len), or len: as memchr, eight bytes
 * at a time without musl's byte loops to align and to find the byte, for
 * the short lines of headers. */
size_t imap_find_lf(const uint8_t *p, size_t len);

#endif
