/* decode.h - content decoders for IMAP (pure; no I/O, no globals, no iconv).
 *
 * - charsets: UTF-8, US-ASCII, ISO-8859-1, ISO-8859-15 and Windows-1252 to
 *   UTF-8 from our own tables (static binaries cannot load iconv modules);
 *   every other charset is DECODE_CS_UNKNOWN and callers say so.
 * - RFC 2047 encoded-words ("=?charset?B|Q?text?=") in a header value.
 * - base64 and quoted-printable bodies (RFC 2045 6.7, 6.8) as streaming
 *   decoders: feed any chunking, get the same bytes.  They are tolerant of
 *   real mail (characters outside the alphabet skipped, lowercase hex, soft
 *   line breaks with trailing blanks) and read only the bytes given.
 * - decode_fold(): a case-insensitive comparable form of UTF-8 for SEARCH.
 * Output goes to a caller's struct buf (base/buf.h); -1 means it would grow
 * past its max (ENOBUFS) or ENOMEM, and the buffer then holds partial data.
 */
#ifndef POSTERN_DECODE_H
#define POSTERN_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

enum decode_charset {
	DECODE_CS_UNKNOWN = 0,
	DECODE_CS_UTF8,
	DECODE_CS_ASCII,
	DECODE_CS_LATIN1,	/* ISO-8859-1 */
	DECODE_CS_LATIN9,	/* ISO-8859-15 */
	DECODE_CS_CP1252,	/* Windows-1252 */
};

/* The charset named by name[0..len), case-insensitive, with common aliases
 * ("utf8", "latin1", "cp1252", ...); an RFC 2231 language suffix
 * ("utf-8*en") is ignored.  DECODE_CS_UNKNOWN for anything else. */
enum decode_charset decode_charset_lookup(const uint8_t *name, size_t len);

/* Append in[0..len), in charset cs, to out as UTF-8.  Bytes that are not
 * valid in cs (malformed UTF-8, 8-bit in US-ASCII) become U+FFFD.  cs must
 * not be DECODE_CS_UNKNOWN (it is then taken as UTF-8).  0 or -1. */
int decode_to_utf8(enum decode_charset cs, const uint8_t *in, size_t len, struct buf *out);

/* Decode the RFC 2047 encoded-words of an (unfolded) header value into
 * UTF-8.  Text outside encoded-words is taken in charset raw_cs (8-bit
 * headers happen; pass DECODE_CS_UTF8 when nothing better is known).
 * Linear white space between two adjacent encoded-words is dropped
 * (RFC 2047 section 6.2) and adjacent words in one charset are joined
 * before conversion, so a character split across words survives.  A word
 * in a charset we do not know is copied as it stands (as UTF-8).
 * The output is always valid UTF-8.
 * Returns 0, DECODE_UNKNOWN_CHARSET (1) if such a word was seen, or -1. */
#define DECODE_UNKNOWN_CHARSET 1
int decode_rfc2047(const uint8_t *in, size_t len, enum decode_charset raw_cs, struct buf *out);

/* Streaming base64 (RFC 2045 6.8).  Characters outside the alphabet are
 * skipped; '=' ends a 4-character group early (so concatenated encodings
 * decode); decode_b64_end() writes what a truncated last group holds. */
struct decode_b64 {
	uint32_t acc;
	unsigned n;		/* sextets in acc, 0..3 */
};
void decode_b64_init(struct decode_b64 *d);
/* Decode in[0..len) into out (room for decode_b64_bound(len)); returns the
 * bytes written. */
size_t decode_b64(struct decode_b64 *d, const uint8_t *in, size_t len, uint8_t *out);
/* Flush at the end of the data; out has room for 2 bytes. */
size_t decode_b64_end(struct decode_b64 *d, uint8_t *out);
#define decode_b64_bound(len) ((len) / 4 * 3 + 6)

/* Streaming quoted-printable (RFC 2045 6.7).  Line ends (LF or CRLF) come
 * out as CRLF, CR bytes are otherwise dropped, blanks at the end of a line
 * are deleted (rule 3), "=" before a line end (blanks allowed between) is a
 * soft break, "=XX" takes upper or lower case hex, and a "=" not followed
 * by two hex digits is kept as it is.  Runs of blanks longer than
 * DECODE_QP_WS_MAX are written out as they come (never buffered). */
#define DECODE_QP_WS_MAX 64
struct decode_qp {
	int state;
	uint8_t hex;			/* the first hex digit after '=', as read */
	size_t nws;
	uint8_t ws[DECODE_QP_WS_MAX];	/* blanks held until we know the line goes on */
};
void decode_qp_init(struct decode_qp *d);
/* Decode in[0..len) into out (room for decode_qp_bound(len)); returns the
 * bytes written. */
size_t decode_qp(struct decode_qp *d, const uint8_t *in, size_t len, uint8_t *out);
/* Flush at the end of the data; out has room for 3 bytes. */
size_t decode_qp_end(struct decode_qp *d, uint8_t *out);
#define decode_qp_bound(len) (2 * (len) + DECODE_QP_WS_MAX + 3)

/* Fold UTF-8 in[0..len) for case-insensitive comparison (SEARCH): append
 * to out the lowercase form of ASCII, Latin-1 Supplement (U+00C0-U+00DE),
 * Latin Extended-A (U+0100-U+017F), Greek (U+0386-U+03AB) and Cyrillic
 * (U+0400-U+042F); U+0178 folds to U+00FF and final sigma to sigma.
 * Everything else is copied; malformed UTF-8 becomes U+FFFD.  Two strings
 * match case-insensitively (for those scripts) when their folds are equal;
 * a SEARCH substring test is memmem() on the folds.  0 or -1. */
int decode_fold(const uint8_t *in, size_t len, struct buf *out);

/* The value of hex digit c (either case), or -1. */
int decode_hex(uint8_t c);

/* Append in[0..len) with each esc followed by two hex digits as the byte
 * they name ("%XX" in RFC 2231, "=XX" in RFC 2047 Q), and with '_' as a
 * space when underscore is set (Q, RFC 2047 4.2); a bad escape is kept as
 * it is.  0 or -1. */
int decode_unescape(const uint8_t *in, size_t len, uint8_t esc, int underscore, struct buf *out);

/* The next code point of UTF-8 s[0..len) (len > 0) in *cp_r; returns the
 * bytes it takes.  Malformed input (overlong, surrogate, past U+10FFFF,
 * truncated) gives U+FFFD for one byte. */
size_t decode_utf8_next(const uint8_t *s, size_t len, uint32_t *cp_r);

/* Append code point cp as UTF-8.  0 or -1. */
int decode_put_utf8(struct buf *out, uint32_t cp);

#endif
